"""The demo's chemical space (Li-Fe-P-O, CHGNet) with the default calibration: calibrated E_hull with
90 % intervals and P(stable), known compounds named, R-3c LiPO3 judged against the searched structure of
the measured compound LiPO3 and I-4 FePO4 against the known berlinite type instead of standing on the
hull as new materials, and olivine LiFePO4 on the hull (the measured enthalpies of Li3PO4, Li4P2O7 and
P2O5 anchor those competing phases). One demo campaign (module fixture); the smaller campaign runs in
its store after it, so the reference relaxations are computed once."""

from __future__ import annotations

import pytest

from mattwin.api import discover
from mattwin.store import Store


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory):  # type: ignore[no-untyped-def]
    return Store(str(tmp_path_factory.mktemp("demo") / "demo.db"))


@pytest.fixture(scope="module")
def demo_result(demo_store):  # type: ignore[no-untyped-def]
    """The demo campaign (examples/demo.toml, CHGNet) in a fresh store, phonons off to keep it short."""
    from pathlib import Path

    demo = Path(__file__).parents[2] / "examples" / "demo.toml"
    return discover(demo, store=demo_store, phonons_top=0)


@pytest.mark.slow
def test_demo_space_reports_calibrated_e_hull_with_probabilities(demo_result, demo_store):  # type: ignore[no-untyped-def]
    # after the demo, in its store: the reference phases' relaxations come from its cache
    result = discover(
        elements=["Li", "Fe", "P", "O"], max_atoms=20, budget=6, max_steps=300, name="demo", store=demo_store
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


@pytest.mark.slow
def test_demo_no_known_phase_is_a_new_stable_material(demo_result):  # type: ignore[no-untyped-def]
    """R-3c LiPO3 and I-4 FePO4 are no longer reported as stable new materials: a candidate of those
    compositions (or LiFePO4) is a known compound, never "new"; their measured polymorphs (searched
    monoclinic LiPO3, trigonal berlinite-type FePO4 in the library) are competing phases, and the
    berlinite-type FePO4 lies below heterosite; every candidate has a verdict."""
    result = demo_result
    refs = {h.name: h for h in result.hull_points if h.kind == "reference"}
    berlinite = next(h for n, h in refs.items() if n.startswith("FePO4 berlinite"))
    heterosite = next(h for n, h in refs.items() if n.startswith("FePO4 heterosite"))
    assert berlinite.formation_energy_per_atom <= heterosite.formation_energy_per_atom
    assert any(n.startswith("LiFePO4 olivine") for n in refs)
    ok = [c for c in result.candidates if c.status == "ok"]
    assert ok and all(c.verdict for c in ok)
    for c in ok:
        if c.formula in ("LiFePO4", "LiPO3", "FePO4"):
            assert c.known_compound is not None  # never "new"
            assert not c.verdict.startswith("new")


@pytest.mark.slow
def test_demo_known_compositions_not_on_the_hull_in_other_polymorphs(demo_result):  # type: ignore[no-untyped-def]
    """No other polymorph of LiPO3, FePO4 or Li3PO4 stands on the hull as a stable new material: each is
    a known compound judged against its known phase (measured anchor, or the experimentally stable
    structure in the library), and says how."""
    for c in demo_result.candidates:
        if c.status == "ok" and c.formula == "Li3PO4":
            assert c.known_compound is not None and not c.verdict.startswith("new")
    for c in demo_result.candidates:
        if c.status == "ok" and c.formula in ("LiPO3", "FePO4"):
            relaxed_into_known = (c.duplicate_of or "").startswith("reference")
            assert c.e_hull > 0.005 or relaxed_into_known, (c.formula, c.spacegroup, c.e_hull)
            assert relaxed_into_known or c.thermo_note, (c.formula, c.spacegroup)


@pytest.mark.slow
def test_demo_olivine_on_the_hull(demo_result):  # type: ignore[no-untyped-def]
    """Olivine LiFePO4 on the calibrated hull of the demo space: the competing Li3PO4, Li4P2O7 and P2O5
    sit at their measured formation enthalpies, not where the calibration's extrapolation puts them."""
    olivine = next(
        h for h in demo_result.hull_points if h.kind == "reference" and h.name.startswith("LiFePO4 olivine")
    )
    assert olivine.e_hull <= 0.025  # the campaign's stability threshold


@pytest.mark.slow
def test_stability_of_user_structures_olivine_on_hull_and_antisite_polymorph_above(demo_result, demo_store):  # type: ignore[no-untyped-def]
    """`mattwin stability` on your own structures (after the demo, in its store: the Li-Fe-P-O
    reference relaxations come from its cache): olivine LiFePO4 on the hull, the fully antisite-
    disordered olivine (every Li swapped with its nearest Fe) above it."""
    from mattwin.discovery.campaign import assess_stability
    from mattwin.discovery.references import builtin_references

    els = ["Li", "Fe", "P", "O"]
    olivine = next(r.structure for r in builtin_references(els) if r.formula == "LiFePO4")
    swapped = olivine.copy()
    li = [i for i, s in enumerate(swapped) if s.specie.symbol == "Li"]
    fe = [i for i, s in enumerate(swapped) if s.specie.symbol == "Fe"]
    for i, j in zip(li, fe, strict=True):
        swapped.replace(i, "Fe", swapped[i].frac_coords)
        swapped.replace(j, "Li", swapped[j].frac_coords)
    result, _ = assess_stability(
        [olivine, swapped], store=demo_store, max_steps=300, phonons_top=0, routes_top=0
    )
    rows = sorted((c for c in result.candidates if c.formula == "LiFePO4"), key=lambda c: c.e_hull)
    assert len(rows) == 2 and all(r.status == "ok" for r in rows)
    assert rows[0].e_hull <= 0.025, rows[0].decomposition
    assert rows[1].e_hull > rows[0].e_hull + 0.02
