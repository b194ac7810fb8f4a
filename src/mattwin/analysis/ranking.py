"""Ranking candidates by stability with its uncertainty, then by a user target."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Target:
    """A property to optimise among the (near-)stable candidates: ``name`` is a candidate field
    (e.g. ``volume_per_atom``, ``formation_energy_per_atom``, ``density``) and ``goal`` min or max."""

    name: str
    goal: str = "min"

    @classmethod
    def parse(cls, text: str) -> Target:
        """``"volume_per_atom:max"`` or ``"density"`` (min)."""
        name, _, goal = text.partition(":")
        goal = goal or "min"
        if goal not in ("min", "max"):
            raise ValueError(f"target {text!r}: goal must be min or max")
        return cls(name.strip(), goal)


def rank_key(
    e_hull: float | None,
    e_hull_std: float | None,
    threshold: float,
    target_values: Sequence[float | None] = (),
    targets: Sequence[Target] = (),
) -> tuple[float, ...]:
    """Sort key: first the candidates that may be stable (E_hull - std <= threshold, eV/atom),
    ordered by the targets then by E_hull; then the rest by E_hull; failures last."""
    if e_hull is None or not math.isfinite(e_hull):
        return (2.0, math.inf)
    maybe_stable = e_hull - (e_hull_std or 0.0) <= threshold
    if not maybe_stable:
        return (1.0, e_hull)
    tkeys = []
    for value, target in zip(target_values, targets, strict=True):
        if value is None:
            tkeys.append(math.inf)
        else:
            tkeys.append(value if target.goal == "min" else -value)
    return (0.0, *tkeys, e_hull)
