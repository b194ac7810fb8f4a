"""``mattwin eos / elastic / phonons / part`` as a user runs them (real subprocesses, EMT Cu)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from ase.build import bulk
from ase.io import write

CLI = [sys.executable, "-m", "mattwin.cli.main"]


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], cwd=cwd, capture_output=True, text=True, timeout=600)


def test_elastic_then_part_from_the_stored_run(tmp_path):
    write(tmp_path / "Cu.cif", bulk("Cu", "fcc", a=3.6))
    proc = _run(["elastic", "Cu.cif", "-e", "emt", "--json", "--db", "t.db", "--report", "rep"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    key = data["keys"][0]
    assert data["summary"]["K_vrh_GPa"] == pytest.approx(134.6, rel=0.01)  # EMT Cu
    assert (tmp_path / "rep" / "elastic_tensor.html").exists()
    proc = _run(
        [
            "part",
            "--material",
            key[:8],
            "--geometry",
            "plate-with-hole",
            "--load",
            "10MPa",
            "--out",
            "p",
            "--db",
            "t.db",
            "--json",
        ],
        tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    rep = json.loads(proc.stdout)
    assert rep["material_run"] == key and rep["traction_MPa"] == pytest.approx(10.0)
    assert 2.0 < rep["stress_concentration"] < 3.5
    assert rep["heat_flow_W"] is None  # no conductivity computed for this material
    for name in ("Cu_emt.inp", "Cu_emt.json", "Cu_emt.yaml", "part.vtu", "part.html"):
        assert (tmp_path / "p" / name).exists()
    html = (tmp_path / "p" / "part.html").read_text()
    assert "data:image/png;base64," in html and "*ELASTIC, TYPE=ANISO" in html


def test_eos_and_phonons_print_and_write_pages(tmp_path):
    write(tmp_path / "Al.cif", bulk("Al", "fcc", a=4.05))
    proc = _run(["eos", "Al.cif", "-e", "emt", "--db", "t.db", "--report", "rep"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "B0" in proc.stderr and (tmp_path / "rep" / "equation_of_state.html").exists()
    proc = _run(
        ["phonons", "Al.cif", "-e", "emt", "--supercell", "3", "3", "3", "--db", "t.db", "--json"], tmp_path
    )
    assert proc.returncode == 0, proc.stderr
    res = json.loads(proc.stdout)["results"][0]
    assert res["dynamically_stable"] and res["supercell_matrix"] == [3, 3, 3]


def test_bad_load_and_unknown_run_exit_2_with_the_cause(tmp_path):
    proc = _run(["part", "--material", "deadbeef", "--db", "t.db"], tmp_path)
    assert proc.returncode == 2 and "no finished elastic_tensor run" in proc.stderr
    write(tmp_path / "Cu.cif", bulk("Cu", "fcc", a=3.6))
    key = json.loads(_run(["elastic", "Cu.cif", "-e", "emt", "--json", "--db", "t.db"], tmp_path).stdout)[
        "keys"
    ][0]
    proc = _run(["part", "--material", key, "--load", "10 furlongs", "--db", "t.db"], tmp_path)
    assert proc.returncode == 2 and "unknown unit" in proc.stderr
