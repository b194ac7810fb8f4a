"""Plotly figures of a calibration's held-out figures (see :mod:`mattwin.report.calibration`).

Every function returns an HTML fragment that assumes plotly.js is on the page, or a note when there is
nothing to plot. Energies in eV/atom; formulas and class names are escaped before they reach hover text.
Colours: Okabe-Ito orange for raw engine values, blue for calibrated ones, grey for the ideal lines.
"""

from __future__ import annotations

from collections import Counter
from html import escape
from typing import Any

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from mattwin.analysis.calibration import HeldOut
from mattwin.report.plots import _LAYOUT, note, to_div

#: nominal levels of the coverage curve
LEVELS = np.round(np.arange(0.05, 0.995, 0.01), 2)
RAW_COLOUR = "#E69F00"  # Okabe-Ito orange
CAL_COLOUR = "#0072B2"  # Okabe-Ito blue
IDEAL_COLOUR = "#555555"
_FONT = {**_LAYOUT["font"], "size": 14}


def _layout(**extra: Any) -> dict[str, Any]:
    """The report's plot layout with a larger font and no 'origin' legend title."""
    base = {k: v for k, v in _LAYOUT.items() if k != "legend"}
    return {**base, "font": _FONT, **extra}


def _hover(formula: str, cls: str) -> str:
    return f"<b>{escape(formula)}</b><br>{escape(cls)}"


def class_order(classes: list[str]) -> list[tuple[str, int]]:
    """Chemistry classes with their counts, largest first (ties by name)."""
    return sorted(Counter(classes).items(), key=lambda cn: (-cn[1], cn[0]))


# ---------------------------------------------------------------------------------------------- plots


def parity_plot(h: HeldOut) -> str:
    """Held-out predicted (raw and calibrated, with 90 % error bars) against measured ΔH_f, and y = x."""
    if not h.formulas:
        return note("No held-out compounds to plot.")
    hw = h.half_width(0.9)
    values = np.concatenate([h.measured, h.raw, h.calibrated - hw, h.calibrated + hw])
    pad = 0.05 * (values.max() - values.min() or 1.0)
    lo, hi = float(values.min() - pad), float(values.max() + pad)
    hover = [_hover(f, c) for f, c in zip(h.formulas, h.classes, strict=True)]
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=[lo, hi],
            y=[lo, hi],
            mode="lines",
            name="y = x",
            hoverinfo="skip",
            line={"color": IDEAL_COLOUR, "dash": "dash", "width": 1.5},
        )
    )
    fig.add_trace(
        go.Scatter(
            x=h.measured,
            y=h.raw,
            mode="markers",
            name="raw (engine)",
            hovertext=hover,
            marker={"color": RAW_COLOUR, "symbol": "diamond-open", "size": 9, "line": {"width": 2}},
            hovertemplate="%{hovertext}<br>measured %{x:.3f} eV/atom<br>raw %{y:.3f} eV/atom"
            "<extra>raw</extra>",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=h.measured,
            y=h.calibrated,
            mode="markers",
            name="calibrated ± 90 %",
            hovertext=hover,
            customdata=hw,
            marker={"color": CAL_COLOUR, "size": 8, "line": {"width": 1, "color": "white"}},
            error_y={"type": "data", "array": hw, "thickness": 1.2, "width": 3, "color": CAL_COLOUR},
            hovertemplate="%{hovertext}<br>measured %{x:.3f} eV/atom<br>calibrated %{y:.3f} "
            "± %{customdata:.3f} eV/atom (90 %)<extra>calibrated</extra>",
        )
    )
    axis = {"range": [lo, hi], "zeroline": False}
    fig.update_layout(
        **_layout(
            title="Held-out parity: predicted vs measured formation enthalpy",
            legend={
                "x": 0.98,
                "y": 0.02,
                "xanchor": "right",
                "yanchor": "bottom",
                "bgcolor": "rgba(255,255,255,0.85)",
                "bordercolor": "#e4e7ec",
                "borderwidth": 1,
            },
            xaxis={**axis, "title": "measured ΔH<sub>f</sub> (eV/atom)"},
            yaxis={**axis, "title": "predicted ΔH<sub>f</sub> (eV/atom)", "scaleanchor": "x"},
        )
    )
    return to_div(fig, "parity", height=560)


