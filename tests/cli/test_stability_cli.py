"""`mattwin stability` on a real structure with CHGNet: calibrated values with intervals and P(stable),
the raw values with --calibration none, and no relaxation recomputed when only the calibration changes."""

from __future__ import annotations

import json

import pytest
from pymatgen.core import Lattice, Structure
from typer.testing import CliRunner

from mattwin.cli.main import app

FIELDS = (
    "file",
    "formula",
    "formation_energy_per_atom",
    "formation_energy_interval",
    "e_hull",
    "e_hull_interval",
    "p_stable",
    "calibration",
)


@pytest.mark.slow
def test_stability_json_calibrated_then_raw(tmp_path):
    nacl = Structure.from_spacegroup("Fm-3m", Lattice.cubic(5.64), ["Na", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    path = tmp_path / "NaCl.cif"
    nacl.get_primitive_structure().to(filename=str(path))
    db = str(tmp_path / "t.db")
    runner = CliRunner()
    res = runner.invoke(app, ["stability", str(path), "--db", db, "--json"])
    assert res.exit_code == 0, res.output
    (row,) = json.loads(res.stdout)
    assert all(k in row for k in FIELDS)
    assert row["calibration"].startswith("chgnet@")
    lo, hi = row["formation_energy_interval"]
    assert lo < row["formation_energy_per_atom"] < hi
    assert lo <= -2.131 <= hi  # NaCl, -411.1 kJ/mol (NIST-JANAF)
    assert row["e_hull"] <= 0.025 and row["p_stable"] > 0.5
    assert row["e_hull_interval"][0] <= row["e_hull"] <= row["e_hull_interval"][1]

    from mattwin.store import Store

    n_before = len(Store(db).calculations())
    res = runner.invoke(app, ["stability", str(path), "--db", db, "--json", "--calibration", "none"])
    assert res.exit_code == 0, res.output
    (raw,) = json.loads(res.stdout)
    assert raw["calibration"] is None and raw["formation_energy_interval"] is None
    assert raw["formation_energy_per_atom"] == pytest.approx(row["raw_formation_energy_per_atom"])
    assert len(Store(db).calculations()) == n_before  # calibration is post-processing


def test_stability_of_a_missing_file_exits_2(tmp_path):
    res = CliRunner().invoke(app, ["stability", str(tmp_path / "nope.cif"), "--db", str(tmp_path / "t.db")])
    assert res.exit_code == 2
    assert "nope.cif" in res.output and "Traceback" not in res.output


def test_unknown_calibration_name_is_a_clear_error(tmp_path):
    nacl = Structure(Lattice.cubic(5.64), ["Na", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    path = tmp_path / "NaCl.cif"
    nacl.to(filename=str(path))
    res = CliRunner().invoke(
        app, ["stability", str(path), "--db", str(tmp_path / "t.db"), "--calibration", "chgnet@nosuch"]
    )
    assert res.exit_code == 2
    assert "chgnet@nosuch" in res.output and "mattwin calibrate" in res.output
