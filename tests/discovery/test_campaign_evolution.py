"""``[generate] evolution``: a campaign spends a share of its budget on the evolutionary search of its
best-scored compositions; the search's structures are candidates of method "evolution", relaxed through
the runtime (cached: the screen and a rerun read them back), and the option is checked."""

from __future__ import annotations

import pytest

from mattwin.discovery.campaign import run_campaign
from mattwin.discovery.config import CampaignConfig
from mattwin.discovery.stages.generate import campaign_references, evolution_candidates, propose_for
from mattwin.errors import CampaignError
from mattwin.store import Store

# Cu-O with the EMT potential (Cu and O are among its elements): seconds per relaxation
CFG = CampaignConfig(
    elements=("Cu", "O"),
    name="cuo-evolution",
    engine="emt",
    max_atoms=8,
    budget=10,
    evolution=0.5,
    calibration="none",
    measured_anchors=False,
    max_steps=100,
    phonons_top=0,
    routes_top=0,
    stages=("generate", "screen", "judge"),
)


def test_campaign_with_evolution_yields_evolution_candidates(tmp_path) -> None:
    store = Store(str(tmp_path / "evo.db"))
    result, _ = run_campaign(CFG, store)
    rows = store.campaign_candidates(CFG.generation_id)
    evo = [r for r in rows if r[2] == "evolution"]
    others = [r for r in rows if r[2] != "evolution"]
    # half of the budget (5 relaxations) went to the search: 5 substitution/random candidates, and the
    # search's new distinct structures (at most its population) after them
    assert len(others) == CFG.budget - CFG.evolution_relaxations == 5
    assert evo and len(evo) <= CFG.evolution_relaxations
    # the search went to the best-scored composition that is not a reference phase of the campaign
    known = {r.structure.composition.reduced_formula for r in campaign_references(CFG, store)}
    best = next(
        r for r in sorted(others, key=lambda r: -r[3]) if r[0].composition.reduced_formula not in known
    )
    assert all(r[1].startswith(f"evolution of {best[0].composition.reduced_formula} ") for r in evo)
    by_origin = {c.origin: c for c in result.candidates}
    assert all(by_origin[r[1]].status == "ok" and by_origin[r[1]].e_hull is not None for r in evo)
    # the search spent its share: the screen's relaxations of its candidates were cache hits, so the
    # store holds one relaxation per candidate and reference plus what the search threw away
    n_refs = len(campaign_references(CFG, store))
    n_calc = store.count_calculations()
    assert len(rows) + n_refs <= n_calc <= CFG.budget + n_refs + CFG.evolution_relaxations
    # a rerun of the search (an interrupted campaign resuming) relaxes nothing new, gives the same rows
    refs = campaign_references(CFG, store)
    generated = propose_for(CFG, refs, budget=CFG.budget - CFG.evolution_relaxations)
    again = evolution_candidates(CFG, store, generated, CFG.evolution_relaxations, skip=known)
    assert store.count_calculations() == n_calc
    assert [(r[1], r[3]) for r in again] == [(r[1], pytest.approx(r[3])) for r in evo]


def test_evolution_setting_is_checked_and_changes_the_generation() -> None:
    assert CFG.generation_id != CFG.replace(evolution=0.4).generation_id
    assert CFG.generation_id != CFG.replace(engine="chgnet").generation_id  # the search relaxes
    plain = CFG.replace(evolution=0.0)
    assert plain.generation_id == plain.replace(engine="chgnet").generation_id
    for bad, match in ((1.5, "evolution = 1.5"), (-0.1, "evolution = -0.1"), (True, "evolution = True")):
        with pytest.raises(CampaignError, match=match):
            CampaignConfig(elements=("Cu", "O"), evolution=bad)  # type: ignore[arg-type]
    with pytest.raises(CampaignError, match="too few for an evolutionary search"):
        CampaignConfig(elements=("Cu", "O"), budget=6, evolution=0.5)
