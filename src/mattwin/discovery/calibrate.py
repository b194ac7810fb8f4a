"""Fitting, storing and choosing calibrations (the store's side of ``analysis/calibration.py``).

A calibration is fitted per engine on the shipped computed set joined with pymatgen's experimental
formation enthalpies and the lab's own measurements in the store, and stored versioned
(``engine@version``). Every hull uses the newest calibration of its engine unless told otherwise
(``calibration="none"`` for raw energies, or a stored name). Applying a calibration recomputes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from mattwin.analysis.calibration import Calibration, HeldOut, cross_validate, fit_calibration
from mattwin.discovery.calibration_set import (
    CALIBRATED_ENGINES,
    R2SCAN_ENSEMBLE,
    ExperimentalEnthalpy,
    computed_compounds,
    mp2020_formation_energy,
)
from mattwin.discovery.lab_points import all_points, lab_enthalpies
from mattwin.errors import CalibrationError
from mattwin.store.calibrations import load_calibration, save_calibration
from mattwin.store.store import Store

#: the reference set's name in provenance
REFERENCE_SET = "pymatgen exp_compounds.json.gz (MP2020 fitting set)"


def engine_label(engine: str) -> str:
    """The name calibrations of ``engine`` are stored under (the spec, stripped)."""
    return engine.strip()


def _fitted_on(engine: str, n_ref: int, lab: list[ExperimentalEnthalpy], n_used_lab: int) -> dict[str, Any]:
    return {
        "reference_set": REFERENCE_SET,
        "computed_set": f"mattwin/data (scripts/build_calibration_set.py), engine {engine}",
        "n_reference_compounds": n_ref,
        "n_lab_measurements": len(lab),
        "n_lab_used": n_used_lab,
    }


def fit_engine_calibration(engine: str, store: Store, k: int = 5, seed: int = 0) -> Calibration:
    """Fit ``engine``'s calibration on the shipped set and the store's lab measurements; store it."""
    if not computed_compounds(engine):
        raise CalibrationError(
            f"engine {engine!r}: no computed calibration set ships for it (available: "
            f"{', '.join(CALIBRATED_ENGINES)}, ensemble, {R2SCAN_ENSEMBLE}); build one with "
            "scripts/build_calibration_set.py or use --calibration none"
        )
    lab = lab_enthalpies(store)
    points = all_points(engine, store)
    n_lab = sum(p.source.startswith("lab:") for p in points)
    cal = fit_calibration(
        points, engine_label(engine), _fitted_on(engine, len(points) - n_lab, lab, n_lab), k, seed
    )
    save_calibration(store, cal)
    return cal


def calibration_for(engine: str, store: Store, choice: str = "default") -> Calibration | None:
    """The calibration a hull of ``engine`` uses: None for ``"none"``; for ``"default"`` the newest
    stored one of the engine, fitted now on the shipped set when there is none (or None when no set
    ships for the engine); otherwise the stored calibration called ``choice``."""
    if choice == "none":
        return None
    if choice == "default":
        cal = load_calibration(store, engine_label(engine))
        if cal is not None:
            return cal
        if not computed_compounds(engine):
            return None
        return fit_engine_calibration(engine, store)
    cal = load_calibration(store, choice)
    if cal is None:
        raise CalibrationError(
            f"calibration {choice!r}: not in the store; run `mattwin calibrate --engine {engine}` "
            "or use --calibration default|none"
        )
    if cal.engine != engine_label(engine):
        raise CalibrationError(f"calibration {choice!r} is for engine {cal.engine}, not {engine}")
    return cal


@dataclass(frozen=True)
class CalibrationReport:
    """A fitted calibration with the held-out figures of the same procedure (grouped CV)."""

    calibration: Calibration
    heldout: HeldOut
    mp2020: dict[str, float]  # formula -> MP2020-corrected formation energy, eV/atom

    def metrics(self) -> dict[str, Any]:
        m: dict[str, Any] = dict(self.heldout.metrics())
        mp = [
            (self.mp2020[f], y)
            for f, y in zip(self.heldout.formulas, self.heldout.measured, strict=True)
            if f in self.mp2020
        ]
        m["mae_mp2020"] = float(np.mean([abs(a - b) for a, b in mp])) if mp else None
        m["n_mp2020"] = len(mp)
        by_class: dict[str, list[float]] = {}
        for c, r, y in zip(self.heldout.classes, self.heldout.calibrated, self.heldout.measured, strict=True):
            by_class.setdefault(c, []).append(abs(r - y))
        m["heldout_mae_by_class"] = {c: float(np.mean(v)) for c, v in sorted(by_class.items())}
        return m

    def to_dict(self) -> dict[str, Any]:
        cal = self.calibration
        return {
            "engine": cal.engine,
            "calibration": cal.name,
            "n_compounds": cal.n_compounds,
            "fitted_on": cal.fitted_on,
            **self.metrics(),
            "coefficients_eV_per_atom_of_species": dict(zip(_feature_names(), cal.coef, strict=True)),
            "coefficient_std": dict(zip(_feature_names(), np.sqrt(np.diag(cal.cov)).tolist(), strict=True)),
        }


def _feature_names() -> tuple[str, ...]:
    from mattwin.analysis.chemistry import FEATURES

    return FEATURES


def calibrate(engine: str, store: Store, k: int = 5, seed: int = 0) -> CalibrationReport:
    """Measure the procedure by grouped cross-validation, then fit on everything and store the fit
    (its metrics are the held-out ones)."""
    cal = fit_engine_calibration(engine, store, k, seed)
    points = all_points(engine, store)
    heldout = cross_validate(points, cal.engine, k, seed)
    report = CalibrationReport(cal, heldout, mp2020_formation_energy(engine))
    metrics = {k_: v for k_, v in report.metrics().items() if not isinstance(v, dict)}
    cal = Calibration.from_dict({**cal.to_dict(), "metrics": metrics})
    save_calibration(store, cal, replace=True)
    return CalibrationReport(cal, heldout, report.mp2020)
