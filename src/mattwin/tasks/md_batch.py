"""Replicas in lockstep: several MD runs (e.g. one per temperature) share one model call per step.

Each replica runs the ordinary :func:`mattwin.tasks.md.run_md` (its own ASE integrator, trajectory
and checkpoint) in a thread of its own; its calculator does not call the model but hands its
structure to a coordinator and waits. When every running replica is waiting, the coordinator (the
calling thread, the only one that touches the model) evaluates them all in one batched
``engine.evaluate_atoms`` call and hands the answers back. Integrators that evaluate several times
per step, or replicas with different step counts, timesteps or ensembles, need no special care: a
replica that finishes simply leaves the batch. The answers are those of the one-by-one path.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from ase import Atoms
from pymatgen.core import Structure

from mattwin.engines.base import Engine, Evaluation
from mattwin.tasks.batch_relax import evaluate_split_on_oom
from mattwin.tasks.md import MDResult, prepare, run_md, summarize

#: optional per-step progress of lockstep MD: called with (replica name, step, total steps)
STEP_PROGRESS: ContextVar[Callable[[str, int, int], None] | None] = ContextVar(
    "md_step_progress", default=None
)


class _Coordinator:
    """Collects one structure from every running replica, evaluates them together, answers each."""

    def __init__(self, engine: Engine, n: int) -> None:
        self.engine = engine
        self.cond = threading.Condition()
        self.waiting: dict[int, Atoms] = {}
        self.answers: dict[int, Evaluation | BaseException] = {}
        self.running = set(range(n))
        self.model_calls = 0
        self.model_s = 0.0

    def evaluator(self, i: int) -> Callable[[Atoms], Evaluation]:
        def evaluate(atoms: Atoms) -> Evaluation:
            with self.cond:
                self.waiting[i] = atoms
                self.cond.notify_all()
                while i not in self.answers:
                    self.cond.wait()
                answer = self.answers.pop(i)
            if isinstance(answer, BaseException):
                raise answer
            return answer

        return evaluate

    def leave(self, i: int) -> None:
        with self.cond:
            self.running.discard(i)
            self.cond.notify_all()

    def serve_one(self) -> bool:
        """Wait until every running replica waits, evaluate them; False when none is left."""
        with self.cond:
            while self.running and not (self.waiting and self.running <= set(self.waiting)):
                self.cond.wait()
            if not self.running:
                return False
            batch = dict(self.waiting)
            self.waiting.clear()
        t0 = time.perf_counter()
        answers: dict[int, Evaluation | BaseException]
        try:
            evs = evaluate_split_on_oom(self.engine, list(batch.values()))
            answers = dict(zip(batch, evs, strict=True))
        except Exception as exc:  # every replica of this call sees the failure
            answers = dict.fromkeys(batch, exc)
        self.model_s += time.perf_counter() - t0
        self.model_calls += 1
        with self.cond:
            self.answers.update(answers)
            self.cond.notify_all()
        return True


def md_batch(
    structures: Sequence[Structure],
    engine: Engine,
    params: Sequence[dict[str, Any]],
    workdirs: Sequence[Path | None],
    names: Sequence[str] | None = None,
    stats: dict[str, float] | None = None,
) -> Iterator[tuple[int, MDResult | Exception, float]]:
    """Run the MD jobs ``(structures[i], params[i], workdirs[i])`` in lockstep with ``engine``;
    yield ``(index, result or error, wall seconds)`` as each finishes. ``stats`` (optional dict)
    receives model_calls and model_s (time inside the batched model call)."""
    n = len(structures)
    labels = list(names) if names is not None else [s.composition.reduced_formula for s in structures]
    coord = _Coordinator(engine, n)
    done: queue.Queue[tuple[int, MDResult | Exception, float]] = queue.Queue()
    progress = STEP_PROGRESS.get()

    def replica(i: int) -> None:
        t0 = time.perf_counter()
        try:
            s, wd, rel = prepare(structures[i], dict(params[i]), workdirs[i])
            step_cb = None if progress is None else (lambda k, m: progress(labels[i], k, m))
            info = run_md(structures[i], s, coord.evaluator(i), wd, progress=step_cb)
            out: MDResult | Exception = summarize(structures[i], s, wd, rel, info, engine.signature)
        except Exception as exc:
            out = exc
        finally:
            coord.leave(i)
        done.put((i, out, time.perf_counter() - t0))

    threads = [threading.Thread(target=replica, args=(i,), daemon=True) for i in range(n)]
    for t in threads:
        t.start()
    while coord.serve_one():
        while not done.empty():
            yield done.get()
    for t in threads:
        t.join()
    while not done.empty():
        yield done.get()
    if stats is not None:
        stats["model_calls"] = stats.get("model_calls", 0) + coord.model_calls
        stats["model_s"] = stats.get("model_s", 0.0) + coord.model_s
