"""The provenance store and cache: every calculation, its inputs, engine signature, result and
timing, written the moment it finishes. SQLite (WAL mode) by default, PostgreSQL by URL."""

from __future__ import annotations

import functools
import json
import socket
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

from pymatgen.core import Structure
from sqlalchemy import Engine as SAEngine
from sqlalchemy import Insert, create_engine, event, insert, select, text, update
from sqlalchemy.dialects import postgresql as pg_dialect
from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import IntegrityError, OperationalError

from mattwin.materials.identity import canonical, material_id
from mattwin.settings import db_url_from, get_settings, runs_dir_for
from mattwin.store import schema
from mattwin.store.retry import retrying, waits

if TYPE_CHECKING:
    from mattwin.lab.measurement import Measurement


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class CalculationRecord:
    """One row of the calculations table, decoded."""

    key: str
    task: str
    material_id: str
    engine_signature: dict[str, Any]
    params: dict[str, Any]
    status: str
    result: dict[str, Any] | None
    error: str | None
    error_type: str | None
    wall_time_s: float | None
    finished_at: datetime | None
    host: str | None
    started_at: datetime | None = None
    mattwin_version: str | None = None


def _sqlite_pragmas(dbapi_conn: Any, _record: Any, busy_ms: int = 30000) -> None:
    cur = dbapi_conn.cursor()
    cur.execute(f"PRAGMA busy_timeout={int(busy_ms)}")  # first: switching to WAL may wait on another writer
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


# PostgreSQL URLs without a driver (``postgresql://user@host:port/db``) go through psycopg 3
_PG_DRIVER = "postgresql+psycopg"
_SCHEMA_LOCK = 0x6D617474_77696E  # pg advisory lock key: "mattwin"


def engine_url(url: str) -> URL:
    """The SQLAlchemy URL of ``url``: ``postgresql://`` and ``postgres://`` get the psycopg 3 driver."""
    u = make_url(url)
    if u.drivername in ("postgresql", "postgres"):
        u = u.set(drivername=_PG_DRIVER)
    return u



R = TypeVar("R", bound="CalculationRecord")


def decode_calculation(m: Any, cls: type[R] = CalculationRecord) -> R:  # type: ignore[assignment]
    """A row (mapping) of the calculations table as ``cls`` (:class:`CalculationRecord` or a subclass)."""
    return cls(
        key=m["key"],
        task=m["task"],
        material_id=m["material_id"],
        engine_signature=json.loads(m["engine_signature"]),
        params=json.loads(m["params"]),
        status=m["status"],
        result=None if m["result"] is None else json.loads(m["result"]),
        error=m["error"],
        error_type=m["error_type"],
        wall_time_s=m["wall_time_s"],
        finished_at=m["finished_at"],
        host=m["host"],
        started_at=m["started_at"],
        mattwin_version=m["mattwin_version"],
    )

