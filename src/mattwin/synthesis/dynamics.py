"""Dynamic stability of a structure: harmonic phonons (the ``phonons`` task, through the runtime and the
store cache) and the softest mode.

A structure is *dynamically unstable as proposed* when a phonon branch is imaginary beyond a tolerance:
a frequency below ``-tolerance_THz`` (default :data:`TOLERANCE_THZ` = 0.2 THz, about 6.7 cm^-1 or
0.8 meV) anywhere on the phonon mesh or on the high-symmetry band path. The three acoustic branches
within :data:`ACOUSTIC_Q_RADIUS` (reduced units) of Γ are excluded: there the finite-displacement
force constants leave small negative acoustic frequencies that are numerical (the translational sum
rule), not an instability. The softest remaining mode is reported with its q-point (reduced
coordinates of the standard primitive cell's reciprocal lattice) and the nearest high-symmetry label.

The frequencies come from the stored force constants (``phonopy_params.yaml`` in the job's run folder);
when that folder is not on this machine (a remote Dask worker ran the job), from the band path kept in
the result row (the q-point is then the path point; the mesh minimum still counts)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from pymatgen.core import Structure

from mattwin.errors import SettingsError
from mattwin.runtime.execute import Execution, execute
from mattwin.runtime.jobs import Job, Outcome
from mattwin.store.store import Store

log = logging.getLogger(__name__)
#: a mode counts as imaginary below -TOLERANCE_THZ (THz)
TOLERANCE_THZ = 0.2
#: acoustic branches are excluded within this distance of Γ (reduced reciprocal coordinates)
ACOUSTIC_Q_RADIUS = 0.1
#: most atoms in all displaced supercells together (n_displacements x supercell atoms) of one check:
#: every displaced supercell goes through the engine in one batch, so memory grows with this number
#: (about 1 GB per 2,000 atoms with CHGNet on the CPU); a larger structure is skipped, said so
MAX_DISPLACED_ATOMS = 5000
#: phonon settings used for the dynamic-stability check (a light version of ``mattwin phonons``)
PHONON_PARAMS: dict[str, Any] = {
    "min_length": 8.0,
    "displacement": 0.03,
    "mesh": [8, 8, 8],
    "relax": True,
    "fmax": 0.01,
}


@dataclass(frozen=True)
class DynamicStability:
    """The harmonic dynamic-stability verdict of one structure.

    stable: True when no mode is below -tolerance (acoustic near Γ excluded); False with the softest
    imaginary mode; min_frequency_THz: the softest counted mode (negative = imaginary); qpoint: its
    q-point (reduced coordinates) when imaginary, else None; mode: a short description
    ("imaginary mode -2.31 THz at R (0.5, 0.5, 0.5)") or None; error: why no verdict could be
    computed (then ``stable`` is False and ``computed`` is False); provenance: engine, task key,
    phonon settings, tolerance."""

    stable: bool
    min_frequency_THz: float
    qpoint: list[float] | None
    mode: str | None
    provenance: dict[str, Any] = field(default_factory=dict)
    computed: bool = True
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _check(tolerance_THz: float) -> float:
    tol = float(tolerance_THz)
    if not np.isfinite(tol) or tol < 0 or tol > 5:
        raise SettingsError(
            f"phonon tolerance {tolerance_THz!r} THz: must be a number from 0 to 5 THz"
            f" (default {TOLERANCE_THZ})"
        )
    return tol


def _wrap(q: np.ndarray) -> np.ndarray:
    return q - np.round(q)


def _counted(qpoints: np.ndarray, freqs: np.ndarray) -> np.ndarray:
    """``freqs`` (n_q, n_branches) with the three acoustic branches near Γ masked (set to +inf)."""
    out = np.array(freqs, dtype=float, copy=True)
    near = np.linalg.norm(_wrap(np.asarray(qpoints, dtype=float)), axis=1) < ACOUSTIC_Q_RADIUS
    order = np.argsort(out, axis=1)
    for i in np.nonzero(near)[0]:
        out[i, order[i, :3]] = np.inf
    return out


def _labels(structure: Structure) -> dict[str, list[float]]:
    import warnings

    from pymatgen.symmetry.bandstructure import HighSymmKpath

    with warnings.catch_warnings():  # "does not match the expected standard primitive": labels only
        warnings.simplefilter("ignore")
        kp = HighSymmKpath(structure, symprec=1e-3).kpath or {}
    return {
        str(k).replace("\\Gamma", "Γ").replace("GAMMA", "Γ"): [float(x) for x in v]
        for k, v in kp.get("kpoints", {}).items()
    }


def _describe(freq: float, q: np.ndarray, labels: dict[str, list[float]]) -> str:
    qw = _wrap(q)
    qs = ", ".join(f"{x:.3g}" for x in (0.0 if abs(x) < 1e-9 else x for x in q))
    for name, kq in labels.items():
        if np.linalg.norm(_wrap(qw - np.asarray(kq))) < 0.02:
            return f"imaginary mode {freq:.2f} THz at {name} ({qs})"
    return f"imaginary mode {freq:.2f} THz at q = ({qs})"


def _from_force_constants(path: Path, mesh: list[int]) -> tuple[np.ndarray, np.ndarray, Structure]:
    """(q-points, frequencies) on the mesh and the band path's high-symmetry points, from stored force
    constants; and the primitive cell."""
    import phonopy

    ph = phonopy.load(str(path), produce_fc=True, log_level=0)
    ph.run_mesh(list(mesh), is_gamma_center=True)
    md = ph.get_mesh_dict()
    qs = [np.asarray(md["qpoints"])]
    fs = [np.asarray(md["frequencies"])]  # type: ignore[typeddict-item]
    u = ph.unitcell
    prim = Structure(u.cell, list(u.symbols), u.scaled_positions)
    labels = _labels(prim)
    if labels:  # high-symmetry points and the midpoints between them (zone-boundary modes)
        pts = np.array(list(labels.values()))
        ph.run_qpoints(pts)
        qs.append(pts)
        fs.append(np.asarray(ph.get_qpoints_dict()["frequencies"]))
    return np.vstack(qs), np.vstack(fs), prim


def _from_row(result: dict[str, Any]) -> tuple[np.ndarray, np.ndarray, Structure] | None:
    """Band-path frequencies from the result row, q-points rebuilt from the same path (pymatgen)."""
    from pymatgen.symmetry.bandstructure import HighSymmKpath

    bands = result.get("bands") or {}
    if not bands.get("frequencies_THz"):
        return None
    prim = Structure.from_dict(result["structure"])
    kp = HighSymmKpath(prim, symprec=1e-3).kpath
    if kp is None:
        return None
    from phonopy.phonon.band_structure import get_band_qpoints_and_path_connections

    paths = [[list(kp["kpoints"][lab]) for lab in seg] for seg in kp["path"]]
    qpts, _conn = get_band_qpoints_and_path_connections(paths, npoints=51)
    q = np.vstack([np.asarray(x) for x in qpts])
    f = np.asarray(bands["frequencies_THz"], dtype=float)
    if len(q) != len(f):
        return None
    return q, f, prim


def verdict_from_result(
    result: dict[str, Any], workdir: Path | None, tolerance_THz: float, provenance: dict[str, Any]
) -> DynamicStability:
    """The dynamic-stability verdict of a ``phonons`` result row (and its run folder, if present)."""
    tol = _check(tolerance_THz)
    data = None
    fc = workdir / "phonopy_params.yaml" if workdir is not None else None
    if fc is not None and fc.exists():
        data = _from_force_constants(fc, list(result.get("mesh") or PHONON_PARAMS["mesh"]))
    if data is None:
        data = _from_row(result)
    prov = {**provenance, "tolerance_THz": tol, "acoustic_q_radius": ACOUSTIC_Q_RADIUS}
    if data is None:  # only the task's own minimum is left (acoustic noise included)
        fmin = float(result["min_frequency_THz"])
        stable = fmin >= -tol
        mode = None if stable else f"imaginary mode {fmin:.2f} THz (q-point not kept)"
        return DynamicStability(stable, fmin, None, mode, {**prov, "frequencies_from": "task minimum"})
    q, f, prim = data
    counted = _counted(q, f)
    i, j = np.unravel_index(int(np.argmin(counted)), counted.shape)
    fmin = float(counted[i, j])
    prov["frequencies_from"] = "force constants" if fc is not None and fc.exists() else "band path"
    if fmin >= -tol:
        return DynamicStability(True, fmin, None, None, prov)
    qpt = [float(x) for x in q[i]]
    return DynamicStability(False, fmin, qpt, _describe(fmin, q[i], _labels(prim)), prov)


def displaced_atoms(structure: Structure) -> tuple[int, int]:
    """(number of displaced supercells, atoms per supercell) the check of ``structure`` would run, from
    phonopy's symmetry-reduced displacements of the standard primitive cell (no engine call)."""
    import warnings

    from phonopy import Phonopy
    from pymatgen.symmetry.bandstructure import HighSymmKpath

    from mattwin.tasks.phonons import _phonopy_atoms, supercell_for

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        prim = HighSymmKpath(structure, symprec=1e-3).prim
    sc = supercell_for(prim, float(PHONON_PARAMS["min_length"]))
    ph = Phonopy(_phonopy_atoms(prim), supercell_matrix=np.diag(sc), primitive_matrix=None)
    ph.generate_displacements(distance=float(PHONON_PARAMS["displacement"]))
    return len(ph.supercells_with_displacements or []), len(prim) * int(np.prod(sc))


