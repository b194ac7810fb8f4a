"""Stage ``screen``: the calibration the hull will use (chosen before any relaxation, so a bad choice
fails at once), then every reference phase and candidate relaxed with every member engine through
the runtime (cached, resumable, batched or on Dask)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from pymatgen.core import Structure

from mattwin.discovery.calibrate import calibration_for
from mattwin.discovery.stages.state import CampaignState, Context, Progress
from mattwin.engines.registry import member_specs
from mattwin.materials.checks import relaxed_structure_problem
from mattwin.runtime.execute import Execution, execute
from mattwin.runtime.jobs import Job, Outcome
from mattwin.store.store import Store


def run_jobs(
    jobs: Sequence[Job], store: Store, stage: str, progress: Progress | None, execution: Execution | None
) -> list[Outcome]:
    """``jobs`` through the runtime, telling ``progress`` as each finishes."""
    done = 0

    def tick(out: Outcome) -> None:
        nonlocal done
        done += 1
        if progress:
            progress(
                stage, done, len(jobs), f"{out.job.name}: {out.status}{' (cached)' if out.cached else ''}"
            )

    if progress:
        progress(stage, 0, len(jobs), stage)
    return execute(list(jobs), store, execution, progress=tick)


def stage(state: CampaignState, ctx: Context) -> CampaignState:
    config = state.config
    specs = member_specs(config.engine)
    relax_params = {"fmax": config.fmax, "max_steps": config.max_steps}
    ref_jobs = [
        Job("relax", r.structure, spec, {**relax_params, "relax_cell": r.relax_cell}, label=r.name)
        for spec in specs
        for r in state.refs
    ]
    cand_jobs = [
        Job("relax", c.structure, spec, {**relax_params, "relax_cell": True}, label=f"candidate {i} {c.key}")
        for spec in specs
        for i, c in enumerate(state.cands)
    ]
    ctx.tell("calibrate", 0, 1, f"calibration {config.calibration}")
    calibration = calibration_for(config.engine, ctx.store, config.calibration)  # before any relaxation
    ctx.tell("calibrate", 1, 1, calibration.name if calibration else "raw energies (no calibration)")
    ref_out = run_jobs(ref_jobs, ctx.store, "references", ctx.progress, ctx.execution)
    cand_out = [
        _unphysical_as_failed(o)
        for o in run_jobs(cand_jobs, ctx.store, "candidates", ctx.progress, ctx.execution)
    ]
    return replace(state, calibration=calibration, ref_out=tuple(ref_out), cand_out=tuple(cand_out))


def _unphysical_as_failed(out: Outcome) -> Outcome:
    """A candidate whose relaxation ended with atoms pushed into each other (a random start the
    optimiser could not untangle within max_steps; its energy is meaningless, often eV/atom above or
    below everything) counts as failed: it neither enters the hull nor is ranked."""
    if not (out.ok and out.result):
        return out
    problem = relaxed_structure_problem(Structure.from_dict(out.result["structure"]))
    if problem is None:
        return out
    why = f"{out.job.name}: relaxation ended in an unphysical structure ({problem}); left out of the hull"
    return replace(out, status="failed", error=why, error_type="UnphysicalStructureError")
