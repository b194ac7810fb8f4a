"""A self-contained HTML page of a calibration of formation energies against experiment.

``calibration.html`` shows the held-out figures of the calibration procedure (grouped
cross-validation: every compound is predicted by a fit that saw none of its chemical system): headline
cards, a parity plot of predicted against measured formation enthalpy with the 90 % intervals, the
residuals per chemistry class, the coverage curve of the intervals, and the fitted corrections with
their standard deviations. ``heldout.csv`` next to it holds the points. plotly.js is inlined once, so
the page opens offline; every string from data is escaped. Energies in eV/atom.
"""

from __future__ import annotations

import csv
import json
import math
from datetime import UTC, datetime
from html import escape
from pathlib import Path
from typing import Any

import numpy as np

from mattwin.analysis.calibration import PRIOR_EV, HeldOut
from mattwin.discovery.calibrate import CalibrationReport
from mattwin.report.calibration_plots import class_order, coverage_plot, parity_plot, residuals_plot
from mattwin.report.html import _CSS
from mattwin.report.plots import plotly_js

_CSV_HEADER = [
    "formula",
    "class",
    "measured_eV_per_atom",
    "raw_eV_per_atom",
    "calibrated_eV_per_atom",
    "half_width_90_eV_per_atom",
    "fold",
]
_EXTRA_CSS = """
.card .n{font-size:12px;color:var(--muted);max-width:240px;margin-top:2px}
.card .v.small{font-size:17px;font-family:ui-monospace,Menlo,Consolas,monospace}
table.narrow{width:auto;min-width:420px}
"""


# ---------------------------------------------------------------------------------------------- data


def write_heldout_csv(heldout: HeldOut, path: Path) -> Path:
    """One row per held-out compound: formula, class, measured, raw, calibrated, 90 % half width."""
    hw = heldout.half_width(0.9)
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(_CSV_HEADER)
        for i, formula in enumerate(heldout.formulas):
            w.writerow(
                [
                    formula,
                    heldout.classes[i],
                    f"{heldout.measured[i]:.6f}",
                    f"{heldout.raw[i]:.6f}",
                    f"{heldout.calibrated[i]:.6f}",
                    f"{hw[i]:.6f}",
                    int(heldout.fold[i]),
                ]
            )
    return path


# ---------------------------------------------------------------------------------------------- tables


def _card(value: str, key: str, extra: str = "", small: bool = False) -> str:
    cls = "v small" if small else "v"
    n = f'<div class="n">{escape(extra)}</div>' if extra else ""
    v = f'<div class="{cls}">{escape(value)}</div>'
    return f'<div class="card">{v}<div class="k">{escape(key)}</div>{n}</div>'


def _ev(x: Any) -> str:
    return "—" if x is None or not math.isfinite(float(x)) else f"{float(x):.3f}"


def _pct(x: Any) -> str:
    return "—" if x is None or not math.isfinite(float(x)) else f"{100 * float(x):.0f} %"


def cards(report: CalibrationReport) -> str:
    """Engine, calibration, compounds, held-out MAE raw → calibrated, MP2020 MAE, coverage."""
    cal, m = report.calibration, report.metrics()
    items = [
        _card(cal.engine, "engine", small=True),
        _card(cal.name, "calibration", small=True),
        _card(str(cal.n_compounds), "compounds fitted"),
        _card(
            f"{_ev(m['heldout_mae_raw'])} → {_ev(m['heldout_mae_calibrated'])}",
            "held-out MAE, eV/atom",
            "raw → calibrated, grouped by chemical system",
        ),
        _card(_pct(m["coverage_90"]), "inside the 90 % interval", f"68 % interval: {_pct(m['coverage_68'])}"),
        _card(f"± {_ev(m['median_interval_90'])}", "median 90 % half width", "eV/atom, held out"),
    ]
    if m.get("mae_mp2020") is not None:
        items.append(
            _card(
                _ev(m["mae_mp2020"]),
                "MP2020 MAE, eV/atom",
                f"on {m['n_mp2020']} compounds; MP2020 was fitted to this very set: not a held-out figure",
            )
        )
    return f'<section class="cards">{"".join(items)}</section>'


