"""Stage ``learn``: the lab's measurements of the candidates condition the surrogate and the next
batch of measurements is proposed and stored with its time stamp (as ``mattwin next`` does). Run only
when the campaign names it in ``stages``."""

from __future__ import annotations

from mattwin.discovery.stages.state import CampaignState, Context


def stage(state: CampaignState, ctx: Context) -> CampaignState:
    if state.result is None:
        return state
    from mattwin.discovery.loop.next import StoredCampaign, suggest_lab

    camp = StoredCampaign(
        state.config.campaign_id,
        state.config.name,
        state.config.to_dict(),
        state.result.to_dict(with_structures=False),
    )
    ctx.tell("learn", 0, 1, "next measurements")
    rep = suggest_lab(camp, ctx.store)
    ctx.tell("learn", 1, 1, f"{len(rep.suggestions)} suggestions stored")
    return state
