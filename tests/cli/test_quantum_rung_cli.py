"""``mattwin correlate --method vqe(NE,NO) | sqd(NE,NO) | qpe-cost(NE,NO)`` run as a user runs it (real
subprocesses): JSON, the store cache, the HTML page of the rungs, and bad input exiting 2."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

CLI = [sys.executable, "-m", "mattwin.cli.main"]


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {"OMP_NUM_THREADS": "1", "PATH": "/usr/bin:/bin", "HOME": str(cwd), "COLUMNS": "200"}
    return subprocess.run([*CLI, *args], cwd=cwd, capture_output=True, text=True, timeout=600, env=env)


def test_correlate_vqe_json_cache_and_rung_page(tmp_path):
    args = ["correlate", "[H][H]", "--method", "vqe(2,2)", "--basis", "sto-3g", "--db", "q.db"]
    proc = _run([*args, "--json", "--report", "rep"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    rung = data["rung"]
    assert data["energy"] is None and not data["cached"]
    assert rung["algorithm"] == "vqe" and rung["n_qubits"] == 4
    assert 0.0 <= rung["error_vs_reference_mEh"] < 1.6  # chemical accuracy against CASCI
    assert rung["statement"] == "emulated on a classical simulator; no quantum speed-up is claimed"
    assert {r["rung"] for r in rung["rungs"]} >= {"CCSD(T)", "CASCI (PySCF FCI)", "Hartree-Fock"}
    html = (tmp_path / "rep" / "rungs.html").read_text()
    assert "no quantum speed-up is claimed" in html and "plotly" in html and "CPU time" in html
    again = _run(args, tmp_path)  # the table, read from the store
    assert again.returncode == 0, again.stderr
    assert "(cached)" in again.stderr and "VQE, UCCSD" in again.stderr  # the console writes to stderr
    assert (tmp_path / "mattwin-rungs" / "rungs.html").exists()  # the default report folder


@pytest.mark.parametrize(
    ("method", "extra", "message"),
    [
        ("sqd(6,60)", [], "active space (6,60) does not fit: 4 core + 60 active orbitals"),
        ("vqe(10,12)", [], "vqe(10,12) needs 24 qubits"),
        ("sqd(6,6)", ["--shots", "0"], "shots=0 must be an integer >= 1"),
    ],
)
def test_bad_quantum_methods_exit_2_with_one_line(tmp_path, method, extra, message):
    (tmp_path / "n2.xyz").write_text("2\nN2\nN 0 0 0\nN 0 0 2.0\n")
    args = ["correlate", "n2.xyz", "--method", method, "--basis", "6-31g", *extra, "--db", "q.db"]
    proc = _run(args, tmp_path)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0]
    assert "Traceback" not in proc.stderr
