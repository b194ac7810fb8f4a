"""A discovery campaign: generate -> screen (relax) -> judge (calibrated E_hull with intervals and
P(stable), ranked) -> synthesize (can it be made?) -> escalate (the ladder, cost-aware) -> learn (the next
measurements), each a stage over one explicit state (:mod:`mattwin.discovery.stages`). Every calculation
goes through the runtime, so a rerun recomputes nothing and a killed run resumes where it stopped.

The public names (:func:`run_campaign`, :func:`assess_stability`, :func:`screen`,
:func:`campaign_references`, :func:`propose_for`) live here; the stages hold the work."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import replace

from pymatgen.analysis.phase_diagram import PhaseDiagram
from pymatgen.core import Structure

from mattwin.discovery.config import CampaignConfig
from mattwin.discovery.references import ReferencePhase
from mattwin.discovery.results import CampaignResult
from mattwin.discovery.stages import DEFAULT_STAGES, CampaignState, Context, run_stages
from mattwin.discovery.stages.generate import campaign_references, propose_for
from mattwin.discovery.stages.generate import candidates as _candidates  # noqa: F401

# the former private helpers, for code that imported them from here
from mattwin.discovery.stages.judge import _mark_relaxed_duplicates, _mean_phases, _ranked, _spacegroup  # noqa: F401
from mattwin.discovery.stages.judge import judge as _judge  # noqa: F401
from mattwin.discovery.stages.judge import member_phases as _phases  # noqa: F401
from mattwin.discovery.stages.screen import run_jobs as _run  # noqa: F401
from mattwin.discovery.stages.state import Candidate, Progress
from mattwin.engines.registry import get_engine, member_specs
from mattwin.runtime.execute import Execution
from mattwin.store.store import Store

#: a generated or given structure (the stages' :class:`~mattwin.discovery.stages.state.Candidate`)
_Cand = Candidate

__all__ = ["Progress", "assess_stability", "campaign_references", "propose_for", "run_campaign", "screen"]


def run_campaign(
    config: CampaignConfig,
    store: Store | None = None,
    progress: Progress | None = None,
    execution: Execution | None = None,
) -> tuple[CampaignResult, PhaseDiagram | None]:
    """Run (or resume) a campaign: the stages it names (``stages``; default generate, screen, judge,
    synthesize, escalate) over one state; store and return its ranked result and the hull of the
    member-mean energies. ``execution`` says where the calculations run (in this process batched, or
    on Dask)."""
    t0 = time.perf_counter()
    store = store or Store()
    for spec in member_specs(config.engine):
        get_engine(spec)  # fail early on an unknown engine or model
    store.save_campaign(config.campaign_id, config.name, config.to_dict())
    ctx = Context(store, execution, progress)
    state = run_stages(CampaignState(config), ctx, config.stages or DEFAULT_STAGES)
    assert state.result is not None  # judge is always named (CampaignConfig checks it)
    result = replace(state.result, wall_time_s=time.perf_counter() - t0)
    store.save_campaign_result(config.campaign_id, result.to_dict(with_structures=False))
    return result, state.pd


def assess_stability(
    structures: list[Structure],
    engine: str = "chgnet",
    store: Store | None = None,
    fmax: float = 0.05,
    max_steps: int = 500,
    elements: list[str] | None = None,
    calibration: str = "default",
    threshold: float = 0.025,
    temperature_K: float = 1000.0,
    phonons_top: int = 3,
    routes_top: int = 3,
) -> tuple[CampaignResult, PhaseDiagram | None]:
    """Relax your own structures and the reference phases of their chemical space with ``engine`` and
    return their calibrated formation energies and E_hull (eV/atom) with intervals and P(stable), ranked,
    as a campaign result (``calibration``: "default", "none" or a stored engine@version)."""
    els = elements or sorted({e.symbol for s in structures for e in s.composition.elements})
    config = CampaignConfig(
        elements=tuple(els),
        name="assess",
        engine=engine,
        fmax=fmax,
        max_steps=max_steps,
        calibration=calibration,
        stability_threshold=threshold,
        temperature_K=temperature_K,
        phonons_top=phonons_top,
        routes_top=routes_top,
    )
    store = store or Store()
    cands = [_Cand(s, "user structure", "user", 0.0) for s in structures]
    return screen(config, cands, campaign_references(config, store), store)


def screen(
    config: CampaignConfig,
    cands: Sequence[Candidate],
    refs: Sequence[ReferencePhase],
    store: Store,
    progress: Progress | None = None,
    execution: Execution | None = None,
) -> tuple[CampaignResult, PhaseDiagram | None]:
    """Relax references and candidates with every member engine (through the cache), judge, and ask
    whether they can be made: the screen, judge and synthesize stages on these candidates."""
    state = CampaignState(config, refs=tuple(refs), cands=tuple(cands))
    state = run_stages(state, Context(store, execution, progress), ("screen", "judge", "synthesize"))
    assert state.result is not None
    return state.result, state.pd
