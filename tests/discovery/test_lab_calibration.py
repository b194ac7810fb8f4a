"""The lab's formation enthalpies join the calibration: a measured compound of the shipped set replaces
the literature value; a compound measured on a structure the lab gave is relaxed with the engine and
joins too; the refit is a new stored version and the old one stays."""

from __future__ import annotations

import pytest

from mattwin.api.lab import add_measurements
from mattwin.discovery.calibrate import fit_engine_calibration
from mattwin.discovery.lab_points import all_points
from mattwin.discovery.references import builtin_references
from mattwin.materials.io import write_structure
from mattwin.store import Store
from mattwin.store.calibrations import calibration_history


@pytest.mark.slow
def test_lab_measurements_join_the_calibration(tmp_path):
    store = Store(str(tmp_path / "lab.db"))
    before = fit_engine_calibration("chgnet", store)
    olivine = next(r.structure for r in builtin_references(["Li", "Fe", "P", "O"]) if r.formula == "LiFePO4")
    write_structure(olivine, tmp_path / "LiFePO4.cif")
    (tmp_path / "m.csv").write_text(
        "material,property,value,unit,uncertainty,temperature_K,method,source,date\n"
        "MgO,formation enthalpy,-601.6,kJ/mol,0.3,298.15,calorimetry,notebook A-17,2026-11-30\n"
        f"{tmp_path / 'LiFePO4.cif'},formation enthalpy,-1616,kJ/mol,4,298.15,calorimetry,"
        "notebook A-18,2026-11-30\n"
    )
    add_measurements(tmp_path / "m.csv", store=store)
    points = {p.formula: p for p in all_points("chgnet", store)}
    assert points["MgO"].source == "lab: notebook A-17"
    assert points["MgO"].measured == pytest.approx(-601.6 / 96.485 / 2, abs=1e-4)
    lfp = points["LiFePO4"]  # relaxed with CHGNet now: not in the shipped set
    assert lfp.source.startswith("lab: notebook A-18") and -3.5 < lfp.raw < -1.5
    after = fit_engine_calibration("chgnet", store)
    assert after.version != before.version and after.fitted_on["n_lab_used"] == 2
    assert [c.version for c in calibration_history(store, "chgnet")] == [before.version, after.version]
