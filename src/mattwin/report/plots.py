"""Plotly figures of a campaign for the HTML report.

Every function returns an HTML fragment (a ``<div>`` plus its ``<script>``) that assumes plotly.js is
already loaded on the page (see :func:`plotly_js`), or an explanatory note when there is nothing to plot.
Energies are plotted in meV/atom; strings from data are HTML-escaped before they reach hover text
(plotly renders a subset of HTML in labels) and plotly escapes ``<`` in the embedded JSON.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape
from typing import TYPE_CHECKING, Any

import plotly.graph_objects as go
import plotly.io as pio

from mattwin.discovery.results import HullPoint, RankedCandidate

if TYPE_CHECKING:
    from pymatgen.analysis.phase_diagram import PhaseDiagram

#: colours cycled over candidate origins (colour-blind friendly, Okabe-Ito-like)
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"]
_CONFIG = {"displaylogo": False, "responsive": True, "toImageButtonOptions": {"format": "svg"}}
_LAYOUT: dict[str, Any] = {
    "template": "plotly_white",
    "margin": {"l": 60, "r": 20, "t": 50, "b": 60},
    "font": {"family": "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif", "size": 13},
    "legend": {"title": {"text": "origin"}},
}


def plotly_js() -> str:
    """The plotly.js bundle, to be inlined once per page."""
    from plotly.offline import get_plotlyjs

    return get_plotlyjs()


def finite(x: float | None) -> float | None:
    """``x`` when it is a finite number, else None (NaN, inf and None all mean 'no value')."""
    if x is None:
        return None
    try:
        xf = float(x)
    except (TypeError, ValueError):
        return None
    return xf if math.isfinite(xf) else None


def interval(values: Sequence[float | None] | None) -> tuple[float, float] | None:
    """(low, high) of a [low, high] interval when both ends are finite numbers, else None."""
    if not values or len(values) != 2:
        return None
    lo, hi = finite(values[0]), finite(values[1])
    return None if lo is None or hi is None else (lo, hi)


def note(text: str) -> str:
    """A muted paragraph standing in for a plot that cannot be drawn."""
    return f'<p class="note">{escape(text)}</p>'


def to_div(fig: go.Figure, div_id: str, height: int = 420) -> str:
    """``fig`` as an HTML fragment without plotly.js."""
    fig.update_layout(height=height)
    return pio.to_html(
        fig,
        full_html=False,
        include_plotlyjs=False,
        div_id=div_id,
        config=_CONFIG,
        default_height=f"{height}px",
    )


def origin_colours(candidates: Sequence[RankedCandidate]) -> dict[str, str]:
    """A stable colour for each origin, in order of first appearance."""
    out: dict[str, str] = {}
    for c in candidates:
        out.setdefault(c.origin, PALETTE[len(out) % len(PALETTE)])
    return out


def _scored(candidates: Sequence[RankedCandidate]) -> list[RankedCandidate]:
    return sorted(
        (c for c in candidates if c.status == "ok" and finite(c.e_hull) is not None), key=lambda c: c.rank
    )


def _mev(x: float | None) -> float | None:
    v = finite(x)
    return None if v is None else 1000.0 * v


def _hover(c: RankedCandidate) -> str:
    text = (
        f"<b>{escape(c.formula)}</b> (#{c.rank})<br>id: {escape(c.candidate_id)}"
        f"<br>origin: {escape(c.origin)}<br>space group: {escape(c.spacegroup or '—')}"
    )
    iv = interval(c.e_hull_interval)
    if iv is not None:
        text += f"<br>E<sub>hull</sub> 90 %: [{1000 * iv[0]:.1f}, {1000 * iv[1]:.1f}] meV/atom"
    p = finite(c.p_stable)
    if p is not None:
        text += f"<br>P(stable) = {100 * p:.0f} %"
    raw = finite(c.raw_e_hull)
    if raw is not None and c.calibration:
        text += f"<br>raw E<sub>hull</sub> = {1000 * raw:.1f} meV/atom"
    return text


def error_bars(
    group: Sequence[RankedCandidate], value: str, bounds: str, std: str, scale: float = 1.0
) -> dict[str, Any]:
    """A plotly error bar of attribute ``value`` of each candidate: asymmetric to its 90 % interval
    (attribute ``bounds``) where it has one, else ± attribute ``std``; times ``scale`` (1000: meV)."""
    plus: list[float] = []
    minus: list[float] = []
    shown = False
    for c in group:
        v, iv, s = finite(getattr(c, value)), interval(getattr(c, bounds)), finite(getattr(c, std))
        if v is not None and iv is not None:
            plus.append(scale * max(iv[1] - v, 0.0))
            minus.append(scale * max(v - iv[0], 0.0))
        else:
            plus.append(scale * (s or 0.0))
            minus.append(scale * (s or 0.0))
        shown = shown or iv is not None or s is not None
    return {"type": "data", "symmetric": False, "array": plus, "arrayminus": minus, "visible": shown}


def _threshold_line(fig: go.Figure, threshold_mev: float, horizontal: bool = True) -> None:
    kw = {"line_dash": "dash", "line_color": "#C0392B", "line_width": 1.5}
    label = f"threshold {threshold_mev:g} meV/atom"
    if horizontal:
        fig.add_hline(y=threshold_mev, annotation_text=label, annotation_position="top right", **kw)
    else:
        fig.add_vline(x=threshold_mev, annotation_text=label, annotation_position="top right", **kw)


def _raw_trace(scored: Sequence[RankedCandidate]) -> go.Scatter | None:
    """Open grey markers at the raw (uncalibrated) E_hull of calibrated candidates, or None."""
    raw = [c for c in scored if c.calibration and finite(c.raw_e_hull) is not None]
    if not raw:
        return None
    return go.Scatter(
        x=[f"{c.rank}. {c.formula}" for c in raw],
        y=[_mev(c.raw_e_hull) for c in raw],
        mode="markers",
        name="raw (uncalibrated)",
        marker={"symbol": "circle-open", "color": "#7f8c8d", "size": 9, "line": {"width": 1.5}},
        hovertext=[f"<b>{escape(c.formula)}</b> (#{c.rank})" for c in raw],
        hovertemplate="%{hovertext}<br>raw E<sub>hull</sub> = %{y:.1f} meV/atom<extra>raw</extra>",
    )


def ehull_strip(candidates: Sequence[RankedCandidate], threshold: float) -> str:
    """E_hull of each ranked candidate in rank order, coloured by origin, with its 90 % interval as
    error bar where it has one (± std otherwise) and the raw E_hull of calibrated candidates."""
    scored = _scored(candidates)
    if not scored:
        return note("No candidate has an energy above the hull to plot.")
    colours = origin_colours(scored)
    labels = [f"{c.rank}. {c.formula}" for c in scored]
    fig = go.Figure()
    raw = _raw_trace(scored)
    if raw is not None:
        fig.add_trace(raw)
    for origin, colour in colours.items():
        group = [c for c in scored if c.origin == origin]
        fig.add_trace(
            go.Scatter(
                x=[f"{c.rank}. {c.formula}" for c in group],
                y=[_mev(c.e_hull) for c in group],
                mode="markers",
                name=escape(origin),
                marker={"color": colour, "size": 10, "line": {"width": 1, "color": "white"}},
                error_y={
                    **error_bars(group, "e_hull", "e_hull_interval", "e_hull_std", 1000.0),
                    "thickness": 1.2,
                },
                hovertext=[_hover(c) for c in group],
                hovertemplate="%{hovertext}<br>E<sub>hull</sub> = %{y:.1f} meV/atom<extra></extra>",
            )
        )
    _threshold_line(fig, 1000.0 * threshold)
    bars = "90 % interval" if any(interval(c.e_hull_interval) for c in scored) else "± ensemble std"
    fig.update_layout(
        title=f"Energy above hull of ranked candidates ({bars})",
        xaxis={
            "title": "candidate (rank. formula)",
            "categoryorder": "array",
            "categoryarray": labels,
            "showticklabels": len(labels) <= 60,
            "tickangle": -45 if len(labels) > 8 else 0,
        },
        yaxis={"title": "E<sub>hull</sub> (meV/atom)", "rangemode": "tozero"},
        **_LAYOUT,
    )
    return to_div(fig, "ehull-strip", height=460)


def formation_vs_ehull(
    candidates: Sequence[RankedCandidate], hull_points: Sequence[HullPoint], threshold: float
) -> str:
    """Formation energy against E_hull: candidates by origin (error bars: 90 % interval, else ± std) and
    reference phases."""
    scored = [c for c in _scored(candidates) if finite(c.formation_energy_per_atom) is not None]
    refs = [
        p
        for p in hull_points
        if p.kind == "reference" and None not in (finite(p.e_hull), finite(p.formation_energy_per_atom))
    ]
    if not scored and not refs:
        return note("No formation energies to plot.")
    fig = go.Figure()
    if refs:
        fig.add_trace(
            go.Scatter(
                x=[_mev(p.e_hull) for p in refs],
                y=[finite(p.formation_energy_per_atom) for p in refs],
                mode="markers",
                name="reference",
                marker={"symbol": "diamond", "color": "#7f8c8d", "size": 9},
                hovertext=[
                    f"<b>{escape(p.formula)}</b><br>{escape(p.name)}<br>{escape(p.source)}" for p in refs
                ],
                hovertemplate="%{hovertext}<br>E<sub>hull</sub> = %{x:.1f} meV/atom"
                "<br>E<sub>f</sub> = %{y:.3f} eV/atom<extra>reference</extra>",
            )
        )
    for origin, colour in origin_colours(scored).items():
        group = [c for c in scored if c.origin == origin]
        fig.add_trace(
            go.Scatter(
                x=[_mev(c.e_hull) for c in group],
                y=[finite(c.formation_energy_per_atom) for c in group],
                mode="markers",
                name=escape(origin),
                marker={"color": colour, "size": 10, "line": {"width": 1, "color": "white"}},
                error_x=error_bars(group, "e_hull", "e_hull_interval", "e_hull_std", 1000.0),
                error_y=error_bars(
                    group,
                    "formation_energy_per_atom",
                    "formation_energy_interval",
                    "formation_energy_per_atom_std",
                ),
                hovertext=[_hover(c) for c in group],
                hovertemplate="%{hovertext}<br>E<sub>hull</sub> = %{x:.1f} meV/atom"
                "<br>E<sub>f</sub> = %{y:.3f} eV/atom<extra></extra>",
            )
        )
    _threshold_line(fig, 1000.0 * threshold, horizontal=False)
    fig.update_layout(
        title="Formation energy vs energy above hull",
        xaxis={"title": "E<sub>hull</sub> (meV/atom)"},
        yaxis={"title": "E<sub>f</sub> (eV/atom)"},
        **_LAYOUT,
    )
    return to_div(fig, "formation-vs-ehull")


def ehull_histogram(candidates: Sequence[RankedCandidate], threshold: float) -> str:
    """Distribution of E_hull over all screened candidates, stacked by origin."""
    scored = _scored(candidates)
    if not scored:
        return note("No screened candidate has an energy above the hull.")
    fig = go.Figure()
    for origin, colour in origin_colours(scored).items():
        fig.add_trace(
            go.Histogram(
                x=[_mev(c.e_hull) for c in scored if c.origin == origin],
                name=escape(origin),
                marker_color=colour,
                opacity=0.85,
                bingroup=1,
                nbinsx=max(10, min(50, len(scored) // 2)),
                hovertemplate="%{x} meV/atom: %{y} candidates<extra>" + escape(origin) + "</extra>",
            )
        )
    _threshold_line(fig, 1000.0 * threshold, horizontal=False)
    fig.update_layout(
        title="Distribution of E<sub>hull</sub> over screened candidates",
        barmode="stack",
        xaxis={"title": "E<sub>hull</sub> (meV/atom)"},
        yaxis={"title": "candidates"},
        **_LAYOUT,
    )
    return to_div(fig, "ehull-histogram")


def phase_diagram_plot(phase_diagram: PhaseDiagram | None, show_unstable: float) -> str:
    """pymatgen's convex hull plot (binary to quaternary), or a note saying why there is none."""
    if phase_diagram is None:
        return note("No phase diagram was given; the E_hull plots below work for any number of elements.")
    try:
        from pymatgen.analysis.phase_diagram import PDPlotter

        fig = PDPlotter(phase_diagram, backend="plotly", show_unstable=show_unstable).get_plot()
    except Exception as exc:  # pymatgen raises ValueError for >4 elements, others on degenerate input
        return note(f"The convex hull cannot be drawn ({type(exc).__name__}: {exc}).")
    if fig is None:
        return note("The convex hull plot is empty.")
    return to_div(fig, "hull-plot", height=560)
