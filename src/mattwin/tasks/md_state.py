"""Files of an MD run: the trajectory (extended XYZ, appended frame by frame) and the checkpoint.

The checkpoint (``checkpoint.npz``, replaced atomically) holds everything needed to continue the
run exactly: step, positions, momenta, cell, the integrator's thermostat/barostat variables, the
random generator's state, and the trajectory's length in bytes when it was written. On resume the
trajectory is cut back to that length, so a frame written after the last checkpoint (the process
was killed between the two writes) is not duplicated.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from ase import Atoms
from ase.io import read, write

TRAJECTORY = "trajectory.extxyz"
CHECKPOINT = "checkpoint.npz"

#: integrator attributes that carry state between steps (ASE's Nosé–Hoover chain and MTK classes)
_STATE_ATTRS = ("_thermostat._eta", "_thermostat._p_eta", "_barostat._xi", "_barostat._p_xi", "_p_g")


@dataclass(frozen=True)
class Checkpoint:
    """State of a run after ``step`` steps; ``traj_bytes``: trajectory length (bytes) at that time."""

    step: int
    positions: np.ndarray
    momenta: np.ndarray
    cell: np.ndarray
    integrator: dict[str, np.ndarray]
    rng_state: dict[str, Any] | None
    traj_bytes: int
    settings_hash: str
    started_step: int


def _get(obj: Any, path: str) -> Any:
    for part in path.split("."):
        obj = getattr(obj, part, None)
        if obj is None:
            return None
    return obj


def integrator_state(dyn: Any) -> dict[str, np.ndarray]:
    """The thermostat/barostat variables of an ASE integrator (empty for Verlet and Langevin)."""
    return {p: np.array(v) for p in _STATE_ATTRS if (v := _get(dyn, p)) is not None}


def restore_integrator(dyn: Any, state: dict[str, np.ndarray]) -> None:
    """Put the variables saved by :func:`integrator_state` back into ``dyn``."""
    for path, value in state.items():
        head, _, attr = path.rpartition(".")
        owner = _get(dyn, head) if head else dyn
        if owner is not None:
            getattr(owner, attr)[...] = value


def save_checkpoint(workdir: Path, ck: Checkpoint) -> None:
    """Write ``ck`` to ``workdir/checkpoint.npz`` atomically (temporary file, then rename)."""
    tmp = workdir / (CHECKPOINT + ".tmp.npz")
    arrays = {f"integrator:{k}": v for k, v in ck.integrator.items()}
    meta = {
        "step": ck.step,
        "rng_state": ck.rng_state,
        "traj_bytes": ck.traj_bytes,
        "settings_hash": ck.settings_hash,
        "started_step": ck.started_step,
    }
    arrays.update(positions=ck.positions, momenta=ck.momenta, cell=ck.cell, meta=np.array(json.dumps(meta)))
    np.savez(tmp, **arrays)  # type: ignore[arg-type]
    with open(tmp, "rb") as f:
        os.fsync(f.fileno())
    os.replace(tmp, workdir / CHECKPOINT)


def load_checkpoint(workdir: Path) -> Checkpoint | None:
    """The checkpoint in ``workdir`` (None when there is none)."""
    path = workdir / CHECKPOINT
    if not path.exists():
        return None
    with np.load(path) as z:
        meta = json.loads(str(z["meta"]))
        integ = {k.split(":", 1)[1]: np.array(z[k]) for k in z.files if k.startswith("integrator:")}
        return Checkpoint(
            step=int(meta["step"]),
            positions=np.array(z["positions"]),
            momenta=np.array(z["momenta"]),
            cell=np.array(z["cell"]),
            integrator=integ,
            rng_state=meta["rng_state"],
            traj_bytes=int(meta["traj_bytes"]),
            settings_hash=str(meta["settings_hash"]),
            started_step=int(meta.get("started_step", 0)),
        )


def truncate_trajectory(workdir: Path, n_bytes: int) -> None:
    """Cut the trajectory back to ``n_bytes`` (frames after the last checkpoint are dropped)."""
    path = workdir / TRAJECTORY
    if path.exists() and path.stat().st_size > n_bytes:
        os.truncate(path, n_bytes)


def append_frame(workdir: Path, atoms: Atoms, info: dict[str, float]) -> int:
    """Append one frame (species, positions Å, cell, ``info``) and return the file's new size."""
    frame = Atoms(atoms.get_chemical_symbols(), positions=atoms.get_positions(), cell=atoms.cell, pbc=True)
    frame.info.update(info)
    path = workdir / TRAJECTORY
    with open(path, "a") as f:
        write(f, frame, format="extxyz")
        f.flush()
    return path.stat().st_size


@dataclass(frozen=True)
class Trajectory:
    """Frames of an MD run as arrays: positions (n_frames, n_atoms, 3) Å, cells (n_frames, 3, 3) Å,
    symbols, and the per-frame ``info`` columns (step, time_ps, epot_eV, ekin_eV, temperature_K,
    volume_A3, conserved_eV, force_std_max_eV_A) as (n_frames,) arrays."""

    positions: np.ndarray
    cells: np.ndarray
    symbols: list[str]
    info: dict[str, np.ndarray]

    @property
    def n_frames(self) -> int:
        return int(self.positions.shape[0])


def read_trajectory(path: Path) -> Trajectory:
    """Read a trajectory written by :func:`append_frame`."""
    frames = read(path, index=":", format="extxyz")
    if not isinstance(frames, list):
        frames = [frames]
    keys = frames[0].info.keys() if frames else []
    return Trajectory(
        positions=np.array([f.get_positions() for f in frames]),
        cells=np.array([np.array(f.cell) for f in frames]),
        symbols=frames[0].get_chemical_symbols() if frames else [],
        info={k: np.array([float(f.info.get(k, np.nan)) for f in frames]) for k in keys},
    )
