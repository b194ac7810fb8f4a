"""Active-space methods of the ``pyscf`` engine: CASCI/CASSCF (PySCF's FCI solver) and DMRG-CASCI /
DMRG-CASSCF with block2's ``DMRGDriver`` (spin-adapted SU(2) MPS) as the active-space solver.

block2 aborts the whole process (not a Python exception) when its stack memory is too small, so
``stack_mem`` is sized from the memory psutil reports as available; the bond dimension is
``Settings.bond_dim`` (M; 200 is ample for 8-10 active orbitals, where DMRG matches FCI to < 1e-6 Ha).
Energies in hartree.
"""

from __future__ import annotations

import os
import tempfile
from typing import Any

import numpy as np

from mattwin.engines.pyscf_run import Settings, stage
from mattwin.errors import ConvergenceError, MemoryLimitError


def _stack_mem() -> int:
    """Bytes of block2 stack memory: 30% of available RAM, at least 256 MB, at most 8 GB."""
    import psutil

    avail = psutil.virtual_memory().available
    if avail < (320 << 20):
        raise MemoryLimitError(f"DMRG: only {avail >> 20} MB available; block2 needs at least 320 MB")
    return int(min(max(0.3 * avail, 256 << 20), 8 << 30))


def _threads() -> int:
    return max(1, int(os.environ.get("OMP_NUM_THREADS", os.cpu_count() or 1)))


class DMRGSolver:
    """A PySCF ``fcisolver`` backed by block2 (ground state, SU(2)): ``kernel``, ``make_rdm1``,
    ``make_rdm12``, ``make_rdm1s``; used by CASCI and CASSCF."""

    def __init__(self, bond_dim: int, scratch: str, n_sweeps: int = 24) -> None:
        self.bond_dim = bond_dim
        self.scratch = scratch
        self.n_sweeps = n_sweeps
        self.converged = True
        self.spin: int | None = None
        self.nroots = 1
        self._driver: Any = None

    def _system(self, norb: int, nelec: Any) -> Any:
        from pyblock2.driver.core import DMRGDriver, SymmetryTypes

        na, nb = _split(nelec)
        if self._driver is None:
            self._driver = DMRGDriver(
                scratch=self.scratch,
                symm_type=SymmetryTypes.SU2,
                n_threads=_threads(),
                stack_mem=_stack_mem(),
            )
        self._driver.initialize_system(n_sites=norb, n_elec=na + nb, spin=na - nb)
        return self._driver

    def kernel(
        self, h1: Any, h2: Any, norb: int, nelec: Any, ci0: Any = None, ecore: float = 0.0, **_kw: Any
    ) -> tuple[float, Any]:
        from pyscf import ao2mo

        driver = self._system(norb, nelec)
        g2e = ao2mo.restore(1, np.asarray(h2), norb)
        mpo = driver.get_qc_mpo(h1e=np.asarray(h1), g2e=g2e, ecore=ecore, iprint=0)
        m = self.bond_dim
        ket = driver.get_random_mps(tag="KET", bond_dim=m // 2, nroots=1)
        n = self.n_sweeps
        dims = [m // 2] * 4 + [m] * (n - 4)
        noises = [1e-4] * 4 + [1e-5] * 4 + [0.0] * (n - 8)
        energy = driver.dmrg(
            mpo,
            ket,
            n_sweeps=n,
            bond_dims=dims,
            noises=noises,
            thrds=[1e-8] * 8 + [1e-10] * (n - 8),
            iprint=0,
            tol=1e-9,
        )
        return float(energy), ket

    def make_rdm1(self, ket: Any, norb: int, nelec: Any) -> np.ndarray:
        return np.asarray(self._driver.get_1pdm(ket))

    def make_rdm1s(self, ket: Any, norb: int, nelec: Any) -> tuple[np.ndarray, np.ndarray]:
        dm = self.make_rdm1(ket, norb, nelec)
        return dm / 2, dm / 2

    def make_rdm12(self, ket: Any, norb: int, nelec: Any) -> tuple[np.ndarray, np.ndarray]:
        dm1 = self.make_rdm1(ket, norb, nelec)
        # block2 SU(2): dm2[i,j,k,l] = <a+_i a+_j a_k a_l> summed over spins; PySCF: <p+ r+ s q>
        dm2 = np.asarray(self._driver.get_2pdm(ket)).transpose(0, 3, 1, 2)
        return dm1, dm2

    def spin_square(self, ket: Any, norb: int, nelec: Any) -> tuple[float, float]:
        na, nb = _split(nelec)
        s = (na - nb) / 2
        return s * (s + 1), 2 * s + 1


def _split(nelec: Any) -> tuple[int, int]:
    if isinstance(nelec, (tuple, list)):
        return int(nelec[0]), int(nelec[1])
    n = int(nelec)
    return (n + 1) // 2, n // 2


def natural_occupations(dm1: np.ndarray) -> list[float]:
    """Eigenvalues of the spin-summed active-space 1-RDM (0..2), largest first."""
    return sorted((float(x) for x in np.linalg.eigvalsh(dm1)), reverse=True)


def run_cas(mf: Any, s: Settings, name: str) -> tuple[float, dict[str, Any]]:
    """CASCI/CASSCF (FCI or DMRG solver) on the SCF ``mf``; returns the energy (Ha) and info
    (active space, natural occupations, solver, bond dimension)."""
    from pyscf import mcscf

    assert s.active is not None
    ne, no = s.active
    cls = mcscf.CASSCF if s.method.endswith("casscf") else mcscf.CASCI
    mc = cls(mf, no, ne)
    mc.verbose = 0
    with tempfile.TemporaryDirectory(prefix="mattwin-dmrg-") as scratch:
        if s.method.startswith("dmrg"):
            mc.fcisolver = DMRGSolver(s.bond_dim, scratch)
            if cls is mcscf.CASSCF:
                mc.internal_rotation = False
        stage(f"{s.label} on {name}")
        mc.kernel()
        e = float(mc.e_tot)
        dm1 = mc.fcisolver.make_rdm1(mc.ci, no, mc.nelecas)
        occ = natural_occupations(np.asarray(dm1))
    if cls is mcscf.CASSCF and not mc.converged:
        raise ConvergenceError(f"{name}: {s.label} orbital optimisation did not converge")
    info: dict[str, Any] = {
        "active_space": [ne, no],
        "natural_occupations": [round(x, 6) for x in occ],
        "solver": "block2 DMRG (SU2)" if s.method.startswith("dmrg") else "PySCF FCI",
    }
    if s.method.startswith("dmrg"):
        info["bond_dim"] = s.bond_dim
    return e, info
