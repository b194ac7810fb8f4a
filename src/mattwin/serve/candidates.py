"""A campaign's candidates for the dashboard: ranked (from the stored campaign result), sorted,
filtered and paginated on the server; the page's rows are joined with their calculations by an
indexed ``material_id`` lookup. A campaign still running (no result yet) lists its generated
candidates from the ``candidates`` table with each one's relaxation status, paginated in SQL."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, func, select

from mattwin.store import schema

#: columns every ranked table has: key -> (label, numeric)
BASE_COLUMNS: dict[str, tuple[str, bool]] = {
    "rank": ("rank", True),
    "formula": ("formula", False),
    "spacegroup": ("space group", False),
    "n_atoms": ("atoms", True),
    "e_hull": ("E_hull (eV/atom)", True),
    "formation_energy_per_atom": ("E_f (eV/atom)", True),
    "p_stable": ("P(stable)", True),
    "volume_per_atom": ("V (Å³/atom)", True),
    "known_compound": ("known", False),
    "origin": ("origin", False),
    "status": ("status", False),
}
STABILITY = ("all", "stable", "maybe", "unstable", "failed")
PER_PAGE_MAX = 200


@dataclass(frozen=True)
class Query:
    """What the table shows: ``sort`` a column key (``targets.NAME`` for a target), ``order`` asc or
    desc, ``stability`` one of :data:`STABILITY` (threshold in eV/atom), ``known`` all/new/known,
    ``q`` a formula substring, ``col``/``lo``/``hi`` a numeric range on one column (a target or a
    synthesizability score), 1-based ``page`` of ``per_page`` rows."""

    sort: str = "rank"
    order: str = "asc"
    stability: str = "all"
    known: str = "all"
    q: str = ""
    col: str = ""
    lo: float | None = None
    hi: float | None = None
    page: int = 1
    per_page: int = 50

    def clean(self, columns: dict[str, tuple[str, bool]]) -> Query:
        """This query with unknown values replaced by defaults (nothing from the URL is trusted)."""
        return Query(
            sort=self.sort if self.sort in columns else "rank",
            order="desc" if self.order == "desc" else "asc",
            stability=self.stability if self.stability in STABILITY else "all",
            known=self.known if self.known in ("all", "new", "known") else "all",
            q=self.q[:64],
            col=self.col if self.col in columns and columns[self.col][1] else "",
            lo=_finite(self.lo),
            hi=_finite(self.hi),
            page=max(1, self.page),
            per_page=min(max(1, self.per_page), PER_PAGE_MAX),
        )


@dataclass
class Page:
    rows: list[dict[str, Any]]
    total: int
    query: Query
    columns: dict[str, tuple[str, bool]]
    ranked: bool
    extra_columns: list[str] = field(default_factory=list)

    @property
    def n_pages(self) -> int:
        return max(1, math.ceil(self.total / self.query.per_page))


def _finite(x: float | None) -> float | None:
    return x if x is not None and math.isfinite(x) else None


def value(row: dict[str, Any], key: str) -> Any:
    if key.startswith("targets."):
        return (row.get("targets") or {}).get(key.removeprefix("targets."))
    return row.get(key)


def columns_of(cands: list[dict[str, Any]]) -> tuple[dict[str, tuple[str, bool]], list[str]]:
    """The table's columns: the base ones, each target, and any synthesizability field the result
    has (numeric scalars whose name contains ``synth``), in that order; and the extra keys."""
    cols = dict(BASE_COLUMNS)
    extra: list[str] = []
    targets = sorted({t for c in cands for t in (c.get("targets") or {})})
    for t in targets:
        cols[f"targets.{t}"] = (f"target {t}", True)
        extra.append(f"targets.{t}")
    synth = sorted({k for c in cands for k, v in c.items() if "synth" in k.lower() and v is not None})
    for k in synth:
        numeric = all(isinstance(c.get(k), int | float) for c in cands if c.get(k) is not None)
        cols[k] = (k.replace("_", " "), numeric)
        extra.append(k)
    return cols, extra


def _stability(r: dict[str, Any], threshold: float) -> str:
    if r.get("status") != "ok" or r.get("e_hull") is None:
        return "failed"
    if r["e_hull"] <= threshold:
        return "stable"
    lo = (r.get("e_hull_interval") or [None])[0]
    return "maybe" if lo is not None and lo <= threshold else "unstable"


def _keep(r: dict[str, Any], q: Query, threshold: float) -> bool:
    st = _stability(r, threshold)
    if q.stability == "maybe":
        if st not in ("stable", "maybe"):
            return False
    elif q.stability != "all" and st != q.stability:
        return False
    if q.known == "new" and r.get("known_compound"):
        return False
    if q.known == "known" and not r.get("known_compound"):
        return False
    if q.q and q.q.lower() not in str(r.get("formula", "")).lower():
        return False
    if q.col:
        v = value(r, q.col)
        if (
            not isinstance(v, int | float)
            or (q.lo is not None and v < q.lo)
            or (q.hi is not None and v > q.hi)
        ):
            return False
    return True


def _sort_key(key: str, numeric: bool) -> Any:
    def get(r: dict[str, Any]) -> tuple[int, Any]:
        v = value(r, key)
        if v is None or (numeric and not isinstance(v, int | float)):
            return (1, 0)
        return (0, v if numeric else str(v).lower())

    return get


def ranked_page(cands: list[dict[str, Any]], query: Query, threshold: float) -> Page:
    """Filter, sort and slice the ranked candidates of a finished campaign (missing values last)."""
    cols, extra = columns_of(cands)
    q = query.clean(cols)
    kept = [r for r in cands if _keep(r, q, threshold)]
    key = _sort_key(q.sort, cols[q.sort][1])
    present = [r for r in kept if key(r)[0] == 0]
    missing = [r for r in kept if key(r)[0] == 1]
    present.sort(key=key, reverse=q.order == "desc")
    ordered = present + missing
    start = (q.page - 1) * q.per_page
    rows = [{**r, "stability": _stability(r, threshold)} for r in ordered[start : start + q.per_page]]
    return Page(rows=rows, total=len(kept), query=q, columns=cols, ranked=True, extra_columns=extra)


_GENERATED_SORT = {"rank": "position", "formula": "formula", "n_atoms": "n_atoms", "origin": "origin"}


def generated_page(conn: Connection, gen: str, query: Query) -> Page:
    """The generated candidates of a campaign without a result, paginated in SQL (generation order)."""
    c, m = schema.candidates, schema.materials
    cols = {k: BASE_COLUMNS[k] for k in ("rank", "formula", "n_atoms", "origin", "status")}
    q = query.clean(cols)
    where = [c.c.campaign_id == gen]
    if q.q:
        where.append(m.c.formula.contains(q.q, autoescape=True))
    base = select(c.c.material_id, c.c.position, c.c.origin, m.c.formula, m.c.n_atoms).join(
        m, m.c.id == c.c.material_id
    )
    total = conn.execute(
        select(func.count()).select_from(c).join(m, m.c.id == c.c.material_id).where(*where)
    ).scalar_one()
    col = {"position": c.c.position, "formula": m.c.formula, "n_atoms": m.c.n_atoms, "origin": c.c.origin}[
        _GENERATED_SORT.get(q.sort, "position")
    ]
    order = col.desc() if q.order == "desc" else col.asc()
    rows = conn.execute(
        base.where(*where).order_by(order, c.c.position).limit(q.per_page).offset((q.page - 1) * q.per_page)
    ).all()
    out = [
        {"rank": r.position + 1, "candidate_id": r.material_id, "formula": r.formula, "n_atoms": r.n_atoms,
         "origin": r.origin, "status": "pending"}
        for r in rows
    ]  # fmt: skip
    return Page(rows=out, total=int(total), query=q, columns=cols, ranked=False)


def attach_calculations(conn: Connection, rows: list[dict[str, Any]], params: str | None = None) -> None:
    """Add to each row ``n_calculations`` (all tasks on the candidate's material) and, for rows of a
    running campaign, ``status``: done/failed/pending of its relaxation with ``params``."""
    ids = [r["candidate_id"] for r in rows if r.get("candidate_id")]
    if not ids:
        return
    k = schema.calculations
    counts: dict[str, int] = dict(
        conn.execute(
            select(k.c.material_id, func.count()).where(k.c.material_id.in_(ids)).group_by(k.c.material_id)
        ).all()
    )
    relax: dict[str, str] = {}
    if params is not None:
        for mid, status in conn.execute(
            select(k.c.material_id, k.c.status).where(
                k.c.material_id.in_(ids), k.c.task == "relax", k.c.params == params
            )
        ):
            if relax.get(mid) != "failed":
                relax[mid] = status
    for r in rows:
        r["n_calculations"] = int(counts.get(str(r.get("candidate_id")), 0))
        if params is not None:
            r["status"] = relax.get(r["candidate_id"], "pending")