class Store:
    """Materials, calculations, campaigns, candidates, reference phases and measurements.

    ``url``: SQLAlchemy URL or SQLite path; None reads ``MATTWIN_DB`` (default ``mattwin.db``).
    ``retry_s``: how long an operation waits for a lost connection to come back or an SQLite lock to
    go (the SQLite busy timeout), then raises :class:`~mattwin.errors.StoreError`; None reads
    ``MATTWIN_DB_RETRY_S`` (default 60 s).
    """

    def __init__(self, url: str | None = None, retry_s: float | None = None) -> None:
        self.url = db_url_from(url)
        self.retry_s = get_settings().db_retry_s if retry_s is None else float(retry_s)
        #: where tasks keep their files (trajectories, checkpoints): ``runs_dir / job_key``
        self.runs_dir = runs_dir_for(self.url)
        self.engine: SAEngine = create_engine(engine_url(self.url), pool_pre_ping=True)
        self._dialect = self.engine.dialect.name
        if self._dialect == "sqlite":
            busy_ms = round(self.retry_s * 1000)
            event.listen(self.engine, "connect", functools.partial(_sqlite_pragmas, busy_ms=busy_ms))
        self._create_schema()

    def _create_schema(self) -> None:
        """Create missing tables; safe when several processes open a new database at once."""
        if self._dialect == "postgresql":
            # concurrent CREATE TABLE IF NOT EXISTS can still collide in pg_type: serialise it
            with self.engine.begin() as conn:
                conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _SCHEMA_LOCK})
                schema.metadata.create_all(conn)
            return
        for attempt in range(3):
            try:
                schema.metadata.create_all(self.engine)
                return
            except OperationalError as exc:  # SQLite: another process created a table after our check
                if attempt == 2 or "already exists" not in str(exc):
                    raise

    # -- materials ---------------------------------------------------------------------------
    def put_material(self, structure: Structure) -> str:
        """Store a structure (idempotent); return its material id."""
        s = canonical(structure)
        mid = material_id(s)
        row = {
            "id": mid,
            "formula": s.composition.reduced_formula,
            "n_atoms": len(s),
            "structure": json.dumps(s.as_dict()),
            "created_at": _now(),
        }
        self._insert_ignore(schema.materials, row, "id")
        return mid

    @waits("reading a material")
    def get_material(self, mid: str) -> Structure:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(schema.materials.c.structure).where(schema.materials.c.id == mid)
            ).first()
        if row is None:
            raise KeyError(f"no material {mid} in {self.url}")
        return Structure.from_dict(json.loads(row[0]))

    # -- calculations ------------------------------------------------------------------------
    @waits("looking up a calculation")
    def lookup(self, key: str) -> CalculationRecord | None:
        """The finished calculation with this key, or None."""
        with self.engine.connect() as conn:
            row = conn.execute(select(schema.calculations).where(schema.calculations.c.key == key)).first()
        return None if row is None else self._decode(row._mapping)

    @waits("recording a calculation")
    def record(
        self,
        *,
        key: str,
        task: str,
        material_id: str,
        engine_signature: dict[str, Any],
        engine_key: str,
        params: dict[str, Any],
        status: str,
        result: dict[str, Any] | None,
        error: str | None = None,
        error_type: str | None = None,
        started_at: datetime | None = None,
        wall_time_s: float | None = None,
    ) -> None:
        """Write one finished calculation now, atomically against concurrent writers.

        A new key is inserted. For an existing key, "done" replaces a "failed" row; a failed
        calculation never replaces anything, and a "done" row is never replaced (the first result
        recorded is the one every reader sees).
        """
        from mattwin import __version__

        row = {
            "key": key,
            "task": task,
            "material_id": material_id,
            "engine_key": engine_key,
            "engine_signature": json.dumps(engine_signature, sort_keys=True, default=str),
            "params": json.dumps(params, sort_keys=True),
            "status": status,
            "result": None if result is None else json.dumps(result),
            "error": error,
            "error_type": error_type,
            "started_at": started_at,
            "finished_at": _now(),
            "wall_time_s": wall_time_s,
            "host": socket.gethostname(),
            "mattwin_version": __version__,
        }
        calc = schema.calculations
        upsert = self._upsert(calc)
        if upsert is None:  # a backend without ON CONFLICT: insert, then update on a duplicate key
            with self.engine.begin() as conn:
                try:
                    with conn.begin_nested():
                        conn.execute(insert(calc).values(**row))
                except IntegrityError:
                    if status == "done":
                        conn.execute(
                            update(calc).where(calc.c.key == key, calc.c.status != "done").values(**row)
                        )
            return
        stmt = upsert.values(**row)
        if status == "done":  # a done result replaces an earlier failure, never another result
            stmt = stmt.on_conflict_do_update(
                index_elements=[calc.c.key],
                set_={k: stmt.excluded[k] for k in row if k != "key"},
                where=calc.c.status != "done",
            )
        else:
            stmt = stmt.on_conflict_do_nothing(index_elements=[calc.c.key])
        with self.engine.begin() as conn:
            conn.execute(stmt)

    @waits("reading calculations")
    def calculations(self, task: str | None = None, status: str | None = None) -> list[CalculationRecord]:
        q = select(schema.calculations).order_by(schema.calculations.c.id)
        if task:
            q = q.where(schema.calculations.c.task == task)
        if status:
            q = q.where(schema.calculations.c.status == status)
        with self.engine.connect() as conn:
            return [self._decode(r._mapping) for r in conn.execute(q)]

    def count_calculations(self) -> int:
        return len(self.calculations())

    @staticmethod
    def _decode(m: Any) -> CalculationRecord:
        return decode_calculation(m)

    # -- campaigns and candidates -------------------------------------------------------------
    def save_campaign(self, campaign_id: str, name: str, config: dict[str, Any]) -> None:
        row = {
            "id": campaign_id,
            "name": name,
            "config": json.dumps(config, sort_keys=True),
            "created_at": _now(),
        }
        self._insert_ignore(schema.campaigns, row, "id")

    @waits("saving a campaign result")
    def save_campaign_result(self, campaign_id: str, result: dict[str, Any]) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                update(schema.campaigns)
                .where(schema.campaigns.c.id == campaign_id)
                .values(result=json.dumps(result, default=str))
            )

    def add_candidates(self, campaign_id: str, rows: Sequence[tuple[Structure, str, str, float]]) -> None:
        """Record the generated candidates of a campaign: (structure, origin, method, score) in order."""
        for position, (structure, origin, method, score) in enumerate(rows):
            mid = self.put_material(structure)
            row = {
                "campaign_id": campaign_id,
                "material_id": mid,
                "position": position,
                "origin": origin,
                "method": method,
                "score": float(score),
            }
            self._insert_ignore(schema.candidates, row, "campaign_id", "material_id")

    @waits("reading campaign candidates")
    def campaign_candidates(self, campaign_id: str) -> list[tuple[Structure, str, str, float]]:
        """Candidates of a campaign in generation order; empty when it has none yet."""
        c, m = schema.candidates, schema.materials
        q = (
            select(m.c.structure, c.c.origin, c.c.method, c.c.score)
            .join(m, m.c.id == c.c.material_id)
            .where(c.c.campaign_id == campaign_id)
            .order_by(c.c.position)
        )
        with self.engine.connect() as conn:
            return [(Structure.from_dict(json.loads(r[0])), r[1], r[2], r[3]) for r in conn.execute(q)]

    # -- reference phases ---------------------------------------------------------------------
    def add_reference(self, structure: Structure, name: str, source: str, relax_cell: bool = True) -> str:
        mid = self.put_material(structure)
        els = " ".join(sorted(e.symbol for e in structure.composition.elements))
        row = {
            "material_id": mid,
            "name": name,
            "formula": structure.composition.reduced_formula,
            "elements": els,
            "source": source,
            "relax_cell": relax_cell,
            "added_at": _now(),
        }
        self._insert_ignore(schema.references, row, "material_id")
        return mid

    @waits("reading reference phases")
    def references(self, elements: Iterable[str] | None = None) -> list[tuple[Structure, str, str, bool]]:
        """User reference phases (structure, name, source, relax_cell) whose elements lie in ``elements``."""
        r, m = schema.references, schema.materials
        q = select(m.c.structure, r.c.name, r.c.source, r.c.relax_cell, r.c.elements).join(
            m, m.c.id == r.c.material_id
        )
        allowed = None if elements is None else set(elements)
        with self.engine.connect() as conn:
            rows = list(conn.execute(q.order_by(r.c.added_at)))
        return [
            (Structure.from_dict(json.loads(s)), n, src, bool(rc))
            for s, n, src, rc, els in rows
            if allowed is None or set(els.split()) <= allowed
        ]

    # -- lab measurements ---------------------------------------------------------------------
    @waits("adding measurements")
    def add_measurements(
        self, measurements: Sequence[Measurement], structures: Mapping[str, Structure] | None = None
    ) -> tuple[int, int]:
        """Store measurements (and the structures they name) in one transaction, all or none;
        returns (new, already present). See :func:`mattwin.store.measurements.add_measurements`."""
        from mattwin.store.measurements import add_measurements

        return add_measurements(self, measurements, structures)

    @waits("reading measurements")
    def measurements(self, property: str | None = None, formula: str | None = None) -> list[Measurement]:
        """Stored measurements (canonical units), oldest first; ``property`` may be an alias."""
        from mattwin.store.measurements import list_measurements

        return list_measurements(self, property, formula)

    # -- helpers ------------------------------------------------------------------------------
    def _upsert(self, table: Any) -> Any:
        """An INSERT with ``on_conflict_do_*`` for this backend, or None where there is none."""
        if self._dialect == "postgresql":
            return pg_dialect.insert(table)
        if self._dialect == "sqlite":
            return sqlite_dialect.insert(table)
        return None

    def _insert_ignore(self, table: Any, row: dict[str, Any], *pk: str) -> None:
        """Insert ``row`` unless a row with the same key columns ``pk`` exists (one atomic statement)."""
        retrying(lambda: self._insert_once(table, row, *pk), f"writing {table.name}", self.url, self.retry_s)

    def _insert_once(self, table: Any, row: dict[str, Any], *pk: str) -> None:
        upsert = self._upsert(table)
        if upsert is not None:
            stmt: Insert = upsert.values(**row).on_conflict_do_nothing(index_elements=list(pk))
            with self.engine.begin() as conn:
                conn.execute(stmt)
            return
        with self.engine.begin() as conn:
            try:
                with conn.begin_nested():
                    conn.execute(insert(table).values(**row))
            except IntegrityError:  # a row with this key exists, or a concurrent writer got there first
                pass
