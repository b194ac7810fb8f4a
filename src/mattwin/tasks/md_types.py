"""The parameters (:class:`MDSettings`) and the result (:class:`MDResult`) of the ``md`` task."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from typing import Any

from mattwin.errors import MDError
from mattwin.tasks.results import TaskResult

ENSEMBLES = ("nve", "nvt", "npt")
THERMOSTATS = ("nose-hoover", "langevin")
#: default trust threshold on the members' force spread (eV/Å). Committee disagreement above
#: ~0.3 eV/Å marks configurations outside the training data in active-learning practice (DP-GEN's
#: upper trust levels are 0.15-0.35 eV/Å for one architecture); three different universal models
#: disagree more near equilibrium already, so the default stops only at 0.5 eV/Å.
TRUST_FORCE_STD = 0.5


@dataclass(frozen=True)
class MDResult(TaskResult):
    """Summary of an MD run (the frames are in the trajectory file, not here).

    trajectory: path of the extxyz file relative to the store's runs folder (absolute when the
    task ran without one); frame_interval_ps: time between frames; temperatures K, energies eV per
    atom, volumes Å^3; conserved_drift_meV_per_atom_per_ps: slope of the integrator's conserved
    quantity (total energy in NVE; None for Langevin, which has none); force_std_*: the ensemble
    members' largest per-atom force spread (eV/Å; None for a single engine);
    stopped_untrusted: the run stopped because that spread exceeded ``trust_force_std_eV_A``.
    """

    ensemble: str
    thermostat: str | None
    temperature_K: float
    pressure_GPa: float | None
    timestep_fs: float
    steps_requested: int
    steps_done: int
    sample_every: int
    frame_interval_ps: float
    n_frames: int
    n_atoms: int
    formula: str
    trajectory: str
    mean_temperature_K: float
    std_temperature_K: float
    mean_potential_energy_eV_per_atom: float
    mean_total_energy_eV_per_atom: float
    mean_volume_A3: float
    std_volume_A3: float
    conserved_drift_meV_per_atom_per_ps: float | None
    force_std_max_eV_A: float | None
    force_std_mean_eV_A: float | None
    n_untrusted_frames: int
    trust_force_std_eV_A: float
    stopped_untrusted: bool
    resumed_from_step: int
    wall_time_s: float
    ns_per_day: float
    engine_signature: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class MDSettings:
    """The parameters of :func:`md` (see there), checked."""

    ensemble: str
    temperature_K: float
    steps: int
    timestep_fs: float
    pressure_GPa: float
    thermostat: str
    friction_per_ps: float
    sample_every: int
    seed: int
    trust_force_std_eV_A: float
    trust_action: str

    def check(self, name: str) -> None:
        problems = []
        if self.ensemble not in ENSEMBLES:
            problems.append(f"ensemble {self.ensemble!r} is not one of {', '.join(ENSEMBLES)}")
        if self.thermostat not in THERMOSTATS:
            problems.append(f"thermostat {self.thermostat!r} is not one of {', '.join(THERMOSTATS)}")
        if self.ensemble == "npt" and self.thermostat == "langevin":
            problems.append("npt uses the MTK barostat with a Nosé–Hoover chain; use thermostat nose-hoover")
        if not self.temperature_K > 0:
            problems.append(f"temperature {self.temperature_K} K must be positive")
        if self.steps < 1 or self.sample_every < 1:
            problems.append("steps and sample_every must be at least 1")
        if not 0 < self.timestep_fs <= 10:
            problems.append(f"timestep {self.timestep_fs} fs must be in (0, 10]")
        if self.trust_action not in ("stop", "flag"):
            problems.append(f"trust_action {self.trust_action!r} must be stop or flag")
        if problems:
            raise MDError(f"{name}: " + "; ".join(problems))

    @property
    def hash(self) -> str:
        return hashlib.sha256(json.dumps(asdict(self), sort_keys=True).encode()).hexdigest()[:16]


def settings_from(params: dict[str, Any]) -> MDSettings:
    """:class:`MDSettings` from the keyword parameters of :func:`md` (defaults filled in)."""
    return MDSettings(
        ensemble=str(params.get("ensemble", "nvt")).lower(),
        temperature_K=float(params.get("temperature_K", 300.0)),
        steps=int(params.get("steps", 1000)),
        timestep_fs=float(params.get("timestep_fs", 2.0)),
        pressure_GPa=float(params.get("pressure_GPa", 0.0)),
        thermostat=str(params.get("thermostat", "nose-hoover")).lower(),
        friction_per_ps=float(params.get("friction_per_ps", 1.0)),
        sample_every=int(params.get("sample_every", 10)),
        seed=int(params.get("seed", 0)),
        trust_force_std_eV_A=float(params.get("trust_force_std_eV_A", TRUST_FORCE_STD)),
        trust_action=str(params.get("trust_action", "stop")),
    )
