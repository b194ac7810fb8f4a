"""Active-space Hamiltonians from mattwin's own SCF, and the classical rungs computed in the same space:
the exact energy (CASCI with PySCF's FCI solver, or DMRG with block2 where FCI does not fit), CCSD and
CCSD(T) with every orbital outside the space frozen.

Integrals: ``h1`` (norb, norb) and ``h2`` (norb, norb, norb, norb, chemist's notation (pq|rs), 8-fold
symmetric, not packed) in hartree over the active orbitals; ``ecore`` the nuclear repulsion plus the
frozen-core energy (and the point-charge terms of an embedded cluster, which enter through the SCF's
core Hamiltonian), so ``ecore + <H_active>`` is the total energy.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass
from math import comb
from typing import Any

import numpy as np

from mattwin.engines.pyscf_run import stage
from mattwin.errors import EngineError

#: FCI up to this many determinants (each CI vector 8 bytes per determinant; ~10 vectors live)
FCI_MAX_DETERMINANTS = 5_000_000
#: beyond FCI, DMRG as the reference up to this many active orbitals
DMRG_MAX_ORBITALS = 40
#: an SQD/VQE/SCI energy below the reference by more than this (Eh) is an error
VARIATIONAL_TOL = {"fci": 1e-6, "dmrg": 1e-4}


@dataclass(frozen=True)
class ActiveSpace:
    """The (nelec, norb) active space of a closed-shell SCF: integrals (hartree) and where it sits."""

    h1: np.ndarray
    h2: np.ndarray
    ecore: float
    norb: int
    nelec: tuple[int, int]
    ncore: int
    e_scf: float

    @property
    def n_qubits(self) -> int:
        """Qubits of the Jordan-Wigner encoding (two spin orbitals per spatial orbital)."""
        return 2 * self.norb

    @property
    def n_determinants(self) -> int:
        """Determinants of the full CI space (alpha strings x beta strings)."""
        return comb(self.norb, self.nelec[0]) * comb(self.norb, self.nelec[1])


def check_active(n_electrons: int, n_mo: int, spin: int, active: tuple[int, int], name: str) -> int:
    """Raise :class:`EngineError` unless ``active`` = (ne, no) fits a closed-shell molecule with
    ``n_electrons`` electrons and ``n_mo`` orbitals; return the number of core orbitals."""
    ne, no = active
    if spin != 0:
        raise EngineError(
            f"{name}: the quantum rung runs closed-shell (singlet) molecules only (2S = {spin}); "
            "give --multiplicity 1 or a closed-shell molecule"
        )
    if ne < 2 or ne % 2 or no < 1:
        raise EngineError(
            f"{name}: active space ({ne},{no}) needs an even number of electrons >= 2 and orbitals"
        )
    if ne > n_electrons or (n_electrons - ne) % 2:
        raise EngineError(
            f"{name}: active space ({ne},{no}) has more electrons than the molecule ({n_electrons})"
        )
    ncore = (n_electrons - ne) // 2
    if ne > 2 * no or ncore + no > n_mo:
        raise EngineError(
            f"{name}: active space ({ne},{no}) does not fit: {ncore} core + {no} active orbitals "
            f"but the basis has {n_mo} orbitals and {ne} electrons need at least {ne // 2} orbitals"
        )
    return ncore


def active_space(mf: Any, active: tuple[int, int], name: str) -> ActiveSpace:
    """Integrals of ``active`` = (ne, no) over the canonical SCF orbitals of ``mf`` (the ``no`` orbitals
    around the Fermi level, below them a frozen core)."""
    from pyscf import ao2mo, mcscf

    mol = mf.mol
    ncore = check_active(int(mol.nelectron), int(mf.mo_coeff.shape[1]), int(mol.spin), active, name)
    ne, no = active
    mc = mcscf.CASCI(mf, no, ne)
    h1, ecore = mc.get_h1eff()
    h2 = ao2mo.restore(1, mc.get_h2eff(), no)
    return ActiveSpace(
        h1=np.ascontiguousarray(h1),
        h2=np.ascontiguousarray(h2),
        ecore=float(ecore),
        norb=no,
        nelec=(ne // 2, ne // 2),
        ncore=ncore,
        e_scf=float(mf.e_tot),
    )


@dataclass(frozen=True)
class Reference:
    """The exact (FCI) or near-exact (DMRG) energy of the space (Eh), its solver and CPU time (s)."""

    energy: float
    solver: str
    kind: str
    cpu_s: float

    @property
    def tolerance(self) -> float:
        return VARIATIONAL_TOL[self.kind]


def exact_reference(space: ActiveSpace, bond_dim: int, name: str) -> Reference | None:
    """CASCI (FCI) when the CI space has at most :data:`FCI_MAX_DETERMINANTS` determinants, else
    DMRG-CASCI (bond dimension ``bond_dim``) up to :data:`DMRG_MAX_ORBITALS`; None beyond."""
    from pyscf import fci

    t0 = time.process_time()
    if space.n_determinants <= FCI_MAX_DETERMINANTS:
        stage(f"CASCI{space_label(space)} (FCI, {space.n_determinants:,} determinants) on {name}")
        solver = fci.direct_spin1.FCI()
        solver.conv_tol = 1e-10
        e, _ = solver.kernel(space.h1, space.h2, space.norb, space.nelec, ecore=space.ecore)
        return Reference(float(e), "CASCI (PySCF FCI)", "fci", time.process_time() - t0)
    if space.norb > DMRG_MAX_ORBITALS:
        return None
    from mattwin.engines.pyscf_dmrg import DMRGSolver

    stage(f"DMRG-CASCI{space_label(space)} (M = {bond_dim}) on {name}")
    with tempfile.TemporaryDirectory(prefix="mattwin-dmrg-") as scratch:
        e, _ = DMRGSolver(bond_dim, scratch).kernel(
            space.h1, space.h2, space.norb, space.nelec, ecore=space.ecore
        )
    return Reference(float(e), f"DMRG-CASCI (block2, M = {bond_dim})", "dmrg", time.process_time() - t0)


def space_label(space: ActiveSpace) -> str:
    return f"({sum(space.nelec)},{space.norb})"


@dataclass
class CCResult:
    """CCSD in the active space: energies (Eh), amplitudes t1 (nocc, nvir) and t2 (nocc, nocc, nvir,
    nvir), convergence, CPU time (s) of CCSD and of the (T) correction."""

    e_ccsd: float
    e_ccsd_t: float
    t1: np.ndarray
    t2: np.ndarray
    converged: bool
    cpu_ccsd_s: float
    cpu_t_s: float


def ccsd_in_space(mf: Any, space: ActiveSpace, name: str, with_t: bool = True) -> CCResult:
    """RHF-CCSD (and (T)) with the orbitals outside the active space frozen (same integrals)."""
    from pyscf import cc

    nmo = mf.mo_coeff.shape[1]
    frozen = list(range(space.ncore)) + list(range(space.ncore + space.norb, nmo))
    stage(f"CCSD{space_label(space)} on {name}")
    t0 = time.process_time()
    mycc = cc.CCSD(mf, frozen=frozen or None)
    mycc.verbose = 0
    mycc.max_cycle = 200
    mycc.kernel()
    t1 = time.process_time()
    e_t = 0.0
    if with_t:
        stage(f"(T){space_label(space)} on {name}")
        e_t = float(mycc.ccsd_t())
    return CCResult(
        e_ccsd=float(mycc.e_tot),
        e_ccsd_t=float(mycc.e_tot) + e_t,
        t1=np.asarray(mycc.t1),
        t2=np.asarray(mycc.t2),
        converged=bool(mycc.converged),
        cpu_ccsd_s=t1 - t0,
        cpu_t_s=time.process_time() - t1,
    )
