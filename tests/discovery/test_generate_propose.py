"""The full generator: every common oxidation state, mixed valence, orbit-resolved and partial
substitution, random structures for compositions no prototype fits, ``mattwin generate``."""

from __future__ import annotations

import json

import pytest
from pymatgen.core import Composition, Element
from pymatgen.symmetry.analyzer import SpacegroupAnalyzer
from typer.testing import CliRunner

from mattwin.cli.main import app
from mattwin.discovery.compositions import MIXED_PENALTY, composition_candidates
from mattwin.discovery.generate import orbit_substitution_candidates, propose_candidates, prototype_library
from mattwin.errors import CampaignError

LFPO = ["Li", "Fe", "P", "O"]


@pytest.fixture(scope="module")
def lfpo_comps():
    return composition_candidates(LFPO, max_atoms=28)


@pytest.fixture(scope="module")
def library():
    return prototype_library()


def test_compositions_all_common_states_and_mixed_valence(lfpo_comps) -> None:
    by_formula: dict[str, list] = {}
    for c in lfpo_comps:
        by_formula.setdefault(c.formula, []).append(c)
    # single-valent Fe2+ and Fe3+ compounds, phosphide P3- as well as phosphate P5+
    assert by_formula["LiFePO4"][0].oxidation_states["Fe"] == [2]
    assert by_formula["FePO4"][0].oxidation_states["Fe"] == [3]
    assert by_formula["Li3P"][0].oxidation_states["P"] == [-3]
    # mixed valence: magnetite and a half-lithiated phosphate LiFe2(PO4)2 = Li Fe2+ Fe3+ (PO4)2
    assert by_formula["Fe3O4"][0].oxidation_states["Fe"] == [2, 3, 3]
    assert by_formula["Fe3O4"][0].mixed_valence == ["Fe"]
    mixed_phosphate = [c for c in by_formula["LiFe2(PO4)2"] if c.mixed_valence]
    assert mixed_phosphate and mixed_phosphate[0].oxidation_states["Fe"] == [2, 3]
    for c in lfpo_comps:
        ox = c.oxidation_states
        assert sum(sum(qs) for qs in ox.values()) == 0  # charge neutral
        cations = [Element(e).X for e, qs in ox.items() if qs[0] > 0]
        anions = [Element(e).X for e, qs in ox.items() if qs[0] < 0]
        assert anions and cations and max(cations) < min(anions)  # Pauling test
        assert all(all(q * qs[0] > 0 for q in qs) for qs in ox.values())  # no element both +/-
        assert len(c.mixed_valence) <= 1 and 0 < c.score <= 1
        assert c.composition.num_atoms <= 28
    assert all(len(v) <= 2 for v in by_formula.values())
    scores = [c.score for c in lfpo_comps]
    assert scores == sorted(scores, reverse=True)
    # commonness: Li2O (Li+, O2-, the commonest states and stoichiometry) first; a mixed-valent
    # assignment pays the penalty, so magnetite ranks below haematite
    assert lfpo_comps[0].formula == "Li2O"
    assert by_formula["Fe3O4"][0].score < MIXED_PENALTY * 1.01 * by_formula["Fe2O3"][0].score


def test_no_mixed_valence_when_switched_off() -> None:
    comps = composition_candidates(["Fe", "O"], max_atoms=14, mixed_valence=False)
    assert {"FeO", "Fe2O3"} <= {c.formula for c in comps} and "Fe3O4" not in {c.formula for c in comps}
    assert not any(c.mixed_valence for c in comps)
    with_mixed = {c.formula for c in composition_candidates(["Fe", "O"], max_atoms=14)}
    assert "Fe3O4" in with_mixed


def test_several_anions() -> None:
    comps = {c.formula: c for c in composition_candidates(["Li", "O", "F"], max_atoms=8)}
    assert "LiF" in comps and "Li2O" in comps
    both = [c for c in comps.values() if {"O", "F"} <= set(c.oxidation_states)]
    assert both and all(c.oxidation_states["F"][0] == -1 for c in both)  # e.g. Li3OF


