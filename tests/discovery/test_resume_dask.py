"""A Dask campaign (``mattwin discover --workers 2``) killed with SIGKILL, the whole process group at
once (the CLI, its scheduler and both workers), resumes without recomputing what had finished."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

ARGS = ["discover", "--elements", "Cu", "Al", "Ni", "--engine", "emt", "--max-atoms", "8", "--steps", "200"]
ARGS += ["--composition", "CuAl", "AlNi", "--n-random", "3", "--budget", "6", "--workers", "2", "--json"]


def _done(db: Path) -> dict[str, str]:
    """key -> finished_at of the finished calculations ({} while the database is not there yet)."""
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
        rows = con.execute("select key, finished_at from calculations where status = 'done'").fetchall()
        con.close()
    except sqlite3.OperationalError:
        return {}
    return dict(rows)


def _group_alive(pgid: int) -> list[int]:
    """Processes of the process group ``pgid`` that still run (zombies do not count)."""
    alive = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            alive.append(int(stat.parent.name))
    return alive


def _discover(tmp_path: Path, db: Path) -> subprocess.Popen[str]:
    cmd = [sys.executable, "-m", "mattwin.cli.main", *ARGS, "--db", str(db), "--report", str(tmp_path / "r")]
    return subprocess.Popen(
        cmd, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    )


@pytest.mark.slow
def test_dask_campaign_killed_with_sigkill_resumes_without_recomputing(tmp_path):
    db = tmp_path / "campaign.db"
    proc = _discover(tmp_path, db)
    deadline = time.time() + 600
    while len(_done(db)) < 3 and time.time() < deadline and proc.poll() is None:
        time.sleep(0.3)
    assert proc.poll() is None, "the campaign ended before it could be killed: " + proc.stderr.read()[-2000:]
    assert len(_group_alive(proc.pid)) >= 3  # the CLI and its two worker processes
    os.killpg(proc.pid, signal.SIGKILL)  # the CLI, the scheduler and the worker processes together
    proc.wait()
    deadline = time.time() + 10
    while _group_alive(proc.pid) and time.time() < deadline:
        time.sleep(0.1)
    assert _group_alive(proc.pid) == []  # the workers died too: nothing finished after the kill
    before = _done(db)
    assert len(before) >= 3

    proc = _discover(tmp_path, db)
    out, err = proc.communicate(timeout=900)
    assert proc.returncode == 0, err[-3000:]
    result = json.loads(out)
    after = _done(db)
    assert all(after[k] == v for k, v in before.items())  # finished work untouched and reused
    assert result["n_cached"] >= len(before) and len(after) > len(before)
    assert result["n_failed"] == 0 and all(c["e_hull"] is not None for c in result["candidates"])
