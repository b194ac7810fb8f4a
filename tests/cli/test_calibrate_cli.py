"""`mattwin calibrate` on the shipped CHGNet set: the JSON the issue names, a versioned fit in the store,
the report page, and a `kill -9` in the middle of fitting that loses nothing."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest
from typer.testing import CliRunner

from mattwin.cli.main import app


@pytest.mark.slow
def test_calibrate_json_and_report(tmp_path):
    db = str(tmp_path / "c.db")
    res = CliRunner().invoke(app, ["calibrate", "--db", db, "--json", "--report", str(tmp_path / "rep")])
    assert res.exit_code == 0, res.output
    d = json.loads(res.stdout)
    for key in ("engine", "n_compounds", "heldout_mae_raw", "heldout_mae_calibrated", "coverage_90"):
        assert key in d
    assert d["engine"] == "chgnet" and d["n_compounds"] >= 400
    assert d["heldout_mae_calibrated"] < d["heldout_mae_raw"]
    assert 0.8 <= d["coverage_90"] <= 0.97
    assert (tmp_path / "rep" / "calibration.html").stat().st_size > 10_000
    from mattwin.store import Store
    from mattwin.store.calibrations import load_calibration

    stored = load_calibration(Store(db), "chgnet")
    assert stored is not None and stored.name == d["calibration"]
    assert stored.metrics["coverage_90"] == pytest.approx(d["coverage_90"])


@pytest.mark.slow
def test_kill_during_fitting_then_rerun(tmp_path):
    db = str(tmp_path / "k.db")
    cmd = [sys.executable, "-m", "mattwin.cli.main", "calibrate", "--db", db, "--json"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    time.sleep(12)  # inside the fit or the cross-validation
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr
    d = json.loads(done.stdout)
    assert d["n_compounds"] >= 400
    import sqlite3

    con = sqlite3.connect(db)
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    names = [r[0] for r in con.execute("SELECT name FROM calibrations")]
    assert names == [d["calibration"]]  # one version, stored once