def phonon_job(structure: Structure, engine: str, label: str = "") -> Job:
    """The ``phonons`` job of the dynamic-stability check (cached in the store by its key)."""
    return Job("phonons", structure, engine, dict(PHONON_PARAMS), label=label or "dynamic stability")


def _verdict(out: Outcome, store: Store, engine: str, tol: float) -> DynamicStability:
    prov = {"engine": engine, "task": "phonons", "key": out.key, "params": dict(PHONON_PARAMS)}
    if not (out.ok and out.result):
        return DynamicStability(False, float("nan"), None, None, prov, computed=False, error=out.error)
    try:
        return verdict_from_result(out.result, store.runs_dir / out.key, tol, prov)
    except (OSError, ValueError, KeyError) as exc:  # unreadable run folder: fall back to the row
        try:
            return verdict_from_result(out.result, None, tol, prov)
        except (ValueError, KeyError):
            return DynamicStability(
                False, float("nan"), None, None, prov, computed=False, error=f"phonons unreadable: {exc}"
            )


def dynamic_stability(
    structure: Structure,
    engine: str,
    store: Store,
    execution: Execution | None = None,
    *,
    tolerance_THz: float = TOLERANCE_THZ,
) -> DynamicStability:
    """Harmonic phonons of ``structure`` with ``engine`` (relaxed first; cached and resumable) and the
    verdict: stable unless a mode is below ``-tolerance_THz`` THz (acoustic modes near Γ excluded).
    A failed calculation gives ``computed=False`` with the error (never raises for one structure)."""
    return dynamic_stability_many([structure], engine, store, execution, tolerance_THz=tolerance_THz)[0]


