"""HTML page of an excited-state calculation: the broadened absorption spectrum with the oscillator
strengths as sticks (plotly, self-contained), the table of states, and CSV files next to it
(``spectrum.csv``: energy, wavelength, f per eV, molar absorptivity; ``states.csv``: the states)."""

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
