"""The frontier result pages reachable from their calculations: spectra (excited states), multiscale
(equation of state, elastic tensor, phonons, expansion, conductivity) and dynamics (md runs), drawn
with the figures of :mod:`mattwin.report` from the stored result; nothing is recomputed."""

from __future__ import annotations

from html import escape
from pathlib import Path
from typing import Any

from sqlalchemy import select

from mattwin.serve.db import ReadOnlyStore
from mattwin.serve.records import Calc
from mattwin.store import schema


def property_report_page(c: Calc, formula: str) -> str:
    """The static report's property page (:func:`mattwin.report.multiscale.property_page`) of one
    stored multiscale calculation."""
    from mattwin.multiscale.reports import PropertyReport
    from mattwin.report.multiscale import property_page

    rep = PropertyReport(
        task=c.task, source=f"stored material {c.material_id}", formula=formula, engine=c.engine,
        engine_signatures=[c.engine_signature], keys=[c.key], results=[c.result or {}], summary={},
        spread=None, cached=True,
    )  # fmt: skip
    return property_page(rep)


def frontier_html(c: Calc, formula: str) -> str:
    """The figure(s) of a frontier calculation as an HTML fragment ('' for other tasks)."""
    if c.frontier is None or not c.result:
        return ""
    try:
        return _frontier(c, formula)
    except Exception as exc:  # a result row of an older version without a figure's fields
        why = f"{type(exc).__name__}: {exc}"
        return f'<p class="note">No figure for this result ({escape(why)}).</p>'


def _frontier(c: Calc, formula: str) -> str:
    res = c.result or {}
    if c.frontier == "multiscale":
        from mattwin.report import multiscale as ms

        link = f'<p><a href="/calculation/{escape(c.key)}/report">the full property page</a></p>'
        if c.task == "equation_of_state":
            return ms.eos_figure(res) + link
        if c.task == "elastic_tensor":
            return ms.elastic_table(res) + link
        if c.task == "phonons":
            return ms.bands_figure(res) + ms.thermal_figure(res) + link
        if c.task == "thermal_expansion":
            return ms.expansion_figure(res) + link
        return link
    if c.frontier == "spectra":
        from mattwin.report.plots import note, to_div
        from mattwin.report.quantum import spectrum_figure
        from mattwin.tasks.excitations import ExcitationsResult

        ex = ExcitationsResult.from_dict(res)
        if not ex.spectrum:
            return note(f"No spectrum: {ex.method.upper()} has no oscillator strengths in PySCF.")
        return to_div(
            spectrum_figure(ex, f"{formula}: {ex.method.upper()} ({ex.level})"), "spectrum", height=460
        )
    if c.frontier == "dynamics":
        return _md_summary(c.key, res)
    return ""


def _md_summary(key: str, res: dict[str, Any]) -> str:
    """An md run's headline numbers and a link to the transport analysis of its series."""
    keys = [k for k, v in res.items() if isinstance(v, int | float) and not isinstance(v, bool)]
    rows = "".join(
        f"<tr><td>{escape(k)}</td><td>{escape(format(res[k], '.6g'))}</td></tr>" for k in keys[:30]
    )
    return (
        "<h3>MD run</h3><table class=kv>" + rows + "</table>"
        f'<p><a id="dynamics-link" href="/calculation/{escape(key)}/dynamics">the dynamics page of this '
        "run's series</a>: MSD, diffusion coefficients, Arrhenius fit, RDF (the analysis of "
        "<code>mattwin diffusion</code>, read from the stored trajectories)</p>"
    )


class RunsReader:
    """What :func:`mattwin.api.transport.diffusion` reads of a store (finished md calculations, the
    runs folder with their trajectories), over the dashboard's read-only connection."""

    def __init__(self, store: ReadOnlyStore) -> None:
        from mattwin.settings import runs_dir_for

        self.url = store.shown
        self.runs_dir: Path = runs_dir_for(store.url)
        self._engine = store.engine

    def calculations(self, task: str | None = None, status: str | None = None) -> list[Any]:
        from mattwin.store.store import Store

        k = schema.calculations
        q = select(k).order_by(k.c.id)
        if task:
            q = q.where(k.c.task == task)
        if status:
            q = q.where(k.c.status == status)
        with self._engine.connect() as conn:
            return [Store._decode(r._mapping) for r in conn.execute(q)]


def dynamics_page(store: ReadOnlyStore, c: Calc) -> str:
    """The static dynamics report (:func:`mattwin.report.dynamics.render`) of the md series of ``c``.
    Raises :class:`~mattwin.errors.MDError` when its trajectories are not in the runs folder."""
    from mattwin.api.dynamics import series_id
    from mattwin.api.transport import diffusion
    from mattwin.engines.base import signature_key
    from mattwin.report.dynamics import render

    sid = series_id(c.material_id, signature_key(c.engine_signature), c.params)
    return render(diffusion(sid, store=RunsReader(store)))  # type: ignore[arg-type]
