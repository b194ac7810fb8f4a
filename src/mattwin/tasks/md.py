"""Molecular dynamics with ASE's integrators driving any engine, checkpointed and resumable.

Ensembles: ``nve`` (velocity Verlet), ``nvt`` (Nosé–Hoover chain, or Langevin with
``thermostat="langevin"``), ``npt`` (Martyna–Tobias–Klein barostat with a Nosé–Hoover chain, full
3x3 cell fluctuations: works for triclinic cells). Forces come from ``engine.evaluate_atoms``
(CHGNet's batched path; with the ``ensemble`` engine the mean of the members, plus their spread).

Frames go to ``workdir/trajectory.extxyz`` every ``sample_every`` steps; the checkpoint is written
right after each frame, so a killed run, rerun with the same parameters and workdir, continues from
its last frame (earlier frames kept, the continuation bit-identical for the deterministic
integrators). Trust: with an ensemble engine every step records the largest per-atom spread of the
members' forces; a run whose spread exceeds ``trust_force_std_eV_A`` is flagged, and stopped when
``trust_action="stop"``.
"""

from __future__ import annotations

import tempfile
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from ase import Atoms, units
from ase.calculators.calculator import Calculator, all_changes
from ase.md.velocitydistribution import MaxwellBoltzmannDistribution, Stationary
from pymatgen.core import Structure

from mattwin.engines.base import Engine, Evaluation
from mattwin.errors import MDError
from mattwin.materials.identity import to_atoms
from mattwin.tasks import md_state as st
from mattwin.tasks.md_types import TRUST_FORCE_STD, MDResult, MDSettings, settings_from

TASK_VERSION = 1
Evaluator = Callable[[Atoms], Evaluation]


class EngineCalculator(Calculator):
    """ASE calculator over an evaluation function (one structure in, one :class:`Evaluation` out);
    the last evaluation's ``extras`` (ensemble spread) stay in ``last_extras``."""

    implemented_properties = ["energy", "free_energy", "forces", "stress"]

    def __init__(self, evaluate: Evaluator) -> None:
        super().__init__()
        self.evaluate = evaluate
        self.last_extras: dict[str, Any] = {}
        self.n_calls = 0

    def calculate(self, atoms=None, properties=None, system_changes=all_changes):  # type: ignore[no-untyped-def]
        super().calculate(atoms, properties, system_changes)
        ev = self.evaluate(self.atoms.copy())
        self.n_calls += 1
        if not np.isfinite(ev.energy) or not np.all(np.isfinite(ev.forces)):
            raise MDError(f"the engine returned NaN energy or forces at MD call {self.n_calls}")
        self.last_extras = ev.extras
        self.results = {
            "energy": float(ev.energy),
            "free_energy": float(ev.energy),
            "forces": np.asarray(ev.forces, dtype=float),
            "stress": np.asarray(ev.stress, dtype=float),
        }


def _integrator(atoms: Atoms, s: MDSettings) -> Any:
    dt = s.timestep_fs * units.fs
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if s.ensemble == "nve":
            from ase.md.verlet import VelocityVerlet

            return VelocityVerlet(atoms, timestep=dt)
        if s.ensemble == "npt":
            from ase.md.nose_hoover_chain import MTKNPT

            return MTKNPT(
                atoms,
                timestep=dt,
                temperature_K=s.temperature_K,
                pressure_au=s.pressure_GPa * units.GPa,
                tdamp=100 * dt,
                pdamp=1000 * dt,
            )
        if s.thermostat == "langevin":
            from ase.md.langevin import Langevin

            return Langevin(
                atoms,
                timestep=dt,
                temperature_K=s.temperature_K,
                friction=s.friction_per_ps / (1000 * units.fs),
                rng=np.random.default_rng(s.seed + 1),
            )
        from ase.md.nose_hoover_chain import NoseHooverChainNVT

        return NoseHooverChainNVT(atoms, timestep=dt, temperature_K=s.temperature_K, tdamp=100 * dt)


def _conserved(dyn: Any, atoms: Atoms) -> float:
    if hasattr(dyn, "get_conserved_energy"):
        return float(dyn.get_conserved_energy())
    return float(atoms.get_potential_energy() + atoms.get_kinetic_energy())


def _frame_info(step: int, s: MDSettings, dyn: Any, atoms: Atoms, calc: EngineCalculator) -> dict[str, float]:
    info = {
        "step": step,
        "time_ps": step * s.timestep_fs / 1000.0,
        "epot_eV": float(atoms.get_potential_energy()),
        "ekin_eV": float(atoms.get_kinetic_energy()),
        "temperature_K": float(atoms.get_temperature()),
        "volume_A3": float(atoms.get_volume()),
        "conserved_eV": _conserved(dyn, atoms),
    }
    if "forces_std_max" in calc.last_extras:
        info["force_std_max_eV_A"] = float(calc.last_extras["forces_std_max"])
    return info


