"""Pure functions on results: convex hull, formation energy, ranking."""

from mattwin.analysis.hull import PhaseEnergy, Stability, build_phase_diagram, ensemble_stability, stability
from mattwin.analysis.ranking import Target, rank_key

__all__ = [
    "PhaseEnergy",
    "Stability",
    "Target",
    "build_phase_diagram",
    "ensemble_stability",
    "rank_key",
    "stability",
]
