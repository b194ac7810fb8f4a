"""PySCF calculations behind the ``pyscf`` engine: build the ``Mole``, run SCF (HF/DFT with D3/D4
dispersion), then MP2, CCSD, CCSD(T), CASCI or DMRG-CASCI; memory estimate before the expensive
step; analytic gradients where PySCF has them.

Energies are in hartree inside this module (the engine converts to eV); positions in Å.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from pymatgen.core import Molecule

from mattwin.errors import ConvergenceError, EngineError, MemoryLimitError
from mattwin.materials.molecules import molecule_formula

#: listeners called with a short stage description ("SCF b3lyp/def2-svp on H2O") by long calculations
PROGRESS_LISTENERS: list[Callable[[str], None]] = []


def stage(text: str) -> None:
    """Tell the progress listeners (a CLI status line) what runs now."""
    for fn in list(PROGRESS_LISTENERS):
        fn(text)


@dataclass(frozen=True)
class Settings:
    """One level of theory. method: hf, a DFT functional, mp2, ccsd, ccsd(t), casci, casscf,
    dmrg-casci, dmrg-casscf, or a quantum-rung method (sqd, vqe, qpe-cost; :mod:`mattwin.quantum`);
    dispersion: d3bj, d3zero, d4 or None; active: (electrons, orbitals); bond_dim: DMRG bond dimension
    (also of the DMRG reference of the quantum rung); max_memory_mb: PySCF's memory limit; shots,
    seed, samples_per_batch: SQD sampling."""

    method: str
    basis: str
    dispersion: str | None = None
    frozen_core: bool = True
    density_fit: bool = False
    active: tuple[int, int] | None = None
    bond_dim: int = 200
    max_memory_mb: int = 4000
    conv_tol: float = 1e-9
    max_cycle: int = 100
    shots: int = 10_000
    seed: int = 0
    samples_per_batch: int = 300

    @property
    def is_dft(self) -> bool:
        return self.method not in WAVEFUNCTION_METHODS

    @property
    def is_correlated(self) -> bool:
        return self.method in WAVEFUNCTION_METHODS and self.method != "hf"

    @property
    def label(self) -> str:
        m = self.method + (f"-{self.dispersion}" if self.dispersion else "")
        if self.active:
            m += f"({self.active[0]},{self.active[1]})"
        return f"{m}/{self.basis}"


QUANTUM_METHODS = ("sqd", "vqe", "qpe-cost")
WAVEFUNCTION_METHODS = (
    "hf",
    "mp2",
    "ccsd",
    "ccsd(t)",
    "casci",
    "casscf",
    "dmrg-casci",
    "dmrg-casscf",
    *QUANTUM_METHODS,
)


@dataclass
class QCResult:
    """Energies in hartree: ``e_total`` of the method, ``e_scf`` of the reference, ``components``
    (e_mp2_corr, e_ccsd_corr, e_t, e_disp ...); ``gradient`` (n_atoms, 3) Ha/bohr when asked;
    ``info``: diagnostics and sizes; ``objects``: live PySCF objects (mf, cc) for tasks in-process."""

    e_total: float
    e_scf: float
    components: dict[str, float] = field(default_factory=dict)
    gradient: np.ndarray | None = None
    info: dict[str, Any] = field(default_factory=dict)
    objects: dict[str, Any] = field(default_factory=dict)


def build_mole(mol: Molecule, basis: str, ghost: Sequence[int] = (), max_memory_mb: int = 4000) -> Any:
    """A PySCF ``Mole`` of ``mol`` (Å) with charge and 2S = multiplicity - 1; atoms in ``ghost`` carry
    basis functions but no nuclei or electrons (counterpoise)."""
    from pyscf import gto

    ghosts = set(ghost)
    atom = [
        (("ghost-" if i in ghosts else "") + s.specie.symbol, tuple(map(float, s.coords)))
        for i, s in enumerate(mol)
    ]
    name = molecule_formula(mol)
    spin = int(mol.spin_multiplicity) - 1
    try:
        return gto.M(
            atom=atom,
            basis=basis,
            charge=int(mol.charge),
            spin=spin,
            unit="Angstrom",
            verbose=0,
            max_memory=max_memory_mb,
        )
    except (KeyError, RuntimeError, ValueError) as exc:
        raise EngineError(f"{name}: PySCF cannot build {basis!r} for this molecule ({exc})") from exc


def _point_charges(mf: Any, mol: Molecule) -> Any:
    pcs = (mol.properties or {}).get("point_charges")
    if not pcs:
        return mf
    from pyscf import qmmm

    arr = np.asarray(pcs, dtype=float).reshape(-1, 4)
    return qmmm.mm_charge(mf, arr[:, :3], arr[:, 3], unit="Angstrom")


def make_scf(pmol: Any, mol: Molecule, s: Settings) -> Any:
    """The (unconverged) SCF object: RHF/RKS for singlets, UHF/UKS otherwise; DF and dispersion."""
    from pyscf import dft, scf

    closed = pmol.spin == 0
    if s.is_dft:
        mf = (dft.RKS if closed else dft.UKS)(pmol, xc=s.method)
        mf.grids.level = 3
    else:
        mf = (scf.RHF if closed else scf.UHF)(pmol)
    if s.dispersion:
        mf.disp = s.dispersion
    if s.density_fit:
        mf = mf.density_fit()
    mf.conv_tol = s.conv_tol
    mf.max_cycle = s.max_cycle
    return _point_charges(mf, mol)


def kernel_with_newton_retry(mf: Any, max_cycle: int, retry_stage: str | None = None) -> Any:
    """Run the SCF ``mf``; when DIIS does not converge, a second-order (Newton) retry of ``max_cycle``
    iterations from its density (``retry_stage`` said first). The caller checks ``converged``."""
    mf.kernel()
    if not mf.converged:
        if retry_stage:
            stage(retry_stage)
        mf = mf.newton()
        mf.max_cycle = max_cycle
        mf.kernel(mf.make_rdm1())
    return mf


def run_scf(pmol: Any, mol: Molecule, s: Settings, name: str) -> Any:
    """Converged SCF; a second-order (Newton) retry when DIIS fails; :class:`ConvergenceError` else."""
    stage(f"SCF {s.method}/{s.basis} on {name} ({pmol.nao} basis functions)")
    mf = kernel_with_newton_retry(
        make_scf(pmol, mol, s), s.max_cycle, f"SCF {s.method}/{s.basis} on {name}: second-order retry"
    )
    if not mf.converged:
        raise ConvergenceError(
            f"{name}: {s.method}/{s.basis} SCF did not converge in {s.max_cycle} DIIS + {s.max_cycle} Newton "
            f"iterations (charge {pmol.charge}, 2S={pmol.spin}); check the geometry, charge and "
            "multiplicity, or try a smaller basis"
        )
    return mf


def n_frozen(pmol: Any, s: Settings) -> int:
    """Frozen core orbitals (PySCF's chemical core; 0 when the core is not frozen)."""
    if not s.frozen_core or not s.is_correlated:
        return 0
    from pyscf.data.elements import chemcore

    return int(chemcore(pmol))


def estimate_memory_mb(s: Settings, nao: int, nocc: int, nvir: int) -> float:
    """Largest intermediate of ``s`` in MB: CCSD o²v² amplitudes (several copies) and the ovvv/vvvv
    integrals, DF tensors (naux ≈ 3 nao) or the nao⁴/8 integral array without DF; CASCI vectors."""
    mb = 8.0 / 1e6
    eri = (3 * nao) * nao * nao * mb if s.density_fit else nao**4 / 8 * mb
    if s.method in ("ccsd", "ccsd(t)"):
        amps = 6 * nocc**2 * nvir**2 * mb
        ints = (nocc * nvir**3 / 2 + nvir**4 / 8 * (0 if s.density_fit else 1)) * mb
        return eri + amps + ints
    if s.method == "mp2":
        return eri + (nocc * nvir * 3 * nao * mb if s.density_fit else nocc**2 * nvir**2 * mb)
    if s.method in ("casci", "casscf") and s.active:
        from math import comb

        ne, no = s.active
        na = (ne + 1) // 2
        return eri + 8 * comb(no, na) * comb(no, ne - na) * mb
    return eri


def check_memory(s: Settings, pmol: Any, nfrozen: int, name: str) -> float:
    """Raise :class:`MemoryLimitError` when the estimate exceeds available RAM or ``max_memory_mb``."""
    import psutil

    nao = int(pmol.nao)
    nocc = pmol.nelectron // 2 - nfrozen
    need = estimate_memory_mb(s, nao, nocc, nao - nocc - nfrozen)
    avail = psutil.virtual_memory().available / 1e6
    limit = min(avail, float(s.max_memory_mb) * 4)  # PySCF works out of core up to a few times max_memory
    if need > limit:
        raise MemoryLimitError(
            f"{name}: {s.label} needs about {need:,.0f} MB ({nao} basis functions, {nocc} correlated "
            f"occupied orbitals) but {limit:,.0f} MB are allowed (available {avail:,.0f} MB); use density "
            "fitting, a smaller basis, or a larger max_memory"
        )
    return need


def _t1_d1(mycc: Any) -> dict[str, float]:
    """T1 (Lee & Taylor 1989) and D1 (Janssen & Nielsen 1998) diagnostics of a closed-shell CCSD."""
    t1 = mycc.t1
    if isinstance(t1, tuple):  # UCCSD: report the alpha block
        t1 = t1[0]
    nocc = t1.shape[0]
    t1_diag = float(np.linalg.norm(t1) / np.sqrt(2 * nocc))
    d1 = float(np.sqrt(np.max(np.linalg.eigvalsh(t1 @ t1.T))))
    t2 = mycc.t2[0] if isinstance(mycc.t2, tuple) else mycc.t2
    return {"t1_diagnostic": t1_diag, "d1_diagnostic": d1, "max_t2_amplitude": float(np.max(np.abs(t2)))}


def _run_cc(mf: Any, s: Settings, nfc: int, name: str, grad: bool) -> QCResult:
    from pyscf import cc

    stage(f"CCSD/{s.basis} on {name}")
    frozen: Any = nfc or None
    if s.active:  # CC within an active space (ne, no): freeze the other orbitals
        ncore = (mf.mol.nelectron - s.active[0]) // 2
        frozen = list(range(ncore)) + list(range(ncore + s.active[1], mf.mo_coeff.shape[-1]))
    mycc = cc.CCSD(mf, frozen=frozen)
    mycc.max_cycle = 100
    mycc.kernel()
    if not mycc.converged:
        raise ConvergenceError(f"{name}: CCSD/{s.basis} amplitudes did not converge in 100 iterations")
    comps = {"e_ccsd_corr": float(mycc.e_corr), "e_mp2_corr": float(mycc.emp2)}
    res = QCResult(float(mycc.e_tot), float(mf.e_tot), comps)
    res.info.update(_t1_d1(mycc))
    res.objects["cc"] = mycc
    if s.method == "ccsd(t)":
        stage(f"(T) correction on {name}")
        et = float(mycc.ccsd_t())
        res.components["e_t"] = et
        res.e_total += et
    if grad:
        stage(f"{s.method} gradient on {name}")
        if s.method == "ccsd(t)":
            from pyscf.grad import ccsd_t

            res.gradient = np.asarray(ccsd_t.Gradients(mycc).kernel())
        else:
            res.gradient = np.asarray(mycc.nuc_grad_method().kernel())
    return res


def _run_mp2(mf: Any, s: Settings, nfc: int, name: str, grad: bool) -> QCResult:
    from pyscf import mp

    stage(f"{'DF-' if s.density_fit else ''}MP2/{s.basis} on {name}")
    pt = mp.MP2(mf, frozen=nfc or None)
    pt.kernel()
    res = QCResult(float(pt.e_tot), float(mf.e_tot), {"e_mp2_corr": float(pt.e_corr)})
    res.objects["mp2"] = pt
    if grad:
        if s.density_fit:
            raise EngineError(
                f"{name}: PySCF has no analytic DF-MP2 gradient; use the spec option df=0 for MP2 forces"
            )
        res.gradient = np.asarray(pt.nuc_grad_method().kernel())
    return res


def _run_cas(mf: Any, s: Settings, name: str, grad: bool) -> QCResult:
    if s.active is None:
        raise EngineError(f"{name}: {s.method} needs an active space, e.g. {s.method}(6,6)/cc-pvdz")
    from mattwin.engines.pyscf_dmrg import run_cas

    e, info = run_cas(mf, s, name)
    if grad:
        raise EngineError(f"{name}: no analytic forces for {s.method} in mattwin; use HF, DFT, MP2 or CC")
    return QCResult(e, float(mf.e_tot), {"e_cas_corr": e - float(mf.e_tot)}, info=info)


def _run_quantum(mf: Any, s: Settings, name: str, grad: bool) -> QCResult:
    if s.method == "qpe-cost" or grad:
        raise EngineError(
            f"{name}: {s.label} gives {'a resource estimate, not an energy' if not grad else 'no forces'}; "
            "run it with mattwin correlate (the quantum_rung task)"
        )
    from mattwin.quantum.rung import run_rung

    out = run_rung(mf, s, name)
    res = QCResult(float(out["energy"]), float(mf.e_tot), {"e_cas_corr": out["energy"] - float(mf.e_tot)})
    res.info.update({"active_space": list(s.active or ()), "verdict": out["verdict"]})
    res.objects["rung"] = out
    return res


def compute(mol: Molecule, s: Settings, name: str, ghost: Sequence[int] = (), grad: bool = False) -> QCResult:
    """Energy (and gradient when ``grad``) of ``mol`` at level ``s``; raises typed errors."""
    pmol = build_mole(mol, s.basis, ghost, s.max_memory_mb)
    nfc = n_frozen(pmol, s)
    mem = check_memory(s, pmol, nfc, name)
    mf = run_scf(pmol, mol, s, name)
    info = {
        "n_basis": int(pmol.nao),
        "n_frozen": nfc,
        "scf_cycles": int(getattr(mf, "cycles", -1)),
        "memory_estimate_MB": round(mem, 1),
    }
    if s.method in ("ccsd", "ccsd(t)"):
        res = _run_cc(mf, s, nfc, name, grad)
    elif s.method == "mp2":
        res = _run_mp2(mf, s, nfc, name, grad)
    elif s.method in ("casci", "casscf", "dmrg-casci", "dmrg-casscf"):
        res = _run_cas(mf, s, name, grad)
    elif s.method in QUANTUM_METHODS:
        res = _run_quantum(mf, s, name, grad)
    else:
        res = QCResult(float(mf.e_tot), float(mf.e_tot))
        if grad:
            stage(f"{s.method} gradient on {name}")
            res.gradient = np.asarray(mf.nuc_grad_method().kernel())
    disp = getattr(mf, "scf_summary", {}).get("dispersion")
    if disp is not None:
        res.components["e_disp"] = float(disp)
    res.info.update(info)
    res.objects["mf"] = mf
    return res