@dataclass
class _Run:
    atoms: Atoms
    dyn: Any
    calc: EngineCalculator
    step: int
    started_step: int
    traj_bytes: int
    rng: np.random.Generator | None


def _start(structure: Structure, s: MDSettings, workdir: Path, evaluate: Evaluator) -> _Run:
    """A fresh run (velocities drawn at T, frame 0 written) or the one in ``workdir``'s checkpoint."""
    atoms = to_atoms(structure)
    calc = EngineCalculator(evaluate)
    atoms.calc = calc
    ck = st.load_checkpoint(workdir)
    if ck is not None and ck.settings_hash == s.hash:
        atoms.set_cell(ck.cell, scale_atoms=False)
        atoms.set_positions(ck.positions)
        atoms.set_momenta(ck.momenta)
        dyn = _integrator(atoms, s)
        st.restore_integrator(dyn, ck.integrator)
        if ck.rng_state is not None and hasattr(dyn, "rng"):
            dyn.rng.bit_generator.state = ck.rng_state
        st.truncate_trajectory(workdir, ck.traj_bytes)
        return _Run(atoms, dyn, calc, ck.step, ck.step, ck.traj_bytes, getattr(dyn, "rng", None))
    (workdir / st.TRAJECTORY).unlink(missing_ok=True)
    MaxwellBoltzmannDistribution(atoms, temperature_K=s.temperature_K, rng=np.random.default_rng(s.seed))
    Stationary(atoms)
    dyn = _integrator(atoms, s)
    run = _Run(atoms, dyn, calc, 0, 0, 0, getattr(dyn, "rng", None))
    _sample(run, s, workdir)
    return run


def _sample(run: _Run, s: MDSettings, workdir: Path) -> dict[str, float]:
    info = _frame_info(run.step, s, run.dyn, run.atoms, run.calc)
    run.traj_bytes = st.append_frame(workdir, run.atoms, info)
    rng_state = dict(run.rng.bit_generator.state) if isinstance(run.rng, np.random.Generator) else None
    st.save_checkpoint(
        workdir,
        st.Checkpoint(
            step=run.step,
            positions=run.atoms.get_positions(),
            momenta=run.atoms.get_momenta(),
            cell=np.array(run.atoms.cell),
            integrator=st.integrator_state(run.dyn),
            rng_state=rng_state,
            traj_bytes=run.traj_bytes,
            settings_hash=s.hash,
            started_step=run.started_step,
        ),
    )
    return info


def _untrusted(run: _Run, s: MDSettings) -> bool:
    spread = run.calc.last_extras.get("forces_std_max")
    return spread is not None and float(spread) > s.trust_force_std_eV_A


