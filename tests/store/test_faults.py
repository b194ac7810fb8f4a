"""Faults injected for real while results are written: the PostgreSQL server stopped and started in the
middle of a run (pg_ctl), an SQLite file locked by another process (BEGIN EXCLUSIVE), the disk under
an SQLite database filling up (a 2 MB tmpfs). Nothing finished is lost, nothing is stored twice, a
rerun recomputes nothing it has, and what cannot be waited out is one typed StoreError."""

from __future__ import annotations

import json
import logging
import re
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from pymatgen.core import Lattice, Structure

from mattwin.errors import StoreError
from mattwin.runtime.execute import execute
from mattwin.runtime.jobs import Job
from mattwin.store import Store

RELAX = {"fmax": 0.02, "max_steps": 200, "relax_cell": True}


def _jobs(task: str = "relax", n: int = 8) -> list[Job]:
    """``n`` small EMT jobs (fcc Cu, Al, Ni at strained lattice constants): seconds in all."""
    cells = [("Cu", 3.45), ("Al", 3.90), ("Ni", 3.40), ("Cu", 3.75), ("Al", 4.20), ("Ni", 3.65)]
    cells += [(el, a + 0.07) for el, a in cells]
    params = RELAX if task == "relax" else {}
    return [
        Job(task, Structure.from_spacegroup("Fm-3m", Lattice.cubic(a), [el], [[0, 0, 0]]), "emt", params)
        for el, a in cells[:n]
    ]


def _stored_once(store: Store, jobs: list[Job]) -> None:
    """Every job's result is in ``store``, done, exactly once."""
    with store.engine.connect() as conn:
        keys = [k for (k,) in conn.exec_driver_sql("select key from calculations where status = 'done'")]
    assert sorted(keys) == sorted(j.key for j in jobs)


# -- PostgreSQL restarted mid-run ------------------------------------------------------------------


class _Waiting(logging.Handler):
    """Sets ``event`` when the store logs that it waits for a lost connection."""

    def __init__(self) -> None:
        super().__init__()
        self.event = threading.Event()

    def emit(self, record: logging.LogRecord) -> None:
        if "connection lost" in record.getMessage():
            self.event.set()


@pytest.mark.parametrize("store", ["postgresql"], indirect=True)
def test_postgres_restart_mid_run_waits_reconnects_and_loses_nothing(store, postgres_control):
    jobs = _jobs()
    waiting = _Waiting()
    logger = logging.getLogger("mattwin.store")
    level = logger.level
    logger.setLevel(logging.WARNING)  # in-process CLI tests leave the root logger at ERROR
    logger.addHandler(waiting)

    def restart() -> None:  # another thread: start the server again once a write waits for it
        if waiting.event.wait(60):
            time.sleep(1.0)
        postgres_control.start()

    seen = []

    def progress(out):  # type: ignore[no-untyped-def]
        seen.append(out)
        if len(seen) == 2:  # two results stored: the server goes down
            postgres_control.stop()
            threading.Thread(target=restart, daemon=True).start()

    try:
        outs = execute(jobs, store, progress=progress)
    finally:
        logger.removeHandler(waiting)
        logger.setLevel(level)
    assert waiting.event.is_set()  # a write met the stopped server and waited
    assert all(o.ok and not o.cached for o in outs)
    _stored_once(store, jobs)
    assert all(o.cached for o in execute(jobs, store))  # the rerun recomputes nothing


@pytest.mark.parametrize("store", ["postgresql"], indirect=True)
def test_postgres_down_longer_than_the_limit_is_a_store_error_and_the_rerun_resumes(store, postgres_control):
    jobs = _jobs()
    short = Store(store.url, retry_s=1.5)
    seen = []

    def progress(out):  # type: ignore[no-untyped-def]
        seen.append(out)
        if len(seen) == 2:
            postgres_control.stop()

    with pytest.raises(StoreError) as err:
        execute(jobs, short, progress=progress)
    msg = str(err.value)
    assert re.match(rf"{re.escape(store.url)}: the database connection was lost and not back after \d s", msg)
    assert "intact" in msg and "rerun" in msg
    postgres_control.start()
    again = execute(jobs, short)
    assert sum(o.cached for o in again) == 2 and all(o.ok for o in again)  # the two finished are reused
    _stored_once(store, jobs)


