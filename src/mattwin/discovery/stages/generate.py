"""Stage ``generate``: the competing phases of the chemical space and the candidates (from the store
when generated before, else proposed now and stored)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

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


def propose_for(config: CampaignConfig, refs: list[ReferencePhase], proposer: Any = None) -> list[Any]:
    """The Propose step of a campaign on its own (``mattwin generate``): the full generator with the
    reference phases as extra prototypes and as known phases to leave out."""
    return propose_candidates(
        config.elements,
        max_atoms=config.max_atoms,
        budget=config.budget,
        compositions=config.compositions,
        n_random=config.n_random if config.compositions else 0,
        prototypes_extra=[r.structure for r in refs],
        seed=config.seed,
        exclude=[r.structure for r in refs],
        proposer=proposer,
    )


def candidates(config: CampaignConfig, store: Store, refs: list[ReferencePhase]) -> list[Candidate]:
    """The campaign's candidates: from the store when generated before, else generated now."""
    stored = store.campaign_candidates(config.generation_id)
    if stored:
        return [Candidate(*row) for row in stored]
    generated = propose_for(config, refs)
    rows = [(c.structure, c.origin, c.method, c.score) for c in generated]
    store.add_candidates(config.generation_id, rows)
    return [Candidate(*row) for row in rows]


def stage(state: CampaignState, ctx: Context) -> CampaignState:
    ctx.tell("generate", 0, 1, "generating candidates")
    refs = campaign_references(state.config, ctx.store)
    cands = candidates(state.config, ctx.store, refs)
    ctx.tell("generate", 1, 1, f"{len(cands)} candidates")
    return replace(state, refs=tuple(refs), cands=tuple(cands))
