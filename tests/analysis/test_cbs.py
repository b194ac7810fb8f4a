"""CBS extrapolation formulas (Helgaker et al. 1997)."""

from __future__ import annotations

import pytest

from mattwin.analysis.cbs import cardinal_number, extrapolate_correlation, extrapolate_hf


def test_cardinal_numbers():
    assert [
        cardinal_number(b) for b in ("cc-pVDZ", "aug-cc-pvtz", "cc-pwCVQZ", "def2-SVP", "def2-tzvpp")
    ] == [
        2,
        3,
        4,
        2,
        3,
    ]
    with pytest.raises(ValueError, match="cardinal"):
        cardinal_number("6-31g*")


def test_x3_extrapolation_recovers_the_limit_of_an_exact_x3_series():
    e_cbs, a = -0.30, 0.4
    e = {x: e_cbs + a / x**3 for x in (2, 3, 4)}
    assert extrapolate_correlation(e[2], e[3], 2, 3) == pytest.approx(e_cbs, abs=1e-12)
    assert extrapolate_correlation(e[3], e[4], 3, 4) == pytest.approx(e_cbs, abs=1e-12)
    assert extrapolate_hf(-76.0, -76.01, 2, 3) == -76.01
    with pytest.raises(ValueError):
        extrapolate_correlation(1.0, 1.0, 3, 3)
