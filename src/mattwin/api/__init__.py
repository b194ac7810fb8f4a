"""The Python API: the same names as the CLI commands. Every calculation goes through the runtime
(cached, resumable, distributable) and lands in the store.

One module per area: ``screening`` (energy, relax, discover, references); the frontier areas add
their own modules and re-export their names here.
"""

from mattwin.api.calibration import StabilityReport, calibrate, stability
from mattwin.api.dynamics import MDReport, md
from mattwin.api.embedding import embed
from mattwin.api.lab import AddMeasurementsReport, add_measurements, check_drift, list_measurements
from mattwin.api.loop import next_experiments, suggestion_history
from mattwin.api.multiscale import (
    PartReport,
    PropertyReport,
    elastic,
    equation_of_state,
    part,
    phonons,
    thermal_conductivity,
    thermal_expansion,
    write_property_report,
)
from mattwin.api.quantum import (
    CorrelateReport,
    ExciteReport,
    InteractionReport,
    band_gap,
    correlate,
    excite,
    interaction,
)
from mattwin.api.screening import (
    EnergyReport,
    RelaxReport,
    add_references,
    discover,
    energy,
    relax,
    write_campaign_report,
)
from mattwin.api.transport import DiffusionReport, diffusion

__all__ = [
    "StabilityReport",
    "calibrate",
    "stability",
    "AddMeasurementsReport",
    "add_measurements",
    "list_measurements",
    "check_drift",
    "next_experiments",
    "suggestion_history",
    "PartReport",
    "PropertyReport",
    "elastic",
    "equation_of_state",
    "part",
    "phonons",
    "thermal_conductivity",
    "thermal_expansion",
    "write_property_report",
    "DiffusionReport",
    "MDReport",
    "diffusion",
    "md",
    "EnergyReport",
    "RelaxReport",
    "add_references",
    "discover",
    "embed",
    "band_gap",
    "correlate",
    "excite",
    "interaction",
    "CorrelateReport",
    "ExciteReport",
    "InteractionReport",
    "energy",
    "relax",
    "write_campaign_report",
]
