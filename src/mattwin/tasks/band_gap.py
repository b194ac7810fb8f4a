"""Band gap of a crystal from periodic Kohn-Sham DFT (``pyscf-pbc`` engine).

The number is the **DFT (Kohn-Sham) gap** on the SCF k-mesh: semilocal functionals (LDA, PBE)
underestimate measured gaps by typically 30-50% (Si: PBE about 0.6 eV vs 1.17 eV measured), and band
extrema between mesh points are missed. It ranks and screens; it is not a quasiparticle gap.
"""

from __future__ import annotations

from dataclasses import dataclass

from pymatgen.core import Structure

from mattwin.engines.base import Engine
from mattwin.engines.pyscf_pbc import PySCFPBCEngine, kohn_sham_gap
from mattwin.errors import EngineError
from mattwin.tasks.results import TaskResult

TASK_VERSION = 1


@dataclass(frozen=True)
class BandGapResult(TaskResult):
    """Kohn-Sham band edges and gaps (eV) on the k-mesh: ``gap_eV`` = CBM - VBM (0 for a metal),
    ``direct_gap_eV`` the smallest gap at one k-point, ``is_direct``; ``label`` says what it is;
    ``energy_eV``: total energy per cell."""

    label: str
    functional: str
    gap_eV: float
    direct_gap_eV: float
    is_direct: bool
    is_metal: bool
    vbm_eV: float
    cbm_eV: float
    kmesh: list[int]
    energy_eV: float
    n_atoms: int


def band_gap(structure: Structure, engine: Engine) -> BandGapResult:
    """Kohn-Sham gap of ``structure`` with a ``pyscf-pbc`` engine (e.g. ``pyscf-pbc:pbe/gth-dzvp;k=4``)."""
    if not isinstance(engine, PySCFPBCEngine):
        raise EngineError(
            f"{engine.label}: the band gap needs the periodic DFT engine (pyscf-pbc:XC/BASIS;k=N)"
        )
    from ase import units

    mf = engine.scf(structure)
    g = kohn_sham_gap(mf)
    xc = engine.params["xc"].upper()
    return BandGapResult(
        label=f"DFT (Kohn-Sham) gap, {xc}, {engine.params['basis']}, k-mesh {engine.params['kmesh']}",
        functional=engine.params["xc"],
        gap_eV=g["gap_eV"],
        direct_gap_eV=g["direct_gap_eV"],
        is_direct=g["vbm_k_index"] == g["cbm_k_index"],
        is_metal=g["gap_eV"] < 1e-3,
        vbm_eV=g["vbm_eV"],
        cbm_eV=g["cbm_eV"],
        kmesh=list(engine.params["kmesh"]),
        energy_eV=float(mf.e_tot) * units.Hartree,
        n_atoms=len(structure),
    )


TASKS = {"band_gap": (band_gap, BandGapResult, TASK_VERSION)}
