"""E_hull for many draws at once (against pymatgen) and the calibrated stability built on it."""

import sys
from pathlib import Path

import numpy as np
import pytest
from pymatgen.analysis.phase_diagram import PDEntry, PhaseDiagram
from pymatgen.core import Composition

from mattwin.analysis.calibrated_hull import calibrated_stability
from mattwin.analysis.calibration import fit_calibration
from mattwin.analysis.hull import PhaseEnergy, e_above_hull_samples, stability

sys.path.insert(0, str(Path(__file__).parent))
from test_calibration import _formulas, _points  # noqa: E402


def _system(seed: int, elements=("Li", "Fe", "O")):
    rng = np.random.default_rng(seed)
    formulas = ["Li2O", "Fe2O3", "FeO", "Fe3O4", "LiFeO2", "Li2O2", "Li5FeO4", "LiFe5O8"]
    comps = [Composition(e) for e in elements] + [Composition(f) for f in formulas]
    mu = rng.uniform(-8, -2, len(elements))
    x = np.array([[c.get_atomic_fraction(e) for e in elements] for c in comps])
    e = x @ mu - np.concatenate([np.zeros(len(elements)), rng.uniform(-0.3, 2.5, len(formulas))])
    return comps, x, e


@pytest.mark.parametrize("seed", range(5))
def test_e_above_hull_samples_match_pymatgen(seed):
    comps, x, e = _system(seed)
    pd = PhaseDiagram([PDEntry(c, ei * c.num_atoms) for c, ei in zip(comps, e, strict=True)])
    want = [pd.get_e_above_hull(PDEntry(c, ei * c.num_atoms)) for c, ei in zip(comps, e, strict=True)]
    got = e_above_hull_samples(x, e[None, :])[0]
    np.testing.assert_allclose(got, want, atol=1e-9)


def _phases(seed=0):
    comps, _, e = _system(seed)
    return [
        PhaseEnergy(f"p{i}", c.reduced_formula, c, float(ei))
        for i, (c, ei) in enumerate(zip(comps, e, strict=True))
    ]


def test_without_calibration_or_spread_the_raw_hull_is_returned_exactly():
    phases = _phases()
    _, raw = stability(phases)
    _, cal = calibrated_stability(phases, None, threshold=0.025)
    for p in phases:
        c = cal[p.key]
        assert c.point.e_hull == pytest.approx(raw[p.key].e_hull)
        assert c.e_hull_interval[1] - c.e_hull_interval[0] == pytest.approx(0.0, abs=1e-12)
        assert c.p_stable == (1.0 if raw[p.key].e_hull <= 0.025 else 0.0)


def test_an_ensemble_spread_widens_the_interval():
    phases = _phases()
    _, raw = stability(phases)
    above = next(p for p in phases if raw[p.key].e_hull > 0.05)
    near = PhaseEnergy(
        above.key, above.name, above.composition, above.energy_per_atom - raw[above.key].e_hull + 0.01
    )
    phases = [near if p.key == above.key else p for p in phases]
    _, cal = calibrated_stability(phases, None, 0.025, spreads={near.key: 0.05})
    lo, hi = cal[near.key].e_hull_interval
    assert cal[near.key].point.e_hull == pytest.approx(0.01, abs=1e-9)
    assert lo == pytest.approx(0.0, abs=1e-9) and hi > 0.06
    assert 0.45 < cal[near.key].p_stable < 0.85  # P(N(0.01, 0.05) <= 0.025) = 0.62


@pytest.fixture(scope="module")
def synthetic_calibration():
    return fit_calibration(_points(_formulas()), "synthetic")


def test_polymorphs_share_their_correction(synthetic_calibration):
    """Two polymorphs of Fe2O3 50 meV/atom apart: the higher one is at least 50 meV/atom above the hull
    in every draw, whatever the calibration does to Fe2O3's formation energy."""
    phases = _phases(1)
    fe2o3 = next(p for p in phases if p.name == "Fe2O3")
    low = PhaseEnergy("low", "Fe2O3", fe2o3.composition, fe2o3.energy_per_atom - 2.0)
    high = PhaseEnergy("high", "Fe2O3", fe2o3.composition, fe2o3.energy_per_atom - 1.95)
    phases = [p for p in phases if p is not fe2o3] + [low, high]
    _, cal = calibrated_stability(phases, synthetic_calibration, 0.025)
    assert cal["low"].point.e_hull == pytest.approx(0.0, abs=1e-9)
    assert cal["high"].point.e_hull == pytest.approx(0.05, abs=1e-6)
    assert cal["high"].e_hull_interval[0] >= 0.05 - 1e-6
    assert cal["high"].p_stable == 0.0
    # the calibration moved the formation energy: calibrated differs from raw
    assert abs(cal["low"].point.formation_energy_per_atom - cal["low"].raw_formation_energy_per_atom) > 0.1
    lo, hi = cal["low"].formation_energy_interval
    assert lo < cal["low"].point.formation_energy_per_atom < hi


def test_a_measured_anchor_puts_the_lowest_polymorph_at_the_measured_enthalpy(synthetic_calibration):
    """Fe2O3 anchored at a measured -1.711 ± 0.02 eV/atom: its lowest computed phase lies there whatever
    the calibration predicts, its interval is the measurement's, the second polymorph keeps the engine's
    50 meV/atom above it, and a composition without a measurement keeps its calibrated value."""
    phases = _phases(1)
    fe2o3 = next(p for p in phases if p.name == "Fe2O3")
    low = PhaseEnergy("low", "Fe2O3", fe2o3.composition, fe2o3.energy_per_atom - 2.0)
    high = PhaseEnergy("high", "Fe2O3", fe2o3.composition, fe2o3.energy_per_atom - 1.95)
    phases = [p for p in phases if p is not fe2o3] + [low, high]
    _, plain = calibrated_stability(phases, synthetic_calibration, 0.025)
    _, cal = calibrated_stability(phases, synthetic_calibration, 0.025, anchors={"Fe2O3": (-1.711, 0.02)})
    assert cal["low"].point.formation_energy_per_atom == pytest.approx(-1.711, abs=1e-9)
    lo, hi = cal["low"].formation_energy_interval
    assert hi - lo == pytest.approx(2 * 1.645 * 0.02, rel=0.15)
    f_high = cal["high"].point.formation_energy_per_atom - cal["low"].point.formation_energy_per_atom
    assert f_high == pytest.approx(0.05, abs=1e-6)
    li2o = next(p for p in phases if p.name == "Li2O")
    assert cal[li2o.key].point.formation_energy_per_atom == pytest.approx(
        plain[li2o.key].point.formation_energy_per_atom
    )
    # without a calibration the raw energies are kept (anchors belong to the calibrated hull)
    _, raw = calibrated_stability(phases, None, 0.025, anchors={"Fe2O3": (-1.711, 0.02)})
    assert raw["low"].point.formation_energy_per_atom == pytest.approx(
        raw["low"].raw_formation_energy_per_atom
    )
