"""Lattice thermal conductivity with phono3py: third-order force constants from batched finite
displacements and the linearised Boltzmann equation in the relaxation-time approximation (RTA).

Cost: the number of displaced supercells grows fast with the supercell and the symmetry. Si (2
atoms, 2x2x2 supercell of the primitive cell, 16 atoms): 111 supercells + 1 for fc2 (one batched
engine call each group), then the RTA on a 11x11x11 q-mesh; a few seconds with CHGNet on 2 cores
plus ~10-30 s in phono3py. Cells of 10 low-symmetry atoms need thousands of supercells: the task
refuses above ``max_supercells`` rather than run for hours. The small 2x2x2 cell truncates the
third-order interactions at ~half its width, so kappa is a model-limited estimate (Si: typically
within a factor ~1.5 of larger-cell results). Only the phonon part: in metals electrons carry most heat.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from phono3py import Phono3py
from pymatgen.core import Structure
from pymatgen.symmetry.bandstructure import HighSymmKpath

from mattwin.engines.base import Engine
from mattwin.errors import CostLimitError, FitError
from mattwin.tasks.eos import prerelax
from mattwin.tasks.phonons import _phonopy_atoms
from mattwin.tasks.results import TaskResult

TASK_VERSION = 2
#: above this (W/(m K); diamond, the highest known, has ~2300) a result is a numerical failure
MAX_KAPPA_W_MK = 1.0e4


@dataclass(frozen=True)
class ConductivityResult(TaskResult):
    """Lattice thermal conductivity (RTA). temperatures_K; kappa_W_mK: per temperature the Voigt
    components (xx, yy, zz, yz, xz, xy) in W/(m K); kappa_300K_W_mK: the 3x3 tensor at 300 K;
    kappa_300K_scalar_W_mK: its trace / 3; n_supercells: displaced supercells computed."""

    temperatures_K: list[float]
    kappa_W_mK: list[list[float]]
    kappa_300K_W_mK: list[list[float]]
    kappa_300K_scalar_W_mK: float
    supercell_matrix: list[int]
    mesh: list[int]
    n_supercells: int
    method: str


def _structures(cells: list[Any]) -> list[Structure]:
    return [Structure(c.cell, list(c.symbols), c.scaled_positions) for c in cells]


def _forces(engine: Engine, perfect: Any, cells: list[Any]) -> np.ndarray:
    evals = engine.evaluate(_structures([perfect, *cells]))
    f0 = np.asarray(evals[0].forces)
    return np.array([np.asarray(e.forces) - f0 for e in evals[1:]])


def thermal_conductivity(
    structure: Structure,
    engine: Engine,
    supercell: tuple[int, int, int] = (2, 2, 2),
    mesh: tuple[int, int, int] = (11, 11, 11),
    displacement: float = 0.03,
    temperatures: tuple[float, ...] = (300.0,),
    fmax: float = 0.005,
    max_supercells: int = 1500,
    workdir: Path | None = None,
) -> ConductivityResult:
    """Lattice thermal conductivity (W/(m K)) of ``structure`` with ``engine`` (see module docstring);
    ``displacement`` in Å. Raises :class:`CostLimitError` when more than ``max_supercells``
    displaced supercells would be needed."""
    s0 = prerelax(structure, engine, fmax)
    prim = HighSymmKpath(s0, symprec=1e-3).prim
    ph3 = Phono3py(
        _phonopy_atoms(prim), supercell_matrix=np.diag(supercell), primitive_matrix=None, log_level=0
    )
    ph3.generate_displacements(distance=displacement)
    cells = list(ph3.supercells_with_displacements)
    if len(cells) > max_supercells:
        raise CostLimitError(
            f"{prim.composition.reduced_formula}: phono3py needs {len(cells)} displaced supercells "
            f"(limit {max_supercells}); use a smaller supercell or raise max_supercells"
        )
    ph3.forces = _forces(engine, ph3.supercell, cells)
    ph3.produce_fc3(symmetrize_fc3r=True)
    ph3.mesh_numbers = list(mesh)
    ph3.init_phph_interaction()
    temps = sorted(set(temperatures) | {300.0})
    ph3.run_thermal_conductivity(temperatures=temps)
    kappa = np.asarray(ph3.thermal_conductivity.kappa)[0]  # (n_temps, 6), first sigma
    k300 = kappa[temps.index(300.0)]
    if not np.all(np.isfinite(k300)) or np.abs(k300[:3]).max() > MAX_KAPPA_W_MK:
        raise FitError(
            f"{prim.composition.reduced_formula}: lattice conductivity "
            f"{np.abs(k300[:3]).max():.3g} W/(m K) is unphysical (above {MAX_KAPPA_W_MK:g}): "
            f"phonon-phonon scattering in the {list(supercell)} supercell vanished; use a bigger supercell"
        )
    xx, yy, zz, yz, xz, xy = k300
    tensor = [[xx, xy, xz], [xy, yy, yz], [xz, yz, zz]]
    if workdir is not None:
        workdir.mkdir(parents=True, exist_ok=True)
        ph3.save(str(workdir / "phono3py_params.yaml"))
    return ConductivityResult(
        temperatures_K=temps,
        kappa_W_mK=kappa.tolist(),
        kappa_300K_W_mK=[[float(x) for x in row] for row in tensor],
        kappa_300K_scalar_W_mK=float((xx + yy + zz) / 3),
        supercell_matrix=list(supercell),
        mesh=list(mesh),
        n_supercells=len(cells),
        method=(
            f"phono3py RTA, fc2=fc3 supercell {list(supercell)}, q-mesh {list(mesh)}, "
            f"displacement {displacement} A"
        ),
    )


TASKS = {"thermal_conductivity": (thermal_conductivity, ConductivityResult, TASK_VERSION)}
