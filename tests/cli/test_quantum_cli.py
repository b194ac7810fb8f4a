"""``mattwin correlate``, ``interaction`` and ``excite`` run as a user runs them (real subprocesses)."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest
from ase.data import s22
from ase.io import write

CLI = [sys.executable, "-m", "mattwin.cli.main"]


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {"OMP_NUM_THREADS": "2", "PATH": "/usr/bin:/bin", "HOME": str(cwd), "COLUMNS": "300"}
    return subprocess.run([*CLI, *args], cwd=cwd, capture_output=True, text=True, timeout=600, env=env)


def test_correlate_smiles_json_and_cache(tmp_path):
    args = [
        "correlate",
        "[H][H]",
        "--method",
        "ccsd(t)",
        "--basis",
        "cc-pvdz",
        "--diagnostics",
        "--json",
        "--db",
        "q.db",
    ]
    proc = _run([*args, "--workers", "1"], tmp_path)  # on a Dask LocalCluster: the worker records it
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    # H2 is a two-electron system: CCSD is exact (FCI) and (T) vanishes
    assert data["energy"]["components_hartree"]["e_t"] == pytest.approx(0.0, abs=1e-10)
    assert data["energy"]["energy_hartree"] == pytest.approx(-1.1635, abs=2e-3)  # FCI/cc-pVDZ near r_e
    assert data["diagnostics"]["verdict"] == "single-reference"
    assert data["engine_signature"]["params"]["method"] == "ccsd(t)" and not data["cached"]
    again = _run(args, tmp_path)
    assert json.loads(again.stdout)["cached"] is True


def test_interaction_of_a_water_dimer_file(tmp_path):
    write(tmp_path / "dimer.xyz", s22.create_s22_system("Water_dimer"))
    proc = _run(
        [
            "interaction",
            "dimer.xyz",
            "--scheme",
            "single",
            "--method",
            "b3lyp-d3bj",
            "--basis",
            "def2-svp",
            "--json",
            "--db",
            "q.db",
        ],
        tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    res = json.loads(proc.stdout)["result"]
    assert res["fragments"] == [[0, 1, 2], [3, 4, 5]] and res["counterpoise"]
    # B3LYP-D3(BJ)/def2-SVP with CP binds the water dimer by 4-6 kcal/mol (reference -5.02)
    assert -6.0 < res["interaction_energy_kcal_mol"] < -4.0


def test_excite_writes_html_and_csv(tmp_path):
    proc = _run(
        [
            "excite",
            "C=O",
            "--method",
            "tda",
            "--functional",
            "pbe0",
            "--basis",
            "def2-svp",
            "--states",
            "3",
            "--report",
            "rep",
            "--db",
            "q.db",
        ],
        tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    assert "HOMO -> LUMO" in proc.stderr
    html = (tmp_path / "rep" / "excitations.html").read_text()
    assert "plotly" in html and "oscillator strength" in html
    rows = list(csv.DictReader((tmp_path / "rep" / "states.csv").open()))
    assert len(rows) == 3 and 3.5 < float(rows[0]["energy_eV"]) < 4.5
    spectrum = list(csv.DictReader((tmp_path / "rep" / "spectrum.csv").open()))
    assert len(spectrum) == 400 and all(float(r["epsilon_L_mol_cm"]) >= 0 for r in spectrum)


def test_bad_smiles_and_bad_method_exit_2_with_one_line(tmp_path):
    proc = _run(["correlate", "C1CC(", "--db", "q.db"], tmp_path)
    assert proc.returncode == 2 and "not a valid SMILES" in proc.stderr
    proc = _run(["correlate", "O", "--method", "ccsd(q)", "--db", "q.db"], tmp_path)
    assert proc.returncode == 2 and "neither a wavefunction method" in proc.stderr
