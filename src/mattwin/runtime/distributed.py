"""Run jobs on a Dask cluster: a LocalCluster on this machine, or any running Dask scheduler.

Each job is one Dask task. The worker that runs it calls :func:`mattwin.runtime.runner.run_job`
with its own :class:`~mattwin.store.store.Store`, so the result is in the store the moment the
worker finishes, whatever becomes of the caller. Jobs already in the store are answered in the
caller (one lookup each) and never reach the cluster. Task keys derive from the job's cache key:
submitting the same job twice (two callers, or a rerun while the first is still queued) is one task.
A worker that dies mid-task loses only that task; the scheduler runs it again on another worker
(up to ``distributed.scheduler.allowed-failures`` times), and since results are written by key,
nothing is stored twice. A job that hangs is stopped by a per-job time limit (``job_timeout_s``,
``MATTWIN_JOB_TIMEOUT_S``): it is recorded as failed (``JobTimeoutError``), its task cancelled and its
worker restarted, and the other jobs go on.

On this machine::

    from mattwin.runtime.distributed import dask_client, run_jobs_distributed

    with dask_client(workers=2) as client:  # 2 worker processes, torch threads = cpu_count // 2 each
        outcomes = run_jobs_distributed(jobs, "mattwin.db", client, progress=print)

On a running scheduler (``dask scheduler`` and ``dask worker tcp://host:8786 --nworkers 4 --nthreads 1``
started elsewhere)::

    client = dask_client(scheduler="tcp://host:8786", workers=4)  # waits for 4 workers

On a SLURM or PBS machine, with ``dask-jobqueue`` (``pip install dask-jobqueue``): every batch job
is one Dask worker, and the store must be a database every node can reach (PostgreSQL; SQLite in
WAL mode works only on one host, never over NFS)::

    from dask_jobqueue import SLURMCluster  # or PBSCluster
    from distributed import Client
    from mattwin.runtime.distributed import TorchThreads, run_jobs_distributed

    cluster = SLURMCluster(
        cores=1, processes=1, job_cpu=8,  # one task at a time per worker; 8 CPUs for its torch threads
        memory="16GB", walltime="02:00:00", account="myproject",
        job_script_prologue=[
            "source /path/to/venv/bin/activate",
            "export OMP_NUM_THREADS=8 MKL_NUM_THREADS=8 OMP_WAIT_POLICY=PASSIVE",
        ],
    )
    cluster.scale(jobs=10)  # 10 batch jobs, one worker each
    client = Client(cluster)
    client.register_plugin(TorchThreads(8))
    outcomes = run_jobs_distributed(jobs, "postgresql://user@dbhost/mattwin", client)

``PBSCluster(cores=1, processes=1, memory="16GB", resource_spec="select=1:ncpus=8:mem=16GB", ...)``
takes the same steps; ``print(cluster.job_script())`` shows the batch script before anything is submitted.

Threads: one torch thread pool per worker process with as many threads as it has cores to itself.
Oversubscription (every worker process using every core) is catastrophically slow: measured 30x
on 2 cores. :func:`dask_client` sets ``OMP_NUM_THREADS``/``MKL_NUM_THREADS``/``OPENBLAS_NUM_THREADS``
in its workers before they start and registers :class:`TorchThreads`, which also calls
``torch.set_num_threads`` in every worker (restarted ones included). It also sets
``OMP_WAIT_POLICY=PASSIVE`` (idle OpenMP threads sleep rather than spin): with 2 torch threads on a
busy 2-core machine, spinning made a CHGNet relaxation 10x slower (65 s against 6.7 s).
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from distributed import WorkerPlugin

from mattwin.errors import JobTimeoutError
from mattwin.runtime.jobs import Job, Outcome
from mattwin.runtime.runner import _record, run_job
from mattwin.settings import get_settings
from mattwin.store.store import Store

if TYPE_CHECKING:
    from distributed import Client, Future

ProgressFn = Callable[[Outcome], None]

#: environment variables that size the thread pools of torch, numpy and their BLAS libraries
THREAD_ENV = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")
#: set in workers to the number of torch threads they use
TORCH_THREADS_ENV = "MATTWIN_TORCH_THREADS"


def cpu_count() -> int:
    """CPUs this process may run on (its affinity mask where the OS has one)."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def _apply_torch_threads(n: int) -> None:
    """Size this process's thread pools to ``n``: through the environment for libraries not yet
    imported, and through ``torch.set_num_threads`` where torch already is."""
    for var in (*THREAD_ENV, TORCH_THREADS_ENV):
        os.environ[var] = str(n)
    torch = sys.modules.get("torch")
    if torch is not None and torch.get_num_threads() != n:
        torch.set_num_threads(n)


