"""The dashboard application (FastAPI + Jinja2, every asset served by the package itself).

Only GET routes exist and the database connection is read-only (:mod:`mattwin.serve.db`), so no
request can change the store. Templates autoescape every value; figures are plotly divs made by
:mod:`mattwin.report` / :mod:`mattwin.serve.figures`, whose text is escaped there."""

from __future__ import annotations

import json
from dataclasses import asdict
from functools import lru_cache
from pathlib import Path
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape

from mattwin.serve import campaigns as camp
from mattwin.serve import candidates as cand
from mattwin.serve import figures, lab, records
from mattwin.serve.db import ReadOnlyStore
from mattwin.serve.frontier import dynamics_page, frontier_html, property_report_page
from mattwin.serve.security import TokenMiddleware

HERE = Path(__file__).parent
STATIC = HERE / "static"
_TYPES = {".js": "text/javascript", ".css": "text/css", ".txt": "text/plain; charset=utf-8"}


@lru_cache(maxsize=1)
def _assets() -> dict[str, tuple[bytes, str]]:
    """name -> (bytes, media type): the files of ``static/`` and plotly.js from the installed plotly.
    Requests are answered from this table only, so no path can reach another file."""
    from plotly.offline import get_plotlyjs

    found = {p.name: (p.read_bytes(), _TYPES.get(p.suffix, "application/octet-stream"))
             for p in STATIC.iterdir() if p.is_file()}  # fmt: skip
    found["plotly.min.js"] = (get_plotlyjs().encode(), "text/javascript")
    return found


def _env() -> Environment:
    env = Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=select_autoescape(default=True),
        auto_reload=False,
    )
    env.filters["num"] = lambda x, spec=".3f": "–" if x is None else format(x, spec)
    env.filters["dur"] = _duration
    env.filters["tojson_pretty"] = lambda x: json.dumps(x, indent=2, sort_keys=True, default=str)
    return env


def _duration(s: float | None) -> str:
    if s is None:
        return "–"
    s = float(s)
    if s < 60:
        return f"{s:.1f} s"
    if s < 3600:
        return f"{int(s // 60)} min {int(s % 60)} s"
    return f"{int(s // 3600)} h {int(s % 3600 // 60)} min"


def _float(x: str | None) -> float | None:
    try:
        return None if x in (None, "") else float(x)  # type: ignore[arg-type]
    except ValueError:
        return None


def _int(x: str | None, default: int) -> int:
    try:
        return int(x) if x else default
    except ValueError:
        return default


