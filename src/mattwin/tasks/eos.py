"""Equation of state: energies of uniformly scaled cells fitted with Birch–Murnaghan.

The structure is relaxed first (cell and positions, :func:`mattwin.tasks.relax.relax`) unless
``relax=False`` (the Delta-test protocol: scale the given cell). The cell is then scaled to
``n_points`` volumes in V0 (1 ± ``volume_range``) at fixed shape; with ``relax_ions`` the atoms relax
at each volume (positions only, all volumes batched in one model call per step), else fractional
coordinates stay fixed and all volumes are evaluated in one batched call of the engine.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from ase import units
from pymatgen.core import Structure

from mattwin.analysis.eos import fit_birch_murnaghan
from mattwin.engines.base import Engine
from mattwin.errors import RelaxationDivergedError
from mattwin.tasks.batch_relax import relax_batch
from mattwin.tasks.relax import relax as relax_task
from mattwin.tasks.results import TaskResult

TASK_VERSION = 1


@dataclass(frozen=True)
class EOSResult(TaskResult):
    """Birch–Murnaghan EOS. Volumes Å^3 and energies eV per cell of ``structure`` (``n_atoms`` atoms);
    per-atom values alongside; b0_GPa bulk modulus, bp = dB/dP; ``*_std``: one-sigma fit uncertainty;
    rms_residual_meV_atom: misfit; structure: the cell whose volume was scaled (relaxed unless
    relax=False); method: what was done."""

    v0_A3: float
    v0_per_atom_A3: float
    e0_eV: float
    e0_per_atom_eV: float
    b0_GPa: float
    bp: float
    v0_std_A3: float
    b0_std_GPa: float
    bp_std: float
    rms_residual_meV_atom: float
    volumes_A3: list[float]
    energies_eV: list[float]
    n_atoms: int
    structure: dict[str, Any]
    method: str


def prerelax(structure: Structure, engine: Engine, fmax: float, max_steps: int = 500) -> Structure:
    """``structure`` relaxed (cell and positions) to forces below ``fmax`` eV/Å."""
    res = relax_task(structure, engine, fmax=fmax, max_steps=max_steps, relax_cell=True)
    return res.final_structure


def relaxed_stresses(
    cells: Sequence[Structure], engine: Engine, fmax: float, max_steps: int = 300
) -> list[tuple[float, np.ndarray, Structure]]:
    """(energy eV, stress Voigt eV/Å^3 ASE sign, relaxed structure) of each cell after relaxing the
    positions at fixed cell (all cells batched); single-atom cells are evaluated directly."""
    if all(len(c) == 1 for c in cells):
        return [
            (e.energy, np.asarray(e.stress), c)
            for e, c in zip(engine.evaluate(list(cells)), cells, strict=True)
        ]
    out: dict[int, tuple[float, np.ndarray, Structure]] = {}
    for i, res, _wall in relax_batch(cells, engine, fmax=fmax, max_steps=max_steps, relax_cell=False):
        if isinstance(res, Exception):
            raise res
        out[i] = (res.energy_eV, np.asarray(res.stress_GPa) * units.GPa, res.final_structure)
    return [out[i] for i in range(len(cells))]


def scaled_cells(structure: Structure, factors: Sequence[float]) -> list[Structure]:
    """Copies of ``structure`` with the volume scaled by each factor at fixed shape and fractional
    coordinates."""
    cells = []
    for f in factors:
        s = structure.copy()
        s.scale_lattice(structure.volume * f)
        cells.append(s)
    return cells


def equation_of_state(
    structure: Structure,
    engine: Engine,
    n_points: int = 9,
    volume_range: float = 0.06,
    relax: bool = True,
    relax_ions: bool = True,
    fmax: float = 0.01,
) -> EOSResult:
    """Birch–Murnaghan EOS of ``structure`` with ``engine`` over volumes V (1 ± ``volume_range``).

    ``fmax`` (eV/Å): force criterion of the relaxations. Raises :class:`FitError` when the energies
    have no minimum near the range (widen it or relax first)."""
    s0 = prerelax(structure, engine, fmax) if relax else structure
    factors = np.linspace(1 - volume_range, 1 + volume_range, n_points).tolist()
    cells = scaled_cells(s0, factors)
    if relax_ions:
        energies = [e for e, _s, _c in relaxed_stresses(cells, engine, fmax)]
    else:
        energies = [ev.energy for ev in engine.evaluate(cells)]
    if not np.all(np.isfinite(energies)):
        raise RelaxationDivergedError(
            f"{structure.composition.reduced_formula}: {engine.label} gave NaN energy"
        )
    volumes = [c.volume for c in cells]
    fit = fit_birch_murnaghan(volumes, energies)
    n = len(s0)
    how = "cell relaxed, " if relax else "given cell, "
    how += "ions relaxed at each volume" if relax_ions else "fixed fractional coordinates"
    return EOSResult(
        v0_A3=fit.v0_A3,
        v0_per_atom_A3=fit.v0_A3 / n,
        e0_eV=fit.e0_eV,
        e0_per_atom_eV=fit.e0_eV / n,
        b0_GPa=fit.b0_GPa,
        bp=fit.bp,
        v0_std_A3=fit.v0_std_A3,
        b0_std_GPa=fit.b0_std_GPa,
        bp_std=fit.bp_std,
        rms_residual_meV_atom=fit.rms_residual_eV / n * 1000,
        volumes_A3=[float(v) for v in volumes],
        energies_eV=[float(e) for e in energies],
        n_atoms=n,
        structure=s0.as_dict(),
        method=f"third-order Birch-Murnaghan fit, {n_points} volumes in V(1 +/- {volume_range:g}), {how}",
    )


TASKS = {"equation_of_state": (equation_of_state, EOSResult, TASK_VERSION)}
