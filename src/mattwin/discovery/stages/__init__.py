"""A campaign as stages over one explicit state (``stage(state, ctx) -> state``):

generate -> screen -> judge -> synthesize -> escalate -> learn

Each stage is a module with one function ``stage``; it submits jobs through the runtime and reads
their results, and never calls another stage. :func:`run_stages` is the loop ``run_campaign`` runs
over the stages a campaign names (``stages`` in the campaign file; default :data:`DEFAULT_STAGES`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

from mattwin.discovery.stages import escalate, generate, judge, learn, screen, synthesize
from mattwin.discovery.stages.state import CampaignState, Candidate, Context, Progress

Stage = Callable[[CampaignState, Context], CampaignState]

STAGES: dict[str, Stage] = {
    "generate": generate.stage,
    "screen": screen.stage,
    "judge": judge.stage,
    "synthesize": synthesize.stage,
    "escalate": escalate.stage,
    "learn": learn.stage,
}
#: what a campaign runs when it names no stages (escalate does nothing without ``[escalate]``)
DEFAULT_STAGES = ("generate", "screen", "judge", "synthesize", "escalate")


def run_stages(state: CampaignState, ctx: Context, names: Sequence[str] = DEFAULT_STAGES) -> CampaignState:
    """Run the named stages in order, each on the state the previous one returned."""
    for name in names:
        state = STAGES[name](state, ctx)
        state = replace(state, history=(*state.history, name))
    return state


__all__ = ["DEFAULT_STAGES", "STAGES", "CampaignState", "Candidate", "Context", "Progress", "run_stages"]