class TorchThreads(WorkerPlugin):
    """Worker plugin: ``n`` torch/OpenMP/MKL threads in each worker process, set when the worker
    starts (before any engine loads) and again on every worker the nanny restarts."""

    name = "mattwin-torch-threads"
    idempotent = False  # a newer registration replaces an older one

    def __init__(self, n: int) -> None:
        self.n = max(1, int(n))

    def setup(self, worker: Any) -> None:
        _apply_torch_threads(self.n)


@contextmanager
def _environ(values: dict[str, str]) -> Iterator[None]:
    """Set environment variables for the block, then restore them (the Nanny copies its
    pre-spawn variables into the calling process; this keeps the caller's own settings)."""
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def dask_client(
    workers: int | None = None,
    scheduler: str | None = None,
    threads_per_worker: int = 1,
    torch_threads: int | None = None,
    **cluster_kwargs: Any,
) -> Client:
    """A Dask client to run jobs on.

    ``scheduler`` ("tcp://host:port"): connect to that running scheduler; when ``workers`` is given,
    wait until that many workers have joined; ``torch_threads``, when given, is set in every worker
    (otherwise the workers keep their own settings; ``dask worker`` defaults to 1 thread).

    Otherwise: a new LocalCluster of ``workers`` processes (default: one per CPU) with
    ``threads_per_worker`` task threads each, owned by the client (``client.close()`` stops it).
    Each worker uses ``torch_threads`` threads, by default ``max(1, cpu_count // (workers *
    threads_per_worker))``, set in its environment before it starts and with
    ``torch.set_num_threads`` (:class:`TorchThreads`); their idle OpenMP threads sleep
    (``OMP_WAIT_POLICY=PASSIVE`` unless this process sets it). ``cluster_kwargs`` go to LocalCluster
    (e.g. ``memory_limit``; ``dashboard_address`` defaults to a free local port, ``client.dashboard_link``,
    which serves the dashboard when bokeh is installed).
    """
    import dask
    from distributed import Client

    if scheduler:
        client = Client(scheduler)
        if torch_threads is not None:
            client.register_plugin(TorchThreads(torch_threads))
        if workers:
            client.wait_for_workers(workers)
        return client

    ncpu = cpu_count()
    workers = workers or max(1, ncpu // max(1, threads_per_worker))
    if workers < 1 or threads_per_worker < 1:
        raise ValueError(f"workers ({workers}) and threads_per_worker ({threads_per_worker}) must be >= 1")
    n = torch_threads or max(1, ncpu // (workers * threads_per_worker))
    # set before a worker process starts, so before it imports torch (the nanny copies its
    # pre-spawn variables from this process's environment, first, or the config)
    spawn_env = {var: str(n) for var in THREAD_ENV}
    # idle OpenMP threads sleep instead of spinning: on a busy machine spinning costs up to 10x
    spawn_env["OMP_WAIT_POLICY"] = os.environ.get("OMP_WAIT_POLICY", "PASSIVE")
    env = {**spawn_env, TORCH_THREADS_ENV: str(n)}
    cluster_kwargs.setdefault("dashboard_address", "127.0.0.1:0")  # no clash with other clusters
    cluster_kwargs.setdefault("silence_logs", logging.ERROR)
    pre_spawn = {f"distributed.nanny.pre-spawn-environ.{k}": v for k, v in spawn_env.items()}
    with dask.config.set(pre_spawn), _environ(spawn_env):  # the caller's environment is restored
        client = Client(
            n_workers=workers,
            threads_per_worker=threads_per_worker,
            processes=True,
            env=env,
            **cluster_kwargs,
        )
    client.register_plugin(TorchThreads(n))
    return client


# -- the worker side -------------------------------------------------------------------------------

_stores: dict[str, Store] = {}
_stores_lock = threading.Lock()
_running: dict[str, float] = {}  # task key -> time.monotonic() when it started in this worker process


def worker_store(url: str) -> Store:
    """This process's Store for ``url`` (one per process and URL, shared by its task threads)."""
    with _stores_lock:
        store = _stores.get(url)
        if store is None:
            store = _stores[url] = Store(url)
        return store


def _run_on_worker(job: Job, store_url: str, retry_failed: bool) -> tuple[Any, ...]:
    """Run one job on a worker and record it there; return the Outcome's fields without the job."""
    n = os.environ.get(TORCH_THREADS_ENV)
    if n and "torch" in sys.modules:  # a task or plugin may have imported torch before the plugin ran
        _apply_torch_threads(int(n))
    tk = task_key(job.key)
    _running[tk] = time.monotonic()
    try:
        out = run_job(job, worker_store(store_url), retry_failed=retry_failed)
    finally:
        _running.pop(tk, None)
    return out.key, out.status, out.result, out.error, out.error_type, out.cached, out.wall_time_s


def _running_for() -> dict[str, float]:
    """Seconds each job task of this worker process has been running (for the caller's time limit)."""
    now = time.monotonic()
    return {tk: now - t0 for tk, t0 in list(_running.items())}


def task_key(job_key: str) -> str:
    """The Dask task key of the job with cache key ``job_key``."""
    return f"mattwin-job-{job_key}"


# -- the caller side -------------------------------------------------------------------------------


def run_jobs_distributed(
    jobs: Sequence[Job],
    store_url: str | None,
    client: Client,
    progress: ProgressFn | None = None,
    retries: int = 2,
    retry_failed: bool = False,
    job_timeout_s: float | None = None,
) -> list[Outcome]:
    """Run ``jobs`` on the cluster of ``client``; the outcomes in the order of ``jobs``.

    Jobs found in the store (``store_url``; None reads ``MATTWIN_DB``) are answered here, one lookup
    each; the rest are submitted, one task per distinct job, and each worker records its result in
    the store as it finishes. ``progress`` is called with each outcome as it arrives (cached ones
    first). ``retries``: reruns of a task that raised (e.g. a store that was unreachable); a task
    whose worker died is rerun by the scheduler on its own. A task that still fails gives a failed
    outcome (``error_type`` the exception's, e.g. ``KilledWorker``) that is not recorded in the
    store, so the next run tries it again. Failures of the job itself (bad input, an engine error)
    are recorded by the worker, as with :func:`~mattwin.runtime.runner.run_jobs`.

    ``job_timeout_s`` (None: ``MATTWIN_JOB_TIMEOUT_S``; unset or 0: no limit): a job running longer
    on its worker is recorded as failed (``JobTimeoutError``, naming the job and the limit), its task
    is cancelled and its worker restarted (other tasks running on that worker are rerun elsewhere).
    """
    store = Store(store_url)
    outcomes: list[Outcome | None] = [None] * len(jobs)
    todo: dict[str, list[int]] = {}  # job key -> positions in ``jobs``

    def answer(i: int, out: Outcome) -> None:
        outcomes[i] = out
        if progress is not None:
            progress(out)

    def emit(key: str, out: Outcome) -> None:  # one task's outcome, for every position of its job
        for i in todo[key]:
            answer(i, replace(out, job=jobs[i]))

    for i, job in enumerate(jobs):
        key = job.key
        if key in todo:  # the same calculation twice: one task
            todo[key].append(i)
            continue
        found = store.lookup(key)
        if found is not None and (found.status == "done" or not retry_failed):
            answer(i, Outcome(job, key, found.status, found.result, found.error, found.error_type, True, 0.0))
        else:
            todo[key] = [i]
    if todo:
        limit = get_settings().job_timeout_s if job_timeout_s is None else job_timeout_s
        _run_submitted(jobs, todo, store, client, emit, retries, retry_failed, limit or None)
    return [out for out in outcomes if out is not None]


def _run_submitted(
    jobs: Sequence[Job],
    todo: dict[str, list[int]],
    store: Store,
    client: Client,
    emit: Callable[[str, Outcome], None],
    retries: int,
    retry_failed: bool,
    limit_s: float | None,
) -> None:
    """Submit one task per key of ``todo`` and ``emit`` each outcome as it arrives; with ``limit_s``,
    look every second for tasks running past it and stop them (:func:`_stop_overdue`)."""
    from distributed import as_completed

    futures = {
        client.submit(
            _run_on_worker,
            jobs[idx[0]],
            store.url,  # absolute: workers need not share the caller's working directory
            retry_failed,
            key=task_key(key),
            pure=False,
            retries=retries,
        ): key
        for key, idx in todo.items()
    }
    stopped: set[str] = set()  # keys of tasks cancelled at their time limit (already emitted)
    checked = time.monotonic()
    try:
        done = as_completed(list(futures))
        while not done.is_empty():
            for fut in done.next_batch(block=limit_s is None):
                key = futures[fut]
                if key not in stopped:
                    emit(key, _outcome(fut, jobs[todo[key][0]]))
                fut.release()
            if limit_s is not None and time.monotonic() - checked >= 1.0:
                stopped |= _stop_overdue(client, futures, jobs, todo, store, emit, limit_s)
                checked = time.monotonic()
            elif limit_s is not None:
                time.sleep(0.1)
    except BaseException:  # interrupted: withdraw what has not started (running tasks still record)
        client.cancel([f for f in futures if not f.done()])
        raise


def _outcome(fut: Future, job: Job) -> Outcome:
    """The outcome of a finished task (the worker recorded it), or of one the cluster gave up on."""
    try:
        key, status, result, error, error_type, cached, wall = fut.result()
    except Exception as exc:  # the cluster gave up on it (worker deaths, store errors)
        error_type = type(exc).__name__
        error = f"{job.name}: {job.task} on the Dask cluster failed: {error_type}: {exc}"
        key, status, result, cached, wall = job.key, "failed", None, False, 0.0
    return Outcome(job, key, status, result, error, error_type, cached, wall)


def _stop_overdue(
    client: Client,
    futures: dict[Future, str],
    jobs: Sequence[Job],
    todo: dict[str, list[int]],
    store: Store,
    emit: Callable[[str, Outcome], None],
    limit_s: float,
) -> set[str]:
    """Record every task running past ``limit_s`` as failed (JobTimeoutError), cancel it and restart
    its worker; return their job keys."""
    by_task = {str(f.key): f for f in futures if not f.done()}
    stopped = set()
    for addr, running in client.run(_running_for, on_error="return").items():
        if not isinstance(running, dict):  # a worker that could not answer (restarting)
            continue
        overdue = {tk: t for tk, t in running.items() if t > limit_s and tk in by_task}
        for tk, secs in overdue.items():
            fut = by_task[tk]
            key = futures[fut]
            job = jobs[todo[key][0]]
            client.cancel([fut])
            err = JobTimeoutError(
                f"{job.name}: {job.task} did not finish within the per-job limit of {limit_s:g} s "
                f"(MATTWIN_JOB_TIMEOUT_S); cancelled after {secs:.0f} s and its worker restarted; "
                "raise the limit if the job needs longer"
            )
            started = datetime.now(UTC) - timedelta(seconds=secs)
            status = ("failed", None, str(err), type(err).__name__)
            emit(key, _record(job, key, store, status, started, secs))
            stopped.add(key)
        if overdue:
            client.restart_workers([addr], timeout=120, raise_for_error=False)
    return stopped
