"""Every batch of suggestions a campaign received, with its time stamp and what it was based on (the
measurements it saw), so a campaign's history can be replayed. The table lives in the campaign's store
and is created on first use."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, Text, insert, select

from mattwin.store.retry import retrying
from mattwin.store.store import Store

_meta = MetaData()
suggestions = Table(
    "suggestions",
    _meta,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("campaign_id", String(32), nullable=False, index=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("mode", String(16), nullable=False, doc="lab or compute"),
    Column("acquisition", String(64), nullable=False, doc="acquisition function"),
    Column("batch", Text, nullable=False, doc="JSON list of suggestions"),
    Column("basis", Text, nullable=False, doc="JSON: measurement keys and calculations seen"),
)


def _table(store: Store) -> Table:
    retrying(
        lambda: _meta.create_all(store.engine, tables=[suggestions]),
        "creating suggestions",
        store.url,
        store.retry_s,
    )
    return suggestions


def record_batch(
    store: Store,
    campaign_id: str,
    mode: str,
    acquisition: str,
    batch: list[dict[str, Any]],
    basis: dict[str, Any],
) -> datetime:
    """Store one batch; return its time stamp (UTC)."""
    t = _table(store)
    now = datetime.now(UTC)
    row = {
        "campaign_id": campaign_id,
        "created_at": now,
        "mode": mode,
        "acquisition": acquisition,
        "batch": json.dumps(batch, default=str),
        "basis": json.dumps(basis, default=str, sort_keys=True),
    }

    def write() -> None:
        with store.engine.begin() as conn:
            conn.execute(insert(t).values(**row))

    retrying(write, "writing suggestions", store.url, store.retry_s)
    return now


def history(store: Store, campaign_id: str) -> list[dict[str, Any]]:
    """The campaign's batches, oldest first: created_at, mode, acquisition, batch, basis."""
    t = _table(store)
    q = select(t).where(t.c.campaign_id == campaign_id).order_by(t.c.id)
    with store.engine.connect() as conn:
        rows = list(conn.execute(q))
    return [
        {
            "created_at": r.created_at,
            "mode": r.mode,
            "acquisition": r.acquisition,
            "batch": json.loads(r.batch),
            "basis": json.loads(r.basis),
        }
        for r in rows
    ]
