"""Stage ``generate``: the competing phases of the chemical space and the candidates (from the store
when generated before, else proposed now and stored)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from pymatgen.core import Composition

from mattwin.discovery.config import CampaignConfig
from mattwin.discovery.generate import propose_candidates
from mattwin.discovery.known import predicted_references
from mattwin.discovery.references import ReferencePhase, builtin_references
from mattwin.discovery.stages.state import CampaignState, Candidate, Context
from mattwin.materials.identity import material_id
from mattwin.store.store import Store


def campaign_references(config: CampaignConfig, store: Store) -> list[ReferencePhase]:
    """Shipped reference phases of the chemical space, the searched structures of known compounds that
    the library lacks (:func:`mattwin.discovery.known.predicted_references`) and the user's
    (``mattwin refs add``), unique."""
    refs = builtin_references(config.elements)
    refs += predicted_references(config.elements)
    refs += [ReferencePhase(n, s, src, rc) for s, n, src, rc in store.references(config.elements)]
    seen: set[str] = set()
    unique = []
    for r in refs:
        mid = material_id(r.structure)
        if mid not in seen:
            seen.add(mid)
            unique.append(r)
    return unique


def screened_structures(
    store: Store, elements: Sequence[str], exclude_campaign: str | None = None
) -> list[Any]:
    """The structures (as generated) of the candidates that finished campaigns of the store (but
    ``exclude_campaign``) relaxed inside the chemical space of ``elements``."""
    from mattwin.discovery.proposer import campaign_candidates

    space = set(elements)
    ids: dict[str, None] = {}
    for _, cands in campaign_candidates(store, exclude_campaign):
        for c in cands:
            mid = c.get("candidate_id")
            if mid and c.get("formula") and {e.symbol for e in Composition(c["formula"]).elements} <= space:
                ids.setdefault(mid)
    out = []
    for mid in ids:
        try:
            out.append(store.get_material(mid))
        except (KeyError, LookupError, ValueError):
            continue
    return out


def learned_proposer(config: CampaignConfig, store: Store) -> Any:
    """The learned proposer retrained on the store's finished campaigns (this campaign's own earlier
    run left out) and the known compounds, or None when the campaign turns it off."""
    if not config.learned:
        return None
    from mattwin.discovery.proposer import train_proposer

    return train_proposer(store, exclude_campaign=config.campaign_id)


def propose_for(
    config: CampaignConfig, refs: list[ReferencePhase], proposer: Any = None, exclude: Sequence[Any] = ()
) -> list[Any]:
    """The Propose step of a campaign on its own (``mattwin generate``): the full generator with the
    reference phases as extra prototypes and as known phases to leave out (and ``exclude``)."""
    return propose_candidates(
        config.elements,
        max_atoms=config.max_atoms,
        budget=config.budget,
        compositions=config.compositions,
        n_random=config.n_random if config.compositions else 0,
        prototypes_extra=[r.structure for r in refs],
        seed=config.seed,
        exclude=[*(r.structure for r in refs), *exclude],
        proposer=proposer,
    )


def candidates(config: CampaignConfig, store: Store, refs: list[ReferencePhase]) -> list[Candidate]:
    """The campaign's candidates: from the store when generated before, else generated now (ordered
    by the learned proposer as trained now, unless the campaign turns it off; without what other
    campaigns relaxed when ``skip_screened``)."""
    stored = store.campaign_candidates(config.generation_id)
    if stored:
        return [Candidate(*row) for row in stored]
    tried = screened_structures(store, config.elements, config.campaign_id) if config.skip_screened else []
    generated = propose_for(config, refs, learned_proposer(config, store), tried)
    rows = [(c.structure, c.origin, c.method, c.score) for c in generated]
    store.add_candidates(config.generation_id, rows)
    return [Candidate(*row) for row in rows]


def stage(state: CampaignState, ctx: Context) -> CampaignState:
    ctx.tell("generate", 0, 1, "generating candidates")
    refs = campaign_references(state.config, ctx.store)
    cands = candidates(state.config, ctx.store, refs)
    ctx.tell("generate", 1, 1, f"{len(cands)} candidates")
    return replace(state, refs=tuple(refs), cands=tuple(cands))
