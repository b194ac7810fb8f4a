"""HTML pages of the quantum area. Excited states: the broadened absorption spectrum with the oscillator
strengths as sticks (plotly, self-contained), the table of states, and CSV files next to it
(``spectrum.csv``: energy, wavelength, f per eV, molar absorptivity; ``states.csv``: the states).
The quantum rung (``rungs.html``): energy error against the exact reference and CPU time of each rung
and control side by side, the table of rungs, QPE resources and the provenance."""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from html import escape
from pathlib import Path

import plotly.graph_objects as go

from mattwin.analysis.spectra import HC_EV_NM
from mattwin.report.html import _CSS
from mattwin.report.plots import _LAYOUT, note, plotly_js, to_div
from mattwin.tasks.excitations import ExcitationsResult
from mattwin.tasks.quantum_rung import QuantumRungResult


def spectrum_figure(res: ExcitationsResult, title: str) -> go.Figure:
    """Molar absorptivity (L mol^-1 cm^-1, left axis) against photon energy (eV) and oscillator
    strengths as sticks (right axis)."""
    fig = go.Figure()
    sp = res.spectrum
    fig.add_trace(
        go.Scatter(
            x=sp["energy_eV"],
            y=sp["epsilon_L_mol_cm"],
            mode="lines",
            name=f"Gaussian FWHM {res.fwhm_eV} eV",
            line={"color": "#0072B2", "width": 2},
            hovertemplate="%{x:.3f} eV<br>ε = %{y:.0f} L/mol/cm<extra></extra>",
        )
    )
    xs: list[float | None] = []
    ys: list[float | None] = []
    for st in res.states:
        xs += [st["energy_eV"], st["energy_eV"], None]
        ys += [0.0, st["oscillator_strength"] or 0.0, None]
    fig.add_trace(
        go.Scatter(
            x=xs, y=ys, mode="lines", yaxis="y2", name="oscillator strength", line={"color": "#D55E00"}
        )
    )
    fig.add_trace(
        go.Scatter(
            x=[s["energy_eV"] for s in res.states],
            y=[s["oscillator_strength"] or 0.0 for s in res.states],
            mode="markers",
            yaxis="y2",
            showlegend=False,
            marker={"color": "#D55E00", "size": 7},
            text=[escape(f"S{i + 1}: {s['character']}") for i, s in enumerate(res.states)],
            hovertemplate="%{text}<br>%{x:.3f} eV, f = %{y:.4f}<extra></extra>",
        )
    )
    layout = dict(_LAYOUT)
    layout["legend"] = {"orientation": "h", "y": -0.2}
    fig.update_layout(
        **layout,
        title=title,
        xaxis={"title": "photon energy (eV)"},
        yaxis={"title": "ε (L mol⁻¹ cm⁻¹)", "rangemode": "tozero"},
        yaxis2={"title": "oscillator strength f", "overlaying": "y", "side": "right", "rangemode": "tozero"},
    )
    return fig


def _table(res: ExcitationsResult) -> str:
    head = "<tr><th>state</th><th>E (eV)</th><th>λ (nm)</th><th>f</th><th>character</th></tr>"
    rows = []
    for i, s in enumerate(res.states):
        f = "—" if s["oscillator_strength"] is None else f"{s['oscillator_strength']:.4f}"
        spin = "S" if s["spin"] == "singlet" else "T"
        rows.append(
            f"<tr><td>{spin}{i + 1}</td><td class='num'>{s['energy_eV']:.3f}</td>"
            f"<td class='num'>{s['wavelength_nm']:.1f}</td><td class='num'>{f}</td>"
            f"<td>{escape(s['character'])}</td></tr>"
        )
    return f"<table>{head}{''.join(rows)}</table>"


def write_csvs(res: ExcitationsResult, out: Path) -> tuple[Path | None, Path]:
    """``spectrum.csv`` (when there is a spectrum) and ``states.csv`` in ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    states = out / "states.csv"
    with states.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["state", "energy_eV", "wavelength_nm", "oscillator_strength", "spin", "character"])
        for i, s in enumerate(res.states):
            w.writerow(
                [
                    i + 1,
                    s["energy_eV"],
                    s["wavelength_nm"],
                    s["oscillator_strength"],
                    s["spin"],
                    s["character"],
                ]
            )
    if not res.spectrum:
        return None, states
    spec = out / "spectrum.csv"
    sp = res.spectrum
    with spec.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["energy_eV", "wavelength_nm", "intensity_f_per_eV", "epsilon_L_mol_cm"])
        for e, inten, eps in zip(
            sp["energy_eV"], sp["intensity_per_eV"], sp["epsilon_L_mol_cm"], strict=True
        ):
            w.writerow([e, round(HC_EV_NM / e, 3) if e > 0 else "", inten, eps])
    return spec, states


def write_excitation_report(
    res: ExcitationsResult, formula: str, source: str, out: Path
) -> dict[str, str | None]:
    """Write ``excitations.html`` with its CSV files into ``out``; return their paths."""
    spec, states = write_csvs(res, out)
    title = f"{formula}: {res.method.upper()} ({res.level})"
    if res.spectrum:
        plot = to_div(spectrum_figure(res, title), "spectrum", height=460)
    else:
        plot = note(f"No spectrum: {res.method.upper()} oscillator strengths are not available in PySCF.")
    csv_links = " · ".join(f'<a href="{p.name}">{p.name}</a>' for p in (spec, states) if p is not None)
    html = f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>{escape(title)}</title><style>{_CSS}</style>
<script>{plotly_js()}</script></head><body>
<h1>{escape(title)}</h1>
<p>Input {escape(source)}; vertical excitations, ground-state energy {res.ground_state_energy_hartree:.8f} Eh;
spectrum: Gaussians of FWHM {res.fwhm_eV} eV with area f (ε = 28700 L mol⁻¹ cm⁻¹ eV per unit f).
Data: {csv_links}. Written {datetime.now(UTC):%Y-%m-%d %H:%M} UTC.</p>
{plot}
<h2>States</h2>
{_table(res)}
</body></html>"""
    page = out / "excitations.html"
    page.write_text(html)
    return {"report_html": str(page), "spectrum_csv": str(spec) if spec else None, "states_csv": str(states)}


