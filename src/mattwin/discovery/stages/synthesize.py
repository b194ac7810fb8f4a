"""Stage ``synthesize``: can it be made? Synthesizability, phonons of the top few, routes and the
one-line verdict (:func:`mattwin.synthesis.assess_candidates`); unlikely candidates rank last."""

from __future__ import annotations

from dataclasses import replace

from mattwin.discovery.stages.state import CampaignState, Context
from mattwin.synthesis import assess_candidates


def stage(state: CampaignState, ctx: Context) -> CampaignState:
    if state.result is None:
        return state
    result = state.result
    ranked = assess_candidates(
        result.candidates,
        state.config,
        ctx.store,
        ctx.execution,
        ctx.progress,
        hull_points=result.hull_points,
        references=list(state.refs),
    )
    return replace(state, result=replace(result, candidates=ranked))
