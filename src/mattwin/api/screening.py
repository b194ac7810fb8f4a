"""The Python API: the same names as the CLI commands (``energy``, ``relax``, ``discover``,
``add_references``). Every calculation goes through the runtime and lands in the store."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
from pymatgen.analysis.phase_diagram import PhaseDiagram
from pymatgen.core import Structure

from mattwin import errors
from mattwin.discovery.campaign import Progress, run_campaign
from mattwin.discovery.config import CampaignConfig
from mattwin.discovery.references import ReferencePhase, load_reference_files
from mattwin.discovery.results import CampaignResult
from mattwin.engines.registry import get_engine, member_specs
from mattwin.materials.identity import canonical
from mattwin.materials.io import check_structure_output, check_writable, read_structure
from mattwin.runtime.execute import Execution
from mattwin.runtime.jobs import Job, Outcome
from mattwin.runtime.runner import run_jobs
from mattwin.store.store import Store


def _structure(material: Structure | str | Path) -> tuple[Structure, str]:
    if isinstance(material, Structure):
        return canonical(material), material.composition.reduced_formula
    return read_structure(material), str(material)


def _raise_failed(outs: list[Outcome]) -> None:
    for o in outs:
        if not o.ok:
            cls = getattr(errors, o.error_type or "", None)
            if not (isinstance(cls, type) and issubclass(cls, errors.MattwinError)):
                cls = errors.EngineError
            raise cls(o.error)


def _check_relax_settings(src: str, fmax: float, max_steps: int) -> None:
    if not 0 < fmax < 100:
        raise errors.SettingsError(f"{src}: force criterion fmax {fmax} eV/Å must be positive, e.g. 0.05")
    if max_steps < 1:
        raise errors.SettingsError(f"{src}: max_steps {max_steps} must be at least 1, e.g. 500")


def _spread(values: list[float]) -> float | None:
    return float(np.std(values, ddof=1)) if len(values) > 1 else None


@dataclass(frozen=True)
class _Report:
    """What every single-structure command reports: the input, the engine and the energy (eV);
    ``energy_per_atom_std_eV`` is the ensemble spread (None for a single engine)."""

    source: str
    formula: str
    engine: str
    engine_signature: dict[str, Any]
    energy_eV: float
    energy_per_atom_eV: float
    energy_per_atom_std_eV: float | None


@dataclass(frozen=True)
class EnergyReport(_Report):
    """Single-point energy of one structure: eV per cell and per atom, max force eV/Å, stress GPa."""

    max_force_eV_A: float
    stress_GPa: list[float]
    n_atoms: int
    cached: bool

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class RelaxReport(_Report):
    """Relaxation of one structure. Lattice lengths in Å, angles in degrees, volume Å^3."""

    lattice_abc_A: list[float]
    lattice_angles_deg: list[float]
    volume_A3: float
    converged: bool
    n_steps: int
    max_force_eV_A: float
    cached: bool
    structure: dict[str, Any]

    @property
    def final_structure(self) -> Structure:
        return Structure.from_dict(self.structure)

    def to_dict(self, with_structure: bool = False) -> dict[str, Any]:
        d = asdict(self)
        if not with_structure:
            d.pop("structure")
        return d


def energy(
    material: Structure | str | Path, engine: str = "chgnet", store: Store | None = None
) -> EnergyReport:
    """Single-point energy of a structure (or file) with ``engine``; an ensemble gives mean and spread."""
    s, src = _structure(material)
    store = store or Store()
    outs = run_jobs([Job("static", s, spec, {}, label=src) for spec in member_specs(engine)], store)
    _raise_failed(outs)
    res = [o.result for o in outs]
    epa = [r["energy_per_atom_eV"] for r in res]  # type: ignore[index]
    return EnergyReport(
        source=src,
        formula=s.composition.reduced_formula,
        engine=engine,
        engine_signature=get_engine(engine).signature,
        energy_eV=float(np.mean([r["energy_eV"] for r in res])),  # type: ignore[index]
        energy_per_atom_eV=float(np.mean(epa)),
        energy_per_atom_std_eV=_spread(epa),
        max_force_eV_A=float(np.max([r["max_force_eV_A"] for r in res])),  # type: ignore[index]
        stress_GPa=np.mean([r["stress_GPa"] for r in res], axis=0).tolist(),  # type: ignore[index]
        n_atoms=len(s),
        cached=all(o.cached for o in outs),
    )


def relax(
    material: Structure | str | Path,
    engine: str = "chgnet",
    fmax: float = 0.05,
    max_steps: int = 500,
    relax_cell: bool = True,
    store: Store | None = None,
    out: str | Path | None = None,
) -> RelaxReport:
    """Relax a structure (or file); with an ensemble each member relaxes and the energies are averaged
    (the structure reported is the first member's). ``out`` writes the relaxed structure (.cif, ...)."""
    s, src = _structure(material)
    _check_relax_settings(src, fmax, max_steps)
    if out is not None:  # before the relaxation, not after it
        check_structure_output(out)
    store = store or Store()
    params = {"fmax": fmax, "max_steps": max_steps, "relax_cell": relax_cell}
    outs = run_jobs([Job("relax", s, spec, params, label=src) for spec in member_specs(engine)], store)
    _raise_failed(outs)
    res = [o.result for o in outs]
    first = Structure.from_dict(res[0]["structure"])  # type: ignore[index]
    epa = [r["energy_per_atom_eV"] for r in res]  # type: ignore[index]
    if out is not None:
        from mattwin.materials.io import write_structure

        write_structure(first, out)
    return RelaxReport(
        source=src,
        formula=s.composition.reduced_formula,
        engine=engine,
        engine_signature=get_engine(engine).signature,
        energy_eV=float(np.mean([r["energy_eV"] for r in res])),  # type: ignore[index]
        energy_per_atom_eV=float(np.mean(epa)),
        energy_per_atom_std_eV=_spread(epa),
        lattice_abc_A=list(first.lattice.abc),
        lattice_angles_deg=list(first.lattice.angles),
        volume_A3=float(first.volume),
        converged=all(r["converged"] for r in res),  # type: ignore[index]
        n_steps=max(r["n_steps"] for r in res),  # type: ignore[index]
        max_force_eV_A=float(max(r["max_force_eV_A"] for r in res)),  # type: ignore[index]
        cached=all(o.cached for o in outs),
        structure=first.as_dict(),
    )


def discover(
    config: CampaignConfig | str | Path | None = None,
    *,
    store: Store | None = None,
    report_dir: str | Path | None = None,
    progress: Progress | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    **overrides: Any,
) -> CampaignResult:
    """Run a discovery campaign from a config, a TOML path, or keyword arguments
    (``discover(elements=["Li", "Fe", "P", "O"], max_atoms=28, budget=200)``); optionally write the
    HTML report to ``report_dir``. ``workers``: Dask worker processes on this machine;
    ``scheduler``: address of a running Dask scheduler; neither: in this process, batched."""
    if config is None:
        if "elements" not in overrides:
            raise errors.CampaignError("discover: give a campaign file or elements=[...]")
        cfg = CampaignConfig(elements=tuple(overrides.pop("elements"))).replace(**overrides)
    elif isinstance(config, CampaignConfig):
        cfg = config.replace(**overrides)
    else:
        cfg = CampaignConfig.from_toml(config).replace(**overrides)
    if report_dir is not None:
        check_writable(report_dir, folder=True)
    execution = Execution(workers=workers, scheduler=scheduler)
    result, pd = run_campaign(cfg, store=store, progress=progress, execution=execution)
    if report_dir is not None:
        write_campaign_report(result, report_dir, pd)
    return result


def write_campaign_report(
    result: CampaignResult, out_dir: str | Path, pd: PhaseDiagram | None = None
) -> Path:
    """Write ``report.html`` with the ranked table, hull plot and CIFs into ``out_dir``."""
    from mattwin.report.html import write_report

    return write_report(result, out_dir, phase_diagram=pd)


def add_references(path: str | Path, store: Store | None = None) -> list[ReferencePhase]:
    """Add user reference phases (CIF folder, structure file, Materials Project JSON export) to the store."""
    store = store or Store()
    phases = load_reference_files(path)
    for p in phases:
        store.add_reference(p.structure, p.name, p.source, p.relax_cell)
    return phases
