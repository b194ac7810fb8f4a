"""Measurements, drift and calibration history on the dashboard, over a copy of the campaign store:
predictions with intervals (as a calibrated campaign stores them) against lab values that sit far
above them raise the CUSUM flag of their chemistry; stored calibration versions are listed with their
held-out figures; the dashboard also runs over PostgreSQL."""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from mattwin.analysis.calibration import Calibration
from mattwin.api import add_measurements
from mattwin.serve import create_app, open_read_only
from mattwin.store.calibrations import save_calibration
from mattwin.store.store import Store

warnings.filterwarnings("ignore", message=".*httpx.*")
from fastapi.testclient import TestClient  # noqa: E402


def _calibrate_result(store: Store, sigma: float) -> dict[str, float]:
    """Give every screened candidate of the stored result a 90 % interval of ±1.645 sigma (eV/atom),
    as a calibrated campaign stores them; return the predicted E_f of the lowest-E_hull one per formula.
    The fixture's own measurements are removed, so the drift monitor sees only the test's series."""
    with store.engine.begin() as conn:
        conn.execute(text("DELETE FROM lab_measurements"))
        cid, raw = conn.execute(text("SELECT id, result FROM campaigns")).one()
        res = json.loads(raw)
        best: dict[str, tuple[float, float]] = {}
        for c in res["candidates"]:
            if c["status"] != "ok":
                continue
            ef = c["formation_energy_per_atom"]
            c["formation_energy_per_atom_std"] = sigma
            c["formation_energy_interval"] = [ef - 1.645 * sigma, ef + 1.645 * sigma]
            if c["formula"] not in best or c["e_hull"] < best[c["formula"]][0]:
                best[c["formula"]] = (c["e_hull"], ef)
        conn.execute(text("UPDATE campaigns SET result = :r WHERE id = :i"), {"r": json.dumps(res), "i": cid})
    return {f: ef for f, (_, ef) in best.items()}


def test_drift_flag_and_residuals(db_copy: Path, tmp_path: Path) -> None:
    store = Store(str(db_copy))
    pred = _calibrate_result(store, sigma=0.02)
    assert "CuAu" in pred
    row = "CuAu,formation_enthalpy,{:.4f},eV/atom,0.01,298.15,calorimetry,run {},2026-01-0{}"
    rows = "\n".join(row.format(pred["CuAu"] + 0.3, i, i + 1) for i in range(5))
    csv = tmp_path / "shifted.csv"
    csv.write_text(
        "material,property,value,unit,uncertainty,temperature_K,method,source,date\n" + rows + "\n"
    )
    add_measurements(csv, store=store)
    store.engine.dispose()
    c = TestClient(create_app(open_read_only(str(db_copy))), base_url="http://127.0.0.1")
    page = c.get("/measurements").text
    assert page.count('class="outside"') == 5  # 0.3 eV/atom above a ±0.033 interval
    assert "+0.300" in page  # the residual, measured - predicted
    cal = c.get("/calibrations").text
    for html in (page, cal):
        assert 'id="drift"' in html and "DRIFT: measured higher" in html


def test_no_drift_when_the_lab_agrees(db_copy: Path, tmp_path: Path) -> None:
    store = Store(str(db_copy))
    pred = _calibrate_result(store, sigma=0.02)
    offsets = [0.01, -0.012, 0.004, -0.006, 0.008]
    row = "CuAu,formation_enthalpy,{:.4f},eV/atom,0.01,298.15,calorimetry,run {},2026-01-0{}"
    rows = "\n".join(row.format(pred["CuAu"] + d, i, i + 1) for i, d in enumerate(offsets))
    csv = tmp_path / "agree.csv"
    csv.write_text(
        "material,property,value,unit,uncertainty,temperature_K,method,source,date\n" + rows + "\n"
    )
    add_measurements(csv, store=store)
    store.engine.dispose()
    html = (
        TestClient(create_app(open_read_only(str(db_copy))), base_url="http://127.0.0.1")
        .get("/measurements")
        .text
    )
    assert 'id="drift"' in html and "in control" in html and "DRIFT" not in html


def _fit(version: str, mae: float) -> Calibration:
    return Calibration(
        engine="emt", version=version, created_at="2026-01-01T00:00:00+00:00", n_compounds=40,
        fitted_on={"source": "test"}, coef=[], cov=[], model_noise=0.1, gp={}, scores=[],
        metrics={"heldout_mae_raw": 0.2, "heldout_mae_calibrated": mae, "coverage_90": 0.9},
    )  # fmt: skip


def test_calibration_history(db_copy: Path) -> None:
    store = Store(str(db_copy))
    save_calibration(store, _fit("v1", 0.15))
    save_calibration(store, _fit("v2", 0.12))
    store.engine.dispose()
    html = (
        TestClient(create_app(open_read_only(str(db_copy))), base_url="http://127.0.0.1")
        .get("/calibrations")
        .text
    )
    assert "emt@v1" in html and "emt@v2" in html and "0.120" in html and "0.150" in html
    assert 'id="calibration-history"' in html


@pytest.mark.parametrize("store", ["postgresql"], indirect=True)
def test_dashboard_over_postgresql(store: Store, cu_fcc: Any) -> None:
    store.save_campaign("pgcampaign000001", "on postgres", {"elements": ["Cu"], "engine": "emt"})
    store.add_candidates("unused", [(cu_fcc, "test", "test", 0.0)])
    c = TestClient(create_app(open_read_only(store.url)), base_url="http://127.0.0.1")
    (s,) = c.get("/api/campaigns").json()
    assert s["name"] == "on postgres" and s["status"] == "running"  # just created
    assert c.get("/campaign/pgcampaign000001").status_code == 200
    assert c.get("/measurements").status_code == 200 and c.get("/calibrations").status_code == 200
