"""The quantum-chemistry API, named like the CLI commands: ``correlate`` (correlated total energy and,
optionally, multireference diagnostics; with ``sqd(NE,NO)``, ``vqe(NE,NO)`` or ``qpe-cost(NE,NO)`` the
emulated quantum-algorithm rung beside its classical controls, :mod:`mattwin.quantum`),
``interaction`` (counterpoise-corrected interaction energy of a dimer, single level or composite
CCSD(T)/CBS estimate), ``excite`` (vertical excitations and absorption spectrum), and ``band_gap`` of
a crystal (periodic DFT, the Kohn-Sham gap).
Molecules are XYZ files, SMILES strings or pymatgen ``Molecule`` objects.

Every calculation is a :class:`~mattwin.runtime.jobs.Job` run through the runtime: cached in the
store (a repeated call costs one lookup), recorded with its engine signature, distributable on Dask
(``workers`` / ``scheduler``). Energies in eV, hartree or kcal/mol as the field names say.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from pymatgen.core import Molecule

from mattwin.api.screening import _raise_failed
from mattwin.engines.registry import get_engine
from mattwin.errors import SettingsError
from mattwin.materials.io import check_writable
from mattwin.materials.molecules import canonical_molecule, molecule_formula, read_molecule, with_charge_spin
from mattwin.runtime.execute import Execution, execute
from mattwin.runtime.jobs import Job, Outcome
from mattwin.store.store import Store
from mattwin.tasks.band_gap import BandGapResult
from mattwin.tasks.correlation import DiagnosticsResult, ElectronicEnergyResult
from mattwin.tasks.excitations import METHODS as EXCITATION_METHODS
from mattwin.tasks.excitations import ExcitationsResult
from mattwin.tasks.interaction import InteractionResult
from mattwin.tasks.quantum_rung import QuantumRungResult


def load_molecule(
    molecule: Molecule | str | Path, charge: int | None = None, spin_multiplicity: int | None = None
) -> tuple[Molecule, str]:
    """(molecule, source label) of a ``Molecule``, an XYZ path or a SMILES string."""
    if isinstance(molecule, Molecule):
        mol = canonical_molecule(molecule)
        if charge is not None or spin_multiplicity is not None:
            q = int(mol.charge) if charge is None else charge
            mol = with_charge_spin(mol, q, spin_multiplicity)
        return mol, molecule_formula(mol)
    return read_molecule(molecule, charge, spin_multiplicity), str(molecule)


def engine_spec(
    method: str,
    basis: str,
    frozen_core: bool = True,
    density_fit: bool | None = None,
    bond_dim: int | None = None,
    shots: int | None = None,
    seed: int | None = None,
) -> str:
    """A ``pyscf:`` engine spec from CLI-style arguments (see :mod:`mattwin.engines.pyscf`)."""
    opts = [f"fc={int(frozen_core)}"]
    if density_fit is not None:
        opts.append(f"df={int(density_fit)}")
    if bond_dim is not None:
        opts.append(f"m={bond_dim}")
    if shots is not None:
        opts.append(f"shots={shots}")
    if seed is not None:
        opts.append(f"seed={seed}")
    return f"pyscf:{method.strip().lower()}/{basis.strip().lower()};{';'.join(opts)}"


def _run(jobs: list[Job], store: Store | None, workers: int | None, scheduler: str | None) -> list[Outcome]:
    outs = execute(jobs, store or Store(), Execution(workers=workers, scheduler=scheduler))
    _raise_failed(outs)
    return outs


def _job(task: str, mol: Molecule, spec: str, params: dict[str, Any], label: str) -> Job:
    return Job(task, mol, spec, params, label=label)  # type: ignore[arg-type]  # a Molecule is a material


@dataclass(frozen=True)
class CorrelateReport:
    """``energy``: the correlated energy (method, basis, total and SCF energies, components; None for
    the quantum rung); ``diagnostics``: T1/D1/natural occupations and verdict (None unless asked);
    ``rung``: the quantum-rung result with its controls (sqd/vqe/qpe-cost only); ``report_html``: the
    page comparing the rungs, when written."""

    source: str
    formula: str
    engine: str
    engine_signature: dict[str, Any]
    energy: ElectronicEnergyResult | None
    diagnostics: DiagnosticsResult | None
    cached: bool
    rung: QuantumRungResult | None = None
    report_html: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def correlate(
    molecule: Molecule | str | Path,
    method: str = "ccsd(t)",
    basis: str = "cc-pvdz",
    charge: int | None = None,
    spin_multiplicity: int | None = None,
    diagnostics: bool = False,
    frozen_core: bool = True,
    density_fit: bool | None = None,
    bond_dim: int | None = None,
    store: Store | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    shots: int | None = None,
    seed: int | None = None,
    report_dir: str | Path | None = None,
) -> CorrelateReport:
    """Total energy of a molecule at ``method``/``basis`` (``basis`` may be ``cbs(X,Y)``; ``method``
    e.g. ``ccsd(t)``, ``mp2``, ``b3lyp-d3bj``, ``dmrg-casci(6,6)``); with ``diagnostics`` also T1/D1,
    natural-orbital occupations and a verdict on single-reference methods (CCSD in ``basis``).

    ``method`` ``sqd(NE,NO)``, ``vqe(NE,NO)`` or ``qpe-cost(NE,NO)``: the emulated quantum rung with its
    classical controls (``shots``/``seed``: SQD sampling); ``report_dir``: write ``rungs.html``
    comparing the rungs there. The active space and the memory it needs are checked before any job."""
    mol, src = load_molecule(molecule, charge, spin_multiplicity)
    if bond_dim is not None and bond_dim < 1:
        raise SettingsError(f"{src}: DMRG bond dimension {bond_dim} must be at least 1, e.g. 200")
    spec = engine_spec(method, basis, frozen_core, density_fit, bond_dim, shots, seed)
    if _is_quantum(method):
        return _quantum_rung(mol, src, spec, diagnostics, store, workers, scheduler, report_dir)
    jobs = [_job("electronic_energy", mol, spec, {}, src)]
    if diagnostics:
        diag_basis = basis.split(",")[-1].strip(" )") if basis.lower().startswith("cbs(") else basis
        jobs.append(
            _job("correlation_diagnostics", mol, engine_spec("ccsd", diag_basis, frozen_core), {}, src)
        )
    outs = _run(jobs, store, workers, scheduler)
    return CorrelateReport(
        source=src,
        formula=molecule_formula(mol),
        engine=spec,
        engine_signature=get_engine(spec).signature,
        energy=ElectronicEnergyResult.from_dict(outs[0].result),  # type: ignore[arg-type]
        diagnostics=DiagnosticsResult.from_dict(outs[1].result) if diagnostics else None,  # type: ignore[arg-type]
        cached=all(o.cached for o in outs),
    )


def _is_quantum(method: str) -> bool:
    from mattwin.quantum import QUANTUM_METHODS

    return method.strip().lower().split("(", 1)[0] in QUANTUM_METHODS


def _quantum_rung(
    mol: Molecule,
    src: str,
    spec: str,
    diagnostics: bool,
    store: Store | None,
    workers: int | None,
    scheduler: str | None,
    report_dir: str | Path | None,
) -> CorrelateReport:
    from mattwin.engines.pyscf import PySCFEngine
    from mattwin.quantum.rung import precheck

    if diagnostics:
        raise SettingsError(f"{src}: --diagnostics goes with the classical methods; run it without sqd/vqe")
    if report_dir is not None:
        check_writable(report_dir, folder=True)
    engine = get_engine(spec)
    assert isinstance(engine, PySCFEngine)
    precheck(mol, engine.settings, src)
    outs = _run([_job("quantum_rung", mol, spec, {}, src)], store, workers, scheduler)
    res = QuantumRungResult.from_dict(outs[0].result)  # type: ignore[arg-type]
    page = None
    if report_dir is not None:
        from mattwin.report.quantum import write_rung_report

        page = write_rung_report(res, molecule_formula(mol), src, Path(report_dir))
    return CorrelateReport(
        src, molecule_formula(mol), spec, engine.signature, None, None, outs[0].cached, res, page
    )


@dataclass(frozen=True)
class InteractionReport:
    """Interaction energy (kcal/mol, eV; negative = bound) with its components and levels."""

    source: str
    formula: str
    engine: str
    result: InteractionResult
    cached: bool

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def interaction(
    dimer: Molecule | str | Path,
    scheme: str = "composite",
    method: str = "mp2",
    basis: str = "aug-cc-pvdz",
    fragments: list[list[int]] | None = None,
    counterpoise: bool = True,
    cbs_bases: tuple[str, str] = ("aug-cc-pvdz", "aug-cc-pvtz"),
    frozen_core: bool = True,
    store: Store | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
) -> InteractionReport:
    """Counterpoise-corrected interaction energy of the two fragments of ``dimer`` (found from bonding
    when ``fragments`` is None). ``scheme``: ``single`` (``method``/``basis``, e.g. b3lyp-d3bj/def2-tzvp
    or mp2/cbs(aug-cc-pvdz,aug-cc-pvtz)) or ``composite`` (MP2/CBS(``cbs_bases``) + [CCSD(T) - MP2]
    in the smaller basis)."""
    mol, src = load_molecule(dimer)
    if scheme not in ("single", "composite"):
        raise SettingsError(f"{src}: unknown interaction scheme {scheme!r}; use single or composite")
    if len(cbs_bases) != 2 or not all(b.strip() for b in cbs_bases):
        raise SettingsError(
            f"{src}: cbs_bases {cbs_bases!r}: give two basis sets, e.g. aug-cc-pvdz,aug-cc-pvtz"
        )
    spec = (
        engine_spec(method, basis, frozen_core)
        if scheme == "single"
        else engine_spec("ccsd(t)", cbs_bases[0])
    )
    params: dict[str, Any] = {"scheme": scheme, "counterpoise": counterpoise, "fragments": fragments}
    if scheme == "composite":
        params["cbs_bases"] = [b.lower() for b in cbs_bases]
    outs = _run([_job("interaction_energy", mol, spec, params, src)], store, workers, scheduler)
    return InteractionReport(
        source=src,
        formula=molecule_formula(mol),
        engine=spec,
        result=InteractionResult.from_dict(outs[0].result),  # type: ignore[arg-type]
        cached=outs[0].cached,
    )


@dataclass(frozen=True)
class ExciteReport:
    """Excited states and spectrum; ``report_html``/``spectrum_csv``/``states_csv``: files written."""

    source: str
    formula: str
    engine: str
    result: ExcitationsResult
    cached: bool
    report_html: str | None = None
    spectrum_csv: str | None = None
    states_csv: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def excite(
    molecule: Molecule | str | Path,
    method: str = "tddft",
    functional: str = "b3lyp",
    basis: str = "def2-svp",
    states: int = 10,
    fwhm_eV: float = 0.3,
    triplets: bool = False,
    charge: int | None = None,
    report_dir: str | Path | None = None,
    store: Store | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
) -> ExciteReport:
    """Lowest ``states`` vertical excitations: ``method`` tddft or tda with ``functional``/``basis``,
    or eom-ccsd in ``basis``. ``report_dir``: write an HTML page (spectrum with stick oscillator
    strengths, table of states) and CSV files of the spectrum and the states there."""
    mol, src = load_molecule(molecule, charge)
    if method.lower() not in EXCITATION_METHODS:
        raise SettingsError(
            f"{src}: unknown excitation method {method!r}; use {', '.join(EXCITATION_METHODS)}"
        )
    if states < 1 or not fwhm_eV > 0:
        raise SettingsError(
            f"{src}: give at least 1 state (got {states}) and a positive fwhm (got {fwhm_eV} eV)"
        )
    if report_dir is not None:
        check_writable(report_dir, folder=True)
    level = "hf" if method.lower() == "eom-ccsd" else functional
    spec = engine_spec(level, basis)
    params = {"method": method.lower(), "n_states": states, "triplets": triplets, "fwhm_eV": fwhm_eV}
    outs = _run([_job("excited_states", mol, spec, params, src)], store, workers, scheduler)
    res = ExcitationsResult.from_dict(outs[0].result)  # type: ignore[arg-type]
    formula = molecule_formula(mol)
    files: dict[str, str | None] = {"report_html": None, "spectrum_csv": None, "states_csv": None}
    if report_dir is not None:
        from mattwin.report.quantum import write_excitation_report

        files.update(write_excitation_report(res, formula, src, Path(report_dir)))
    return ExciteReport(src, formula, spec, res, outs[0].cached, **files)


def band_gap(
    material: Any,
    engine: str = "pyscf-pbc:pbe/gth-dzvp;k=3",
    store: Store | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
) -> BandGapResult:
    """Kohn-Sham (DFT) band gap of a crystal (``Structure`` or CIF/POSCAR path) with the periodic
    ``pyscf-pbc`` engine; labelled as the DFT gap (semilocal DFT underestimates measured gaps)."""
    from mattwin.api.screening import _structure

    s, src = _structure(material)
    outs = _run([Job("band_gap", s, engine, {}, label=src)], store, workers, scheduler)
    return BandGapResult.from_dict(outs[0].result)  # type: ignore[arg-type]
