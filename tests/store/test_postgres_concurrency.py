"""Two real processes write into one store at once (SQLite file and PostgreSQL database): no write is
lost, no key is stored twice, a result is never replaced by a failure, materials are stored once."""

from __future__ import annotations

import multiprocessing as mp
from pathlib import Path
from typing import Any

N = 200  # calculations written by each process
N_MATERIALS = 10  # both processes store the same few materials, over and over


def _plan(worker: int) -> list[tuple[str, list[str]]]:
    """(key, statuses recorded in that order) for every calculation of ``worker``.

    Even i: a key both workers write. i % 8 == 0: both record failed, done, failed; i % 4 == 0
    (otherwise): both record failed then done; i % 4 == 2: worker 0 records done, worker 1 failed.
    Odd i: a key of this worker only, failed when i % 3 == 0, else done.
    """
    plan = []
    for i in range(N):
        if i % 2:
            plan.append((f"w{worker}-{i}", ["failed"] if i % 3 == 0 else ["done"]))
        elif i % 8 == 0:
            plan.append((f"shared-{i}", ["failed", "done", "failed"]))
        elif i % 4 == 0:
            plan.append((f"shared-{i}", ["failed", "done"]))
        else:
            plan.append((f"shared-{i}", ["done" if worker == 0 else "failed"]))
    return plan


def _write(url: str, worker: int, barrier: Any) -> None:
    """One writer process: open the store, wait for the other, write its plan."""
    from pymatgen.core import Lattice, Structure

    from mattwin.store import Store

    store = Store(url)
    structures = [Structure(Lattice.cubic(3.5 + 0.05 * j), ["Cu"], [[0, 0, 0]]) for j in range(N_MATERIALS)]
    barrier.wait(timeout=120)
    for i, (key, statuses) in enumerate(_plan(worker)):
        mid = store.put_material(structures[i % N_MATERIALS])
        for status in statuses:
            done = status == "done"
            store.record(
                key=key,
                task="static",
                material_id=mid,
                engine_signature={"engine": "test"},
                engine_key="e",
                params={"i": i},
                status=status,
                result={"worker": worker, "i": i} if done else None,
                error=None if done else f"worker {worker} failed {key}",
                error_type=None if done else "TestError",
                wall_time_s=0.0,
            )
    store.engine.dispose()


def test_two_processes_write_one_store(store, monkeypatch):
    # the children import this module by name (spawn): make its top-level package importable there
    root = Path(__file__).resolve().parents[len(__name__.split(".")) - 1]
    monkeypatch.syspath_prepend(str(root))
    ctx = mp.get_context("spawn")
    barrier = ctx.Barrier(2)
    procs = [ctx.Process(target=_write, args=(store.url, w, barrier)) for w in (0, 1)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=300)
    for p in procs:
        if p.is_alive():
            p.kill()
    assert [p.exitcode for p in procs] == [0, 0], "a writer process failed (its traceback is above)"

    rows = {r.key: r for r in store.calculations()}
    plans = {w: dict(_plan(w)) for w in (0, 1)}
    expected = set(plans[0]) | set(plans[1])
    assert len(expected) == N // 2 + N  # 100 shared keys + 100 of each worker's own
    assert set(rows) == expected  # no lost writes
    with store.engine.connect() as conn:
        n_rows = conn.exec_driver_sql("select count(*) from calculations").scalar()
        dup = conn.exec_driver_sql("select key from calculations group by key having count(*) > 1").all()
        n_materials = conn.exec_driver_sql("select count(*) from materials").scalar()
    assert n_rows == len(expected) and dup == []  # no key stored twice

    for key in expected:
        statuses = plans[0].get(key, []) + plans[1].get(key, [])
        rec = rows[key]
        if "done" in statuses:  # a result is never replaced by a failure
            assert rec.status == "done" and rec.error is None, (key, rec)
            assert rec.result is not None and rec.result["i"] == rec.params["i"]
            if key.startswith("w"):
                assert rec.result["worker"] == int(key[1])
        else:
            assert rec.status == "failed" and rec.result is None and rec.error.endswith(key), (key, rec)
    assert n_materials == N_MATERIALS  # materials deduplicated across processes
