"""Can it be made? Dynamic stability, thermodynamic windows, a synthesizability score, synthesis
routes and a one-line verdict per candidate (issue 11)."""

from __future__ import annotations

from mattwin.synthesis.dynamics import DynamicStability, dynamic_stability, dynamic_stability_many

__all__ = ["DynamicStability", "dynamic_stability", "dynamic_stability_many"]
