"""``mattwin measure add`` prints each formation enthalpy against its predicted interval and the drift
per chemistry; ``mattwin drift --json`` and ``mattwin calibrate`` carry it. In process (typer's
CliRunner) with a synthetic "chgnet" calibration in the store and the computed set monkeypatched."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest
from pymatgen.core import Composition
from typer.testing import CliRunner

from mattwin.analysis.calibration import CalibrationPoint, correction_features, fit_calibration
from mattwin.analysis.chemistry import FEATURES
from mattwin.cli.main import app
from mattwin.discovery import drift_check
from mattwin.discovery.calibration_set import ComputedCompound
from mattwin.store import Store
from mattwin.store.calibrations import save_calibration

TRUE = {"oxide": -0.70, "Cl": -0.60, "F": -0.45}
LAB = ["MgO", "NaCl", "CaO", "KCl", "Li2O", "LiCl", "BaO", "CaCl2"]


def _shift(f: str) -> float:
    return float(correction_features(f) @ np.array([TRUE.get(k, 0.0) for k in FEATURES]))


@pytest.fixture(scope="module")
def raw() -> dict[str, float]:
    rng = np.random.default_rng(0)
    fs = {
        Composition({c: a, x: b}).reduced_formula
        for c, x in itertools.product(["Li", "Na", "K", "Mg", "Ca", "Ba", "Al", "Sr"], ["O", "Cl", "F"])
        for a, b in ((1, 1), (1, 2), (2, 1), (2, 3))
    }
    return {f: float(-rng.uniform(0.5, 3.0)) for f in sorted(fs | set(LAB))}


@pytest.fixture(scope="module")
def calibration(raw):
    rng = np.random.default_rng(1)
    pts = [
        CalibrationPoint(f, r, r + _shift(f) + rng.normal(0, 0.03), 0.02, "synthetic") for f, r in raw.items()
    ]
    return fit_calibration(pts, "chgnet", {"n_lab_used": 0})


@pytest.fixture
def db(tmp_path, monkeypatch, raw, calibration):
    table = {f: ComputedCompound(f, r, None, None, {}, "synthetic", True) for f, r in raw.items()}
    monkeypatch.setattr(drift_check, "computed_compounds", lambda engine: table)
    path = str(tmp_path / "t.db")
    save_calibration(Store(path), calibration)
    rng = np.random.default_rng(5)
    rows = ["material,property,value,unit,uncertainty,source"]
    for i, f in enumerate(LAB):  # the chlorides measured 0.15 eV/atom above the model
        v = raw[f] + _shift(f) + (0.15 if "Cl" in f else 0.0) + rng.normal(0, 0.02)
        rows.append(f"{f},formation_enthalpy,{v:.4f},eV/atom,0.02,nb-{i}")
    rows.append("Si,band_gap,1.12,eV,,sze-2007")
    (tmp_path / "lab.csv").write_text("\n".join(rows) + "\n")
    return path


def test_measure_add_prints_intervals_and_the_drift(tmp_path, db, calibration):
    res = CliRunner().invoke(
        app, ["measure", "add", str(tmp_path / "lab.csv"), "--db", db], env={"COLUMNS": "160"}
    )
    assert res.exit_code == 0, res.output
    out = res.stderr
    assert "9 measurements read, 9 new" in out
    assert f"formation enthalpies (eV/atom) against {calibration.name}, 90% intervals" in out
    assert "inside" in out and "outside" in out
    assert "DRIFT (higher)" in out and "in control" in out
    assert "halide: measured higher than predicted, by +0.1" in out
    assert "run `mattwin calibrate --engine chgnet` to refit" in out


def test_measure_add_and_drift_json(tmp_path, db):
    res = CliRunner().invoke(app, ["measure", "add", str(tmp_path / "lab.csv"), "--db", db, "--json"])
    assert res.exit_code == 0, res.output
    rep = json.loads(res.stdout)
    assert rep["n_new"] == 9 and rep["drift"]["flagged"] == ["halide"]
    res = CliRunner().invoke(app, ["drift", "--db", db, "--json"])
    assert res.exit_code == 0, res.output
    d = json.loads(res.stdout)
    chem = {c["chemistry"]: c for c in d["chemistries"]}
    assert chem["halide"]["flagged"] and not chem["oxide"]["flagged"]
    assert chem["halide"]["direction"] == "measured higher"
    assert chem["halide"]["mean_residual_eV_per_atom"] == pytest.approx(0.15, abs=0.05)
    assert len(d["measurements"]) == 8 and "interval_low_eV_per_atom" in d["measurements"][0]
    res = CliRunner().invoke(app, ["drift", "--db", db, "--h", "0"])
    assert res.exit_code == 2 and "decision interval h = 0" in res.stderr


def test_calibrate_prints_the_drift_before_refitting_and_the_refit_clears_it(tmp_path, db, monkeypatch, raw):
    """``calibrate --json`` carries the drift against the fit it replaces; the refit has the lab's
    measurements in it, so ``drift`` then monitors nothing until new ones arrive."""
    from mattwin.discovery import calibrate, calibration_set

    table = drift_check.computed_compounds("chgnet")
    monkeypatch.setattr(calibration_set, "computed_compounds", lambda engine: table)
    monkeypatch.setattr(calibrate, "computed_compounds", lambda engine: table)
    runner = CliRunner()
    assert runner.invoke(app, ["measure", "add", str(tmp_path / "lab.csv"), "--db", db]).exit_code == 0
    res = runner.invoke(app, ["calibrate", "--folds", "2", "--db", db, "--json"])
    assert res.exit_code == 0, res.output
    rep = json.loads(res.stdout)
    assert [c["chemistry"] for c in rep["drift"] if c["flagged"]] == ["halide"]
    assert rep["fitted_on"]["n_lab_used"] == len(LAB)
    after = json.loads(runner.invoke(app, ["drift", "--db", db, "--json"]).stdout)
    assert after["calibration"] == rep["calibration"] and after["n_fitted"] == len(LAB)
    assert after["n_monitored"] == 0 and after["flagged"] == []
