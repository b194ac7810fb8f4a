"""The demo's chemical space (Li-Fe-P-O, CHGNet) with the default calibration: calibrated E_hull with
90 % intervals and P(stable), known compounds named, and R-3c LiPO3 judged against the searched
structure of the measured compound LiPO3 instead of standing on the hull as a new material."""

from __future__ import annotations

import pytest

from mattwin.api import discover
from mattwin.store import Store


@pytest.mark.slow
def test_demo_space_reports_calibrated_e_hull_with_probabilities(tmp_path):
    store = Store(str(tmp_path / "demo.db"))
    result = discover(
        elements=["Li", "Fe", "P", "O"], max_atoms=20, budget=6, max_steps=300, name="demo", store=store
    )
    assert result.calibration is not None and result.calibration["engine"] == "chgnet"
    ok = [c for c in result.candidates if c.status == "ok"]
    assert ok
    for c in ok:
        assert c.calibration == result.calibration["name"]
        assert c.e_hull_interval[0] - 1e-9 <= c.e_hull <= c.e_hull_interval[1] + 1e-9
        assert 0.0 <= c.p_stable <= 1.0
        assert c.raw_e_hull is not None
    for c in ok:
        if c.formula == "LiPO3":
            assert c.known_compound.startswith("experimental formation enthalpy")
            # on the hull only as the known compound itself (it relaxes into mattwin's searched LiPO3)
            assert c.e_hull > 0.005 or (c.duplicate_of or "").startswith("reference LiPO3")
