"""Stage ``escalate``: the best candidates climb the ladder of ``[escalate]``, cost-aware
(:func:`mattwin.discovery.escalate.escalate`); nothing to do without that table."""

from __future__ import annotations

from dataclasses import replace

from mattwin.discovery.stages.state import CampaignState, Context


def stage(state: CampaignState, ctx: Context) -> CampaignState:
    if state.config.escalate is None or state.result is None:
        return state
    from mattwin.discovery.escalate import escalate

    cands, refs = list(state.cands), list(state.refs)
    result = escalate(state.config, state.result, cands, refs, ctx.store, ctx.execution, ctx.progress)
    return replace(state, result=result)
