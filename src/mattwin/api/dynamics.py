"""The dynamics API: ``md`` (MD runs at several temperatures, replicas in lockstep, stored and
resumable) and ``diffusion`` (MSD, D with errors, Arrhenius, conductivity, RDF of stored runs).

A *series* is the set of md runs of one material with one engine and the same settings except the
temperature; its id (12 hex digits) is what ``mattwin diffusion`` takes (a calculation key prefix
works too)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from pymatgen.core import Structure

from mattwin.api.screening import _raise_failed, _structure
from mattwin.engines.base import signature_key
from mattwin.engines.registry import get_engine
from mattwin.errors import MDError
from mattwin.runtime.jobs import Job
from mattwin.runtime.runner import run_jobs
from mattwin.store.store import Store
from mattwin.tasks.md_types import TRUST_FORCE_STD, settings_from


def series_id(material_id: str, engine_key: str, params: dict[str, Any]) -> str:
    """The id shared by md runs that differ only in temperature."""
    rest = {k: v for k, v in params.items() if k != "temperature_K"}
    payload = json.dumps({"m": material_id, "e": engine_key, "p": rest}, sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()[:12]


@dataclass(frozen=True)
class MDRun:
    """One temperature of a series: the job ``key``, whether it came from the store, and the md
    result (:class:`mattwin.tasks.md_types.MDResult` as a dict) or the error."""

    temperature_K: float
    key: str
    status: str
    cached: bool
    result: dict[str, Any] | None
    error: str | None


@dataclass(frozen=True)
class MDReport:
    """MD runs of one structure at several temperatures. ``series_id``: pass it to :func:`diffusion`."""

    source: str
    formula: str
    engine: str
    engine_signature: dict[str, Any]
    series_id: str
    params: dict[str, Any]
    runs: list[MDRun]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def md(
    material: Structure | str | Path,
    temperatures_K: Sequence[float] = (300.0,),
    ps: float | None = 10.0,
    engine: str = "chgnet",
    ensemble: str = "nvt",
    timestep_fs: float = 2.0,
    pressure_GPa: float = 0.0,
    thermostat: str = "nose-hoover",
    sample_every: int = 10,
    seed: int = 0,
    trust_force_std_eV_A: float = TRUST_FORCE_STD,
    trust_action: str = "stop",
    steps: int | None = None,
    store: Store | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> MDReport:
    """MD of a structure (or file) at each temperature (K) for ``ps`` picoseconds (or ``steps``).

    One stored calculation per temperature; the replicas advance in lockstep (one model call per
    step for all). A killed run resumes from its checkpoint when called again. ``progress`` is
    called with (replica name, step, total steps). Raises the typed error of the first run when every
    run failed (an element the engine lacks, unphysical input); otherwise failures are in ``runs``."""
    from mattwin.tasks.md_batch import STEP_PROGRESS

    s, src = _structure(material)
    store = store or Store()
    steps = _n_steps(src, ps, steps, timestep_fs)
    eng = get_engine(engine)
    base = {
        "ensemble": ensemble,
        "steps": steps,
        "timestep_fs": float(timestep_fs),
        "pressure_GPa": float(pressure_GPa),
        "thermostat": thermostat,
        "sample_every": int(sample_every),
        "seed": int(seed),
        "trust_force_std_eV_A": float(trust_force_std_eV_A),
        "trust_action": trust_action,
    }
    temps = [float(t) for t in temperatures_K]
    if not temps:
        raise MDError(f"{src}: no temperature given")
    for t in temps:  # bad settings fail here, before any job is run or stored
        settings_from({**base, "temperature_K": t}).check(src)
    jobs = [Job("md", s, engine, {**base, "temperature_K": t}, label=f"{src} {t:g} K") for t in temps]
    token = STEP_PROGRESS.set(progress)
    try:
        outs = run_jobs(jobs, store)
    finally:
        STEP_PROGRESS.reset(token)
    if not any(o.ok for o in outs):  # every run failed (an element the engine lacks, ...): say why
        _raise_failed(outs)
    runs = [MDRun(t, o.key, o.status, o.cached, o.result, o.error) for t, o in zip(temps, outs, strict=True)]
    return MDReport(
        source=src,
        formula=s.composition.reduced_formula,
        engine=engine,
        engine_signature=eng.signature,
        series_id=series_id(jobs[0].material_id, eng.key, base),
        params=base,
        runs=runs,
    )


def _n_steps(src: str, ps: float | None, steps: int | None, timestep_fs: float) -> int:
    """Steps of a run of ``ps`` picoseconds at ``timestep_fs`` (or ``steps`` as given)."""
    if not 0 < timestep_fs <= 10:
        raise MDError(f"{src}: timestep {timestep_fs} fs must be in (0, 10]; 1-2 fs is usual")
    if steps is not None:
        return steps
    if ps is None or not 0 < ps < 1e6:
        raise MDError(f"{src}: give a positive duration (ps) or number of steps, not {ps}")
    return max(1, int(round(ps * 1000.0 / timestep_fs)))


def find_runs(run_id: str, store: Store) -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    """Stored md runs whose series id or key starts with ``run_id``: (key, params, result) sorted
    by temperature. Raises :class:`MDError` when there is none."""
    rid = run_id.strip().lower()
    if len(rid) < 4:
        raise MDError(f"run id {run_id!r} is too short: give at least 4 hex digits")
    found = []
    for rec in store.calculations(task="md", status="done"):
        sid = series_id(rec.material_id, signature_key(rec.engine_signature), rec.params)
        if (sid.startswith(rid) or rec.key.startswith(rid)) and rec.result is not None:
            found.append((rec.key, rec.params, rec.result))
    if not found:
        raise MDError(
            f"no finished md run with id {run_id!r} in {store.url}; `mattwin md` prints the series id"
        )
    return sorted(found, key=lambda r: float(r[1]["temperature_K"]))


def trajectory_path(result: dict[str, Any], store: Store) -> Path:
    """The trajectory file of a stored md result (relative paths are under the runs folder)."""
    p = Path(result["trajectory"])
    path = p if p.is_absolute() else store.runs_dir / p
    if not path.exists():
        raise MDError(f"trajectory {path} of md run is missing (was the runs folder moved or deleted?)")
    return path
