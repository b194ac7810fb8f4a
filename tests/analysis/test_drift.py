"""The tabular CUSUM on standardised residuals: in-control noise alarms at the rate its average run
length says (Montgomery, Table 9.3: ARL 168 for k = 0.5, h = 4), a 1.5σ shift is caught within a few
points, and the per-chemistry monitor flags the shifted chemistry only."""

import numpy as np
import pytest

from mattwin.analysis.drift import (
    DECISION_H,
    HIGHER,
    LOWER,
    REFERENCE_K,
    chemistry_drift,
    standardised_residuals,
    tabular_cusum,
)
from mattwin.errors import SettingsError


def test_defaults_are_the_textbook_chart():
    assert (REFERENCE_K, DECISION_H) == (0.5, 4.0)


def test_the_recursion_by_hand():
    path = tabular_cusum([1.0, 2.0, -3.0, 3.0, 2.5])
    assert path.s_plus == pytest.approx((0.5, 2.0, 0.0, 2.5, 4.5))
    assert path.s_minus == pytest.approx((0.0, 0.0, 2.5, 0.0, 0.0))
    assert (path.first_alarm, path.direction) == (4, HIGHER)
    low = tabular_cusum([-2.0, -2.0, -2.0])
    assert (low.first_alarm, low.direction) == (2, LOWER)  # S- = 1.5, 3.0, 4.5


def test_no_alarm_on_most_in_control_runs_of_50_at_the_rate_of_the_arl():
    """P(alarm within 50 points | N(0,1)) is 0.24 for ARL 168 (Markov-chain / simulated value; about
    1 - exp(-50/168)); over 400 seeds the observed rate must lie within ±3.5 standard errors."""
    alarms = [tabular_cusum(np.random.default_rng(s).standard_normal(50)).first_alarm for s in range(400)]
    rate = np.mean([a is not None for a in alarms])
    assert 0.165 <= rate <= 0.315, rate
    assert sum(a is None for a in alarms[:10]) >= 6  # "several seeds" see no alarm at all


def test_in_control_average_run_length_is_montgomerys_168():
    """Mean run length of 600 in-control runs: 168 ± 15 % (standard error about 7)."""
    lengths = []
    for s in range(600):
        a = tabular_cusum(np.random.default_rng(10_000 + s).standard_normal(1500)).first_alarm
        assert a is not None  # P(no alarm in 1500) ~ exp(-9)
        lengths.append(a + 1)
    assert 143 <= np.mean(lengths) <= 193, np.mean(lengths)


def test_a_one_and_a_half_sigma_shift_is_caught_within_a_few_points():
    """20 in-control points, then +1.5σ: ARL 4.75 at this shift, so the median delay is about 4."""
    delays = []
    for s in range(200):
        rng = np.random.default_rng(s)
        z = np.concatenate([rng.standard_normal(20), 1.5 + rng.standard_normal(30)])
        path = tabular_cusum(z)
        if path.first_alarm is not None and path.first_alarm < 20:
            continue  # a false alarm before the shift (about 1 in 8 runs): not a detection
        assert path.first_alarm is not None and path.direction == HIGHER
        delays.append(path.first_alarm - 19)
    assert len(delays) > 150
    assert np.median(delays) <= 5 and np.mean(delays) <= 6.5 and max(delays) <= 15, np.mean(delays)


def test_settings_are_checked():
    with pytest.raises(SettingsError, match="decision interval h = 0"):
        tabular_cusum([0.0], h=0)
    with pytest.raises(SettingsError, match="reference value k = -1"):
        chemistry_drift([], k=-1)


def _residuals(shift_halides: float, n: int = 12, seed: int = 3):
    rng = np.random.default_rng(seed)
    oxides = ["MgO", "CaO", "Li2O", "Na2O", "BaO", "Al2O3", "K2O", "SrO", "Rb2O", "Cs2O", "Ga2O3", "B2O3"]
    halides = [
        "NaCl",
        "KCl",
        "LiCl",
        "MgCl2",
        "CaCl2",
        "BaCl2",
        "RbCl",
        "CsCl",
        "SrCl2",
        "NaBr",
        "KBr",
        "LiI",
    ]
    formulas = [f for pair in zip(oxides[:n], halides[:n], strict=True) for f in pair]
    predicted = -rng.uniform(1.0, 3.0, len(formulas))
    sigma_pred, unc = 0.04, 0.02
    sigma = np.hypot(sigma_pred, unc)
    shift = np.array([shift_halides if i % 2 else 0.0 for i in range(len(formulas))])
    measured = predicted + shift + rng.normal(0.0, sigma, len(formulas))
    q = 1.6449 * sigma_pred
    return standardised_residuals(
        formulas,
        measured,
        [unc] * len(formulas),
        predicted,
        [sigma_pred] * len(formulas),
        predicted - q,
        predicted + q,
        times=[f"2024-01-{i + 1:02d}" for i in range(len(formulas))],
    )


def test_residuals_standardise_with_both_uncertainties():
    rs = _residuals(0.0)
    r = rs[0]
    assert r.chemistry == "oxide" and rs[1].chemistry == "halide"
    assert r.sigma_eV_per_atom == pytest.approx(np.hypot(0.04, 0.02))
    assert r.z == pytest.approx((r.measured_eV_per_atom - r.predicted_eV_per_atom) / r.sigma_eV_per_atom)
    assert r.inside == (r.interval_low_eV_per_atom <= r.measured_eV_per_atom <= r.interval_high_eV_per_atom)


def test_the_shifted_chemistry_is_flagged_and_the_other_is_not():
    """+0.15 eV/atom on halides is 3.4σ of z: flagged by the second or third halide."""
    drift = {c.chemistry: c for c in chemistry_drift(_residuals(0.15))}
    hal, ox = drift["halide"], drift["oxide"]
    assert hal.flagged and hal.direction == HIGHER and hal.first_alarm_index <= 2
    assert hal.first_alarm_formula == hal.formulas[hal.first_alarm_index]
    assert hal.first_alarm_time is not None and hal.mean_residual_eV_per_atom == pytest.approx(0.15, abs=0.03)
    assert hal.s_plus > DECISION_H and hal.n_outside >= 8
    assert not ox.flagged and ox.direction is None and ox.first_alarm_index is None
    assert abs(ox.mean_z) < 0.7 and ox.s_plus <= DECISION_H and ox.s_minus <= DECISION_H
    lower = {c.chemistry: c for c in chemistry_drift(_residuals(-0.15))}["halide"]
    assert lower.flagged and lower.direction == LOWER


def test_nothing_is_flagged_without_a_shift():
    assert not any(c.flagged for c in chemistry_drift(_residuals(0.0)))
