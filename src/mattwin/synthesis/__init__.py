"""Can it be made? Dynamic stability, metastability windows, the free energy at a synthesis
temperature, a synthesizability score, synthesis routes and a one-line verdict per candidate.

:func:`assess_candidates` is the one entry point a campaign calls (after judging stability)."""

from __future__ import annotations

from mattwin.synthesis.assess import SynthesisSettings, assess_candidates, verdict
from mattwin.synthesis.dynamics import DynamicStability, dynamic_stability, dynamic_stability_many

__all__ = [
    "DynamicStability",
    "SynthesisSettings",
    "assess_candidates",
    "dynamic_stability",
    "dynamic_stability_many",
    "verdict",
]
