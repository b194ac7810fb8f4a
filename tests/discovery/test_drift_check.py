"""check_drift on a real store: synthetic lab formation enthalpies of real oxides and chlorides, written
through the lab API, against a calibration fitted on a synthetic engine with known corrections (the
computed set is monkeypatched: the engine's raw energies are the synthetic ones). A +0.15 eV/atom
systematic shift of the chlorides is flagged; the unshifted oxides are not."""

from __future__ import annotations

import dataclasses
import itertools
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from pymatgen.core import Composition

from mattwin.analysis.calibration import CalibrationPoint, correction_features, fit_calibration
from mattwin.analysis.chemistry import FEATURES
from mattwin.analysis.drift import DECISION_H, HIGHER
from mattwin.api.lab import add_measurements
from mattwin.discovery import drift_check
from mattwin.discovery.calibration_set import ComputedCompound
from mattwin.discovery.drift_check import check_drift
from mattwin.errors import CalibrationError
from mattwin.store import Store
from mattwin.store.calibrations import save_calibration

#: the synthetic engine's true corrections, eV per atom of the species
TRUE = {"oxide": -0.70, "F": -0.45, "Cl": -0.60, "S": -0.50, "N": -0.35}
CATIONS = ["Li", "Na", "K", "Mg", "Ca", "Ba", "Al", "Sr", "Rb", "Cs"]
OXIDES = ["Li2O", "Na2O", "K2O", "MgO", "CaO", "BaO", "Al2O3", "SrO"]
CHLORIDES = ["LiCl", "NaCl", "KCl", "MgCl2", "CaCl2", "BaCl2", "SrCl2", "RbCl"]
SHIFT = 0.15  # eV/atom, on the chlorides


def _true_shift(formula: str) -> float:
    return float(correction_features(formula) @ np.array([TRUE.get(k, 0.0) for k in FEATURES]))


@pytest.fixture(scope="module")
def raw() -> dict[str, float]:
    """The synthetic engine's raw formation energies (eV/atom) of the reference set and the lab's."""
    rng = np.random.default_rng(0)
    formulas = {
        Composition({c: a, x: b}).reduced_formula
        for c, x in itertools.product(CATIONS, ["O", "F", "Cl", "S", "N"])
        for a, b in ((1, 1), (1, 2), (2, 1), (2, 3))
    }
    return {f: float(-rng.uniform(0.5, 3.0)) for f in sorted(formulas | set(OXIDES) | set(CHLORIDES))}


@pytest.fixture(scope="module")
def calibration(raw):
    """A reference-only calibration of "chgnet" on the synthetic engine (noise 0.03 eV/atom)."""
    rng = np.random.default_rng(1)
    pts = [
        CalibrationPoint(f, r, r + _true_shift(f) + float(rng.normal(0, 0.03)), 0.02, "synthetic")
        for f, r in raw.items()
    ]
    return fit_calibration(pts, "chgnet", {"n_lab_used": 0})


@pytest.fixture
def computed(monkeypatch, raw):
    table = {f: ComputedCompound(f, r, None, None, {}, "synthetic", True) for f, r in raw.items()}
    monkeypatch.setattr(drift_check, "computed_compounds", lambda engine: table)
    return table


def _lab_file(path, formulas, seed, shift_chlorides=SHIFT, raw=None, start=1):
    """A CSV of lab formation enthalpies (eV/atom, ±0.02): truth + noise, chlorides shifted."""
    rng = np.random.default_rng(seed)
    rows = ["material,property,value,unit,uncertainty,method,source,date"]
    for i, f in enumerate(formulas):
        v = raw.get(f, -1.5) + _true_shift(f) + (shift_chlorides if "Cl" in f else 0.0) + rng.normal(0, 0.02)
        rows.append(
            f"{f},formation_enthalpy,{v:.4f},eV/atom,0.02,calorimetry,nb-{seed}-{i},2024-03-{start + i:02d}"
        )
    path.write_text("\n".join(rows) + "\n")
    return path


def _interleaved():
    return [f for pair in zip(OXIDES, CHLORIDES, strict=True) for f in pair]


def test_shifted_chlorides_are_flagged_and_oxides_are_not(tmp_path, computed, calibration, raw):
    store = Store(str(tmp_path / "t.db"))
    add_measurements(_lab_file(tmp_path / "lab.csv", [*_interleaved(), "LiFePO4"], 7, raw=raw), store)
    rep = check_drift("chgnet", store, calibration)
    by = {c.chemistry: c for c in rep.chemistries}
    assert set(by) == {"oxide", "halide"}
    hal, ox = by["halide"], by["oxide"]
    assert hal.flagged and hal.direction == HIGHER and hal.s_plus > DECISION_H
    assert hal.first_alarm_index is not None and hal.first_alarm_index <= 3  # within 4 chlorides
    assert hal.first_alarm_time == f"2024-03-{2 * hal.first_alarm_index + 2:02d}"
    assert hal.mean_residual_eV_per_atom == pytest.approx(SHIFT, abs=0.05)
    assert hal.formulas == tuple(CHLORIDES)
    assert not ox.flagged and ox.direction is None and max(ox.s_plus, ox.s_minus) <= DECISION_H
    assert abs(ox.mean_residual_eV_per_atom) < 0.03 and abs(ox.mean_z) < 1.0
    assert [c.chemistry for c in rep.flagged] == ["halide"]
    # per measurement: the oxides mostly inside their 90 % interval, the shifted chlorides mostly not
    inside = {r.formula: r.inside for r in rep.residuals}
    assert sum(inside[f] for f in OXIDES) >= 6 and sum(inside[f] for f in CHLORIDES) <= 3
    assert [p.formula for p in rep.not_predictable] == ["LiFePO4"]
    assert "no computed formation energy of LiFePO4 with chgnet" in rep.not_predictable[0].reason
    d = rep.to_dict()
    assert d["flagged"] == ["halide"] and d["n_monitored"] == 16 and d["calibration"] == calibration.name
    assert {"measured_eV_per_atom", "predicted_eV_per_atom", "z", "inside"} <= set(d["measurements"][0])


