"""Relaxation of cell and positions with an ASE optimiser driving an engine's calculator."""

from __future__ import annotations

import math
import warnings

import numpy as np
from ase import Atoms, units
from ase.filters import FrechetCellFilter
from ase.optimize import FIRE
from pymatgen.core import Structure

from mattwin.engines.base import Engine
from mattwin.errors import RelaxationDivergedError
from mattwin.materials.identity import from_atoms, to_atoms
from mattwin.tasks.results import RelaxResult

TASK_VERSION = 1
#: a relaxation whose volume leaves [1/MAX_VOLUME_RATIO, MAX_VOLUME_RATIO] x initial has blown up
MAX_VOLUME_RATIO = 3.0


class _Watchdog:
    """Stops a relaxation that produces NaN or an exploding/collapsing cell."""

    def __init__(self, atoms: Atoms, name: str, engine: str) -> None:
        self.atoms, self.name, self.engine = atoms, name, engine
        self.v0 = atoms.get_volume()

    def __call__(self) -> None:
        e = self.atoms.get_potential_energy()
        if not math.isfinite(e) or not np.all(np.isfinite(self.atoms.get_forces())):
            raise RelaxationDivergedError(f"{self.name}: {self.engine} gave NaN energy or forces")
        ratio = self.atoms.get_volume() / self.v0
        if not 1 / MAX_VOLUME_RATIO < ratio < MAX_VOLUME_RATIO:
            raise RelaxationDivergedError(
                f"{self.name}: volume changed by a factor {ratio:.2f} (limit {MAX_VOLUME_RATIO:g}) during "
                f"relaxation with {self.engine}: exploding or collapsing cell; the starting volume is far "
                "from the model's minimum or the model extrapolates; check the input cell"
            )


def relax(
    structure: Structure,
    engine: Engine,
    fmax: float = 0.05,
    max_steps: int = 500,
    relax_cell: bool = True,
) -> RelaxResult:
    """Relax ``structure`` with FIRE until every force is below ``fmax`` (eV/Å; with the cell, the
    stress criterion of ASE's FrechetCellFilter at the same fmax) or ``max_steps`` steps.

    Raises :class:`RelaxationDivergedError` on NaN or a volume change beyond ``MAX_VOLUME_RATIO``.
    """
    if len(engine.members) > 1:
        raise ValueError("relax takes a single engine; relax with each ensemble member and aggregate")
    name = structure.composition.reduced_formula
    atoms = to_atoms(structure)
    atoms.calc = engine.calculator()
    v0 = atoms.get_volume()
    target = FrechetCellFilter(atoms) if relax_cell else atoms
    watchdog = _Watchdog(atoms, name, engine.label)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        opt = FIRE(target, logfile=None)
        opt.attach(watchdog, interval=1)
        converged = bool(opt.run(fmax=fmax, steps=max_steps))
    watchdog()
    return relax_result(atoms, v0, int(opt.nsteps), converged)


def relax_result(atoms: Atoms, v0: float, n_steps: int, converged: bool) -> RelaxResult:
    """The result of a finished relaxation from its final ``atoms`` (with results attached)."""
    forces = atoms.get_forces()
    energy = float(atoms.get_potential_energy())
    return RelaxResult(
        energy_eV=energy,
        energy_per_atom_eV=energy / len(atoms),
        structure=from_atoms(atoms).as_dict(),
        initial_volume_A3=float(v0),
        final_volume_A3=float(atoms.get_volume()),
        n_steps=n_steps,
        converged=converged,
        max_force_eV_A=float(np.linalg.norm(forces, axis=1).max()),
        stress_GPa=(atoms.get_stress() / units.GPa).tolist(),
        n_atoms=len(atoms),
    )


TASKS = {"relax": (relax, RelaxResult, TASK_VERSION)}
