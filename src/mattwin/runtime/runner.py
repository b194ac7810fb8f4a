"""Run jobs: look each up in the store, run the rest in this process, record each the moment it
finishes, and carry on past failures (recorded with their reason).

Relaxations that share an engine and optimiser settings run batched (one model call per step for
all of them, :func:`mattwin.tasks.batch_relax.relax_batch`); everything else runs one by one."""

from __future__ import annotations

import inspect
import json
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from mattwin.engines.registry import get_engine
from mattwin.errors import MattwinError, StoreError, UnsupportedElementError
from mattwin.materials.checks import check_physical
from mattwin.runtime.jobs import Job, Outcome
from mattwin.store.store import Store
from mattwin.tasks import TASKS
from mattwin.tasks.batch_relax import BatchStats, relax_batch

ProgressFn = Callable[[Outcome], None]
_Status = tuple[str, dict[str, Any] | None, str | None, str | None]


def _precheck(job: Job) -> None:
    """Raise the typed error that stops ``job`` before any engine call (unphysical, unsupported)."""
    check_physical(job.structure, job.name)
    reason = get_engine(job.engine).supports(job.structure)
    if reason:
        raise UnsupportedElementError(f"{job.name}: {reason}")


def _failure(job: Job, exc: BaseException) -> _Status:
    if isinstance(exc, MattwinError):
        return "failed", None, str(exc), type(exc).__name__
    tb = traceback.format_exception_only(type(exc), exc)[-1].strip()
    label = get_engine(job.engine).label
    return "failed", None, f"{job.name}: {job.task} with {label} failed: {tb}", type(exc).__name__


def _done(result: Any) -> _Status:
    # through JSON, so a fresh result is identical to the one read back from the store
    return "done", json.loads(json.dumps(result.to_dict())), None, None


def _execute(job: Job, workdir: Path | None = None) -> _Status:
    """Run one job; return (status, result, error, error_type). Never raises on bad input.

    A task whose function takes a ``workdir`` argument (long tasks: trajectories, checkpoints)
    gets ``workdir`` (the job's own folder; not part of the cache key)."""
    try:
        _precheck(job)
        fn, _cls, _v = TASKS[job.task]
        kwargs = dict(job.params)
        if workdir is not None and "workdir" in inspect.signature(fn).parameters:
            kwargs["workdir"] = workdir
        return _done(fn(job.structure, get_engine(job.engine), **kwargs))
    except Exception as exc:  # an engine's own failure must not sink a campaign
        return _failure(job, exc)


def _record(job: Job, key: str, store: Store, status: _Status, started: datetime, wall: float) -> Outcome:
    engine = get_engine(job.engine)
    store.put_material(job.structure)
    store.record(
        key=key,
        task=job.task,
        material_id=job.material_id,
        engine_signature=engine.signature,
        engine_key=engine.key,
        params=job.params,
        status=status[0],
        result=status[1],
        error=status[2],
        error_type=status[3],
        started_at=started,
        wall_time_s=wall,
    )
    return Outcome(job, key, status[0], status[1], status[2], status[3], False, wall)


def cached_outcome(job: Job, store: Store, retry_failed: bool = False) -> Outcome | None:
    """The stored outcome of ``job`` (None when it must run)."""
    key = job.key
    found = store.lookup(key)
    if found is not None and (found.status == "done" or not retry_failed):
        return Outcome(job, key, found.status, found.result, found.error, found.error_type, True, 0.0)
    return None


def run_job(job: Job, store: Store, retry_failed: bool = False) -> Outcome:
    """Run one job through the cache: a stored result is returned as is."""
    cached = cached_outcome(job, store, retry_failed)
    if cached is not None:
        return cached
    started = datetime.now(UTC)
    t0 = time.perf_counter()
    status = _execute(job, store.runs_dir / job.key)
    return _record(job, job.key, store, status, started, time.perf_counter() - t0)


def _batch_group(job: Job) -> tuple[str, float, int] | None:
    """Jobs with the same group relax together; None for jobs that run alone."""
    if job.task != "relax" or len(get_engine(job.engine).members) > 1:
        return None
    p = job.params
    return job.engine, float(p.get("fmax", 0.05)), int(p.get("max_steps", 500))