def create_app(store: ReadOnlyStore, token: str | None = None) -> FastAPI:
    """The dashboard over ``store``; with ``token`` every request must carry it."""
    app = FastAPI(title="mattwin dashboard", docs_url=None, redoc_url=None, openapi_url=None)
    app.add_middleware(TokenMiddleware, token=token)
    app.state.store = store
    env = _env()
    cache = camp.ResultCache()

    def render(name: str, **ctx: Any) -> HTMLResponse:
        return HTMLResponse(env.get_template(name).render(db=store.shown, **ctx))

    def results() -> list[tuple[str, dict[str, Any]]]:
        with store.engine.connect() as conn:
            rows = camp.list_campaigns(conn, cache)
            out = []
            for s in rows:
                if s.has_result:
                    _, res = camp.get_campaign(conn, s.id, cache)
                    out.append((s.name, res))
        return out

    @app.get("/", response_class=HTMLResponse)
    def index() -> HTMLResponse:
        with store.engine.connect() as conn:
            rows = camp.list_campaigns(conn, cache)
        return render("campaigns.html", campaigns=rows, title="Campaigns")

    @app.get("/api/campaigns")
    def api_campaigns() -> JSONResponse:
        with store.engine.connect() as conn:
            return JSONResponse([s.to_dict() for s in camp.list_campaigns(conn, cache)])

    @app.get("/api/campaigns/{cid}")
    def api_campaign(cid: str) -> JSONResponse:
        with store.engine.connect() as conn:
            try:
                s, _ = camp.get_campaign(conn, cid, cache)
            except KeyError:
                raise HTTPException(404, f"no campaign {cid}") from None
        return JSONResponse(s.to_dict())

    @app.get("/campaign/{cid}", response_class=HTMLResponse)
    def campaign(cid: str, request: Request) -> HTMLResponse:
        p = request.query_params
        query = cand.Query(
            sort=p.get("sort", "rank"), order=p.get("order", "asc"), stability=p.get("stability", "all"),
            known=p.get("known", "all"), q=p.get("q", ""), col=p.get("col", ""), lo=_float(p.get("lo")),
            hi=_float(p.get("hi")), page=_int(p.get("page"), 1), per_page=_int(p.get("per_page"), 50),
        )  # fmt: skip
        with store.engine.connect() as conn:
            try:
                s, res = camp.get_campaign(conn, cid, cache)
            except KeyError:
                raise HTTPException(404, f"no campaign {cid}") from None
            if res is not None:
                page = cand.ranked_page(res.get("candidates", []), query, s.threshold)
                cand.attach_calculations(conn, page.rows)
            else:
                page = cand.generated_page(conn, camp.generation_id(conn, s.config), query)
                cand.attach_calculations(conn, page.rows, camp.relax_params(s.config))
        figs = _campaign_figures(cid, res, s.threshold) if res is not None else {}
        return render("campaign.html", c=s, result=res, page=page, figs=figs, title=s.name)

    fig_cache: dict[tuple[Any, ...], dict[str, str]] = {}

    def _campaign_figures(cid: str, res: dict[str, Any], threshold: float) -> dict[str, str]:
        """The campaign's figures, drawn once per stored result (a rerun's new result is redrawn)."""
        key = (cid, res.get("wall_time_s"), len(res.get("candidates", [])), threshold)
        if key not in fig_cache:
            if len(fig_cache) > 16:
                fig_cache.clear()
            fig_cache[key] = figures.campaign_figures(res, threshold)
        return fig_cache[key]

    @app.get("/candidate/{mid}", response_class=HTMLResponse)
    def candidate(mid: str, campaign: str = "") -> HTMLResponse:
        with store.engine.connect() as conn:
            found = records.material(conn, mid)
            if found is None:
                raise HTTPException(404, f"no material {mid}")
            formula, structure = found
            calcs = records.calculations_of(conn, [mid])
            relaxed = records.relaxed_structure(calcs)
            if relaxed is not None:
                from mattwin.materials.identity import material_id

                rid = material_id(relaxed)
                if rid != mid:
                    calcs += records.calculations_of(conn, [rid])
            ranked, summary = None, None
            if campaign:
                try:
                    summary, res = camp.get_campaign(conn, campaign, cache)
                    ranked = next(
                        (r for r in (res or {}).get("candidates", []) if r["candidate_id"] == mid), None
                    )
                except KeyError:
                    summary = None
        shown = relaxed or structure
        return render(
            "candidate.html", mid=mid, formula=formula, calcs=calcs, ranked=ranked, summary=summary,
            cif=_text(shown), fmt=_fmt(shown), relaxed=relaxed is not None, title=f"{formula} {mid}",
            lattice=getattr(shown, "lattice", None), n_atoms=len(shown),
        )  # fmt: skip

    @app.get("/candidate/{mid}/structure.cif")
    def candidate_cif(mid: str, initial: int = 0) -> Response:
        s = _structure(mid, initial=bool(initial))
        fmt = _fmt(s)
        return Response(_text(s), media_type=f"chemical/x-{fmt}",
                        headers={"Content-Disposition": f'attachment; filename="{mid}.{fmt}"'})  # fmt: skip

    @app.get("/candidate/{mid}/record.json")
    def candidate_json(mid: str) -> Response:
        with store.engine.connect() as conn:
            found = records.material(conn, mid)
            if found is None:
                raise HTTPException(404, f"no material {mid}")
            calcs = records.calculations_of(conn, [mid])
        body = {"material_id": mid, "formula": found[0], "structure": found[1].as_dict(),
                "calculations": [asdict(c) for c in calcs]}  # fmt: skip
        return Response(json.dumps(body, indent=2, default=str), media_type="application/json",
                        headers={"Content-Disposition": f'attachment; filename="{mid}.json"'})  # fmt: skip

    def _structure(mid: str, initial: bool) -> Any:
        with store.engine.connect() as conn:
            found = records.material(conn, mid)
            if found is None:
                raise HTTPException(404, f"no material {mid}")
            relaxed = None if initial else records.relaxed_structure(records.calculations_of(conn, [mid]))
        return relaxed or found[1]

    @app.get("/calculation/{key}", response_class=HTMLResponse)
    def calculation(key: str) -> HTMLResponse:
        with store.engine.connect() as conn:
            c = records.calculation(conn, key)
            if c is None:
                raise HTTPException(404, f"no calculation {key}")
            found = records.material(conn, c.material_id)
        formula = found[0] if found else c.material_id
        return render("calculation.html", c=c, formula=formula, frontier=frontier_html(c, formula),
                      title=f"{c.task} of {formula}")  # fmt: skip

    @app.get("/calculation/{key}/report", response_class=HTMLResponse)
    def calculation_report(key: str) -> HTMLResponse:
        with store.engine.connect() as conn:
            c = records.calculation(conn, key)
            found = records.material(conn, c.material_id) if c else None
        if c is None or c.frontier != "multiscale":
            raise HTTPException(404, f"no multiscale result {key}")
        return HTMLResponse(property_report_page(c, found[0] if found else c.material_id))

    @app.get("/calculation/{key}/dynamics", response_class=HTMLResponse)
    def calculation_dynamics(key: str) -> HTMLResponse:
        from mattwin.errors import MattwinError

        with store.engine.connect() as conn:
            c = records.calculation(conn, key)
        if c is None or c.frontier != "dynamics":
            raise HTTPException(404, f"no md run {key}")
        try:
            return HTMLResponse(dynamics_page(store, c))
        except MattwinError as exc:
            raise HTTPException(404, str(exc)) from None

    @app.get("/measurements", response_class=HTMLResponse)
    def measurements() -> HTMLResponse:
        with store.engine.connect() as conn:
            rows, total = records.measurements(conn, store.tables)
        compared, drift = lab.compare(rows, lab.predictions(results()))
        parity, residuals = figures.parity_and_residuals(compared)
        return render("measurements.html", rows=compared, total=total, drift=drift, parity=parity,
                      residuals=residuals, title="Measurements")  # fmt: skip

    @app.get("/calibrations", response_class=HTMLResponse)
    def calibrations() -> HTMLResponse:
        with store.engine.connect() as conn:
            cals = records.calibrations(conn, store.tables)
            rows, _ = records.measurements(conn, store.tables)
        _, drift = lab.compare(rows, lab.predictions(results()))
        return render("calibrations.html", cals=cals, drift=drift, plot=figures.calibration_history(cals),
                      title="Calibrations")  # fmt: skip

    @app.get("/static/{name}")
    def static(name: str) -> Response:
        asset = _assets().get(name)
        if asset is None:
            raise HTTPException(404, "no such asset")
        return Response(asset[0], media_type=asset[1], headers={"Cache-Control": "max-age=3600"})

    return app


def _fmt(structure: Any) -> str:
    """The file format of a structure's download and viewer: cif for a crystal, xyz for a molecule."""
    return "cif" if hasattr(structure, "lattice") else "xyz"


def _text(structure: Any) -> str:
    from pymatgen.io.cif import CifWriter

    return str(CifWriter(structure)) if _fmt(structure) == "cif" else str(structure.to(fmt="xyz"))
