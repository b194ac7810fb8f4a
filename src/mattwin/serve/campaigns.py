"""Campaigns as the dashboard sees them: status, counts, wall time and live progress, read from the
store with indexed queries only (candidates by their primary key, calculations by ``material_id``).

Progress of a campaign = relaxations recorded for its candidates (task ``relax`` with the campaign's
relaxation parameters) out of candidates x member engines. A campaign with a stored result is
"finished"; without one it is "running" while relaxations of its candidates keep arriving (the newest
within :data:`ACTIVE_S` seconds; before the first, within that time of its creation), else "stopped"
(killed or waiting: rerun it to resume).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, func, select

from mattwin.store import schema

#: a campaign without a result whose newest relaxation is younger than this (s) is "running"
ACTIVE_S = 300.0
_GENERATION_KEYS = ("elements", "max_atoms", "budget", "compositions", "n_random", "seed")


@dataclass(frozen=True)
class CampaignSummary:
    """One campaign: ``config`` is its stored definition; times in UTC; ``wall_time_s`` of the
    finished run, or the time from creation to the newest relaxation while it has no result."""

    id: str
    name: str
    engine: str
    elements: list[str]
    config: dict[str, Any]
    created_at: datetime | None
    status: str
    n_candidates: int
    n_jobs: int
    n_done: int
    n_failed: int
    last_activity: datetime | None
    wall_time_s: float | None
    n_screened: int | None = None
    n_stable: int | None = None
    threshold: float = 0.025
    has_result: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def progress(self) -> float:
        return 1.0 if self.has_result else (self.n_done / self.n_jobs if self.n_jobs else 0.0)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "engine": self.engine,
            "elements": self.elements,
            "status": self.status,
            "n_candidates": self.n_candidates,
            "n_jobs": self.n_jobs,
            "n_done": self.n_done,
            "n_failed": self.n_failed,
            "progress": round(self.progress, 4),
            "wall_time_s": self.wall_time_s,
            "n_screened": self.n_screened,
            "n_stable": self.n_stable,
            "last_activity": self.last_activity.isoformat() if self.last_activity else None,
            "created_at": self.created_at.isoformat() if self.created_at else None,
        }


def _utc(t: datetime | None) -> datetime | None:
    if t is None:
        return None
    return t if t.tzinfo else t.replace(tzinfo=UTC)


def generation_ids(config: dict[str, Any]) -> list[str]:
    """The ids under which a campaign's candidates may be stored: ``CampaignConfig.generation_id`` of
    this version first, then the hash of the generation keys alone (stores written before the
    generator's version joined the id)."""
    ids = []
    try:
        from mattwin.discovery.config import CampaignConfig

        names = CampaignConfig.__dataclass_fields__
        ids.append(CampaignConfig(**{k: v for k, v in config.items() if k in names}).generation_id)
    except Exception:  # a definition this version cannot rebuild: the plain hash below
        pass
    d = {k: v for k, v in config.items() if k in _GENERATION_KEYS}
    ids.append(hashlib.sha256(json.dumps(d, sort_keys=True).encode()).hexdigest()[:16])
    return list(dict.fromkeys(ids))


def generation_id(conn: Connection, config: dict[str, Any]) -> str:
    """The id of the campaign's stored candidates (the first of :func:`generation_ids` with rows)."""
    c = schema.candidates
    ids = generation_ids(config)
    for gid in ids:
        if conn.execute(select(c.c.campaign_id).where(c.c.campaign_id == gid).limit(1)).first():
            return gid
    return ids[0]


def relax_params(config: dict[str, Any]) -> str:
    """The stored ``params`` JSON of a campaign's candidate relaxations."""
    p = {"fmax": config.get("fmax", 0.05), "max_steps": config.get("max_steps", 500), "relax_cell": True}
    return json.dumps(p, sort_keys=True)


def n_members(engine: str) -> int:
    from mattwin.engines.registry import member_specs

    try:
        return max(1, len(member_specs(engine)))
    except Exception:
        return 1


class ResultCache:
    """Parsed campaign results, keyed by campaign id and a digest of the stored text (a rerun that
    stores a new result is parsed again); at most ``size`` kept."""

    def __init__(self, size: int = 16) -> None:
        self.size = size
        self._data: OrderedDict[tuple[str, str], dict[str, Any]] = OrderedDict()

    def get(self, campaign_id: str, text: str | None) -> dict[str, Any] | None:
        if text is None:
            return None
        key = (campaign_id, hashlib.blake2b(text.encode(), digest_size=16).hexdigest())
        if key in self._data:
            self._data.move_to_end(key)
            return self._data[key]
        parsed: dict[str, Any] = json.loads(text)
        self._data[key] = parsed
        if len(self._data) > self.size:
            self._data.popitem(last=False)
        return parsed


def _progress(conn: Connection, gen: str, params: str) -> tuple[int, int, int, datetime | None]:
    """(candidates, relaxations recorded, of which failed, newest finish) of one generation.

    The relaxations are looked up by ``material_id IN (candidates of the campaign)``, which SQLite
    answers from ``ix_calculations_material_task``; as a join it may scan every relaxation instead."""
    c, k = schema.candidates, schema.calculations
    n_cand = conn.execute(select(func.count()).select_from(c).where(c.c.campaign_id == gen)).scalar_one()
    mine = select(c.c.material_id).where(c.c.campaign_id == gen)
    row = conn.execute(
        select(func.count(), func.count().filter(k.c.status == "failed"), func.max(k.c.finished_at)).where(
            k.c.material_id.in_(mine), k.c.task == "relax", k.c.params == params
        )
    ).one()
    return int(n_cand), int(row[0]), int(row[1]), _utc(row[2])


def _status(last: datetime | None, created: datetime | None, now: float) -> str:
    """ "running" while candidate relaxations keep arriving (or, before the first, for
    :data:`ACTIVE_S` after the campaign was created: generation, references), else "stopped"."""
    recent = last if last is not None else created
    return "running" if recent is not None and now - recent.timestamp() < ACTIVE_S else "stopped"


def summarise(conn: Connection, row: Any, cache: ResultCache, now: float | None = None) -> CampaignSummary:
    """The summary of one ``campaigns`` row."""
    config = json.loads(row.config)
    engine = str(config.get("engine", "?"))
    n_cand, n_done, n_failed, last = _progress(conn, generation_id(conn, config), relax_params(config))
    n_jobs = n_cand * n_members(engine)
    result = cache.get(row.id, row.result)
    created = _utc(row.created_at)
    threshold = float(config.get("stability_threshold", 0.025))
    if result is not None:
        cands = result.get("candidates", [])
        stable = sum(1 for r in cands if r.get("e_hull") is not None and r["e_hull"] <= threshold)
        return CampaignSummary(
            id=row.id, name=row.name, engine=engine, elements=list(config.get("elements", [])),
            config=config, created_at=created, status="finished", n_candidates=n_cand or len(cands),
            n_jobs=n_jobs, n_done=min(n_done, n_jobs), n_failed=int(result.get("n_failed", n_failed)),
            last_activity=last, wall_time_s=result.get("wall_time_s"),
            n_screened=result.get("n_screened"), n_stable=stable, threshold=threshold, has_result=True,
        )  # fmt: skip
    status = _status(last, created, time.time() if now is None else now)
    wall = (last - created).total_seconds() if last and created else None
    return CampaignSummary(
        id=row.id, name=row.name, engine=engine, elements=list(config.get("elements", [])), config=config,
        created_at=created, status=status, n_candidates=n_cand, n_jobs=n_jobs, n_done=min(n_done, n_jobs),
        n_failed=n_failed, last_activity=last, wall_time_s=wall, threshold=threshold,
    )  # fmt: skip


def list_campaigns(conn: Connection, cache: ResultCache) -> list[CampaignSummary]:
    """Every campaign, newest first."""
    t = schema.campaigns
    rows = conn.execute(select(t).order_by(t.c.created_at.desc(), t.c.id)).all()
    return [summarise(conn, r, cache) for r in rows]


def get_campaign(conn: Connection, campaign_id: str, cache: ResultCache) -> tuple[CampaignSummary, Any]:
    """(summary, parsed result or None) of one campaign; KeyError when there is none."""
    t = schema.campaigns
    row = conn.execute(select(t).where(t.c.id == campaign_id)).first()
    if row is None:
        raise KeyError(campaign_id)
    return summarise(conn, row, cache), cache.get(row.id, row.result)
