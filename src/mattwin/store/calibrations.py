"""Versioned calibrations in the store: every fit is kept (name ``engine@version``), newest first."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from sqlalchemy import insert, select, update

from mattwin.analysis.calibration import Calibration
from mattwin.store import schema
from mattwin.store.store import Store


def save_calibration(store: Store, cal: Calibration, replace: bool = False) -> None:
    """Store a fit (idempotent: the same version is stored once); ``replace`` updates a stored one
    (e.g. with its held-out metrics) in one transaction."""
    row = {
        "name": cal.name,
        "engine": cal.engine,
        "version": cal.version,
        "n_compounds": cal.n_compounds,
        "fit": json.dumps(cal.to_dict()),
        "created_at": datetime.now(UTC),
    }
    if not replace:
        store._insert_ignore(schema.calibrations, row, "name")
        return
    t = schema.calibrations
    with store.engine.begin() as conn:
        done = conn.execute(update(t).where(t.c.name == cal.name).values(fit=row["fit"])).rowcount
        if not done:
            conn.execute(insert(t).values(**row))


def load_calibration(store: Store, name: str) -> Calibration | None:
    """The calibration called ``name`` (``engine@version``), or the newest of engine ``name``."""
    t = schema.calibrations
    with store.engine.connect() as conn:
        row = conn.execute(select(t.c.fit).where(t.c.name == name)).first()
        if row is None:
            row = conn.execute(
                select(t.c.fit).where(t.c.engine == name).order_by(t.c.created_at.desc(), t.c.name).limit(1)
            ).first()
    return None if row is None else Calibration.from_dict(json.loads(row[0]))


def calibration_history(store: Store, engine: str | None = None) -> list[Calibration]:
    """Every stored calibration (of ``engine``), oldest first."""
    t = schema.calibrations
    q = select(t.c.fit).order_by(t.c.created_at, t.c.name)
    if engine:
        q = q.where(t.c.engine == engine)
    with store.engine.connect() as conn:
        return [Calibration.from_dict(json.loads(r[0])) for r in conn.execute(q)]
