"""``mattwin measure add`` and ``mattwin measure list``, run as a user runs them (a real subprocess)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

CLI = [sys.executable, "-m", "mattwin.cli.main"]
EXAMPLE = Path(__file__).parents[2] / "examples" / "measurements.csv"
BAD = (
    "material,property,value,unit,source\n"
    "Fe2O3,formation_enthalpy,-824.2,kJ/mol,nbs-1982\n"
    "Fe2O3,density,5.24,g/cm^3,nbs-1982\n"
    "Si,band_gap,1.12,nm,sze-2007\n"
    "Xx,melting_point,1000,K,nb-1\n"
)


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], cwd=cwd, capture_output=True, text=True, timeout=300)


def test_a_bad_file_exits_2_naming_every_bad_row_and_stores_nothing(tmp_path):
    (tmp_path / "bad.csv").write_text(BAD)
    proc = _run(["measure", "add", "bad.csv", "--db", "m.db"], tmp_path)
    assert proc.returncode == 2, proc.stderr
    err = proc.stderr
    assert "bad.csv: 3 bad rows, nothing stored" in err and "--skip-bad" in err
    assert "bad.csv, row 3: unknown property 'density'" in err
    assert "bad.csv, row 4: unit 'nm' is a length: it does not fit band_gap" in err
    assert "bad.csv, row 5: unknown element Xx" in err
    assert "Traceback" not in err
    listed = _run(["measure", "list", "--json", "--db", "m.db"], tmp_path)
    assert listed.returncode == 0 and json.loads(listed.stdout) == []


def test_skip_bad_stores_the_good_and_lists_the_bad(tmp_path):
    (tmp_path / "bad.csv").write_text(BAD)
    proc = _run(["measure", "add", "bad.csv", "--skip-bad", "--json", "--db", "m.db"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    rep = json.loads(proc.stdout)
    assert (rep["n_new"], rep["n_present"], [b["row"] for b in rep["bad"]]) == (1, 0, [3, 4, 5])
    listed = json.loads(_run(["measure", "list", "--json", "--db", "m.db"], tmp_path).stdout)
    assert [(m["formula"], m["unit"]) for m in listed] == [("Fe2O3", "eV/atom")]
    assert listed[0]["value"] == pytest.approx(-1.7084, abs=1e-4)
    assert (listed[0]["given_value"], listed[0]["given_unit"]) == (-824.2, "kJ/mol")


def test_add_the_example_twice_then_list(tmp_path):
    first = _run(["measure", "add", str(EXAMPLE), "--db", "m.db"], tmp_path)
    assert first.returncode == 0, first.stderr
    assert "12 measurements read, 12 new, 0 already in the store" in first.stderr
    again = _run(["measure", "add", str(EXAMPLE), "--db", "m.db"], tmp_path)
    assert "12 measurements read, 0 new, 12 already in the store" in again.stderr
    table = _run(["measure", "list", "--property", "Tm", "--db", "m.db"], tmp_path)
    assert table.returncode == 0 and "1357.8 K" in table.stderr and "933.5 K" in table.stderr
    gaps = json.loads(
        _run(["measure", "list", "--property", "band gap", "--json", "--db", "m.db"], tmp_path).stdout
    )
    assert {(m["formula"], m["value"], m["unit"]) for m in gaps} == {
        ("Si", 1.12, "eV"),
        ("GaAs", 1.424, "eV"),
    }


def test_unparseable_file_and_unknown_property_exit_2(tmp_path):
    (tmp_path / "m.json").write_text("[{")
    proc = _run(["measure", "add", "m.json", "--db", "m.db"], tmp_path)
    assert proc.returncode == 2 and "m.json: not valid JSON" in proc.stderr
    proc = _run(["measure", "list", "--property", "colour", "--db", "m.db"], tmp_path)
    assert proc.returncode == 2 and "unknown property 'colour'; known:" in proc.stderr
