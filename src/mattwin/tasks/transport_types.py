"""Result types of the transport analysis of md runs (made by :func:`mattwin.api.diffusion` from
:mod:`mattwin.tasks.md` trajectories): what :mod:`mattwin.report.dynamics` renders. They live here,
below ``api/`` and ``report/``, so the report layer needs no API import."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class TemperaturePoint:
    """One temperature of a series: D per species (cm^2/s, block-averaging error), the carrier's
    Nernst–Einstein conductivity (S/cm), mean volume Å^3, the MSD curves (ps, Å^2) and total RDF."""

    temperature_K: float
    mean_temperature_K: float
    key: str
    duration_ps: float
    analysed_ps: float
    volume_A3: float
    diffusion: dict[str, dict[str, Any]]
    conductivity_S_cm: float | None
    energy_eV_per_atom: float
    stopped_untrusted: bool
    force_std_max_eV_A: float | None
    msd_time_ps: list[float]
    msd_A2: dict[str, list[float]]
    rdf_r_A: list[float]
    rdf_g: list[float]


@dataclass(frozen=True)
class DiffusionReport:
    """Transport of a series. ``arrhenius``: species -> :class:`mattwin.analysis.diffusion.ArrheniusFit`
    dict (only species that diffuse at two or more temperatures); ``conductivity_300K_S_cm``: the
    carrier's Nernst–Einstein conductivity from the extrapolated D (``conductivity_300K_factor``:
    its 1-sigma multiplicative uncertainty); ``notes``: what to be careful about."""

    run_id: str
    formula: str
    engine_signature: dict[str, Any]
    ensemble: str
    carrier: str | None
    points: list[TemperaturePoint]
    arrhenius: dict[str, dict[str, Any]]
    conductivity_300K_S_cm: float | None
    conductivity_300K_factor: float | None
    thermal_expansion: dict[str, Any] | None
    melting: dict[str, Any] | None
    notes: list[str] = field(default_factory=list)
    report: str | None = None

    def to_dict(self, with_curves: bool = False) -> dict[str, Any]:
        d = asdict(self)
        if not with_curves:
            for p in d["points"]:
                for k in ("msd_time_ps", "msd_A2", "rdf_r_A", "rdf_g"):
                    p.pop(k)
        return d
