"""Jobs on a real Dask LocalCluster (2 worker processes): workers record results as they finish,
reruns are answered from the store, a killed worker costs only a retry, bad jobs fail with reasons."""

from __future__ import annotations

import os
import signal
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from pymatgen.core import Lattice, Structure

pytest.importorskip("distributed")

from mattwin.runtime import Job, run_jobs  # noqa: E402
from mattwin.runtime.distributed import (  # noqa: E402
    cpu_count,
    dask_client,
    run_jobs_distributed,
    task_key,
)
from mattwin.store import Store  # noqa: E402

RELAX = {"fmax": 0.02, "max_steps": 200, "relax_cell": True}


def fcc(element: str, a: float) -> Structure:
    return Structure.from_spacegroup("Fm-3m", Lattice.cubic(a), [element], [[0, 0, 0]])


@pytest.fixture(scope="module")
def client():  # type: ignore[no-untyped-def]
    c = dask_client(workers=2)
    yield c
    c.close()


@pytest.fixture
def metal_jobs() -> list[Job]:
    cells = [("Cu", 3.50), ("Cu", 3.61), ("Cu", 3.75), ("Al", 3.95), ("Al", 4.10), ("Ni", 3.45), ("Ni", 3.60)]
    return [Job("relax", fcc(el, a), "emt", RELAX, label=f"{el} a={a}") for el, a in cells]


def test_workers_have_one_torch_thread_pool_per_core(client):
    expected = str(max(1, cpu_count() // 2))
    assert len(client.scheduler_info()["workers"]) == 2
    assert set(client.run(lambda: os.environ["OMP_NUM_THREADS"]).values()) == {expected}
    assert set(client.run(lambda: __import__("torch").get_num_threads()).values()) == {int(expected)}
    policy = os.environ.get("OMP_WAIT_POLICY", "PASSIVE")  # idle OpenMP threads sleep
    assert set(client.run(lambda: os.environ["OMP_WAIT_POLICY"]).values()) == {policy}


def test_distributed_equals_in_process_each_recorded_once_and_rerun_is_cached(
    client, metal_jobs, store, tmp_path, monkeypatch
):
    url = store.url  # SQLite file or PostgreSQL database (the ``store`` fixture runs both)
    seen = []
    outs = run_jobs_distributed(metal_jobs, url, client, progress=seen.append)
    assert [o.job for o in outs] == metal_jobs  # order of the jobs, whatever the order of completion
    assert all(o.ok and not o.cached for o in outs) and len(seen) == len(metal_jobs)
    assert {id(o) for o in seen} == {id(o) for o in outs}

    local = run_jobs(metal_jobs, Store(str(tmp_path / "local.db")))
    for d, loc in zip(outs, local, strict=True):
        assert d.key == loc.key
        assert abs(d.result["energy_eV"] - loc.result["energy_eV"]) < 1e-8
        assert d.result["n_steps"] == loc.result["n_steps"]
        np.testing.assert_allclose(d.result["stress_GPa"], loc.result["stress_GPa"], atol=1e-8)

    recs = Store(url).calculations()
    assert len(recs) == len(metal_jobs)
    assert Counter(r.key for r in recs) == Counter(o.key for o in outs)  # each exactly once
    assert all(r.status == "done" and r.host and r.wall_time_s > 0 for r in recs)

    submitted = []
    monkeypatch.setattr(client, "submit", lambda *a, **k: submitted.append(a) or pytest.fail("submitted"))
    again = run_jobs_distributed(metal_jobs, url, client)
    assert submitted == [] and all(o.cached and o.ok for o in again)
    assert [o.result for o in again] == [o.result for o in outs]
    assert len(Store(url).calculations()) == len(metal_jobs)


def test_bad_job_fails_with_its_reason_and_the_others_finish(client, si_diamond, store):
    url = store.url
    jobs = [
        Job("static", si_diamond, "emt", label="si"),
        Job("static", fcc("Cu", 3.61), "emt", label="cu"),
        Job("static", fcc("Au", 4.08), "emt", label="au"),
    ]
    outs = run_jobs_distributed(jobs, url, client)
    assert [o.status for o in outs] == ["failed", "done", "done"]
    assert (
        outs[0].error_type == "UnsupportedElementError" and "si:" in outs[0].error and "Si" in outs[0].error
    )
    failed = Store(url).calculations(status="failed")
    assert [(f.key, f.error_type) for f in failed] == [(outs[0].key, "UnsupportedElementError")]
    assert "Si" in failed[0].error


def test_existing_scheduler(client, tmp_path):
    other = dask_client(scheduler=client.scheduler.address, workers=2)
    try:
        (out,) = run_jobs_distributed([Job("static", fcc("Pt", 3.92), "emt")], str(tmp_path / "s.db"), other)
        assert out.ok and not out.cached and out.result["n_atoms"] == 4
    finally:
        other.close()
    assert len(client.scheduler_info()["workers"]) == 2  # closing that client left the cluster alone


def test_worker_killed_mid_task_loses_only_a_retry(client, store):
    # a relaxation that takes a few seconds: fmax=0 never converges, so it runs all max_steps
    rng = np.random.default_rng(0)
    big = fcc("Cu", 3.61) * (3, 3, 3)
    big = Structure(
        big.lattice,
        big.species,
        big.cart_coords + rng.normal(0, 0.05, (len(big), 3)),
        coords_are_cartesian=True,
    )
    slow = Job("relax", big, "emt", {"fmax": 0.0, "max_steps": 450, "relax_cell": False}, label="slow")
    quick = [Job("static", fcc(el, a), "emt") for el, a in [("Cu", 3.6), ("Ag", 4.09), ("Pd", 3.89)]]
    jobs = [quick[0], slow, *quick[1:]]
    url = store.url
    pids = client.run(os.getpid)

    def executing(dask_worker) -> list[str]:  # type: ignore[no-untyped-def]  # local: pickled by value
        return [str(ts.key) for ts in dask_worker.state.executing]

    with ThreadPoolExecutor(1) as pool:
        running = pool.submit(run_jobs_distributed, jobs, url, client)
        victim, deadline = None, time.monotonic() + 30
        while victim is None and time.monotonic() < deadline:
            for addr, keys in client.run(executing).items():
                if task_key(slow.key) in keys:
                    victim = addr
            time.sleep(0.05)
        assert victim is not None, "the slow job never started"
        time.sleep(0.3)  # well inside the relaxation
        assert Store(url).lookup(slow.key) is None  # not finished when killed
        os.kill(pids[victim], signal.SIGKILL)
        outs = running.result(timeout=90)

    assert all(o.ok for o in outs), [(o.job.name, o.error) for o in outs]
    assert outs[1].job is slow and outs[1].result["n_steps"] == 450 and not outs[1].cached
    recs = Store(url).calculations()
    assert sorted(r.key for r in recs) == sorted(o.key for o in outs)  # each key exactly once
    client.wait_for_workers(2, timeout=30)  # the nanny restarted the killed worker
    assert pids[victim] not in client.run(os.getpid).values()