def test_partial_substitution_one_orbit_of_li3n(library) -> None:
    """Li3N has Li+ on two orbits (2c in the Li2N layer, 1b between layers): Li2NaN puts Na+ on one."""
    (li3n,) = [p for p in library if p[1].startswith("AFLOW A3B_hP4_191_bc_a Li3N")]
    comps = composition_candidates(["Li", "Na", "N"], max_atoms=4)
    assert not any(c.mixed_valence for c in comps)  # mixed valence is for cations only (no Li2N)
    target = [c for c in comps if c.composition == Composition("Li2NaN")]
    cands = orbit_substitution_candidates(target, [li3n], max_atoms=4)
    (cand,) = cands
    assert cand.method == "partial substitution" and cand.structure.composition.reduced_composition == (
        Composition("Li2NaN")
    )
    assert "Li+(1b)->Na+" in cand.origin and "Li+(2c)->Li+" in cand.origin
    # the symmetry of Li3N (P6/mmm) survives: Na takes a whole orbit
    assert SpacegroupAnalyzer(cand.structure, symprec=0.01).get_space_group_number() == 191
    # the larger Na+ expands the cell (ionic radii)
    assert cand.structure.volume > li3n[0].volume


def test_mixed_valence_candidates_for_li_fe_p_o() -> None:
    cands = propose_candidates(
        LFPO,
        max_atoms=28,
        budget=20,
        compositions=["LiFe2(PO4)2"],
        n_random=2,
        random_top=4,
        max_compositions=150,
    )
    assert len(cands) == 20 and all(c.n_atoms <= 28 for c in cands)
    mixed = [c for c in cands if c.mixed_valence]
    assert mixed
    # magnetite on the spinel prototype: Fe2+ and Fe3+ on different orbits, 1:2
    spinel = [c for c in mixed if c.formula == "Fe3O4" and "Spinel" in c.origin]
    assert spinel
    fe = spinel[0].oxidation_states["Fe"]
    assert fe.count(3) == 2 * fe.count(2) and len(fe) == spinel[0].structure.composition["Fe"]
    # a mixed-valence phosphate: random structures of the named LiFe2(PO4)2, Fe2+/Fe3+ in equal numbers
    phosphate = [c for c in mixed if c.formula == "LiFe2(PO4)2"]
    assert len(phosphate) == 2 and cands[0].formula == "LiFe2(PO4)2"
    for c in phosphate:
        fe = c.oxidation_states["Fe"]
        assert fe.count(2) == fe.count(3) == c.structure.composition["Fe"] / 2
        assert c.method == "random"
    for c in cands:  # every candidate's states are neutral over its cell
        assert sum(sum(qs) for qs in c.oxidation_states.values()) == 0
        assert {el: len(qs) for el, qs in c.oxidation_states.items()} == {
            el.symbol: int(n) for el, n in c.structure.composition.items()
        }
    # the budget goes to many formulas, the most promising first
    assert len({c.formula for c in cands}) >= 12
    scores = [c.score for c in cands if c.formula != "LiFe2(PO4)2"]
    assert max(scores) == scores[0]


def test_propose_deterministic_for_a_seed() -> None:
    kwargs = {"max_atoms": 12, "budget": 8, "random_top": 3, "compositions": ["Li3PO4"], "n_random": 2}
    a = propose_candidates(["Li", "P", "O"], seed=3, **kwargs)
    b = propose_candidates(["Li", "P", "O"], seed=3, **kwargs)
    assert [c.candidate_id for c in a] == [c.candidate_id for c in b]
    c = propose_candidates(["Li", "P", "O"], seed=4, **kwargs)
    assert {x.candidate_id for x in c if x.method == "random"} != {
        x.candidate_id for x in a if x.method == "random"
    }