def _prechecked(group: list[Job], store: Store, started: datetime) -> tuple[list[Job], list[Outcome]]:
    """The jobs of a batch that pass :func:`_precheck`, and the recorded failures of the others."""
    ready, refused = [], []
    for job in group:
        try:
            _precheck(job)
            ready.append(job)
        except MattwinError as exc:
            refused.append(_record(job, job.key, store, _failure(job, exc), started, 0.0))
    return ready, refused


def _run_batched(group: list[Job], store: Store, stats: BatchStats | None) -> Iterator[Outcome]:
    """Relax ``group`` (same engine, fmax, max_steps) batched; record and yield each as it finishes."""
    started = datetime.now(UTC)
    ready, refused = _prechecked(group, store, started)
    yield from refused
    if not ready:
        return
    engine, fmax, max_steps = _batch_group(ready[0])  # type: ignore[misc]
    results = relax_batch(
        [j.structure for j in ready],
        get_engine(engine),
        fmax=fmax,
        max_steps=max_steps,
        relax_cell=[bool(j.params.get("relax_cell", True)) for j in ready],
        names=[j.name for j in ready],
        stats=stats,
    )
    finished: set[str] = set()
    try:
        for i, res, wall in results:
            status = _failure(ready[i], res) if isinstance(res, BaseException) else _done(res)
            finished.add(ready[i].key)
            yield _record(ready[i], ready[i].key, store, status, started, wall)
    except StoreError:  # the store is gone (lost, locked, full): stop here, a rerun resumes
        raise
    except Exception:  # the engine failed on the whole batch: the rest run one by one
        for job in ready:
            if job.key not in finished:
                yield run_job(job, store)


def _run_md_lockstep(group: list[Job], store: Store) -> Iterator[Outcome]:
    """MD jobs with one engine, one model call per step for all (:func:`mattwin.tasks.md_batch.md_batch`)."""
    from mattwin.tasks.md_batch import md_batch

    started = datetime.now(UTC)
    ready, refused = _prechecked(group, store, started)
    yield from refused
    if not ready:
        return
    results = md_batch(
        [j.structure for j in ready],
        get_engine(group[0].engine),
        [j.params for j in ready],
        [store.runs_dir / j.key for j in ready],
        names=[j.name for j in ready],
    )
    for i, res, wall in results:
        status = _failure(ready[i], res) if isinstance(res, BaseException) else _done(res)
        yield _record(ready[i], ready[i].key, store, status, started, wall)


def run_jobs(
    jobs: Sequence[Job],
    store: Store,
    progress: ProgressFn | None = None,
    retry_failed: bool = False,
    batch: bool = True,
    stats: BatchStats | None = None,
) -> list[Outcome]:
    """Run ``jobs`` in this process; each result is in the store the moment it is finished.

    Cached jobs cost one lookup. With ``batch``, relaxations sharing an engine and optimiser
    settings run together (one model call per step). ``progress`` is called with every outcome
    (cached ones first). Outcomes come back in the order of ``jobs``.
    """
    by_key: dict[str, Outcome] = {}

    def emit(out: Outcome) -> None:
        by_key[out.key] = out
        if progress is not None:
            progress(out)

    pending: dict[str, Job] = {}
    for job in jobs:
        cached = cached_outcome(job, store, retry_failed)
        if cached is not None:
            emit(cached)
        else:
            pending.setdefault(job.key, job)
    groups: dict[tuple[str, float, int], list[Job]] = {}
    md_groups: dict[str, list[Job]] = {}
    for job in pending.values():
        group = _batch_group(job) if batch else None
        if batch and job.task == "md":  # MD replicas sharing an engine advance in lockstep
            md_groups.setdefault(job.engine, []).append(job)
        elif group is None:
            emit(run_job(job, store, retry_failed))
        else:
            groups.setdefault(group, []).append(job)
    for group_jobs in groups.values():
        for out in _run_batched(group_jobs, store, stats):
            emit(out)
    for md_jobs in md_groups.values():
        for out in _run_md_lockstep(md_jobs, store):
            emit(out)
    return [by_key[job.key] for job in jobs]
