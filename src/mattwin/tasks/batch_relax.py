"""Batched relaxation: many structures advance together, one model call per optimiser step.

Each structure keeps its own ASE FIRE optimiser (and FrechetCellFilter for the cell), so it follows
exactly the algorithm of :func:`mattwin.tasks.relax.relax`; only the energy/force/stress
evaluation is shared: all active structures are evaluated in one batched call of the engine
(CHGNet batches graphs of different sizes). A structure that converges (or hits the step cap, or
blows up) leaves the batch at once and the next one in the queue takes its place, so nobody waits
for the slowest. When the model runs out of memory the batch is split and retried smaller.
"""

from __future__ import annotations

import time
import warnings
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from ase import Atoms
from ase.calculators.singlepoint import SinglePointCalculator
from ase.filters import FrechetCellFilter
from ase.optimize import FIRE
from pymatgen.core import Structure

from mattwin.engines.base import Engine, Evaluation
from mattwin.errors import MattwinError
from mattwin.materials.identity import to_atoms
from mattwin.tasks.relax import _Watchdog, relax_result
from mattwin.tasks.results import RelaxResult

#: default cap on atoms evaluated in one model call (halved on out-of-memory)
MAX_BATCH_ATOMS = 2048


@dataclass
class _Slot:
    index: int
    atoms: Atoms
    opt: FIRE
    watchdog: _Watchdog
    started: float = field(default_factory=time.perf_counter)
    nsteps: int = 0


@dataclass
class BatchStats:
    """Where the time went (s): inside the model's batched evaluation vs everything else."""

    model_s: float = 0.0
    total_s: float = 0.0
    model_calls: int = 0
    evaluations: int = 0

    @property
    def model_share(self) -> float:
        return self.model_s / self.total_s if self.total_s else 0.0


def _is_oom(exc: BaseException) -> bool:
    return isinstance(exc, MemoryError) or "out of memory" in str(exc).lower()


def evaluate_split_on_oom(engine: Engine, atoms_list: list[Atoms]) -> list[Evaluation]:
    """``engine.evaluate_atoms``; on out-of-memory, evaluate the two halves separately (recursively)."""
    try:
        return engine.evaluate_atoms(atoms_list)
    except (RuntimeError, MemoryError) as exc:
        if not _is_oom(exc) or len(atoms_list) == 1:
            raise
        try:
            import torch

            if torch.cuda.is_available():
                torch.cuda.empty_cache()
        except ImportError:
            pass
        half = len(atoms_list) // 2
        return evaluate_split_on_oom(engine, atoms_list[:half]) + evaluate_split_on_oom(
            engine, atoms_list[half:]
        )


def relax_batch(
    structures: Sequence[Structure],
    engine: Engine,
    fmax: float = 0.05,
    max_steps: int = 500,
    relax_cell: bool | Sequence[bool] = True,
    max_batch_atoms: int = MAX_BATCH_ATOMS,
    names: Sequence[str] | None = None,
    stats: BatchStats | None = None,
) -> Iterator[tuple[int, RelaxResult | MattwinError, float]]:
    """Relax ``structures`` together; yield ``(index, result or error, wall seconds)`` as each finishes.

    Same convergence criterion as :func:`mattwin.tasks.relax.relax` (forces below ``fmax`` eV/Å and,
    with the cell, the FrechetCellFilter stress criterion; at most ``max_steps`` steps).
    """
    if len(engine.members) > 1:
        raise ValueError("relax_batch takes a single engine; relax with each ensemble member")
    cells = [relax_cell] * len(structures) if isinstance(relax_cell, bool) else list(relax_cell)
    labels = list(names) if names is not None else [s.composition.reduced_formula for s in structures]
    queue = deque(range(len(structures)))
    active: list[_Slot] = []
    stats = stats if stats is not None else BatchStats()
    t_start = time.perf_counter()
    while queue or active:
        n_atoms = sum(len(s.atoms) for s in active)
        while queue and (not active or n_atoms + len(structures[queue[0]]) <= max_batch_atoms):
            i = queue.popleft()
            atoms = to_atoms(structures[i])
            target = FrechetCellFilter(atoms) if cells[i] else atoms
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                opt = FIRE(target, logfile=None)
            opt.fmax = fmax
            active.append(_Slot(i, atoms, opt, _Watchdog(atoms, labels[i], engine.label)))
            n_atoms += len(atoms)
        t0 = time.perf_counter()
        try:
            evaluations = evaluate_split_on_oom(engine, [s.atoms for s in active])
        except MattwinError as exc:
            for s in active:
                yield s.index, exc, time.perf_counter() - s.started
            active = []
            continue
        stats.model_s += time.perf_counter() - t0
        stats.model_calls += 1
        stats.evaluations += len(active)
        still = []
        for slot, ev in zip(active, evaluations, strict=True):
            outcome = _advance(slot, ev, max_steps)
            if outcome is None:
                still.append(slot)
            else:
                yield slot.index, outcome, time.perf_counter() - slot.started
        active = still
    stats.total_s += time.perf_counter() - t_start


def _advance(slot: _Slot, ev: Evaluation, max_steps: int) -> RelaxResult | MattwinError | None:
    """Attach the evaluation, then converge, stop, or take one FIRE step (None: still running)."""
    atoms = slot.atoms
    atoms.calc = SinglePointCalculator(
        atoms, energy=ev.energy, free_energy=ev.energy, forces=ev.forces, stress=ev.stress
    )
    try:
        slot.watchdog()
        gradient = slot.opt.optimizable.get_gradient()
        converged = bool(slot.opt.gradient_converged(gradient))
        if converged or slot.nsteps >= max_steps:
            return relax_result(atoms, slot.watchdog.v0, slot.nsteps, converged)
        slot.opt.step()
        slot.opt.nsteps += 1
        slot.nsteps += 1
    except MattwinError as exc:
        return exc
    return None
