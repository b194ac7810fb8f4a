"""The Propose step: SMACT compositions, ionic substitution, PyXtal random structures, budget."""

from __future__ import annotations

import numpy as np
import pytest
from pymatgen.analysis.structure_matcher import ElementComparator, StructureMatcher
from pymatgen.core import Composition, Element, Structure
from pymatgen.symmetry.analyzer import SpacegroupAnalyzer
from pymatgen.symmetry.groups import SpaceGroup

from mattwin.discovery.dedup import deduplicate
from mattwin.discovery.generate import (
    Candidate,
    charge_balanced_compositions,
    generate_candidates,
    prototype_library,
    random_candidates,
    space_group_prior,
    substitution_candidates,
)
from mattwin.errors import CampaignError
from mattwin.materials import check_physical, min_distance_ratio

#: a chemical space with many prototype analogues (rocksalt, antifluorite, ...)
RICH_SPACE = ["Li", "Na", "K", "Mg", "Ca", "O", "S"]


@pytest.fixture(scope="module")
def library() -> list[tuple[Structure, str]]:
    return prototype_library()


@pytest.fixture(scope="module")
def lfpo() -> list[tuple[Composition, dict[str, int]]]:
    return charge_balanced_compositions(["Li", "Fe", "P", "O"], max_atoms=28)


@pytest.fixture(scope="module")
def olivine(library: list[tuple[Structure, str]]) -> Structure:
    (structure,) = [s for s, label in library if label.startswith("MP structure LiFePO4")]
    return structure


@pytest.fixture(scope="module")
def rich() -> list[Candidate]:
    return generate_candidates(RICH_SPACE, max_atoms=20, budget=500)


def _formulas(comps: list[tuple[Composition, dict[str, int]]]) -> set[str]:
    return {c.reduced_formula for c, _ in comps}


# ------------------------------------------------------------------ compositions
def test_li_fe_p_o_compositions(lfpo: list[tuple[Composition, dict[str, int]]]) -> None:
    formulas = _formulas(lfpo)
    assert {"LiFePO4", "Li3PO4", "Fe2O3", "Li2O", "FeO", "FePO4", "Li4P2O7"} <= formulas
    assert not {"LiO", "FePO2", "LiFeO", "Li2P", "FeP", "LiFe", "PO", "Li3PO3"} & formulas
    assert len(formulas) == len(lfpo)  # each reduced composition once
    for comp, ox in lfpo:
        assert 2 <= len(comp) <= 4 and comp.num_atoms <= 28 and max(comp.values()) <= 8
        assert sum(ox[el.symbol] * amt for el, amt in comp.items()) == 0
        cations = [Element(e).X for e, q in ox.items() if q > 0]
        anions = [Element(e).X for e, q in ox.items() if q < 0]
        assert anions and max(cations) < min(anions)  # Pauling test
    assert dict(lfpo)[Composition("LiFePO4")] == {"Li": 1, "Fe": 2, "P": 5, "O": -2}
    sizes = [c.num_atoms for c, _ in lfpo]
    assert sizes == sorted(sizes)


def test_binary_and_limits() -> None:
    assert [c.reduced_formula for c, _ in charge_balanced_compositions(["Na", "Cl"], 10)] == ["NaCl"]
    small = _formulas(charge_balanced_compositions(["Li", "Fe", "P", "O"], max_atoms=6))
    assert "LiFePO4" not in small and {"Li2O", "Fe2O3", "FeO"} <= small
    assert charge_balanced_compositions(["Li", "Na"], 10) == []  # no anion: no ionic compound


def test_unknown_element_is_named() -> None:
    with pytest.raises(CampaignError, match="Xx"):
        charge_balanced_compositions(["Li", "Xx", "O"], 10)
    with pytest.raises(CampaignError, match="Xx"):
        generate_candidates(["Na", "Xx"], max_atoms=8, budget=5)
    with pytest.raises(CampaignError, match="empty"):
        generate_candidates([], max_atoms=8, budget=5)


