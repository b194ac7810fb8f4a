"""The quantum-algorithm rung as a task: ``quantum_rung(molecule, engine)`` with a ``pyscf:sqd(NE,NO)``,
``pyscf:vqe(NE,NO)`` or ``pyscf:qpe-cost(NE,NO)`` engine runs the emulated algorithm on the active
space of mattwin's own SCF and its classical controls beside it (:mod:`mattwin.quantum.rung`).
Cached and stored through the runtime like every task."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pymatgen.core import Molecule

from mattwin.engines.base import Engine
from mattwin.engines.pyscf import HARTREE_EV, PySCFEngine
from mattwin.engines.pyscf_run import QUANTUM_METHODS, build_mole, run_scf
from mattwin.errors import EngineError
from mattwin.materials.molecules import molecule_formula
from mattwin.quantum import EMULATION_NOTE
from mattwin.tasks.results import TaskResult

TASK_VERSION = 1


@dataclass(frozen=True)
class QuantumRungResult(TaskResult):
    """One quantum-rung calculation. energy_hartree/energy_eV: the algorithm's energy (SQD from LUCJ
    samples, noiseless; VQE; None for qpe-cost); error_vs_reference_mEh against ``reference`` (CASCI/
    FCI or DMRG of the same space); rungs: one dict per rung and control (rung, energy_hartree,
    error_mEh, cpu_s, determinants, shots, note ...); resources: QPE logical qubits, Toffoli and T
    gates, target error (Eh); verdict: plain words; statement: the emulation note; provenance:
    package versions, shots, seeds, noise model, ansatz."""

    method: str
    algorithm: str
    basis: str
    active_space: list[int]
    n_qubits: int
    n_determinants: int
    energy_hartree: float | None
    energy_eV: float | None
    scf_energy_hartree: float
    error_vs_reference_mEh: float | None
    reference: dict[str, Any] | None
    rungs: list[dict[str, Any]]
    resources: dict[str, Any] | None
    verdict: str
    n_atoms: int
    charge: int
    spin_multiplicity: int
    statement: str = EMULATION_NOTE
    provenance: dict[str, Any] = field(default_factory=dict)


def quantum_rung(molecule: Molecule, engine: Engine, name: str = "") -> QuantumRungResult:
    """Run the engine's quantum-rung method (sqd, vqe, qpe-cost with an active space) on ``molecule``."""
    from mattwin.quantum.rung import run_rung

    if not isinstance(engine, PySCFEngine) or engine.settings.method not in QUANTUM_METHODS:
        raise EngineError(
            f"{getattr(engine, 'label', engine)}: the quantum_rung task needs a pyscf engine with "
            "sqd(NE,NO), vqe(NE,NO) or qpe-cost(NE,NO), e.g. pyscf:sqd(6,6)/6-31g"
        )
    nm = name or molecule_formula(molecule)
    s = engine.settings
    pmol = build_mole(molecule, s.basis, (), s.max_memory_mb)
    mf = run_scf(pmol, molecule, s, nm)
    out = run_rung(mf, s, nm)
    space = out["space"]
    e = out["energy"]
    ref = out["reference"]
    return QuantumRungResult(
        method=engine.model,
        algorithm=s.method,
        basis=s.basis,
        active_space=list(s.active or ()),
        n_qubits=space.n_qubits,
        n_determinants=space.n_determinants,
        energy_hartree=e,
        energy_eV=None if e is None else e * HARTREE_EV,
        scf_energy_hartree=float(mf.e_tot),
        error_vs_reference_mEh=None if e is None or ref is None else (e - ref["energy_hartree"]) * 1000,
        reference=ref,
        rungs=out["rows"],
        resources=out["resources"],
        verdict=out["verdict"],
        n_atoms=len(molecule),
        charge=int(molecule.charge),
        spin_multiplicity=int(molecule.spin_multiplicity),
        provenance=out["provenance"],
    )


TASKS = {"quantum_rung": (quantum_rung, QuantumRungResult, TASK_VERSION)}
