"""A Dask worker that hangs on a job: past the per-job limit (MATTWIN_JOB_TIMEOUT_S) the job is recorded
as failed with a JobTimeoutError naming it and the limit, its worker is restarted, the other jobs
finish, and a rerun does not run it again. Real LocalCluster, real hang (a relaxation that never ends)."""

from __future__ import annotations

import os
import time

import numpy as np
import pytest
from pymatgen.core import Lattice, Structure

pytest.importorskip("distributed")

from mattwin.runtime import Job  # noqa: E402
from mattwin.runtime.distributed import dask_client, run_jobs_distributed  # noqa: E402
from mattwin.store import Store  # noqa: E402


def _fcc(element: str, a: float) -> Structure:
    return Structure.from_spacegroup("Fm-3m", Lattice.cubic(a), [element], [[0, 0, 0]])


def _hanging_job() -> Job:
    """A relaxation that never ends: fmax = 0 is never reached, and max_steps is ten million."""
    rng = np.random.default_rng(1)
    big = _fcc("Cu", 3.61) * (2, 2, 2)
    coords = big.cart_coords + rng.normal(0, 0.05, (len(big), 3))
    s = Structure(big.lattice, big.species, coords, coords_are_cartesian=True)
    return Job("relax", s, "emt", {"fmax": 0.0, "max_steps": 10_000_000, "relax_cell": False}, label="hang")


def test_a_hanging_job_times_out_its_worker_restarts_and_the_rest_finish(tmp_path, monkeypatch):
    monkeypatch.setenv("MATTWIN_JOB_TIMEOUT_S", "4")
    url = str(tmp_path / "t.db")
    hang = _hanging_job()
    quick = [
        Job("static", _fcc(el, a), "emt", label=el) for el, a in [("Cu", 3.6), ("Al", 4.05), ("Ni", 3.52)]
    ]
    jobs = [quick[0], hang, *quick[1:]]
    with dask_client(workers=2) as client:
        pids = set(client.run(os.getpid).values())
        t0 = time.monotonic()
        outs = run_jobs_distributed(jobs, url, client)
        assert time.monotonic() - t0 < 120
        assert [o.status for o in outs] == ["done", "failed", "done", "done"]
        failed = outs[1]
        assert failed.error_type == "JobTimeoutError" and not failed.cached
        assert failed.error.startswith("hang: relax did not finish within the per-job limit of 4 s")
        rec = Store(url).lookup(hang.key)
        assert rec is not None and rec.status == "failed" and rec.error_type == "JobTimeoutError"
        client.wait_for_workers(2, timeout=60)
        assert len(pids & set(client.run(os.getpid).values())) == 1  # the hung worker was restarted
        again = run_jobs_distributed(jobs, url, client)  # the rerun runs nothing: the failure is recorded
        assert all(o.cached for o in again) and again[1].error_type == "JobTimeoutError"
