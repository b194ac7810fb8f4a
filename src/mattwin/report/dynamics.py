"""A self-contained HTML page of an MD series: MSD per species, Arrhenius plot with error bars and
the extrapolation to 300 K, radial distribution functions, and a table of D and conductivity.
plotly.js is inlined once, so the page opens offline; strings from data are escaped."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any

import plotly.graph_objects as go

from mattwin.report.html import _CSS
from mattwin.report.plots import PALETTE, note, plotly_js, to_div

if TYPE_CHECKING:
    from mattwin.tasks.transport_types import DiffusionReport

_LAYOUT: dict[str, Any] = {
    "template": "plotly_white",
    "margin": {"l": 70, "r": 20, "t": 50, "b": 60},
    "font": {"family": "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif", "size": 13},
}
KB_EV = 8.617333262e-5


def msd_plot(rep: DiffusionReport) -> str:
    """MSD against lag time, one line per (species, temperature); dash per species."""
    if not rep.points:
        return note("No MD runs to plot.")
    fig = go.Figure()
    dashes = ["solid", "dash", "dot", "dashdot", "longdash"]
    species = list(rep.points[0].msd_A2)
    for k, p in enumerate(rep.points):
        for j, sp in enumerate(species):
            fig.add_trace(
                go.Scatter(
                    x=p.msd_time_ps,
                    y=p.msd_A2[sp],
                    mode="lines",
                    name=f"{escape(sp)} {p.temperature_K:g} K",
                    line={"color": PALETTE[k % len(PALETTE)], "dash": dashes[j % len(dashes)]},
                    hovertemplate="%{x:.2f} ps: %{y:.3f} Å²<extra>"
                    + escape(sp)
                    + f" {p.temperature_K:g} K</extra>",
                )
            )
    fig.update_layout(
        title="Mean-squared displacement per species (all time origins)",
        xaxis={"title": "lag time (ps)"},
        yaxis={"title": "MSD (Å²)", "rangemode": "tozero"},
        **_LAYOUT,
    )
    return to_div(fig, "msd")


def arrhenius_plot(rep: DiffusionReport) -> str:
    """log10 D against 1000/T with block-averaging error bars, the fitted line extended to 300 K."""
    if not rep.arrhenius:
        return note("No species diffuses significantly at two or more temperatures: no Arrhenius fit.")
    fig = go.Figure()
    for k, (sp, fit) in enumerate(rep.arrhenius.items()):
        colour = PALETTE[k % len(PALETTE)]
        x = [1000.0 / t for t in fit["temperatures_K"]]
        d, err = fit["D_cm2_s"], fit["D_err_cm2_s"]
        fig.add_trace(
            go.Scatter(
                x=x,
                y=d,
                mode="markers",
                name=f"{escape(sp)} MD",
                marker={"color": colour, "size": 10},
                error_y={"type": "data", "array": err, "visible": True},
                hovertemplate="1000/T = %{x:.3f} K⁻¹<br>D = %{y:.3g} cm²/s<extra></extra>",
            )
        )
        t_line = [fit["T_extrapolated_K"], *sorted(fit["temperatures_K"])]
        xs = sorted(1000.0 / t for t in t_line)
        ys = [fit["D0_cm2_s"] * math.exp(-fit["Ea_eV"] / (KB_EV * 1000.0 / xv)) for xv in xs]
        label = f"{escape(sp)} fit: Ea = {fit['Ea_eV']:.3f} ± {fit['Ea_err_eV']:.3f} eV"
        fig.add_trace(
            go.Scatter(x=xs, y=ys, mode="lines", name=label, line={"color": colour, "dash": "dash"})
        )
        f = fit["D_extrapolated_factor"]
        d300 = fit["D_extrapolated_cm2_s"]
        fig.add_trace(
            go.Scatter(
                x=[1000.0 / fit["T_extrapolated_K"]],
                y=[d300],
                mode="markers",
                name=f"{escape(sp)} at {fit['T_extrapolated_K']:g} K (extrapolated)",
                marker={"color": colour, "symbol": "diamond-open", "size": 12},
                error_y={
                    "type": "data",
                    "symmetric": False,
                    "array": [d300 * (f - 1)],
                    "arrayminus": [d300 * (1 - 1 / f)],
                },
            )
        )
    fig.update_layout(
        title="Arrhenius plot of the tracer diffusivity",
        xaxis={"title": "1000 / T (K⁻¹)"},
        yaxis={"title": "D (cm²/s)", "type": "log", "exponentformat": "power"},
        **_LAYOUT,
    )
    return to_div(fig, "arrhenius")


def rdf_plot(rep: DiffusionReport) -> str:
    """Total g(r) at each temperature."""
    if not rep.points:
        return note("No MD runs to plot.")
    fig = go.Figure()
    for k, p in enumerate(rep.points):
        fig.add_trace(
            go.Scatter(
                x=p.rdf_r_A,
                y=p.rdf_g,
                mode="lines",
                name=f"{p.temperature_K:g} K",
                line={"color": PALETTE[k % len(PALETTE)]},
            )
        )
    fig.add_hline(y=1.0, line_dash="dot", line_color="#888")
    fig.update_layout(
        title="Radial distribution function (all atoms)",
        xaxis={"title": "r (Å)"},
        yaxis={"title": "g(r)"},
        **_LAYOUT,
    )
    return to_div(fig, "rdf")


def _fmt(x: float | None, spec: str = ".3g") -> str:
    return "—" if x is None or not math.isfinite(x) else format(x, spec)


def _table(rep: DiffusionReport) -> str:
    species = list(rep.points[0].diffusion) if rep.points else []
    head = "".join(f"<th>D({escape(s)}) cm²/s</th>" for s in species)
    rows = []
    for p in rep.points:
        ds = "".join(
            f'<td class="num">{_fmt(p.diffusion[s]["D_cm2_s"])} <span class="pm">± '
            f"{_fmt(p.diffusion[s]['D_err_cm2_s'], '.2g')}</span></td>"
            for s in species
        )
        rows.append(
            f'<tr><td class="num">{p.temperature_K:g}</td><td class="num">{p.mean_temperature_K:.0f}</td>'
            f'<td class="num">{p.analysed_ps:.2f}</td><td class="num">{p.volume_A3:.1f}</td>{ds}'
            f'<td class="num">{_fmt(p.conductivity_S_cm)}</td>'
            f'<td class="num">{_fmt(p.force_std_max_eV_A)}</td>'
            f"<td>{'stopped: untrusted' if p.stopped_untrusted else 'ok'}</td></tr>"
        )
    return (
        '<div class="tablewrap"><table><thead><tr><th>T (K)</th><th>⟨T⟩ (K)</th><th>analysed (ps)</th>'
        f"<th>V (Å³)</th>{head}<th>σ (S/cm)</th><th>max force spread (eV/Å)</th><th>trust</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table></div>"
    )


def _cards(rep: DiffusionReport) -> str:
    cards = [("runs", str(len(rep.points))), ("ensemble", rep.ensemble.upper())]
    shown = {rep.carrier: rep.arrhenius[rep.carrier]} if rep.carrier in rep.arrhenius else rep.arrhenius
    for sp, fit in shown.items():
        cards.append((f"Ea({sp}) eV", f"{fit['Ea_eV']:.3f} ± {fit['Ea_err_eV']:.3f}"))
        cards.append(
            (
                f"D({sp}) 300 K cm²/s",
                f"{fit['D_extrapolated_cm2_s']:.2g} (×/÷ {fit['D_extrapolated_factor']:.1f})",
            )
        )
    if rep.conductivity_300K_S_cm is not None:
        cards.append((f"σ({rep.carrier}) 300 K mS/cm", f"{1000 * rep.conductivity_300K_S_cm:.3g}"))
    if rep.thermal_expansion:
        cards.append(("α_L 1/K", f"{rep.thermal_expansion['alpha_L_per_K']:.2e}"))
    if rep.melting and rep.melting.get("T_melt_K"):
        cards.append(("T_melt bracket K", f"{rep.melting['T_solid_K']:g}–{rep.melting['T_liquid_K']:g}"))
    return (
        '<div class="cards">'
        + "".join(
            f'<div class="card"><div class="v">{escape(v)}</div><div class="k">{escape(k)}</div></div>'
            for k, v in cards
        )
        + "</div>"
    )


def render(rep: DiffusionReport) -> str:
    """The whole page as a string."""
    sig = escape(json.dumps(rep.engine_signature, sort_keys=True))
    notes = "".join(f"<li>{escape(n)}</li>" for n in rep.notes)
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>mattwin dynamics: {escape(rep.formula)}</title><style>{_CSS}</style>
<script>{plotly_js()}</script></head><body>
<header><div class="inner"><h1>Dynamics of {escape(rep.formula)}</h1>
<div class="sub">series {escape(rep.run_id)} · {escape(rep.ensemble.upper())}</div>
<div class="meta">engine {sig} · {now}</div></div></header><main>
{_cards(rep)}
{"<h2>Notes</h2><ul>" + notes + "</ul>" if notes else ""}
<h2>Diffusion</h2><div class="grid"><div class="plot">{msd_plot(rep)}</div>
<div class="plot">{arrhenius_plot(rep)}</div></div>
<h2>Structure</h2><div class="plot">{rdf_plot(rep)}</div>
<h2>Per temperature</h2>{_table(rep)}
<p class="note">D from the slope of the all-origins MSD (lags 20–60 % of a block), error by block
averaging; σ by Nernst–Einstein with Haven ratio 1; the extrapolation to 300 K assumes one mechanism
over the whole range.</p>
<footer>mattwin · self-contained page</footer></main></body></html>"""


def write_dynamics_report(rep: DiffusionReport, out_dir: Path) -> Path:
    """Write ``out_dir/dynamics.html`` and ``out_dir/dynamics.json``; return the HTML path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "dynamics.json").write_text(json.dumps(rep.to_dict(with_curves=True), indent=1, default=str))
    path = out_dir / "dynamics.html"
    path.write_text(render(rep), encoding="utf-8")
    return path
