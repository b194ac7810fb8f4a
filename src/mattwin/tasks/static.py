"""Single-point energy, forces and stress."""

from __future__ import annotations

import numpy as np
from ase import units
from pymatgen.core import Structure

from mattwin.engines.base import Engine
from mattwin.errors import RelaxationDivergedError
from mattwin.tasks.results import StaticResult

TASK_VERSION = 1


def static(structure: Structure, engine: Engine) -> StaticResult:
    """Energy (eV), forces (eV/Å) and stress (GPa) of ``structure`` with ``engine``."""
    ev = engine.evaluate([structure])[0]
    if not np.isfinite(ev.energy) or not np.all(np.isfinite(ev.forces)):
        raise RelaxationDivergedError(
            f"{structure.composition.reduced_formula}: {engine.label} gave NaN energy"
        )
    n = len(structure)
    extras = {k: v for k, v in ev.extras.items() if k != "magmoms"}
    return StaticResult(
        energy_eV=float(ev.energy),
        energy_per_atom_eV=float(ev.energy) / n,
        max_force_eV_A=float(np.linalg.norm(ev.forces, axis=1).max()),
        stress_GPa=(np.asarray(ev.stress) / units.GPa).tolist(),
        n_atoms=n,
        extras=extras,
    )


TASKS = {"static": (static, StaticResult, TASK_VERSION)}