def class_table(report: CalibrationReport) -> str:
    """Per chemistry class: n, held-out MAE raw and calibrated, coverage of the 90 % interval."""
    h = report.heldout
    inside = np.abs(h.measured - h.calibrated) <= h.half_width(0.9)
    classes = np.array(h.classes)
    rows = []
    for c, n in class_order(h.classes):
        sel = classes == c
        rows.append(
            f"<tr><td>{escape(c)}</td><td class='num'>{n}</td>"
            f"<td class='num'>{_ev(np.mean(np.abs(h.raw[sel] - h.measured[sel])))}</td>"
            f"<td class='num'>{_ev(np.mean(np.abs(h.calibrated[sel] - h.measured[sel])))}</td>"
            f"<td class='num'>{_pct(np.mean(inside[sel]))}</td></tr>"
        )
    return (
        '<div class="tablewrap"><table class="narrow" id="classes"><thead><tr><th>class</th><th>n</th>'
        "<th>MAE raw (eV/atom)</th><th>MAE calibrated (eV/atom)</th><th>inside 90 %</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table></div>"
    )


def coefficient_table(d: dict[str, Any]) -> str:
    """The corrections (eV per atom of the species) with their posterior standard deviations; species
    the data never constrained (σ still at the prior's) are listed on one line."""
    coef: dict[str, float] = d["coefficients_eV_per_atom_of_species"]
    std: dict[str, float] = d["coefficient_std"]
    fitted = [k for k in coef if std[k] < 0.9 * PRIOR_EV]
    prior = [k for k in coef if k not in fitted]
    rows = "".join(
        f"<tr><td>{escape(k)}</td><td class='num'>{coef[k]:+.3f}</td><td class='num'>{std[k]:.3f}</td></tr>"
        for k in fitted
    )
    if prior:
        rows += (
            f"<tr><td colspan='3' class='note'>not in the data, prior 0 ± {PRIOR_EV:g} kept: "
            f"{escape(', '.join(prior))}</td></tr>"
        )
    return (
        '<div class="tablewrap"><table class="narrow" id="coefficients"><thead><tr><th>species</th>'
        "<th>correction c<sub>k</sub> (eV/atom of species)</th><th>σ (eV/atom of species)</th></tr>"
        f"</thead><tbody>{rows}</tbody></table></div>"
    )


# ---------------------------------------------------------------------------------------------- page


def render(report: CalibrationReport) -> str:
    """The whole page as a string."""
    from mattwin import __version__

    cal, h, d = report.calibration, report.heldout, report.to_dict()
    title = f"Calibration of {cal.engine} formation energies"
    fitted_on = escape(json.dumps(cal.fitted_on, indent=2, ensure_ascii=False, default=str))
    ref = cal.fitted_on.get("reference_set")
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    k = len(h.fold_scores)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)}</title><style>{_CSS}{_EXTRA_CSS}</style>
<script>{plotly_js()}</script></head>
<body><header><div class="inner"><h1>{escape(title)}</h1>
<div class="sub">calibration <b>{escape(cal.name)}</b> · {cal.n_compounds} compounds
{"· " + escape(str(ref)) if ref else ""}</div>
<div class="meta">fitted {escape(cal.created_at)} · report generated {now} · mattwin {escape(__version__)}
</div></div></header>
<nav><a href="#parity-sec">Parity</a><a href="#residuals">By chemistry</a><a href="#coverage-sec">Coverage</a>
<a href="#corrections">Corrections</a><a href="heldout.csv">CSV</a></nav>
<main>{cards(report)}
<p class="note">Held-out figures: each of the {len(h.formulas)} compounds is predicted by a calibration
fitted without its chemical system ({k}-fold cross-validation grouped by chemical system), so they
estimate the error on chemistry the fit has not seen. Campaigns use the calibration fitted on all
{cal.n_compounds} compounds. ΔH<sub>f</sub> calibrated = raw + Σ<sub>k</sub> c<sub>k</sub>
n<sub>k</sub>/N + a Gaussian-process residual; intervals are conformally scaled.</p>
<div class="grid"><section id="parity-sec" class="plot">{parity_plot(h)}</section>
<section id="coverage-sec" class="plot">{coverage_plot(h)}</section></div>
<section id="residuals"><h2>Residuals by chemistry</h2><div class="plot">{residuals_plot(h)}</div>
{class_table(report)}</section>
<section id="corrections"><h2>Corrections</h2>
<p class="note">c<sub>k</sub> per atom of correction species k (anion or U metal, MP2020 scheme),
posterior mean and standard deviation of the fit on all compounds.</p>{coefficient_table(d)}
<details><summary>Fitted on</summary><pre>{fitted_on}</pre></details></section>
<footer>mattwin {escape(__version__)} · data: <a href="heldout.csv">heldout.csv</a></footer></main>
</body></html>
"""


def write_calibration_report(report: CalibrationReport, out_dir: Path) -> Path:
    """Write ``out_dir/calibration.html`` and ``out_dir/heldout.csv``; return the HTML path."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    write_heldout_csv(report.heldout, out / "heldout.csv")
    path = out / "calibration.html"
    path.write_text(render(report), encoding="utf-8")
    return path
