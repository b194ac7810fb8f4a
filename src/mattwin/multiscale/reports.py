"""Result types of the multiscale rung (made by :mod:`mattwin.api.multiscale` from the
equation-of-state, elastic, phonon and conductivity tasks and the scikit-fem part solve): what
:mod:`mattwin.report.multiscale` renders. They live here, below ``api/`` and ``report/``, so the
report layer needs no API import."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class PropertyReport:
    """An atomistic property of one structure. ``results``: one task result dict per engine (an
    ensemble's members), with ``keys`` their run keys (``mattwin part --material KEY``);
    ``summary``: mean of the headline numbers over the engines, ``spread``: their standard deviation
    (None for one engine). Units are in the field names."""

    task: str
    source: str
    formula: str
    engine: str
    engine_signatures: list[dict[str, Any]]
    keys: list[str]
    results: list[dict[str, Any]]
    summary: dict[str, float]
    spread: dict[str, float] | None
    cached: bool
    workdirs: list[str] = field(default_factory=list)

    @property
    def result(self) -> dict[str, Any]:
        """The first engine's result."""
        return self.results[0]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class PartReport:
    """A part solved with a stored material. traction_MPa on the loaded face; load_N the total
    force; max_von_mises_MPa; max_displacement_mm; stress_concentration = max von Mises / traction;
    heat_flow_W and conductance_W_K of the steady conduction solve (None without a conductivity);
    files: cards (.json, .yaml, .inp), fields (.vtu) and the HTML page."""

    material_run: str
    material: dict[str, Any]
    geometry: str
    description: str
    load: str
    plane: str
    traction_MPa: float
    load_N: float
    max_von_mises_MPa: float
    max_displacement_mm: float
    stress_concentration: float
    heat_flow_W: float | None
    conductance_W_K: float | None
    files: list[str]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
