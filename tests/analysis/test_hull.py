"""Convex hull arithmetic on hand-made energies (eV/atom), and its ensemble spread."""

from __future__ import annotations

import pytest
from pymatgen.core import Composition

from mattwin.analysis import PhaseEnergy, Target, ensemble_stability, rank_key, stability


def _phases(e_ab: float, e_a2b: float) -> list[PhaseEnergy]:
    return [
        PhaseEnergy("a", "Na", Composition("Na"), -1.0, "reference"),
        PhaseEnergy("b", "Cl", Composition("Cl"), -2.0, "reference"),
        PhaseEnergy("ab", "NaCl", Composition("NaCl"), e_ab),
        PhaseEnergy("a2b", "Na2Cl", Composition("Na2Cl"), e_a2b),
    ]


def test_formation_energy_and_e_hull_by_hand():
    _, st = stability(_phases(-3.0, -2.0))
    # E_f(NaCl) = -3 - (-1 - 2)/2 = -1.5; the hull at Na2Cl is 1/3 Na + 2/3 NaCl... in atoms:
    # x(Cl)=1/3: hull = (1/3)*(-1) ... line Na(-1 at x=0) to NaCl(-3 at x=1/2): -1 - 4x = -2.333
    assert st["ab"].formation_energy_per_atom == pytest.approx(-1.5)
    assert st["ab"].e_hull == pytest.approx(0.0)
    assert st["a2b"].e_hull == pytest.approx(-2.0 - (-1 - 4 / 3))
    assert "NaCl" in st["a2b"].decomposition and "Na" in st["a2b"].decomposition


def test_a_new_low_phase_joins_the_hull_and_lifts_a_neighbour_off_it():
    _, st = stability(_phases(-3.0, -3.5))
    assert st["a2b"].e_hull == pytest.approx(0.0)
    # the Na2Cl-Cl tie line at x(Cl) = 1/2: -3.5 + 1.5 * (1/6) / (2/3) = -3.125 eV/atom
    assert st["ab"].e_hull == pytest.approx(0.125)


def test_missing_elemental_reference_is_named():
    with pytest.raises(ValueError, match="no elemental reference phase for Cl"):
        stability(
            [
                PhaseEnergy("a", "Na", Composition("Na"), -1.0),
                PhaseEnergy("ab", "NaCl", Composition("NaCl"), -3),
            ]
        )


def test_ensemble_spread_is_the_member_standard_deviation():
    _, st = ensemble_stability([_phases(-3.0, -2.0), _phases(-3.0, -2.2)])
    single = [stability(_phases(-3.0, e))[1]["a2b"].e_hull for e in (-2.0, -2.2)]
    assert st["a2b"].e_hull == pytest.approx(sum(single) / 2)
    assert st["a2b"].e_hull_std == pytest.approx(abs(single[0] - single[1]) / 2**0.5)
    assert st["ab"].e_hull_std == pytest.approx(0.0)


def test_rank_key_puts_near_stable_first_and_orders_them_by_target():
    t = [Target.parse("volume_per_atom:max")]
    stable_small = rank_key(0.0, None, 0.025, [10.0], t)
    stable_big = rank_key(0.02, None, 0.025, [20.0], t)
    uncertain = rank_key(0.04, 0.02, 0.025, [30.0], t)  # 0.04 - 0.02 <= 0.025: may be stable
    unstable = rank_key(0.1, None, 0.025, [40.0], t)
    failed = rank_key(None, None, 0.025, [None], t)
    assert sorted([unstable, failed, stable_small, uncertain, stable_big]) == [
        uncertain,
        stable_big,
        stable_small,
        unstable,
        failed,
    ]