# -- SQLite locked by another writer ---------------------------------------------------------------

_LOCKER = """
import sqlite3, sys, time
con = sqlite3.connect(sys.argv[1], isolation_level=None)
con.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
con.execute("COMMIT")
"""


def _lock(db: Path, seconds: float) -> subprocess.Popen[str]:
    """Another process holding ``db`` with BEGIN EXCLUSIVE for ``seconds`` (returns once it holds it)."""
    proc = subprocess.Popen(
        [sys.executable, "-c", _LOCKER, str(db), str(seconds)], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "locked"
    return proc


def test_sqlite_locked_by_another_writer_waits_then_is_a_store_error(tmp_path):
    db = tmp_path / "locked.db"
    jobs = _jobs("static", 6)
    store = Store(str(db))
    t0 = time.monotonic()
    locker = _lock(db, 3.0)
    outs = execute(jobs[:3], store)  # the writes wait for the lock (busy timeout), then go through
    assert time.monotonic() - t0 > 2.5 and locker.wait(10) == 0
    assert all(o.ok for o in outs)
    _stored_once(store, jobs[:3])

    short = Store(str(db), retry_s=1.0)
    locker = _lock(db, 4.0)
    with pytest.raises(StoreError, match=f"^{db}: locked by another writer for more than 1 s while"):
        execute(jobs[3:], short)
    locker.wait(20)
    again = execute(jobs, short)  # the lock gone, the rerun finishes what was missing
    assert [o.cached for o in again] == [True] * 3 + [False] * 3
    _stored_once(store, jobs)


# -- the disk fills up -----------------------------------------------------------------------------


@pytest.fixture
def tiny_disk(tmp_path: Path):  # type: ignore[no-untyped-def]
    """A 2 MB tmpfs of its own (needs root or CAP_SYS_ADMIN)."""
    disk = tmp_path / "disk"
    disk.mkdir()
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2M", "tmpfs", str(disk)], capture_output=True)
    if proc.returncode != 0:
        pytest.skip(f"cannot mount a 2 MB tmpfs to fill (needs root): {proc.stderr.decode().strip()}")
    yield disk
    subprocess.run(["umount", "-l", str(disk)], check=False)


def _record(store: Store, i: int) -> None:
    store.record(
        key=f"k{i}",
        task="static",
        material_id="m",
        engine_signature={"engine": "emt"},
        engine_key="e",
        params={},
        status="done",
        result={"i": i, "forces": [[0.001 * i] * 3] * 400},  # about 20 kB
        wall_time_s=0.1,
    )


def test_disk_full_is_a_store_error_and_what_was_written_stays_intact(tiny_disk):
    db = tiny_disk / "full.db"
    store = Store(str(db))
    ballast = tiny_disk / "ballast"
    ballast.write_bytes(b"\0" * 200_000)
    written = []
    with pytest.raises(StoreError, match=f"^{db}: disk full while recording a calculation; every result"):
        for i in range(1000):
            _record(store, i)
            written.append(i)
    assert len(written) > 20
    con = sqlite3.connect(db)
    assert con.execute("pragma integrity_check").fetchone() == ("ok",)
    rows = dict(con.execute("select key, result from calculations"))
    assert sorted(rows) == sorted(f"k{i}" for i in written)  # all there, none half-written
    assert all(json.loads(rows[f"k{i}"])["forces"][0][0] == pytest.approx(0.001 * i) for i in written)
    con.close()
    ballast.unlink()  # space again: writing goes on where it stopped
    _record(store, written[-1] + 1)
    assert store.lookup(f"k{written[-1] + 1}") is not None


def test_a_bad_wait_setting_is_a_settings_error(tmp_path, monkeypatch):
    from mattwin.errors import SettingsError

    monkeypatch.setenv("MATTWIN_DB_RETRY_S", "soon")
    with pytest.raises(SettingsError, match="MATTWIN_DB_RETRY_S='soon': not a number of seconds"):
        Store(str(tmp_path / "s.db"))
    monkeypatch.setenv("MATTWIN_DB_RETRY_S", "2.5")
    assert Store(str(tmp_path / "s.db")).retry_s == 2.5
