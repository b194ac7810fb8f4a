"""The Python API of the calibration against experiment: ``calibrate`` (fit, store, measure held-out)
and ``stability`` (calibrated formation enthalpy, E_hull and P(stable) of your own structures)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from pymatgen.core import Structure

from mattwin.discovery.calibrate import CalibrationReport
from mattwin.discovery.calibrate import calibrate as _calibrate
from mattwin.engines.registry import get_engine, member_specs
from mattwin.errors import CalibrationError
from mattwin.materials.identity import canonical
from mattwin.materials.io import read_structure
from mattwin.store.store import Store


def check_calibrate_settings(engine: str, folds: int) -> None:
    """Refuse an unknown engine or fewer than 2 folds before anything is fitted."""
    for spec in member_specs(engine):
        get_engine(spec)
    if folds < 2:
        raise CalibrationError(f"folds = {folds}: cross-validation needs at least 2 folds")


def calibrate(
    engine: str = "chgnet",
    store: Store | None = None,
    report_dir: str | Path | None = None,
    folds: int = 5,
    seed: int = 0,
) -> CalibrationReport:
    """Fit ``engine``'s calibration (shipped computed set + pymatgen's experimental set + the lab's
    formation enthalpies in the store), store it versioned, and measure the same procedure on
    held-out compounds (``folds``-fold cross-validation grouped by chemical system). ``report_dir``:
    write ``calibration.html`` (parity plot, residuals by chemistry, coverage curve)."""
    check_calibrate_settings(engine, folds)
    report = _calibrate(engine, store or Store(), folds, seed)
    if report_dir is not None:
        from mattwin.report.calibration import write_calibration_report

        write_calibration_report(report, Path(report_dir))
    return report


@dataclass(frozen=True)
class StabilityReport:
    """Calibrated stability of one structure. Energies in eV/atom; intervals are central 90 %;
    ``p_stable``: probability that E_hull <= ``threshold``; ``calibration``: the fit's name or None."""

    file: str
    formula: str
    status: str  # "ok", "failed" or "unsupported"
    error: str | None
    spacegroup: str | None
    formation_energy_per_atom: float | None
    formation_energy_interval: list[float] | None
    e_hull: float | None
    e_hull_interval: list[float] | None
    p_stable: float | None
    threshold: float
    decomposition: str | None
    raw_formation_energy_per_atom: float | None
    raw_e_hull: float | None
    engine: str
    calibration: str | None
    calibration_provenance: dict[str, Any] | None
    #: can it be made? (see :class:`mattwin.discovery.results.RankedCandidate`)
    known_compound: str | None = None
    synthesizability: float | None = None
    synthesizability_interval: list[float] | None = None
    dynamically_stable: bool | None = None
    phonons: dict[str, Any] | None = None
    routes: list[dict[str, Any]] | None = None
    metastability_window: dict[str, Any] | None = None
    gibbs: dict[str, Any] | None = None
    verdict: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def stability(
    files: Sequence[str | Path | Structure],
    engine: str = "chgnet",
    calibration: str = "default",
    store: Store | None = None,
    threshold: float = 0.025,
    fmax: float = 0.05,
    max_steps: int = 500,
    temperature_K: float = 1000.0,
    phonons_top: int = 3,
    routes_top: int = 3,
) -> list[StabilityReport]:
    """Relax ``files`` and the reference phases of their chemical space with ``engine`` and report,
    per structure, the calibrated formation enthalpy and E_hull with their 90 % intervals and the
    probability of being within ``threshold`` (eV/atom) of the hull. ``calibration``: "default" (the
    engine's newest), "none" (raw energies) or a stored ``engine@version``. Each report also carries
    the synthesis verdict (:func:`mattwin.synthesis.assess_candidates`): phonons for the best
    ``phonons_top`` structures, routes for the best ``routes_top``, at ``temperature_K``."""
    from mattwin.discovery.campaign import assess_stability

    if not files:
        raise CalibrationError("stability: give at least one structure file")
    structures, names = [], []
    for f in files:
        if isinstance(f, Structure):
            structures.append(canonical(f))
            names.append(f.composition.reduced_formula)
        else:
            structures.append(read_structure(f))
            names.append(str(f))
    result, _ = assess_stability(
        structures,
        engine=engine,
        store=store,
        fmax=fmax,
        max_steps=max_steps,
        calibration=calibration,
        threshold=threshold,
        temperature_K=temperature_K,
        phonons_top=phonons_top,
        routes_top=routes_top,
    )
    by_id = {c.candidate_id: c for c in result.candidates}
    from mattwin.materials.identity import material_id

    out = []
    for s, name in zip(structures, names, strict=True):
        c = by_id[material_id(s)]
        out.append(
            StabilityReport(
                file=name,
                formula=c.formula,
                status=c.status,
                error=c.error,
                spacegroup=c.spacegroup,
                formation_energy_per_atom=c.formation_energy_per_atom,
                formation_energy_interval=c.formation_energy_interval,
                e_hull=c.e_hull,
                e_hull_interval=c.e_hull_interval,
                p_stable=c.p_stable,
                threshold=threshold,
                decomposition=c.decomposition,
                raw_formation_energy_per_atom=c.raw_formation_energy_per_atom,
                raw_e_hull=c.raw_e_hull,
                engine=engine,
                calibration=c.calibration,
                calibration_provenance=result.calibration,
                known_compound=c.known_compound,
                synthesizability=c.synthesizability,
                synthesizability_interval=c.synthesizability_interval,
                dynamically_stable=c.dynamically_stable,
                phonons=c.phonons,
                routes=c.routes,
                metastability_window=c.metastability_window,
                gibbs=c.gibbs,
                verdict=c.verdict,
            )
        )
    return out
