"""Birch–Murnaghan fit: recovers the parameters of synthetic data, reports a meaningful uncertainty,
agrees with ASE's own fit, and refuses data without a minimum."""

from __future__ import annotations

import numpy as np
import pytest
from ase import units
from ase.eos import EquationOfState

from mattwin.analysis.eos import EOSFitError, birch_murnaghan, delta_gauge, fit_birch_murnaghan


def test_fit_recovers_the_parameters_of_exact_data():
    v = np.linspace(15.0, 19.0, 9)
    e = birch_murnaghan(v, -3.7, 17.0, 140 * units.GPa, 4.8)
    fit = fit_birch_murnaghan(v, e)
    assert fit.v0_A3 == pytest.approx(17.0, rel=1e-6)
    assert fit.b0_GPa == pytest.approx(140.0, rel=1e-5)
    assert fit.bp == pytest.approx(4.8, rel=1e-4)
    assert fit.e0_eV == pytest.approx(-3.7, abs=1e-8)
    assert fit.rms_residual_eV < 1e-9 and fit.in_range


def test_uncertainty_covers_the_truth_with_noise_and_matches_ase():
    rng = np.random.default_rng(0)
    v = np.linspace(15.0, 19.0, 15)
    e = birch_murnaghan(v, -3.7, 17.0, 140 * units.GPa, 4.8) + rng.normal(0, 2e-4, v.size)
    fit = fit_birch_murnaghan(v, e)
    assert abs(fit.b0_GPa - 140.0) < 4 * fit.b0_std_GPa  # 1-sigma ~ 1 GPa for 0.2 meV noise
    assert 0.05 < fit.b0_std_GPa < 5.0
    ase_v0, _e0, ase_b = EquationOfState(v, e, eos="birchmurnaghan").fit()
    assert fit.v0_A3 == pytest.approx(ase_v0, rel=1e-4)
    assert fit.b0_GPa == pytest.approx(ase_b / units.GPa, rel=1e-3)


def test_no_minimum_is_a_typed_error_naming_the_cause():
    v = np.linspace(15.0, 19.0, 7)
    with pytest.raises(EOSFitError, match="no minimum"):
        fit_birch_murnaghan(v, -0.1 * v**2)
    with pytest.raises(EOSFitError, match="at least 5"):
        fit_birch_murnaghan(v[:3], v[:3])


def test_delta_gauge_is_zero_for_identical_curves_and_grows_with_b0():
    assert delta_gauge(20.0, 90.0, 4.3, 20.0, 90.0, 4.3) == pytest.approx(0.0, abs=1e-9)
    small = delta_gauge(20.2, 90.0, 4.3, 20.0, 90.0, 4.3)
    large = delta_gauge(20.6, 90.0, 4.3, 20.0, 90.0, 4.3)
    assert 0 < small < large
