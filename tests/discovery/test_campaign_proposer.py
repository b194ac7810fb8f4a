"""Campaigns order their proposals with the learned proposer retrained on the store, can turn it off,
leave out what earlier campaigns relaxed, and spend the budget by expected payoff."""

from __future__ import annotations

import pytest

from mattwin.discovery.config import CampaignConfig
from mattwin.discovery.generate import Candidate, allocate
from mattwin.discovery.proposer import train_proposer
from mattwin.discovery.stages.generate import campaign_references, candidates, learned_proposer
from mattwin.errors import CampaignError
from mattwin.store import Store

CFG = CampaignConfig(elements=("Na", "Zn", "S"), max_atoms=12, budget=6, name="nazns", learned=True)


def _finish(store: Store, cfg: CampaignConfig, rows: list[dict]) -> None:
    """Record a finished campaign whose candidates relaxed to the given E_hull."""
    store.save_campaign(cfg.campaign_id, cfg.name, cfg.to_dict())
    store.save_campaign_result(cfg.campaign_id, {"candidates": rows})


def _rows(cands, e_hull: float) -> list[dict]:
    return [
        {"candidate_id": c.key, "formula": c.structure.composition.reduced_formula, "origin": c.origin}
        | {"status": "ok", "e_hull": e_hull}
        for c in cands
    ]


def test_campaign_uses_the_proposer_and_it_learns_from_the_store(tmp_path) -> None:
    store = Store(str(tmp_path / "c.db"))
    refs = campaign_references(CFG, store)
    off = candidates(CFG.replace(learned=False), store, refs)
    on = candidates(CFG, store, refs)
    proposer = learned_proposer(CFG, store)
    assert proposer is not None and proposer.n_store == 0 and learned_proposer(
        CFG.replace(learned=False), store
    ) is None
    # the stored scores are the generator's times exp(-predicted E_hull / T): never above them
    by_id = {c.key: c.score for c in off}
    assert all(c.score <= by_id.get(c.key, 1.0) + 1e-12 for c in on)
    assert any(c.score < by_id.get(c.key, 1.0) for c in on)
    # an earlier campaign in the store found one formula's candidates far above the hull: the retrained
    # proposer predicts that formula worse than before, and a new campaign ranks it lower
    formula = off[0].structure.composition.reduced_formula
    bad = [c for c in off if c.structure.composition.reduced_formula == formula]
    gen = [g for g in _generated(CFG) if g.formula == formula]
    rows = _rows(bad, 0.9)
    # enough examples to move a gradient-boosted model: such results from 30 earlier campaigns
    earlier = [CFG.replace(seed=100 + i, learned=False) for i in range(30)]
    for i, cfg in enumerate(earlier):
        _finish(store, cfg, [r | {"candidate_id": f"{r['candidate_id']}-{i}"} for r in rows])
    before = train_proposer(None).predict_candidates(gen)
    after = learned_proposer(CFG.replace(seed=5), store)
    assert after is not None and after.n_store == 30 * len(rows)
    moved = after.predict_candidates(gen) - before
    assert (moved > 0).all() and moved.mean() > 0.1
    # a campaign does not learn from its own earlier result (a rerun proposes the same)
    again = learned_proposer(earlier[0].replace(learned=True), store)
    assert again is not None and again.n_store == 30 * len(rows)
    assert learned_proposer(earlier[0], store) is None


def _generated(cfg: CampaignConfig) -> list[Candidate]:
    from mattwin.discovery.generate import propose_candidates

    return propose_candidates(cfg.elements, cfg.max_atoms, cfg.budget)


def test_skip_screened_leaves_out_what_other_campaigns_relaxed(tmp_path) -> None:
    store = Store(str(tmp_path / "s.db"))
    refs = campaign_references(CFG, store)
    first = CFG.replace(learned=False, budget=3)
    cands = candidates(first, store, refs)
    _finish(store, first, _rows(cands, 0.1))
    again = candidates(first.replace(seed=1), store, refs)  # not skipping: substitutions come back
    assert {c.key for c in again} & {c.key for c in cands}
    nxt = candidates(first.replace(seed=1, skip_screened=True), store, refs)
    assert nxt and not {c.key for c in nxt} & {c.key for c in cands}


def test_learned_settings_are_checked_and_change_the_generation() -> None:
    assert CFG.generation_id != CFG.replace(learned=False).generation_id
    assert CFG.generation_id != CFG.replace(skip_screened=True).generation_id
    with pytest.raises(CampaignError, match="learned"):
        CampaignConfig(elements=("Li", "O"), learned=1)  # type: ignore[arg-type]


def _cand(formula: str, method: str, score: float, i: int) -> Candidate:
    from pymatgen.core import Lattice, Structure

    s = Structure(Lattice.tetragonal(3.0, 3.0 * 2**i), ["Na", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    s.replace_species({"Na": formula.split("-")[0]})
    return Candidate(s, f"{method} {i}", method, score)


def test_allocate_spends_by_payoff_with_an_exploration_share() -> None:
    # formula A has four good substitutions, B one, C and D only random structures (low score)
    pool = [_cand("Na-A", "substitution", s, i) for i, s in enumerate((0.4, 0.3, 0.2, 0.1))]
    pool += [_cand("K-B", "substitution", 0.25, 0)]
    pool += [_cand("Rb-C", "random", 0.02, 0), _cand("Cs-D", "random", 0.01, 0)]
    got = allocate(pool, 6)
    # the exploration share (1/8 of 6, rounded up: one) goes to the best random structure (C), the rest
    # by score x 0.5^(candidates of the formula already in): A 0.4, B 0.25, A 0.15, A 0.05, A 0.0125
    # (D's 0.01 is less); listed by that payoff
    assert [c.score for c in got] == [0.4, 0.25, 0.3, 0.2, 0.02, 0.1]
    assert "Cs" not in {e.symbol for c in got for e in c.structure.composition.elements}
    # a user-named formula comes first, all of its candidates
    named = allocate(pool, 3, requested=["CsCl"])
    assert named[0].method == "random" and named[0].score == 0.01