def run_md(
    structure: Structure,
    settings: MDSettings,
    evaluate: Evaluator,
    workdir: Path,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[int, bool, float]:
    """Advance the run in ``workdir`` to ``settings.steps``; return (started step, stopped
    untrusted, wall seconds of this call). ``evaluate`` gives energy/forces/stress of one Atoms."""
    workdir.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    run = _start(structure, settings, workdir, evaluate)
    started, stopped = run.started_step, False
    while run.step < settings.steps:
        run.dyn.step()
        run.step += 1
        if not np.all(np.isfinite(run.atoms.get_positions())):
            raise MDError(f"{structure.composition.reduced_formula}: positions became NaN at step {run.step}")
        bad = _untrusted(run, settings)
        if run.step % settings.sample_every == 0 or run.step == settings.steps or bad:
            _sample(run, settings, workdir)
            if progress is not None:
                progress(run.step, settings.steps)
        if bad and settings.trust_action == "stop":
            stopped = True
            break
    return started, stopped, time.perf_counter() - t0


def _drift(t_ps: np.ndarray, conserved_eV: np.ndarray, n_atoms: int) -> float | None:
    if len(t_ps) < 3 or not np.all(np.isfinite(conserved_eV)):
        return None
    return float(np.polyfit(t_ps, conserved_eV, 1)[0] / n_atoms * 1000.0)


def summarize(
    structure: Structure,
    s: MDSettings,
    workdir: Path,
    rel_path: str,
    run_info: tuple[int, bool, float],
    engine_signature: dict[str, Any],
) -> MDResult:
    """The :class:`MDResult` of the run in ``workdir`` from its trajectory."""
    started, stopped, wall = run_info
    traj = st.read_trajectory(workdir / st.TRAJECTORY)
    n = len(structure)
    info = traj.info
    steps_done = int(info["step"][-1])
    fstd = np.asarray(info.get("force_std_max_eV_A", [np.nan]), dtype=float)
    has_std = bool(np.all(np.isfinite(fstd)))
    n_run = steps_done - started
    ns = n_run * s.timestep_fs * 1e-6
    drift = (
        None
        if s.thermostat == "langevin" and s.ensemble == "nvt"
        else _drift(info["time_ps"], info["conserved_eV"], n)
    )
    return MDResult(
        ensemble=s.ensemble,
        thermostat=None if s.ensemble == "nve" else s.thermostat,
        temperature_K=s.temperature_K,
        pressure_GPa=s.pressure_GPa if s.ensemble == "npt" else None,
        timestep_fs=s.timestep_fs,
        steps_requested=s.steps,
        steps_done=steps_done,
        sample_every=s.sample_every,
        frame_interval_ps=s.sample_every * s.timestep_fs / 1000.0,
        n_frames=traj.n_frames,
        n_atoms=n,
        formula=structure.composition.reduced_formula,
        trajectory=rel_path,
        mean_temperature_K=float(info["temperature_K"][1:].mean() if traj.n_frames > 1 else s.temperature_K),
        std_temperature_K=float(info["temperature_K"][1:].std() if traj.n_frames > 2 else 0.0),
        mean_potential_energy_eV_per_atom=float(info["epot_eV"].mean() / n),
        mean_total_energy_eV_per_atom=float((info["epot_eV"] + info["ekin_eV"]).mean() / n),
        mean_volume_A3=float(info["volume_A3"].mean()),
        std_volume_A3=float(info["volume_A3"].std()),
        conserved_drift_meV_per_atom_per_ps=drift,
        force_std_max_eV_A=float(fstd.max()) if has_std else None,
        force_std_mean_eV_A=float(fstd.mean()) if has_std else None,
        n_untrusted_frames=int(np.count_nonzero(fstd > s.trust_force_std_eV_A)) if has_std else 0,
        trust_force_std_eV_A=s.trust_force_std_eV_A,
        stopped_untrusted=stopped,
        resumed_from_step=started,
        wall_time_s=wall,
        ns_per_day=ns / (wall / 86400.0) if wall > 0 and n_run > 0 else 0.0,
        engine_signature=engine_signature,
    )


def prepare(
    structure: Structure, params: dict[str, Any], workdir: Path | None
) -> tuple[MDSettings, Path, str]:
    """Checked settings, the work folder (a new temporary one when None) and the trajectory's
    path as the result records it (relative to the runs folder: ``<job key>/trajectory.extxyz``)."""
    s = settings_from(params)
    s.check(structure.composition.reduced_formula)
    if workdir is None:
        workdir = Path(tempfile.mkdtemp(prefix="mattwin-md-"))
        return s, workdir, str(workdir / st.TRAJECTORY)
    return s, workdir, f"{workdir.name}/{st.TRAJECTORY}"


def md(
    structure: Structure,
    engine: Engine,
    ensemble: str = "nvt",
    temperature_K: float = 300.0,
    steps: int = 1000,
    timestep_fs: float = 2.0,
    pressure_GPa: float = 0.0,
    thermostat: str = "nose-hoover",
    friction_per_ps: float = 1.0,
    sample_every: int = 10,
    seed: int = 0,
    trust_force_std_eV_A: float = TRUST_FORCE_STD,
    trust_action: str = "stop",
    workdir: Path | None = None,
) -> MDResult:
    """Run ``steps`` MD steps of ``timestep_fs`` fs at ``temperature_K`` K (and ``pressure_GPa``
    GPa for npt) with ``engine``; velocities from a Maxwell–Boltzmann draw (``seed``). Langevin
    friction in 1/ps; Nosé–Hoover damping 100 steps, MTK barostat damping 1000 steps.
    Resumes from ``workdir``'s checkpoint when one with the same parameters is there."""
    params = {k: v for k, v in locals().items() if k not in ("structure", "engine", "workdir")}
    s, wd, rel = prepare(structure, params, workdir)

    def evaluate(atoms: Atoms) -> Evaluation:
        return engine.evaluate_atoms([atoms])[0]

    info = run_md(structure, s, evaluate, wd)
    return summarize(structure, s, wd, rel, info, engine.signature)


TASKS = {"md": (md, MDResult, TASK_VERSION)}