def test_propose_draws_random_space_groups_by_the_library(monkeypatch) -> None:
    """PyXtal's space groups follow the library's: Fm-3m (rock salt, fluorite, ...) outweighs Ia-3d,
    which no structure of the shipped prototype library has, and every group keeps a chance."""
    from mattwin.discovery import generate

    seen: list[dict[int, float] | None] = []
    real = generate.random_candidates

    def spy(*args, **kwargs):
        seen.append(kwargs.get("space_group_weights"))
        return real(*args, **kwargs)

    monkeypatch.setattr(generate, "random_candidates", spy)
    propose_candidates(["Li", "P", "O"], max_atoms=12, budget=4, random_top=2, seed=0)
    assert seen and all(w is not None for w in seen)
    w = seen[0]
    assert w[225] >= 4 * w[230] and w[230] == min(w.values()) == 1.0 and len(w) == 229


def test_propose_bad_input() -> None:
    with pytest.raises(CampaignError, match="Xx"):
        propose_candidates(["Li", "Xx"], max_atoms=8, budget=5)
    with pytest.raises(CampaignError, match="Fe"):
        propose_candidates(["Li", "O"], max_atoms=8, budget=5, compositions=["LiFeO2"], n_random=1)
    assert propose_candidates(["Li", "O"], max_atoms=8, budget=0) == []
    comps = composition_candidates(["Na", "Cl"], max_atoms=4)
    assert [c.formula for c in comps] == ["NaCl"] and Composition("NaCl") == comps[0].composition


runner = CliRunner()


@pytest.mark.slow
def test_cli_generate_li_fe_p_o_has_mixed_valence(tmp_path) -> None:
    """With the known phases (Fe3O4 among them) left out, random structures of the best mixed-valence
    compositions still carry Fe2+/Fe3+ candidates into what discover would relax."""
    res = runner.invoke(
        app,
        ["generate", "--elements", "Li", "--elements", "Fe", "--elements", "P", "--elements", "O"]
        + ["--max-atoms", "20", "--budget", "40", "--json", "--db", str(tmp_path / "g.db")],
    )
    assert res.exit_code == 0, res.output
    cands = json.loads(res.stdout)["candidates"]
    assert len(cands) == 40
    mixed = [c for c in cands if c["mixed_valence"] == ["Fe"]]
    assert mixed and all(set(c["oxidation_states"]["Fe"]) == {2, 3} for c in mixed)


def test_cli_generate_json(tmp_path) -> None:
    db = str(tmp_path / "g.db")
    res = runner.invoke(
        app,
        ["generate", "--elements", "Na", "--elements", "Cl", "--max-atoms", "8", "--budget", "5"]
        + ["--json", "--db", db, "--out", str(tmp_path / "cifs")],
    )
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert data["n_candidates"] == len(data["candidates"]) >= 1
    for c in data["candidates"]:
        assert c["formula"] == "NaCl" and c["oxidation_states"]["Na"][0] == 1
        assert {"formula", "oxidation_states", "method", "origin", "score"} <= set(c)
        assert c["method"] in ("substitution", "partial substitution", "random")
    # rock salt itself is a known phase (a reference): it is not proposed again
    assert not any("Halite" in c["origin"] for c in data["candidates"])
    assert len(list((tmp_path / "cifs").glob("*.cif"))) == data["n_candidates"]


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--elements", "Li", "--elements", "Xx"], "Xx"),
        (["--elements", "Li", "--elements", "O", "--budget", "0"], "--budget"),
        (["--elements", "Li", "--elements", "O", "--max-atoms", "1"], "--max-atoms"),
        ([], "--elements"),
    ],
)
def test_cli_generate_bad_input(args, needle, tmp_path) -> None:
    res = runner.invoke(app, ["generate", *args, "--db", str(tmp_path / "g.db")])
    assert res.exit_code == 2
    lines = [line for line in res.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and needle in lines[0]
    assert "Traceback" not in res.output
