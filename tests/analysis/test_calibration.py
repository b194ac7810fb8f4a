"""The calibration model on synthetic data with known corrections: it recovers them, its intervals cover
held-out values at the stated rate, it is honest about chemistry it has not seen, and it round-trips."""

import itertools

import numpy as np
import pytest
from pymatgen.core import Composition

from mattwin.analysis.calibration import (
    Calibration,
    CalibrationPoint,
    conformal_quantile,
    cross_validate,
    fit_calibration,
    group_folds,
)
from mattwin.analysis.chemistry import FEATURES

#: the "true" corrections of the synthetic engine, eV per atom of the species
TRUE = {"oxide": -0.70, "F": -0.45, "Cl": -0.60, "S": -0.50, "N": -0.35, "Fe(U)": -2.2, "Mn(U)": -1.7}
CATIONS = ["Li", "Na", "K", "Mg", "Ca", "Ba", "Al", "Zn", "Y", "Fe", "Mn"]
ANIONS = ["O", "F", "Cl", "S", "N"]


def _formulas() -> list[str]:
    out = []
    for cat, an in itertools.product(CATIONS, ANIONS):
        for a, b in ((1, 1), (1, 2), (2, 1), (2, 3)):
            out.append(Composition({cat: a, an: b}).reduced_formula)
    return sorted(set(out))


def _points(formulas, noise=0.03, seed=0) -> list[CalibrationPoint]:
    from mattwin.analysis.calibration import correction_features

    rng = np.random.default_rng(seed)
    true = np.array([TRUE.get(k, 0.0) for k in FEATURES])
    pts = []
    for f in formulas:
        raw = float(-rng.uniform(0.5, 3.0))
        shift = float(correction_features(f) @ true)
        measured = raw + shift + float(rng.normal(0, noise))
        pts.append(CalibrationPoint(f, raw, measured, 0.02, "synthetic"))
    return pts


@pytest.fixture(scope="module")
def points():
    return _points(_formulas())


@pytest.fixture(scope="module")
def calibration(points):
    return fit_calibration(points, "synthetic")


def test_fit_recovers_the_corrections_within_their_uncertainty(calibration):
    coef = dict(zip(FEATURES, calibration.coef, strict=True))
    std = dict(zip(FEATURES, np.sqrt(np.diag(calibration.cov)), strict=True))
    for k, v in TRUE.items():
        assert abs(coef[k] - v) < max(4 * std[k], 0.05), (k, coef[k], v, std[k])


def test_grouped_folds_keep_each_chemical_system_in_one_fold(points):
    folds = group_folds(points, 5)
    assert sorted(np.concatenate(folds).tolist()) == list(range(len(points)))
    where = {}
    for j, f in enumerate(folds):
        for i in f:
            where.setdefault(points[i].chemical_system, set()).add(j)
    assert all(len(s) == 1 for s in where.values())


def test_heldout_coverage_of_the_90_percent_interval(points):
    ho = cross_validate(points, "synthetic")
    m = ho.metrics()
    assert m["heldout_mae_calibrated"] < 0.5 * m["heldout_mae_raw"]
    assert m["heldout_mae_calibrated"] < 0.06
    assert 0.8 <= m["coverage_90"] <= 0.98
    assert m["coverage_68"] < m["coverage_90"]


def test_unseen_chemistry_gets_a_wider_interval(points):
    no_s = [p for p in points if "S" not in {e.symbol for e in Composition(p.formula).elements}]
    cal = fit_calibration(no_s, "synthetic")
    pred = cal.predict(["CaS", "CaO"], [-2.0, -2.0])
    assert pred.std[0] > 3 * pred.std[1]
    assert pred.high[0] - pred.low[0] > 0.5  # eV/atom: the sulfide correction is unknown


def test_round_trip_gives_the_same_predictions(calibration):
    again = Calibration.from_dict(calibration.to_dict())
    a = calibration.predict(["Fe2O3", "NaCl"], [-1.0, -1.5])
    b = again.predict(["Fe2O3", "NaCl"], [-1.0, -1.5])
    np.testing.assert_allclose(a.formation_energy, b.formation_energy)
    np.testing.assert_allclose(a.std, b.std)


def test_elements_are_not_corrected(calibration):
    mean, cov = calibration.correction(["Fe", "O2", "Fe2O3"])
    assert mean[0] == 0.0 and mean[1] == 0.0 and cov[0, 0] == 0.0
    assert mean[2] < -1.0


def test_joint_draws_match_the_predicted_spread(calibration):
    rng = np.random.default_rng(1)
    draws = calibration.sample_corrections(["Fe2O3", "FeO"], 4000, rng)
    pred = calibration.predict(["Fe2O3", "FeO"], [0.0, 0.0])
    np.testing.assert_allclose(draws.std(0), pred.std, rtol=0.1)
    assert np.corrcoef(draws.T)[0, 1] > 0.1  # both iron oxides share the oxide and Fe(U) corrections


def test_conformal_quantile():
    scores = np.arange(1, 100) / 10.0
    assert conformal_quantile(scores, 0.9) == pytest.approx(9.0)
    assert conformal_quantile(np.array([]), 0.9) == pytest.approx(1.6449)