# ------------------------------------------------------------------ prototypes and substitution
def test_prototype_library(library: list[tuple[Structure, str]]) -> None:
    labels = [label for _, label in library]
    assert len(library) > 100
    assert any(label.startswith("AFLOW AB_cF8_225_a_b (Halite) NaCl") for label in labels)
    assert any(label.startswith("MP structure NaFePO4") for label in labels)
    for s, label in library:
        assert s.is_ordered and len(s.composition.elements) >= 2, label
        assert all(sp.oxi_state for sp in s.composition) and abs(s.charge) < 1e-6, label
    extra = Structure(np.eye(3) * 4.2, ["Mg", "O"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    with_extra = prototype_library([extra])
    assert len(with_extra) == len(library) + 1 and with_extra[-1][1].startswith("reference MgO")


def test_rocksalt_lif_from_nacl(library: list[tuple[Structure, str]]) -> None:
    halite = [p for p in library if p[1].startswith("AFLOW AB_cF8_225_a_b")]
    (cand,) = substitution_candidates([(Composition("LiF"), {"Li": 1, "F": -1})], halite, max_atoms=8)
    assert cand.method == "substitution" and cand.formula == "LiF" and 0 < cand.score <= 1
    assert "Na+->Li+" in cand.origin and "Cl-->F-" in cand.origin and "Halite" in cand.origin
    sga = SpacegroupAnalyzer(cand.structure, symprec=0.01)
    assert sga.get_space_group_symbol() == "Fm-3m"
    a = sga.get_conventional_standard_structure().lattice.a
    assert a == pytest.approx(4.03, rel=0.08)  # experiment: 4.03 Å (the NaCl prototype has 5.64 Å)
    assert not any(sp.oxi_state for sp in cand.structure.composition if hasattr(sp, "oxi_state"))


def test_substitution_respects_threshold_and_size(library: list[tuple[Structure, str]]) -> None:
    target = [(Composition("LiFePO4"), {"Li": 1, "Fe": 2, "P": 5, "O": -2})]
    assert substitution_candidates(target, library, max_atoms=27) == []  # olivine cells have 28 atoms
    assert substitution_candidates(target, library, max_atoms=28, threshold=0.5) == []
    cands = substitution_candidates(target, library, max_atoms=28)
    assert cands and all(c.n_atoms == 28 and c.score >= 1e-3 for c in cands)
    for c in cands:
        check_physical(c.structure)


def test_olivine_limnpo4_from_lifepo4(olivine: Structure) -> None:
    cands = generate_candidates(["Li", "Mn", "P", "O"], max_atoms=28, budget=60)
    limnpo4 = [c for c in cands if c.formula == "LiMnPO4"]
    assert limnpo4
    # species-resolved match: with Mn put back to Fe it must be the olivine itself (Li on M1, Fe on M2),
    # not e.g. the cation-swapped maricite arrangement
    matcher = StructureMatcher(comparator=ElementComparator())
    plain = olivine.copy()
    plain.remove_oxidation_states()
    hits = []
    for c in limnpo4:
        back = c.structure.copy()
        back.replace_species({"Mn": "Fe"})
        if matcher.fit(back, plain):
            hits.append(c)
    assert hits, [c.origin for c in limnpo4]
    # volume rescaled towards experimental LiMnPO4 (302.5 Å^3 per 4 f.u.), away from LiFePO4's 291 Å^3
    assert hits[0].structure.volume == pytest.approx(302.5, rel=0.05)
    assert hits[0].structure.volume > plain.volume


# ------------------------------------------------------------------ random structures
def test_random_structures() -> None:
    cands = random_candidates("LiFePO4", n=4, max_atoms=28, seed=3)
    assert len(cands) == 4
    groups = set()
    for c in cands:
        assert c.method == "random" and c.score == 0.0 and c.formula == "LiFePO4" and c.n_atoms <= 28
        assert "pyxtal random, space group" in c.origin
        assert min_distance_ratio(c.structure)[0] >= 0.5
        requested = int(c.origin.split("space group ")[1].split()[0])
        found = SpacegroupAnalyzer(c.structure, symprec=0.01).get_space_group_number()
        assert found == requested or SpaceGroup.from_int_number(found).is_supergroup(
            SpaceGroup.from_int_number(requested)
        )
        groups.add(requested)
    assert len(groups) == 4  # space groups drawn without repetition
    again = random_candidates("LiFePO4", n=4, max_atoms=28, seed=3)
    assert [c.candidate_id for c in again] == [c.candidate_id for c in cands]
    other = random_candidates("LiFePO4", n=4, max_atoms=28, seed=4)
    assert [c.candidate_id for c in other] != [c.candidate_id for c in cands]


def test_random_requested_symmetry() -> None:
    cands = random_candidates("NaCl", n=3, max_atoms=8, seed=1, space_groups=[225, 221, 216])
    found = sorted(SpacegroupAnalyzer(c.structure, symprec=0.01).get_space_group_number() for c in cands)
    assert found == [216, 221, 225]
    assert random_candidates("NaCl", n=2, max_atoms=8, space_groups=[230]) == []  # 230 needs 16+ atoms
    with pytest.raises(CampaignError, match="max_atoms"):
        random_candidates("LiFePO4", n=1, max_atoms=6)


def test_space_group_prior_orders_the_draw() -> None:
    prior = space_group_prior([225, 225, 221, 1, 231])  # 1 and 231 are not drawn: no vote
    assert set(prior) == set(range(2, 231))
    assert prior[225] == 3.0 and prior[221] == 2.0 and prior[62] == 1.0  # add-one smoothing
    # groups of the known structures are drawn first in proportion to their weight; uniform draws
    # rarely start with the same ones (seed 1 without weights: see test_random_requested_symmetry)
    heavy = space_group_prior([225] * 5000 + [221] * 2000)
    cands = random_candidates("NaCl", n=2, max_atoms=8, seed=1, space_group_weights=heavy)
    requested = [int(c.origin.split("space group ")[1].split()[0]) for c in cands]
    assert requested == [225, 221] or requested == [221, 225]
    plain = random_candidates("NaCl", n=2, max_atoms=8, seed=1)
    assert [int(c.origin.split("space group ")[1].split()[0]) for c in plain] != requested


# ------------------------------------------------------------------ the Propose step
def test_budget_diversity_and_max_atoms(rich: list[Candidate]) -> None:
    all_formulas = {c.formula for c in rich}
    assert len(all_formulas) >= 10 and len(rich) > 40
    cands = generate_candidates(RICH_SPACE, max_atoms=20, budget=40)
    assert len(cands) == 40 and all(c.n_atoms <= 20 for c in cands)
    assert {c.formula for c in cands} == all_formulas  # every formula gets a share of the budget
    assert len(deduplicate(cands)) == len(cands)
    assert all(isinstance(c, Candidate) and c.structure.lattice.matrix is not None for c in cands)
    assert max(c.score for c in cands) == max(c.score for c in rich)


def test_deterministic_with_random_and_user_compositions() -> None:
    kwargs = {"max_atoms": 12, "budget": 15, "compositions": ["Li3PO4"], "n_random": 3}
    a = generate_candidates(["Li", "P", "O"], seed=5, **kwargs)
    b = generate_candidates(["Li", "P", "O"], seed=5, **kwargs)
    assert [c.candidate_id for c in a] == [c.candidate_id for c in b]
    assert [c.origin for c in a] == [c.origin for c in b]
    assert sum(c.method == "random" and c.formula == "Li3PO4" for c in a) == 3
    assert a[0].formula == "Li3PO4"  # the user-named composition comes first
    c = generate_candidates(["Li", "P", "O"], seed=6, **kwargs)
    assert {x.candidate_id for x in c if x.method == "random"} != {
        x.candidate_id for x in a if x.method == "random"
    }
    with pytest.raises(CampaignError, match="Fe"):
        generate_candidates(["Li", "P", "O"], max_atoms=12, budget=5, compositions=["LiFePO4"], n_random=1)


def test_exclude_drops_known_phases(rich: list[Candidate], olivine: Structure) -> None:
    target = next(c for c in rich if c.formula == "Na2O")
    known = target.structure.copy()
    known.make_supercell([2, 1, 1])
    known.perturb(0.01, min_distance=0.0)
    out = generate_candidates(RICH_SPACE, max_atoms=20, budget=500, exclude=[known])
    assert target.candidate_id not in {c.candidate_id for c in out}
    assert len(out) == len(rich) - 1
    lfpo = generate_candidates(["Li", "Fe", "P", "O"], max_atoms=28, budget=200, exclude=[olivine])
    matcher = StructureMatcher(comparator=ElementComparator())
    assert not any(matcher.fit(c.structure, olivine) for c in lfpo if c.formula == "LiFePO4")
