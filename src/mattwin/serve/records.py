"""Materials, calculations, measurements and calibrations as the dashboard shows them (read-only
queries by primary key or indexed column)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from pymatgen.core import Molecule, Structure
from sqlalchemy import Connection, func, select

from mattwin.store import schema
from mattwin.store.store import CalculationRecord, decode_calculation

#: tasks whose results have a frontier page (the report/ figures) in the dashboard
FRONTIER_TASKS = {
    "equation_of_state": "multiscale",
    "elastic_tensor": "multiscale",
    "phonons": "multiscale",
    "thermal_expansion": "multiscale",
    "thermal_conductivity": "multiscale",
    "excited_states": "spectra",
    "md": "dynamics",
}


@dataclass(frozen=True)
class Calc(CalculationRecord):
    """One stored calculation (the store's record: provenance, timings, the result or the error) with
    what the pages show of it."""

    @property
    def engine(self) -> str:
        sig = self.engine_signature
        model = sig.get("model")
        return f"{sig.get('engine', sig.get('package', '?'))}{f' ({model})' if model else ''}"

    @property
    def version(self) -> str:
        return str(self.engine_signature.get("version", ""))

    @property
    def frontier(self) -> str | None:
        return FRONTIER_TASKS.get(self.task) if self.status == "done" else None


def _calc(m: Any) -> Calc:
    return decode_calculation(m, Calc)


def material(conn: Connection, mid: str) -> tuple[str, Structure | Molecule] | None:
    """(formula, structure) of a stored material (a crystal, or a molecule of the quantum rung), or None."""
    m = schema.materials
    row = conn.execute(select(m.c.formula, m.c.structure).where(m.c.id == mid)).first()
    if row is None:
        return None
    d = json.loads(row[1])
    return row[0], (Molecule if d.get("@class") == "Molecule" else Structure).from_dict(d)


def calculations_of(conn: Connection, material_ids: list[str], limit: int = 500) -> list[Calc]:
    """Calculations on these materials, oldest first (indexed by ``material_id``)."""
    k = schema.calculations
    q = select(k).where(k.c.material_id.in_(material_ids)).order_by(k.c.id).limit(limit)
    return [_calc(r._mapping) for r in conn.execute(q)]


def calculation(conn: Connection, key: str) -> Calc | None:
    k = schema.calculations
    row = conn.execute(select(k).where(k.c.key == key)).first()
    return None if row is None else _calc(row._mapping)


def relaxed_structure(calcs: list[Calc]) -> Structure | None:
    """The relaxed structure of the first finished relaxation among ``calcs``."""
    for c in calcs:
        if c.task == "relax" and c.status == "done" and c.result and c.result.get("structure"):
            return Structure.from_dict(c.result["structure"])
    return None


def campaigns_with(conn: Connection, mid: str) -> list[str]:
    """Generation ids of the campaigns that generated material ``mid``."""
    c = schema.candidates
    return [r[0] for r in conn.execute(select(c.c.campaign_id).where(c.c.material_id == mid))]


def measurements(
    conn: Connection, tables: frozenset[str], limit: int = 1000
) -> tuple[list[dict[str, Any]], int]:
    """The newest ``limit`` lab measurements (canonical units) and how many there are."""
    if schema.measurements.name not in tables:
        return [], 0
    t = schema.measurements
    total = conn.execute(select(func.count()).select_from(t)).scalar_one()
    rows = conn.execute(select(t).order_by(t.c.id.desc()).limit(limit)).all()
    return [dict(r._mapping) for r in reversed(rows)], int(total)


def calibrations(conn: Connection, tables: frozenset[str]) -> list[dict[str, Any]]:
    """Every stored calibration, oldest first: name, engine, version, n_compounds, created_at and its
    held-out figures (eV/atom; coverage as fractions)."""
    if schema.calibrations.name not in tables:
        return []
    t = schema.calibrations
    out = []
    for r in conn.execute(select(t).order_by(t.c.created_at, t.c.name)):
        fit = json.loads(r.fit)
        metrics = fit.get("metrics") or {}
        out.append(
            {
                "name": r.name,
                "engine": r.engine,
                "version": r.version,
                "n_compounds": r.n_compounds,
                "created_at": r.created_at,
                "metrics": {k: v for k, v in metrics.items() if isinstance(v, int | float)},
                "fitted_on": fit.get("fitted_on") or {},
            }
        )
    return out
