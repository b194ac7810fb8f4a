"""A campaign killed with SIGKILL resumes without recomputing what had finished; a rerun of a
finished campaign recomputes nothing. A real subprocess is killed."""

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

ARGS = ["discover", "--elements", "Na", "Cl", "--max-atoms", "8", "--budget", "6", "--steps", "150"]


def _done(db: Path) -> dict[str, str]:
    if not db.exists():
        return {}
    try:
        con = sqlite3.connect(db, timeout=30)
        rows = con.execute("select key, finished_at from calculations where status = 'done'").fetchall()
        con.close()
    except sqlite3.OperationalError:
        return {}
    return dict(rows)


def _discover(tmp_path: Path, db: Path) -> subprocess.Popen[str]:
    cmd = [
        sys.executable,
        "-m",
        "mattwin.cli.main",
        *ARGS,
        "--db",
        str(db),
        "--json",
        "--report",
        str(tmp_path / "report"),
    ]
    return subprocess.Popen(cmd, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.mark.slow
def test_kill_9_then_resume_loses_nothing(tmp_path):
    db = tmp_path / "campaign.db"
    proc = _discover(tmp_path, db)
    deadline = time.time() + 600
    while len(_done(db)) < 3 and time.time() < deadline and proc.poll() is None:
        time.sleep(0.5)
    assert proc.poll() is None, (
        "the campaign finished before it could be killed: " + proc.stderr.read()[-2000:]
    )
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    before = _done(db)
    assert len(before) >= 3

    proc = _discover(tmp_path, db)
    out, err = proc.communicate(timeout=900)
    assert proc.returncode == 0, err[-3000:]
    result = json.loads(out)
    after = _done(db)
    # every calculation finished before the kill is still there, untouched, and was reused
    assert all(after[k] == v for k, v in before.items())
    assert result["n_cached"] >= len(before)
    assert len(after) > len(before)
    ok = [c for c in result["candidates"] if c["status"] == "ok"]
    assert ok and all(c["e_hull"] is not None for c in ok)
    # calibrated against experiment by default, with intervals and probabilities
    assert result["calibration"]["name"].startswith("chgnet@")
    for c in ok:
        lo, hi = c["e_hull_interval"]
        assert lo - 1e-9 <= c["e_hull"] <= hi + 1e-9 and 0.0 <= c["p_stable"] <= 1.0
        assert c["known_compound"] is not None  # NaCl is a known compound

    # a third run of the finished campaign recomputes nothing
    proc = _discover(tmp_path, db)
    out, err = proc.communicate(timeout=600)
    again = json.loads(out)
    assert proc.returncode == 0, err[-3000:]
    assert _done(db) == after
    n_jobs = again["n_cached"]  # relaxations found in the store (the synthesize stage's phonons aside)
    con = sqlite3.connect(db)
    assert n_jobs == con.execute("select count(*) from calculations where task = 'relax'").fetchone()[0]
    assert [c["candidate_id"] for c in again["candidates"]] == [
        c["candidate_id"] for c in result["candidates"]
    ]