def test_nothing_is_flagged_without_a_shift(tmp_path, computed, calibration, raw):
    store = Store(str(tmp_path / "t.db"))
    add_measurements(_lab_file(tmp_path / "lab.csv", _interleaved(), 8, shift_chlorides=0.0, raw=raw), store)
    rep = check_drift("chgnet", store, calibration)
    assert rep.flagged == [] and len(rep.residuals) == 16
    assert sum(r.inside for r in rep.residuals) >= 13  # 90 % intervals


def test_the_stored_calibration_and_the_refit_rule(tmp_path, computed, calibration, raw):
    """Without ``calibration`` the newest stored fit is used. A refit that included the lab's
    measurements (n_lab_used > 0, fitted after they arrived) does not test them again: the chart
    restarts with the measurements that came after it."""
    store = Store(str(tmp_path / "t.db"))
    add_measurements(_lab_file(tmp_path / "a.csv", _interleaved(), 7, raw=raw), store)
    save_calibration(store, calibration)
    rep = check_drift("chgnet", store)
    assert rep.calibration == calibration.name and [c.chemistry for c in rep.flagged] == ["halide"]

    later = (datetime.now(UTC) + timedelta(seconds=2)).isoformat(timespec="seconds")
    refit = dataclasses.replace(
        calibration, version="refit0000000", created_at=later, fitted_on={"n_lab_used": 16}
    )
    save_calibration(store, refit)
    after = check_drift("chgnet", store)
    assert after.calibration == refit.name and after.n_fitted == 16
    assert after.residuals == [] and after.flagged == []

    rep_old = check_drift("chgnet", store, calibration.name)  # a stored fit by name: all monitored
    assert rep_old.n_fitted == 0 and [c.chemistry for c in rep_old.flagged] == ["halide"]


def test_new_measurements_after_a_refit_are_monitored(tmp_path, computed, calibration, raw):
    store = Store(str(tmp_path / "t.db"))
    earlier = (datetime.now(UTC) - timedelta(minutes=5)).isoformat(timespec="seconds")
    save_calibration(
        store,
        dataclasses.replace(
            calibration, version="lab000000000", created_at=earlier, fitted_on={"n_lab_used": 3}
        ),
    )
    add_measurements(_lab_file(tmp_path / "b.csv", _interleaved(), 9, raw=raw), store)
    rep = check_drift("chgnet", store)
    assert rep.n_fitted == 0 and len(rep.residuals) == 16 and [c.chemistry for c in rep.flagged] == ["halide"]


def test_no_stored_calibration_fits_one_on_the_reference_set(
    tmp_path, computed, calibration, raw, monkeypatch
):
    store = Store(str(tmp_path / "t.db"))
    add_measurements(_lab_file(tmp_path / "lab.csv", _interleaved(), 7, raw=raw), store)
    monkeypatch.setattr(drift_check, "reference_calibration", lambda engine: calibration)
    rep = check_drift("chgnet", store)
    assert rep.baseline.startswith("none stored") and [c.chemistry for c in rep.flagged] == ["halide"]
    from mattwin.store.calibrations import calibration_history

    assert calibration_history(store) == []  # checking stores nothing


def test_without_a_computed_set_nothing_is_predictable(tmp_path, monkeypatch, raw):
    store = Store(str(tmp_path / "t.db"))
    add_measurements(_lab_file(tmp_path / "lab.csv", OXIDES[:2], 7, raw=raw), store)
    monkeypatch.setattr(drift_check, "computed_compounds", lambda engine: {})
    rep = check_drift("chgnet", store)
    assert rep.calibration is None and rep.chemistries == [] and len(rep.not_predictable) == 2
    assert "no computed formation energies ship for engine chgnet" in (rep.note or "")
    empty = check_drift("chgnet", Store(str(tmp_path / "empty.db")))
    assert empty.note == "no formation-enthalpy measurement in the store"


def test_a_calibration_of_another_engine_is_refused(tmp_path, computed, calibration, raw):
    store = Store(str(tmp_path / "t.db"))
    add_measurements(_lab_file(tmp_path / "lab.csv", OXIDES[:2], 7, raw=raw), store)
    other = dataclasses.replace(calibration, engine="sevenn:7net-0")
    with pytest.raises(CalibrationError, match="is for engine sevenn:7net-0, not chgnet"):
        check_drift("chgnet", store, other)
    with pytest.raises(CalibrationError, match="not in the store"):
        check_drift("chgnet", store, "chgnet@nosuchfit")


def test_arrival_times_are_utc_on_both_backends(store, tmp_path, raw):
    """What the refit rule compares with a fit's created_at (SQLite returns naive datetimes)."""
    from mattwin.store.measurements import arrival_times

    before = datetime.now(UTC).replace(microsecond=0)
    add_measurements(_lab_file(tmp_path / "lab.csv", OXIDES[:3], 7, raw=raw), store)
    after = datetime.now(UTC)
    times = arrival_times(store, "ΔHf")
    assert set(times) == {m.content_key() for m in store.measurements()}
    assert all(before <= t <= after and t.utcoffset() == timedelta(0) for t in times.values())