def dynamic_stability_many(
    structures: Sequence[Structure],
    engine: str,
    store: Store,
    execution: Execution | None = None,
    progress: Callable[[Outcome], None] | None = None,
    *,
    tolerance_THz: float = TOLERANCE_THZ,
    labels: Sequence[str] | None = None,
    max_displaced_atoms: int = MAX_DISPLACED_ATOMS,
) -> list[DynamicStability]:
    """:func:`dynamic_stability` of each structure, all jobs through the runtime at once; in order."""
    tol = _check(tolerance_THz)
    names = list(labels) if labels is not None else [""] * len(structures)
    jobs = [phonon_job(s, engine, n) for s, n in zip(structures, names, strict=True)]
    skipped: dict[int, DynamicStability] = {}
    for i, (s, job) in enumerate(zip(structures, jobs, strict=True)):
        if store.lookup(job.key) is not None:
            continue  # computed before: no cost to pay
        try:
            n_disp, n_atoms = displaced_atoms(s)
        except Exception as exc:  # symmetry analysis failed: let the task itself report it
            log.debug("cost estimate of %s failed: %s", job.name, exc)
            continue
        if n_disp * n_atoms > max_displaced_atoms:
            prov = {"engine": engine, "task": "phonons", "key": job.key, "params": dict(PHONON_PARAMS)}
            skipped[i] = DynamicStability(
                False,
                float("nan"),
                None,
                None,
                prov,
                computed=False,
                error=(
                    f"phonons skipped: {n_disp} displaced supercells of {n_atoms} atoms exceed the cap of "
                    f"{max_displaced_atoms} atoms (max_displaced_atoms; run `mattwin phonons` for this one)"
                ),
            )
    todo = [i for i in range(len(jobs)) if i not in skipped]
    outs = execute([jobs[i] for i in todo], store, execution, progress=progress) if todo else []
    done = {i: _verdict(o, store, engine, tol) for i, o in zip(todo, outs, strict=True)}
    return [skipped[i] if i in skipped else done[i] for i in range(len(jobs))]
