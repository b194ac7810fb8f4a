"""Where jobs run: in this process (batched), on a Dask LocalCluster, or on a running scheduler."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from mattwin.runtime.jobs import Job, Outcome
from mattwin.runtime.runner import ProgressFn, run_jobs
from mattwin.store.store import Store


@dataclass(frozen=True)
class Execution:
    """How to run jobs: ``workers`` Dask worker processes on this machine, or the Dask scheduler at
    ``scheduler`` (``tcp://host:port``); neither: in this process, relaxations batched.
    ``job_timeout_s``: per-job time limit on Dask (None: ``MATTWIN_JOB_TIMEOUT_S``, unset: none)."""

    workers: int | None = None
    scheduler: str | None = None
    batch: bool = True
    job_timeout_s: float | None = None

    @property
    def distributed(self) -> bool:
        return bool(self.scheduler) or (self.workers is not None and self.workers > 0)


def execute(
    jobs: Sequence[Job], store: Store, execution: Execution | None = None, progress: ProgressFn | None = None
) -> list[Outcome]:
    """Run ``jobs`` through the cache as ``execution`` says; outcomes in the order of ``jobs``."""
    execution = execution or Execution()
    if not execution.distributed:
        return run_jobs(jobs, store, progress=progress, batch=execution.batch)
    from mattwin.runtime.distributed import dask_client, run_jobs_distributed

    with dask_client(workers=execution.workers, scheduler=execution.scheduler) as client:
        return run_jobs_distributed(
            jobs, store.url, client, progress=progress, job_timeout_s=execution.job_timeout_s
        )
