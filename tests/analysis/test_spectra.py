"""Gaussian broadening of stick spectra."""

from __future__ import annotations

import numpy as np
import pytest

from mattwin.analysis.spectra import gaussian_spectrum, molar_absorptivity, wavelength_nm


def test_band_area_is_the_oscillator_strength_and_fwhm_is_kept():
    grid = np.linspace(0, 12, 24001)
    _, inten = gaussian_spectrum([4.0, 7.0], [0.2, 0.5], fwhm_eV=0.4, grid_eV=grid)
    assert np.trapezoid(inten, grid) == pytest.approx(0.7, rel=1e-6)
    band = inten[(grid > 6) & (grid < 8)]
    above = grid[(grid > 6) & (grid < 8)][band >= band.max() / 2]
    assert above[-1] - above[0] == pytest.approx(0.4, abs=2e-3)
    # f = 4.32e-9 * integral(eps dnu), nu in cm^-1: one unit of f is 28700 L/mol/cm eV
    assert np.trapezoid(molar_absorptivity(inten), grid * 8065.54) * 4.32e-9 == pytest.approx(0.7, rel=2e-3)
    assert wavelength_nm(3.0) == pytest.approx(413.28, abs=0.01)


def test_mismatched_inputs_raise():
    with pytest.raises(ValueError):
        gaussian_spectrum([1.0], [0.1, 0.2])
    with pytest.raises(ValueError):
        gaussian_spectrum([1.0], [0.1], fwhm_eV=0)
