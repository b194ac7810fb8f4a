"""``mattwin md`` and ``mattwin diffusion`` run as a user runs them (real subprocesses, EMT copper)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from ase.build import bulk

from mattwin.cli.common import expand_multi_value_options
from mattwin.materials import write_structure
from mattwin.materials.identity import from_atoms

CLI = [sys.executable, "-m", "mattwin.cli.main"]


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], cwd=cwd, capture_output=True, text=True, timeout=600)


def test_temps_take_several_values_with_decimals():
    argv = ["md", "cu.cif", "--temps", "600", "800.5", "1000", "--ps", "2"]
    assert expand_multi_value_options(argv) == [
        "md", "cu.cif", "--temps", "600", "--temps", "800.5", "--temps", "1000", "--ps", "2",
    ]  # fmt: skip
    # a file name after the values still ends them
    assert expand_multi_value_options(["md", "--temps", "600", "700", "cu.cif"])[-1] == "cu.cif"


def test_md_then_diffusion_with_report(tmp_path):
    write_structure(from_atoms(bulk("Cu", "fcc", a=3.61, cubic=True).repeat(2)), tmp_path / "cu.cif")
    args = ["md", "cu.cif", "--temps", "300", "900.5", "--ps", "0.4", "--engine", "emt", "--db", "md.db"]
    proc = _run([*args, "--json"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    rep = json.loads(proc.stdout)
    assert [r["temperature_K"] for r in rep["runs"]] == [300.0, 900.5]
    assert all(r["status"] == "done" and r["result"]["steps_done"] == 200 for r in rep["runs"])
    traj = tmp_path / "md.runs" / rep["runs"][0]["result"]["trajectory"]
    assert traj.exists() and rep["runs"][0]["result"]["trajectory"].endswith("trajectory.extxyz")
    again = json.loads(_run([*args, "--json"], tmp_path).stdout)  # from the store
    assert all(r["cached"] for r in again["runs"])

    proc = _run(["diffusion", rep["series_id"], "--db", "md.db", "--report", "rep", "--json"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    dif = json.loads(proc.stdout)
    assert [p["temperature_K"] for p in dif["points"]] == [300.0, 900.5]
    assert (
        set(dif["points"][0]["diffusion"]) == {"Cu"} and dif["carrier"] is None
    )  # a metal: no ionic carrier
    html = (tmp_path / "rep" / "dynamics.html").read_text()
    assert 'id="msd"' in html and 'id="rdf"' in html and "plotly" in html

    human = _run(["diffusion", rep["series_id"][:6], "--db", "md.db"], tmp_path)
    assert human.returncode == 0 and "D(Cu)" in human.stderr


def test_unknown_run_and_bad_ensemble_exit_2_with_a_message(tmp_path):
    write_structure(from_atoms(bulk("Cu", "fcc", a=3.61, cubic=True)), tmp_path / "cu.cif")
    proc = _run(["diffusion", "abcdef123456", "--db", "md.db"], tmp_path)
    assert proc.returncode == 2 and "no finished md run" in proc.stderr and "Traceback" not in proc.stderr
    proc = _run(
        ["md", "cu.cif", "--ensemble", "nvx", "--engine", "emt", "--ps", "0.1", "--db", "md.db"], tmp_path
    )
    assert proc.returncode == 2 and "nvx" in proc.stderr and "Traceback" not in proc.stderr