def residuals_plot(h: HeldOut) -> str:
    """Held-out residuals (predicted - measured) per chemistry class, raw above and calibrated below,
    classes by size with n in the label."""
    if not h.formulas:
        return note("No held-out compounds to plot.")
    order = class_order(h.classes)
    label = {c: f"{c} (n={n})" for c, n in order}
    xs = [escape(label[c]) for c in h.classes]
    hover = [_hover(f, c) for f, c in zip(h.formulas, h.classes, strict=True)]
    fig = make_subplots(
        rows=2,
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.08,
        subplot_titles=("raw (engine reference energies)", "calibrated (held out)"),
    )
    rows = (
        (1, "raw", h.raw - h.measured, RAW_COLOUR),
        (2, "calibrated", h.calibrated - h.measured, CAL_COLOUR),
    )
    for row, name, resid, colour in rows:
        fig.add_trace(
            go.Box(
                x=xs,
                y=resid,
                name=name,
                marker={"color": colour, "size": 6, "opacity": 0.8},
                line={"color": colour},
                fillcolor="rgba(0,0,0,0)",
                boxpoints="all",
                jitter=0.5,
                pointpos=0,
                hoveron="points",
                hovertext=hover,
                showlegend=False,
                hovertemplate="%{hovertext}<br>" + name + " − measured: %{y:.3f} eV/atom<extra></extra>",
            ),
            row=row,
            col=1,
        )
        fig.add_hline(y=0.0, line={"color": IDEAL_COLOUR, "dash": "dash", "width": 1}, row=row, col=1)
        fig.update_yaxes(title_text="pred. − meas. (eV/atom)", zeroline=False, row=row, col=1)
    fig.update_xaxes(
        categoryorder="array",
        categoryarray=[escape(label[c]) for c, _ in order],
        tickangle=-30 if len(order) > 6 else 0,
    )
    fig.update_layout(**_layout(title="Held-out residuals by chemistry (classes by size)"))
    return to_div(fig, "residuals-by-class", height=620)


def coverage_curve(h: HeldOut) -> tuple[np.ndarray, np.ndarray]:
    """Nominal levels and the held-out fraction inside the interval at each."""
    return LEVELS, np.array([h.coverage(float(level)) for level in LEVELS])


def coverage_plot(h: HeldOut) -> str:
    """Empirical coverage of the held-out intervals against the nominal level, with the diagonal and
    the 95 % binomial band of a perfectly calibrated interval on this many compounds."""
    n = len(h.formulas)
    if n == 0:
        return note("No held-out compounds to plot.")
    levels, cov = coverage_curve(h)
    band = 1.96 * np.sqrt(levels * (1 - levels) / n)
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=levels,
            y=np.clip(levels - band, 0, 1),
            mode="lines",
            line={"width": 0},
            showlegend=False,
            hoverinfo="skip",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=levels,
            y=np.clip(levels + band, 0, 1),
            mode="lines",
            line={"width": 0},
            fill="tonexty",
            fillcolor="rgba(85,85,85,0.15)",
            name=f"95 % band, n = {n}",
            hoverinfo="skip",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=[0, 1],
            y=[0, 1],
            mode="lines",
            name="ideal",
            hoverinfo="skip",
            line={"color": IDEAL_COLOUR, "dash": "dash", "width": 1.5},
        )
    )
    fig.add_trace(
        go.Scatter(
            x=levels,
            y=cov,
            mode="lines",
            name="held out",
            line={"color": CAL_COLOUR, "width": 2.5},
            line_shape="hv",
            hovertemplate="nominal %{x:.0%}: %{y:.1%} of held-out values inside<extra></extra>",
        )
    )
    for level in (0.6827, 0.9):
        fig.add_annotation(
            x=level,
            y=h.coverage(level),
            text=f"{h.coverage(level):.0%} at {level:.0%}",
            showarrow=True,
            arrowhead=2,
            ax=-60,
            ay=-30,
            font={"size": 13},
        )
    axis = {"range": [0, 1.02], "tickformat": ".0%", "dtick": 0.1}
    fig.update_layout(
        **_layout(
            title="Coverage of the held-out intervals",
            legend={
                "x": 0.98,
                "y": 0.02,
                "xanchor": "right",
                "yanchor": "bottom",
                "bgcolor": "rgba(255,255,255,0.85)",
            },
            xaxis={**axis, "title": "nominal level of the interval"},
            yaxis={**axis, "title": "held-out values inside", "scaleanchor": "x"},
        )
    )
    return to_div(fig, "coverage", height=560)
