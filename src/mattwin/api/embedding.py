"""Embedded (ONIOM-style QM/MM) energies through the runtime: cached, resumable, recorded."""

from __future__ import annotations

from pathlib import Path

from pymatgen.core import Structure

from mattwin.api.screening import _raise_failed, _structure
from mattwin.engines.registry import get_engine
from mattwin.runtime.jobs import Job
from mattwin.runtime.runner import run_jobs
from mattwin.store.store import Store
from mattwin.tasks.embedding import EmbeddingResult


def embed(
    material: Structure | str | Path,
    high: str,
    engine: str = "chgnet",
    region: list[int] | None = None,
    center: list[int] | None = None,
    radius: float = 3.0,
    cap: bool = True,
    relax_steps: int = 0,
    fmax: float = 0.05,
    store: Store | None = None,
) -> EmbeddingResult:
    """ONIOM energy of a defect or adsorbate: ``high`` (e.g. ``pyscf:b3lyp/def2-svp``) on the region
    (atom indices, or ``center`` atoms within ``radius`` Å), ``engine`` (an MLIP) on everything.
    ``cap``: hydrogen link atoms on cut covalent bonds (False for metals). ``relax_steps`` > 0 relaxes
    the region atoms with the environment fixed. Energies in eV."""
    s, src = _structure(material)
    params = {
        "high": high,
        "high_key": get_engine(high).key,
        "region": sorted(region) if region else None,
        "center": list(center) if center else None,
        "radius": radius,
        "cap": cap,
        "relax_steps": relax_steps,
        "fmax": fmax,
    }
    outs = run_jobs([Job("embedded_energy", s, engine, params, label=src)], store or Store())
    _raise_failed(outs)
    return EmbeddingResult.from_dict(outs[0].result)  # type: ignore[arg-type]
