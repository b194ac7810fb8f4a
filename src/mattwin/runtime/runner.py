"""Run jobs: look each up in the store, run the rest in this process, record each the moment it
finishes, and carry on past failures (recorded with their reason)."""

from __future__ import annotations

import json
import time
import traceback
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from mattwin.engines.registry import get_engine
from mattwin.errors import MattwinError, UnsupportedElementError
from mattwin.materials.checks import check_physical
from mattwin.runtime.jobs import Job, Outcome
from mattwin.store.store import Store
from mattwin.tasks import TASKS

ProgressFn = Callable[[Outcome], None]


def _execute(job: Job) -> tuple[str, dict | None, str | None, str | None]:
    """Run one job; return (status, result, error, error_type). Never raises on bad input."""
    engine = get_engine(job.engine)
    try:
        check_physical(job.structure, job.name)
        reason = engine.supports(job.structure)
        if reason:
            raise UnsupportedElementError(f"{job.name}: {reason}")
        fn, _cls, _v = TASKS[job.task]
        result = fn(job.structure, engine, **job.params)
        # through JSON, so a fresh result is identical to the one read back from the store
        return "done", json.loads(json.dumps(result.to_dict())), None, None
    except MattwinError as exc:
        return "failed", None, str(exc), type(exc).__name__
    except Exception as exc:  # an engine's own failure must not sink a campaign
        tb = traceback.format_exception_only(type(exc), exc)[-1].strip()
        return "failed", None, f"{job.name}: {job.task} with {engine.label} failed: {tb}", type(exc).__name__


def run_job(job: Job, store: Store, retry_failed: bool = False) -> Outcome:
    """Run one job through the cache: a stored result is returned as is."""
    key = job.key
    found = store.lookup(key)
    if found is not None and (found.status == "done" or not retry_failed):
        return Outcome(job, key, found.status, found.result, found.error, found.error_type, True, 0.0)
    started = datetime.now(UTC)
    t0 = time.perf_counter()
    status, result, error, error_type = _execute(job)
    wall = time.perf_counter() - t0
    engine = get_engine(job.engine)
    store.put_material(job.structure)
    store.record(
        key=key,
        task=job.task,
        material_id=job.material_id,
        engine_signature=engine.signature,
        engine_key=engine.key,
        params=job.params,
        status=status,
        result=result,
        error=error,
        error_type=error_type,
        started_at=started,
        wall_time_s=wall,
    )
    return Outcome(job, key, status, result, error, error_type, False, wall)


def run_jobs(
    jobs: Sequence[Job], store: Store, progress: ProgressFn | None = None, retry_failed: bool = False
) -> list[Outcome]:
    """Run ``jobs`` in order, in this process; each result is in the store before the next starts.

    Cached jobs cost one lookup. ``progress`` is called with every outcome (cached ones too).
    """
    outcomes = []
    for job in jobs:
        out = run_job(job, store, retry_failed=retry_failed)
        outcomes.append(out)
        if progress is not None:
            progress(out)
    return outcomes
