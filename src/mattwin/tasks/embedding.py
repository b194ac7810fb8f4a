"""Embedded (ONIOM-style QM/MM) energy of a defect or adsorbate: a region treated by a high-level
engine (e.g. ``pyscf:...``) inside an environment treated by the task's engine (an MLIP).

See :mod:`mattwin.multiscale.embedding` for the scheme. Optionally the region atoms are relaxed on
the embedded energy surface with the environment held fixed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from ase.constraints import FixAtoms
from ase.optimize import FIRE
from pymatgen.core import Structure

from mattwin.engines.base import Engine
from mattwin.engines.registry import get_engine
from mattwin.materials.identity import from_atoms, to_atoms
from mattwin.multiscale.embedding import EmbeddingError, ONIOMCalculator, find_links, select_region
from mattwin.tasks.results import TaskResult

TASK_VERSION = 1


@dataclass(frozen=True)
class EmbeddingResult(TaskResult):
    """ONIOM energies (eV per cell): ``energy_eV`` = ``energy_low_system_eV`` +
    ``energy_high_region_eV`` - ``energy_low_region_eV``; ``region``: atom indices of the
    high-level region; ``n_link_atoms``: hydrogen caps on cut bonds; ``max_force_eV_A``: largest
    embedded force on a region atom (eV/Å); ``structure``: the final structure (relaxed region when
    ``relax_steps`` > 0); ``high_engine``/``low_engine``: signatures of the two levels."""

    energy_eV: float
    energy_low_system_eV: float
    energy_high_region_eV: float
    energy_low_region_eV: float
    region: list[int]
    n_link_atoms: int
    max_force_eV_A: float
    n_steps: int
    structure: dict[str, Any]
    high_engine: dict[str, Any]
    low_engine: dict[str, Any]
    extras: dict[str, Any] = field(default_factory=dict)

    @property
    def correction_eV(self) -> float:
        """What the high level changes: E_high(region) - E_low(region), eV."""
        return self.energy_high_region_eV - self.energy_low_region_eV


def _region(atoms: Any, region: list[int] | None, center: list[int] | None, radius: float) -> list[int]:
    if region:
        bad = [i for i in region if i < 0 or i >= len(atoms)]
        if bad:
            raise EmbeddingError(f"region atoms {bad} are not indices of a {len(atoms)}-atom system")
        return sorted(set(region))
    if center is None:
        raise EmbeddingError("give the high-level region: atom indices, or centre atoms and a radius")
    return select_region(atoms, center, radius)


def embedded_energy(
    structure: Structure,
    engine: Engine,
    high: str,
    region: list[int] | None = None,
    center: list[int] | None = None,
    radius: float = 3.0,
    cap: bool = True,
    vacuum: float = 10.0,
    relax_steps: int = 0,
    fmax: float = 0.05,
    high_key: str = "",
) -> EmbeddingResult:
    """ONIOM energy of ``structure``: ``high`` (engine spec) on the region, ``engine`` everywhere.

    region: atom indices, or ``center`` atom indices and ``radius`` (Å, minimum image);
    cap: hydrogen link atoms on cut covalent bonds (False for metals, where no bond is cut);
    vacuum: Å of space around the region when the low level evaluates it alone;
    relax_steps: FIRE steps relaxing the region atoms (environment fixed) to ``fmax`` eV/Å;
    high_key: the high engine's signature hash (set by the API so it enters the cache key).
    """
    del high_key  # only part of the cache key
    high_engine = get_engine(high)
    atoms = to_atoms(structure)
    chosen = _region(atoms, region, center, radius)
    links = find_links(atoms, chosen) if cap else []
    calc = ONIOMCalculator(high_engine.calculator(), engine.calculator(), chosen, links, vacuum=vacuum)
    atoms.calc = calc
    steps = 0
    if relax_steps > 0:
        atoms.set_constraint(FixAtoms(indices=[i for i in range(len(atoms)) if i not in set(chosen)]))
        opt = FIRE(atoms, logfile=None)
        opt.run(fmax=fmax, steps=relax_steps)
        steps = int(opt.get_number_of_steps())
    energy = float(atoms.get_potential_energy())
    forces = np.asarray(atoms.get_forces())[chosen]
    res = calc.results
    atoms.set_constraint()
    return EmbeddingResult(
        energy_eV=energy,
        energy_low_system_eV=float(res["energy_low_system"]),
        energy_high_region_eV=float(res["energy_high_region"]),
        energy_low_region_eV=float(res["energy_low_region"]),
        region=chosen,
        n_link_atoms=len(links),
        max_force_eV_A=float(np.linalg.norm(forces, axis=1).max()),
        n_steps=steps,
        structure=from_atoms(atoms).as_dict(),
        high_engine=high_engine.signature,
        low_engine=engine.signature,
        extras={"vacuum_A": vacuum, "capped": cap},
    )


TASKS = {"embedded_energy": (embedded_energy, EmbeddingResult, TASK_VERSION)}
