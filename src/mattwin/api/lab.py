"""Measurements in: read a lab file (mattwin.lab), store it with provenance (one transaction)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mattwin.analysis.drift import DECISION_H, REFERENCE_K
from mattwin.lab import BadRow, Measurement, read_measurements
from mattwin.lab.validate import MaterialLookup
from mattwin.store.store import Store

if TYPE_CHECKING:
    from mattwin.discovery.drift_check import DriftReport


@dataclass(frozen=True)
class AddMeasurementsReport:
    """What ``add_measurements`` did: rows read good (``measurements``, canonical units) and bad (with
    reasons), how many of the good were new to the store and how many were stored already."""

    file: str
    measurements: list[Measurement]
    bad: list[BadRow]
    n_new: int
    n_present: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "n_read": len(self.measurements),
            "n_new": self.n_new,
            "n_present": self.n_present,
            "bad": [b.to_dict() for b in self.bad],
            "measurements": [m.to_dict() for m in self.measurements],
        }


def _lookup(store: Store) -> MaterialLookup:
    """Stored material id -> its reduced formula (None when the store has no such material)."""

    def formula_of(mid: str) -> str | None:
        try:
            return str(store.get_material(mid).composition.reduced_formula)
        except KeyError:
            return None

    return formula_of


def add_measurements(
    path: str | Path, store: Store | None = None, skip_bad: bool = False
) -> AddMeasurementsReport:
    """Read a measurement file (CSV, JSON, YAML: see :mod:`mattwin.lab.read`) and store its rows.

    All rows go in one transaction. A file with any bad row stores nothing and raises
    :class:`~mattwin.errors.MeasurementError` naming every bad row (file, row, cause), unless
    ``skip_bad``: then the good rows are stored and the bad ones are returned in ``bad``.
    A measurement stored before (same content key) is counted in ``n_present``, not stored again.
    """
    store = store or Store()
    read = read_measurements(path, lookup=_lookup(store))
    if not skip_bad:
        read.check()
    new, present = store.add_measurements(read.measurements, read.structures) if read.measurements else (0, 0)
    return AddMeasurementsReport(read.file, read.measurements, read.bad, new, present)


def list_measurements(
    property: str | None = None, formula: str | None = None, store: Store | None = None
) -> list[Measurement]:
    """Stored measurements, oldest first, values in the property's canonical unit (eV/atom, Å, eV,
    GPa, S/cm, K); ``property`` may be an alias ("ΔHf", "Tm"), ``formula`` any way of writing it."""
    return (store or Store()).measurements(property=property, formula=formula)


def check_drift(
    engine: str = "chgnet",
    store: Store | None = None,
    calibration: str | None = None,
    k: float = REFERENCE_K,
    h: float = DECISION_H,
) -> DriftReport:
    """The lab's formation enthalpies against ``engine``'s calibrated predictions: per measurement the
    residual (eV/atom), z and whether it is inside the 90 % interval; per chemistry a CUSUM (reference
    value ``k``, decision interval ``h``, σ of z) that flags a drift of the model from the lab
    (:mod:`mattwin.discovery.drift_check`). ``calibration``: a stored ENGINE@VERSION, or None for the
    newest fit that did not include the measurements. Reads the store; writes nothing."""
    from mattwin.discovery.drift_check import check_drift as _check

    check_engine(engine)
    return _check(engine, store or Store(), calibration, k, h)


def check_engine(engine: str) -> None:
    """Raise the engine registry's error for an unknown engine spec (before anything is stored)."""
    from mattwin.engines.registry import get_engine, member_specs

    for spec in member_specs(engine):
        get_engine(spec)
