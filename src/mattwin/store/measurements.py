"""Lab measurements in the store: added in one transaction, never twice (content key)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from pymatgen.core import Structure
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from mattwin.lab.measurement import Measurement
from mattwin.lab.units import property_spec
from mattwin.lab.validate import parse_formula
from mattwin.materials.identity import canonical, material_id
from mattwin.store import schema

if TYPE_CHECKING:
    from mattwin.store.store import Store

_FIELDS = (
    "material",
    "formula",
    "material_id",
    "property",
    "value",
    "unit",
    "uncertainty",
    "temperature_K",
    "method",
    "source",
    "date",
    "given_value",
    "given_unit",
    "file",
)


def _row(m: Measurement, now: datetime) -> dict[str, Any]:
    row = {f: getattr(m, f) for f in _FIELDS}
    return row | {"key": m.content_key(), "file_row": m.row, "added_at": now}


def _material_row(s: Structure, now: datetime) -> dict[str, Any]:
    c = canonical(s)
    return {
        "id": material_id(c),
        "formula": c.composition.reduced_formula,
        "n_atoms": len(c),
        "structure": json.dumps(c.as_dict()),
        "created_at": now,
    }


def add_measurements(
    store: Store, measurements: Sequence[Measurement], structures: Mapping[str, Structure] | None = None
) -> tuple[int, int]:
    """Store ``measurements`` (and the ``structures`` they name, material_id -> Structure) in ONE
    transaction: all of them or, on any error, none. Returns (new, already present): a measurement
    whose content key is stored already (from this or any earlier file) is not stored again."""
    now = datetime.now(UTC)
    table = schema.measurements
    new = 0
    with store.engine.begin() as conn:
        for s in (structures or {}).values():
            _insert_ignore(store, conn, schema.materials, _material_row(s, now), "id")
        for m in measurements:
            new += _insert_ignore(store, conn, table, _row(m, now), "key")
    return new, len(measurements) - new


def _insert_ignore(store: Store, conn: Any, table: Any, row: dict[str, Any], key: str) -> int:
    """Insert ``row`` on ``conn`` unless its ``key`` is there; 1 when inserted, else 0."""
    upsert = store._upsert(table)
    if upsert is not None:
        # RETURNING: rowcount is -1 for these statements on psycopg
        stmt = upsert.values(**row).on_conflict_do_nothing(index_elements=[key]).returning(table.c[key])
        return len(conn.execute(stmt).all())
    try:
        with conn.begin_nested():
            conn.execute(insert(table).values(**row))
    except IntegrityError:
        return 0
    return 1


def list_measurements(
    store: Store, property: str | None = None, formula: str | None = None
) -> list[Measurement]:
    """Stored measurements in the order they were added; ``property`` may be an alias ("ΔHf"),
    ``formula`` any way of writing it (O3Fe2 finds Fe2O3)."""
    t = schema.measurements
    q = select(t).order_by(t.c.id)
    if property:
        q = q.where(t.c.property == property_spec(property).name)
    if formula:
        q = q.where(t.c.formula == parse_formula(formula).reduced_formula)
    with store.engine.connect() as conn:
        rows = [r._mapping for r in conn.execute(q)]
    return [Measurement(**{f: r[f] for f in _FIELDS}, row=r["file_row"]) for r in rows]


def arrival_times(store: Store, property: str | None = None) -> dict[str, datetime]:
    """When each stored measurement reached the store (UTC), by content key; ``property`` as in
    :func:`list_measurements`. What a fit could have seen: a fit made before a measurement arrived
    did not include it."""
    t = schema.measurements
    q = select(t.c.key, t.c.added_at)
    if property:
        q = q.where(t.c.property == property_spec(property).name)
    with store.engine.connect() as conn:
        rows = conn.execute(q).all()
    return {key: at if at.tzinfo else at.replace(tzinfo=UTC) for key, at in rows}
