"""The one explicit state a campaign's stages pass along, and the context they run in."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from pymatgen.analysis.phase_diagram import PhaseDiagram
from pymatgen.core import Structure

from mattwin.analysis.calibration import Calibration
from mattwin.discovery.config import CampaignConfig
from mattwin.discovery.references import ReferencePhase
from mattwin.discovery.results import CampaignResult
from mattwin.materials.identity import material_id
from mattwin.runtime.execute import Execution
from mattwin.runtime.jobs import Outcome
from mattwin.store.store import Store

#: progress(stage, done, total, message); stages: "generate", "calibrate", "references", "candidates",
#: "synthesize", "escalate", "learn"
Progress = Callable[[str, int, int, str], None]


@dataclass(frozen=True)
class Candidate:
    """A generated (or given) structure: where it came from and the generator's score."""

    structure: Structure
    origin: str
    method: str
    score: float

    @cached_property
    def key(self) -> str:
        return material_id(self.structure)


@dataclass(frozen=True)
class CampaignState:
    """Everything known about a campaign so far. ``refs``: competing phases; ``cands``: candidates in
    generation order; ``calibration``: the fit the hull uses (None: raw energies); ``ref_out`` and
    ``cand_out``: the relaxations (every member engine); ``result``: the ranked candidates with their
    verdicts and ladders once judged; ``pd``: the hull of the member-mean energies."""

    config: CampaignConfig
    refs: tuple[ReferencePhase, ...] = ()
    cands: tuple[Candidate, ...] = ()
    calibration: Calibration | None = None
    ref_out: tuple[Outcome, ...] = ()
    cand_out: tuple[Outcome, ...] = ()
    result: CampaignResult | None = None
    pd: PhaseDiagram | None = None
    #: stages run so far, in order
    history: tuple[str, ...] = ()

    def summary(self) -> dict[str, Any]:
        """A JSON-serialisable picture of the state (counts, stages run, the result without
        structures)."""
        return {
            "campaign_id": self.config.campaign_id,
            "stages_run": list(self.history),
            "n_references": len(self.refs),
            "n_candidates": len(self.cands),
            "n_relaxations": len(self.ref_out) + len(self.cand_out),
            "calibration": self.calibration.name if self.calibration else None,
            "result": self.result.to_dict(with_structures=False) if self.result else None,
        }


@dataclass(frozen=True)
class Context:
    """Where stages run: the store, the execution settings and the progress callback."""

    store: Store
    execution: Execution | None = None
    progress: Progress | None = None

    def tell(self, stage: str, done: int, total: int, message: str) -> None:
        if self.progress:
            self.progress(stage, done, total, message)
