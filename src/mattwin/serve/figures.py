"""Figures of the dashboard. Campaign plots are the static report's own (:mod:`mattwin.report.plots`)
drawn from the stored result; the hull is rebuilt from the stored (calibrated) formation energies of
its phases, so no energy is recomputed. Measurement parity and residuals, calibration history and the
drift monitor are drawn here in the report's style."""

from __future__ import annotations

import math
from typing import Any

import plotly.graph_objects as go

from mattwin.discovery.results import HullPoint, RankedCandidate
from mattwin.report import plots
from mattwin.report.plots import _LAYOUT, PALETTE, note, to_div


def ranked(cands: list[dict[str, Any]]) -> list[RankedCandidate]:
    """Stored candidate dicts as result objects (unknown keys, from newer versions, dropped)."""
    names = RankedCandidate.__dataclass_fields__
    return [RankedCandidate(**{k: v for k, v in c.items() if k in names}) for c in cands]


def hull_points(result: dict[str, Any]) -> list[HullPoint]:
    names = HullPoint.__dataclass_fields__
    return [HullPoint(**{k: v for k, v in p.items() if k in names}) for p in result.get("hull_points", [])]


def phase_diagram(result: dict[str, Any]) -> Any:
    """pymatgen's PhaseDiagram of the stored phases: each at its stored formation energy (eV/atom,
    calibrated when the campaign was), elements at zero. None when there are too few phases."""
    from pymatgen.analysis.phase_diagram import PDEntry, PhaseDiagram
    from pymatgen.core import Composition

    entries = []
    for p in hull_points(result):
        e = plots.finite(p.formation_energy_per_atom)
        if e is None:
            continue
        comp = Composition(p.formula)
        entries.append(PDEntry(comp, e * comp.num_atoms, name=p.formula))
    for el in result.get("elements", []):
        entries.append(PDEntry(Composition(el), 0.0, name=el))
    try:
        return PhaseDiagram(entries)
    except Exception:  # degenerate: a missing element, one phase
        return None


def campaign_figures(result: dict[str, Any], threshold: float) -> dict[str, str]:
    """The hull plot (binary to quaternary), formation energy vs E_hull and the E_hull strip."""
    cands = ranked(result.get("candidates", []))
    points = hull_points(result)
    return {
        "hull": plots.phase_diagram_plot(phase_diagram(result), show_unstable=0.2),
        "formation": plots.formation_vs_ehull(cands, points, threshold),
        "strip": plots.ehull_strip(cands, threshold),
    }


def parity_and_residuals(rows: list[dict[str, Any]]) -> tuple[str, str]:
    """Predicted vs measured formation enthalpy (eV/atom) with the prediction's 90 % interval, and the
    residuals measured − predicted per measurement; ``rows`` carry ``measured``, ``predicted``,
    ``low``/``high`` (or None), ``formula`` and ``label``."""
    pts = [r for r in rows if r.get("predicted") is not None]
    if not pts:
        return note("No measurement has a prediction in this store (no campaign computed its formula)."), ""
    xs = [r["predicted"] for r in pts]
    ys = [r["measured"] for r in pts]
    lo, hi = min(xs + ys), max(xs + ys)
    pad = 0.05 * (hi - lo or 1.0)
    err = [
        (r["high"] - r["predicted"], r["predicted"] - r["low"]) if r.get("low") is not None else (0.0, 0.0)
        for r in pts
    ]
    hover = [f"{r['formula']}<br>{r['label']}" for r in pts]
    fig = go.Figure()
    fig.add_scatter(x=[lo - pad, hi + pad], y=[lo - pad, hi + pad], mode="lines", name="y = x",
                    line={"color": "#999", "dash": "dash"})  # fmt: skip
    fig.add_scatter(
        x=xs, y=ys, mode="markers", name="measurements", marker={"size": 10, "color": PALETTE[0]},
        error_x={"type": "data", "symmetric": False, "array": [e[0] for e in err],
                 "arrayminus": [e[1] for e in err], "thickness": 1},
        hovertext=hover,
        hovertemplate="%{hovertext}<br>predicted %{x:.3f}<br>measured %{y:.3f}<extra></extra>",
    )  # fmt: skip
    fig.update_layout(title="Formation enthalpy: measured vs predicted",
                      xaxis={"title": "predicted ΔH<sub>f</sub> (eV/atom)"},
                      yaxis={"title": "measured ΔH<sub>f</sub> (eV/atom)"}, **_LAYOUT)  # fmt: skip
    res = go.Figure()
    res.add_bar(
        x=[f"{r['formula']} #{i + 1}" for i, r in enumerate(pts)],
        y=[r["measured"] - r["predicted"] for r in pts],
        marker_color=[PALETTE[5] if r.get("outside") else PALETTE[2] for r in pts],
        hovertext=hover, hovertemplate="%{hovertext}<br>residual %{y:.3f} eV/atom<extra></extra>",
    )  # fmt: skip
    res.update_layout(title="Residuals (measured − predicted; orange: outside the 90 % interval)",
                      yaxis={"title": "eV/atom"}, **_LAYOUT)  # fmt: skip
    return to_div(fig, "parity-plot"), to_div(res, "residual-plot", height=360)


def calibration_history(cals: list[dict[str, Any]]) -> str:
    """Held-out MAE of each stored calibration over time, one line per engine."""
    pts = [c for c in cals if isinstance(c["metrics"].get("heldout_mae_calibrated"), int | float)]
    if not pts:
        return note("No stored calibration has held-out figures.")
    fig = go.Figure()
    for i, engine in enumerate(sorted({c["engine"] for c in pts})):
        group = [c for c in pts if c["engine"] == engine]
        fig.add_scatter(
            x=[c["created_at"] for c in group],
            y=[c["metrics"]["heldout_mae_calibrated"] for c in group],
            mode="lines+markers", name=engine, marker={"color": PALETTE[i % len(PALETTE)], "size": 9},
            hovertext=[c["name"] for c in group], hovertemplate="%{hovertext}<br>MAE %{y:.3f}<extra></extra>",
        )  # fmt: skip
    fig.update_layout(
        title="Calibration history: held-out MAE (eV/atom)", yaxis={"title": "eV/atom"}, **_LAYOUT
    )
    return to_div(fig, "calibration-history", height=380)


def finite_or_none(x: Any) -> float | None:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None