def rung_figure(res: QuantumRungResult, title: str) -> go.Figure:
    """Two panels: |energy error| against the exact reference (mEh, log axis; hatched where the
    energy lies below it, which only non-variational CCSD(T) may do) and CPU time (s) per rung."""
    from plotly.subplots import make_subplots

    rows = [r for r in res.rungs if r.get("energy_hartree") is not None and not r.get("reference")]
    names = [r["rung"] for r in rows]
    err = [max(abs(r["error_mEh"]), 1e-6) if r["error_mEh"] is not None else None for r in rows]
    colors = [
        "#D55E00" if r.get("headline") else "#CC79A7" if (r["error_mEh"] or 0) < 0 else "#999999"
        for r in rows
    ]
    fig = make_subplots(rows=1, cols=2, subplot_titles=("|E − E_exact| (mEh)", "CPU time (s)"))
    fig.add_trace(
        go.Bar(
            y=names,
            x=err,
            orientation="h",
            marker={"color": colors},
            name="error",
            hovertemplate="%{y}: %{x:.4g} mEh<extra></extra>",
        ),
        row=1,
        col=1,
    )
    fig.add_trace(
        go.Bar(
            y=names,
            x=[max(r["cpu_s"], 1e-3) for r in rows],
            orientation="h",
            marker={"color": "#0072B2"},
            name="CPU time",
            hovertemplate="%{y}: %{x:.3g} s<extra></extra>",
        ),
        row=1,
        col=2,
    )
    layout = dict(_LAYOUT)
    layout["showlegend"] = False
    fig.update_layout(**layout, title=title)
    fig.update_xaxes(type="log", row=1, col=1)
    fig.update_xaxes(type="log", row=1, col=2)
    fig.update_yaxes(showticklabels=False, row=1, col=2)
    return fig


def _rung_table(res: QuantumRungResult) -> str:
    head = (
        "<tr><th>rung</th><th>E (Eh)</th><th>E − E_exact (mEh)</th><th>CPU (s)</th>"
        "<th>determinants</th><th>note</th></tr>"
    )
    rows = []
    for r in res.rungs:
        e = "—" if r.get("energy_hartree") is None else f"{r['energy_hartree']:.8f}"
        d = "—" if r.get("error_mEh") is None else f"{r['error_mEh']:+.4f}"
        dets = r.get("determinants")
        style = " style='font-weight:bold'" if r.get("headline") else ""
        rows.append(
            f"<tr{style}><td>{escape(r['rung'])}</td><td class='num'>{e}</td><td class='num'>{d}</td>"
            f"<td class='num'>{r['cpu_s']:.3f}</td><td class='num'>{'' if dets is None else f'{dets:,}'}</td>"
            f"<td>{escape(str(r.get('note') or ''))}</td></tr>"
        )
    return f"<table>{head}{''.join(rows)}</table>"


def write_rung_report(res: QuantumRungResult, formula: str, source: str, out: Path) -> str:
    """Write ``rungs.html`` (the quantum rung beside its classical controls) into ``out``; its path."""
    import json

    out.mkdir(parents=True, exist_ok=True)
    ne, no = res.active_space
    title = f"{formula}: {res.algorithm}({ne},{no})/{res.basis}, {res.n_qubits} qubits"
    if res.energy_hartree is not None:
        plot = to_div(rung_figure(res, title), "rungs", height=120 + 48 * len(res.rungs))
    else:
        plot = note("A QPE cost estimate computes no energy: see the resources below.")
    resources = ""
    if res.resources:
        items = "".join(f"<li>{escape(k)}: {escape(str(v))}</li>" for k, v in res.resources.items())
        resources = f"<h2>Fault-tolerant QPE resources (logical)</h2><ul>{items}</ul>"
    ref = res.reference
    ref_text = f"{escape(ref['solver'])}, {ref['energy_hartree']:.8f} Eh" if ref else "none"
    html = f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>{escape(title)}</title><style>{_CSS}</style>
<script>{plotly_js()}</script></head><body>
<h1>{escape(title)}</h1>
<p><strong>{escape(res.statement.capitalize())}.</strong> Input {escape(source)};
{res.n_determinants:,} determinants in the full space; exact reference: {ref_text}.
Written {datetime.now(UTC):%Y-%m-%d %H:%M} UTC.</p>
<p>{escape(res.verdict)}</p>
{plot}
<p>Orange: the quantum rung's headline energy; pink: below the exact energy (a method that is not
variational); grey: the other rungs and controls. CPU time is the process time of each rung on this
machine (the emulation's cost, not a quantum device's).</p>
<h2>Rungs and controls</h2>
{_rung_table(res)}
{resources}
<h2>Provenance</h2>
<pre>{escape(json.dumps(res.provenance, indent=1, default=str))}</pre>
</body></html>"""
    page = out / "rungs.html"
    page.write_text(html)
    return str(page)
