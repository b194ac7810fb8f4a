"""A self-contained HTML report of a campaign, with its structures (CIF) and tables (CSV, JSON).

The page inlines plotly.js once, so it opens offline; every string that comes from data is escaped.
"""

from __future__ import annotations

import csv
import json
import math
import re
from collections.abc import Callable
from datetime import UTC, datetime
from html import escape
from operator import attrgetter
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mattwin.discovery.results import CampaignResult, RankedCandidate
from mattwin.report import plots
from mattwin.report.plots import finite, interval
from mattwin.report.tables import FILTER_JS, failed_table, formula_html, on_hull, ranked_table

if TYPE_CHECKING:
    from pymatgen.analysis.phase_diagram import PhaseDiagram

DEFAULT_THRESHOLD = 0.025  # eV/atom: "near the hull" (metastable but plausibly synthesizable)

_CSS = """
:root{--fg:#1d2330;--muted:#667085;--line:#e4e7ec;--zebra:#f7f8fa;--accent:#0b5cad;--ok:#067647;
 --warn:#b54708}
*{box-sizing:border-box}
body{margin:0;font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;
 color:var(--fg);background:#fff}
main{max-width:1400px;margin:0 auto;padding:0 24px 48px}
header{background:linear-gradient(120deg,#0b2e59,#0b5cad);color:#fff;padding:28px 24px 22px}
header .inner{max-width:1400px;margin:0 auto}header h1{margin:0 0 4px;font-size:28px;font-weight:650}
header .sub{opacity:.9;font-size:16px}header .meta{opacity:.8;font-size:13px;margin-top:8px}
header .cal{font-size:14px;margin-top:6px;opacity:.95}
nav{position:sticky;top:0;background:#fff;border-bottom:1px solid var(--line);z-index:10;padding:8px 24px}
nav a{margin-right:18px;color:var(--accent);text-decoration:none;font-weight:550}
h2{font-size:20px;margin:32px 0 12px;border-bottom:2px solid var(--line);padding-bottom:4px}
.cards{display:flex;flex-wrap:wrap;gap:12px;margin:20px 0}
.card{border:1px solid var(--line);border-radius:10px;padding:10px 16px;min-width:120px;
 background:var(--zebra)}
.card .v{font-size:24px;font-weight:650;font-variant-numeric:tabular-nums}
.card .k{font-size:12px;color:var(--muted);text-transform:uppercase;letter-spacing:.04em}
.engine code{background:rgba(255,255,255,.15);border:1px solid rgba(255,255,255,.3);border-radius:6px;
 padding:1px 6px;margin-right:6px}
.tablewrap{overflow-x:auto;border:1px solid var(--line);border-radius:10px}
table{border-collapse:collapse;width:100%;font-size:14px}
th,td{padding:6px 10px;text-align:left;border-bottom:1px solid var(--line);vertical-align:top}
th{background:#eef2f7;position:sticky;top:0;white-space:nowrap;font-weight:600}
table.sortable th{cursor:pointer;user-select:none}table.sortable th:hover{background:#e1e8f1}
th[aria-sort=ascending]::after{content:" \\25B2";font-size:10px}
th[aria-sort=descending]::after{content:" \\25BC";font-size:10px}
tbody tr:nth-child(even){background:var(--zebra)}tbody tr:hover{background:#eaf2fc}
td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.pm{color:var(--muted);font-size:12px}
.badge{display:inline-block;font-size:11px;font-weight:600;border-radius:999px;padding:0 7px;
 margin-left:6px}
.badge.hull{background:#d1fadf;color:var(--ok)}.badge.near{background:#fef0c7;color:var(--warn)}
.err{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:12px;color:#912018;white-space:pre-wrap;
 word-break:break-word}
[data-tip]{position:relative}
[data-tip]:hover::before{content:attr(data-tip);position:absolute;left:0;top:100%;z-index:20;
 background:#1d2330;color:#fff;font-size:12px;font-weight:400;padding:6px 8px;border-radius:6px;
 white-space:normal;width:max-content;max-width:280px;text-transform:none;letter-spacing:0}
.note{color:var(--muted);font-style:italic}
.grid{display:grid;grid-template-columns:repeat(2,minmax(0,1fr));gap:16px}
@media (max-width:1000px){.grid{grid-template-columns:1fr}}
.plot{border:1px solid var(--line);border-radius:10px;padding:6px;margin-bottom:16px;min-width:0}
.empty{padding:24px;border:2px dashed var(--line);border-radius:10px;text-align:center;color:var(--muted)}
details pre{background:var(--zebra);padding:12px;border-radius:8px;overflow-x:auto;font-size:12px}
footer{color:var(--muted);font-size:12px;margin-top:40px}
.filter{margin:.4em 0}.filter input[type=number]{width:4.5em}
.route-card{border:1px solid #ddd;border-radius:6px;padding:.4em .9em;margin:.6em 0}
.route-card h3{margin:.3em 0;font-size:1.05em}td.bad{color:#b00020}td.verdict{min-width:22em;font-size:.85em}
"""

_SORT_JS = """
document.querySelectorAll("table.sortable").forEach(function(t){
  t.querySelectorAll("th").forEach(function(th,i){
    th.addEventListener("click",function(){
      var asc=th.getAttribute("aria-sort")!=="ascending", num=th.dataset.type==="num", b=t.tBodies[0];
      t.querySelectorAll("th").forEach(function(h){h.removeAttribute("aria-sort")});
      th.setAttribute("aria-sort",asc?"ascending":"descending");
      var rows=Array.prototype.slice.call(b.rows);
      rows.sort(function(r1,r2){
        var a=r1.cells[i].dataset.v, c=r2.cells[i].dataset.v;
        if(a===undefined)a=r1.cells[i].textContent; if(c===undefined)c=r2.cells[i].textContent;
        if(a==="")return 1; if(c==="")return -1;
        var d=num?parseFloat(a)-parseFloat(c):a.localeCompare(c,undefined,{numeric:true});
        return asc?d:-d;});
      rows.forEach(function(r){b.appendChild(r)});
    });
  });
});
"""


def write_report(
    result: CampaignResult,
    out_dir: str | Path,
    phase_diagram: PhaseDiagram | None = None,
    *,
    stability_threshold: float | None = None,
    show_unstable: float = 0.2,
) -> Path:
    """Write out_dir/report.html (+ out_dir/structures/<rank>_<formula>_<id>.cif for every candidate with a
    relaxed structure, + out_dir/candidates.csv and candidates.json) and return the report path.

    ``stability_threshold`` (eV/atom) draws the dashed line on the E_hull plots and the "near hull" badge;
    it defaults to ``result.parameters["stability_threshold"]`` or 25 meV/atom. ``show_unstable`` (eV/atom)
    is passed to pymatgen's ``PDPlotter`` when ``phase_diagram`` is given.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    threshold = stability_threshold
    if threshold is None:
        threshold = finite(result.parameters.get("stability_threshold")) or DEFAULT_THRESHOLD
    cifs = write_structures(result.candidates, out / "structures")
    write_tables(result, out, cifs, threshold)
    page = render(result, cifs, threshold, phase_diagram, show_unstable)
    path = out / "report.html"
    path.write_text(page, encoding="utf-8")
    return path


# ---------------------------------------------------------------------------------------------- files


def _safe(text: str, limit: int = 48) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-.")[:limit] or "x"


def write_structures(candidates: list[RankedCandidate], folder: Path) -> dict[int, str]:
    """One CIF per candidate with a structure.

    Returns {index in ``candidates``: CIF path relative to the report}.
    """
    from pymatgen.core import Structure
    from pymatgen.io.cif import CifWriter

    out: dict[int, str] = {}
    for i, c in enumerate(candidates):
        if not c.structure:
            continue
        try:
            structure = Structure.from_dict(c.structure)
        except Exception:  # a malformed dict must not sink the whole report
            continue
        folder.mkdir(parents=True, exist_ok=True)
        name = f"{c.rank}_{_safe(c.formula)}_{_safe(c.candidate_id)}.cif"
        CifWriter(structure).write_file(folder / name)
        out[i] = f"{folder.name}/{name}"
    return out


def _end(name: str, i: int) -> Callable[[RankedCandidate], float | None]:
    """Getter of end ``i`` (0: low, 1: high) of the interval attribute ``name``."""

    def get(c: RankedCandidate) -> float | None:
        iv = interval(getattr(c, name))
        return None if iv is None else iv[i]

    return get


_CSV_COLUMNS: list[tuple[str, Callable[[RankedCandidate], Any]]] = [
    ("rank", attrgetter("rank")),
    ("candidate_id", attrgetter("candidate_id")),
    ("formula", attrgetter("formula")),
    ("status", attrgetter("status")),
    ("origin", attrgetter("origin")),
    ("spacegroup", attrgetter("spacegroup")),
    ("n_atoms", attrgetter("n_atoms")),
    ("e_hull (eV/atom)", attrgetter("e_hull")),
    ("e_hull_std (eV/atom)", attrgetter("e_hull_std")),
    ("e_hull_low_90 (eV/atom)", _end("e_hull_interval", 0)),
    ("e_hull_high_90 (eV/atom)", _end("e_hull_interval", 1)),
    ("p_stable", attrgetter("p_stable")),
    ("raw_e_hull (eV/atom)", attrgetter("raw_e_hull")),
    ("formation_energy (eV/atom)", attrgetter("formation_energy_per_atom")),
    ("formation_energy_std (eV/atom)", attrgetter("formation_energy_per_atom_std")),
    ("formation_energy_low_90 (eV/atom)", _end("formation_energy_interval", 0)),
    ("formation_energy_high_90 (eV/atom)", _end("formation_energy_interval", 1)),
    ("raw_formation_energy (eV/atom)", attrgetter("raw_formation_energy_per_atom")),
    ("energy (eV/atom)", attrgetter("energy_per_atom")),
    ("energy_std (eV/atom)", attrgetter("energy_per_atom_std")),
    ("volume (Å^3/atom)", attrgetter("volume_per_atom")),
    ("decomposition", attrgetter("decomposition")),
    ("calibration", attrgetter("calibration")),
    ("known_compound", attrgetter("known_compound")),
    ("synthesizability", attrgetter("synthesizability")),
    ("synthesizability_low", _end("synthesizability_interval", 0)),
    ("synthesizability_high", _end("synthesizability_interval", 1)),
    ("dynamically_stable", attrgetter("dynamically_stable")),
    ("best_route", lambda c: c.routes[0]["reaction"] if c.routes else None),
    ("verdict", attrgetter("verdict")),
    ("error", attrgetter("error")),
]


def route_cards(candidates: list[RankedCandidate]) -> str:
    """One card per candidate with routes: its top routes with ΔG_rxn, onset, competing phases."""
    cards = []
    for c in sorted(candidates, key=lambda x: x.rank):
        if not c.routes:
            continue
        items = []
        for r in c.routes:
            comp = (
                ", ".join(f"{escape(x['formula'])} ({x['dG_eV_atom']:+.2f})" for x in r["competing"])
                or "none"
            )
            onset = f"{r['onset_K'] - 273.15:.0f} °C" if r.get("onset_K") else "never below 2000 K"
            sel = "selective" if r.get("selective") else "a competing phase is favoured"
            items.append(
                f"<li><b>{escape(r['reaction'])}</b> at {r['temperature_K'] - 273.15:.0f} °C: "
                f"ΔG<sub>rxn</sub> {r['dG_eV_atom']:+.3f} eV/atom; downhill from {onset}; {sel}; "
                f"competing: {comp}</li>"
            )
        cards.append(
            f'<div class="route-card" id="routes-{c.rank}"><h3>#{c.rank} {formula_html(c.formula)}'
            f' {escape(c.spacegroup or "")}</h3><p class="note">{escape(c.verdict or "")}</p>'
            f"<ol>{''.join(items)}</ol></div>"
        )
    if not cards:
        return plots.note("No synthesis routes (none of the top candidates has one from common precursors).")
    return (
        '<p class="note">Solid-state routes from the A-Lab precursors with FREED free energies '
        "(reaction-network); the candidate's own calibrated energy with the Bartel et al. Gibbs descriptor; "
        "ΔG per atom of product; oxygen at 1 atm.</p>" + "".join(cards)
    )


def ladder_cards(candidates: list[RankedCandidate], escalation: dict[str, Any] | None) -> str:
    """One card per candidate that climbed the escalation ladder: each rung that ran, in order, what it
    said and what it cost (CPU s), with the policy, budget and spending of the whole escalation."""
    cards = []
    for c in sorted(candidates, key=lambda x: x.rank):
        if not c.ladder:
            continue
        rows = "".join(
            f"<tr><td>{k}</td><td>{escape(str(e.get('rung', '')))}</td>"
            f"<td>{escape(str(e.get('said', '')))}</td>"
            f"<td>{float(e.get('cost_s') or 0.0):.1f}</td></tr>"
            for k, e in enumerate(c.ladder, 1)
        )
        total = sum(float(e.get("cost_s") or 0.0) for e in c.ladder)
        cards.append(
            f'<div class="route-card" id="ladder-{c.rank}"><h3>#{c.rank} {formula_html(c.formula)}'
            f" {escape(c.spacegroup or '')} · {len(c.ladder)} rung{'s' * (len(c.ladder) != 1)}, "
            f"{total:.1f} CPU s</h3><table><thead><tr><th>#</th><th>rung</th><th>what it said</th>"
            f"<th>cost (CPU s)</th></tr></thead><tbody>{rows}</tbody></table>"
            f'<p class="note">{escape(c.verdict or "")}</p></div>'
        )
    if escalation is None and not cards:
        return plots.note("No escalation: the campaign has no [escalate] section.")
    head = ""
    if escalation is not None:
        per = ", ".join(
            f"{escape(str(r))} {float(v):.1f}"
            for r, v in (escalation.get("spent_per_rung_cpu_s") or {}).items()
        )
        budget = escalation.get("budget_cpu_s")
        head = (
            f'<p class="note">Policy <b>{escape(str(escalation.get("policy", "")))}</b> over the top '
            f"{escape(str(escalation.get('top', '')))}; "
            f"rungs {escape(', '.join(escalation.get('rungs') or []))}; "
            f"{escalation.get('n_rungs_run', 0)} rungs run, "
            f"{float(escalation.get('spent_cpu_s') or 0.0):.1f} CPU s spent"
            + (f" of a {float(budget):.0f} CPU s budget" if budget is not None else "")
            + (f" ({per})" if per else "")
            + ". A cost of 0 is a result from the cache or from an earlier stage.</p>"
        )
    return head + ("".join(cards) if cards else plots.note("No rung ran on any candidate."))


def _clean(obj: Any) -> Any:
    """JSON-safe copy: NaN/inf become None, unknown objects their str."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_clean(v) for v in obj]
    if obj is None or isinstance(obj, str | int | bool):
        return obj
    return str(obj)


def write_tables(result: CampaignResult, out: Path, cifs: dict[int, str], threshold: float) -> None:
    """candidates.csv (one row per candidate, units in the header) and candidates.json (the whole result)."""
    targets = sorted({k for c in result.candidates for k in c.targets})
    header = [h for h, _ in _CSV_COLUMNS] + ["on_hull", "cif"] + [f"target:{k}" for k in targets]
    with (out / "candidates.csv").open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        for i, c in enumerate(result.candidates):
            row = [_clean(get(c)) for _, get in _CSV_COLUMNS]
            row += [on_hull(c), cifs.get(i, "")] + [_clean(c.targets.get(k)) for k in targets]
            w.writerow(["" if v is None else v for v in row])
    data = result.to_dict(with_structures=False)
    for i, d in enumerate(data["candidates"]):
        d["cif"] = cifs.get(i)
        d["on_hull"] = on_hull(result.candidates[i])
    data["report"] = {"stability_threshold_eV_per_atom": threshold, "generated": _now()}
    (out / "candidates.json").write_text(
        json.dumps(_clean(data), indent=1, ensure_ascii=False), encoding="utf-8"
    )


# ---------------------------------------------------------------------------------------------- page


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _duration(seconds: float) -> str:
    s = finite(seconds)
    if s is None:
        return "—"
    if s < 60:
        return f"{s:.1f} s"
    h, rem = divmod(int(round(s)), 3600)
    return f"{h} h {rem // 60:02d} min" if h else f"{rem // 60} min {rem % 60:02d} s"


def _engine_html(sig: dict[str, Any], engine: str) -> str:
    listed = sig.get("members")
    members: list[Any] = listed if isinstance(listed, list) else [sig]
    parts = []
    for m in members:
        if not isinstance(m, dict):
            parts.append(f"<code>{escape(str(m))}</code>")
            continue
        words = [str(m.get(k)) for k in ("package", "version") if m.get(k) is not None]
        head = " ".join(words) or str(m.get("engine", engine))
        model = f" · {escape(str(m['model']))}" if m.get("model") is not None else ""
        parts.append(f"<code>{escape(head)}{model}</code>")
    return f'<span class="engine"><b>{escape(engine)}</b>: {"".join(parts)}</span>'


def _cards(result: CampaignResult, ok: list[tuple[int, RankedCandidate]], threshold: float) -> str:
    """Headline counts; "P(stable) ≥ 50 %" when the candidates carry a probability."""
    n_hull = sum(on_hull(c) for _, c in ok)
    n_near = sum(1 for _, c in ok if (e := finite(c.e_hull)) is not None and e <= threshold)
    cards: list[tuple[str, Any]] = [
        ("generated", result.n_generated),
        ("screened", result.n_screened),
        ("failed", result.n_failed),
        ("cached", result.n_cached),
        ("ranked", len(ok)),
        ("on hull", n_hull),
        (f"≤ {1000 * threshold:g} meV/atom", n_near),
    ]
    probs = [p for _, c in ok if (p := finite(c.p_stable)) is not None]
    if probs:
        cards.append(("P(stable) ≥ 50 %", sum(p >= 0.5 for p in probs)))
    cards.append(("wall time", _duration(result.wall_time_s)))
    return "".join(
        f'<div class="card"><div class="v">{escape(str(v))}</div><div class="k">{escape(k)}</div></div>'
        for k, v in cards
    )


def _calibration_html(cal: dict[str, Any] | None) -> str:
    """The header line naming the calibration of the energies and its held-out figures."""
    if not cal:
        return (
            '<div class="cal">Energies: <b>raw energies (no calibration)</b>: formation energies from '
            "the engine's own elemental references, not corrected against experiment</div>"
        )
    parts = [f"engine {escape(str(cal.get('engine', '?')))}"]
    if cal.get("n_compounds"):
        parts.append(f"{escape(str(cal['n_compounds']))} compounds")
    raw, fit = finite(cal.get("heldout_mae_raw")), finite(cal.get("heldout_mae_calibrated"))
    if raw is not None and fit is not None:
        parts.append(f"held-out MAE {raw:.3f} → {fit:.3f} eV/atom")
    cov = finite(cal.get("coverage_90"))
    if cov is not None:
        parts.append(f"90 % intervals cover {100 * cov:.0f} % of held-out compounds")
    return (
        f'<div class="cal">Calibrated against experiment: <b>{escape(str(cal.get("name", "?")))}</b> '
        f"({'; '.join(parts)})</div>"
    )


def _energy_note(result: CampaignResult, threshold: float) -> str:
    """What the numbers in the ranked table are."""
    engine = escape(result.engine)
    if not result.calibration:
        return f"Raw energies from {engine} (no calibration); ± is the ensemble standard deviation."
    return (
        f"E<sub>hull</sub> and E<sub>f</sub> from {engine}, calibrated against experiment; brackets are "
        f"central 90 % intervals, P(stable) the probability that E<sub>hull</sub> ≤ {1000 * threshold:g} "
        "meV/atom, raw E<sub>hull</sub> the value from the uncalibrated energies."
    )


def render(
    result: CampaignResult,
    cifs: dict[int, str],
    threshold: float,
    phase_diagram: PhaseDiagram | None = None,
    show_unstable: float = 0.2,
) -> str:
    """The whole page as a string."""
    from mattwin import __version__

    indexed = sorted(enumerate(result.candidates), key=lambda ic: ic[1].rank)
    ok = [(i, c) for i, c in indexed if c.status == "ok"]
    failed = [c for _, c in indexed if c.status != "ok"]
    space = "–".join(result.elements) or "—"
    started = result.parameters.get("started_at") or result.parameters.get("date")
    if not result.candidates:
        body = '<div class="empty">No candidates: this campaign produced nothing to rank.</div>'
    else:
        body = ranked_table(ok, cifs, threshold)
    if result.candidates:
        plots_html = (
            f'<div class="plot">{plots.phase_diagram_plot(phase_diagram, show_unstable)}</div>'
            f'<div class="plot">{plots.ehull_strip(result.candidates, threshold)}</div>'
            '<div class="grid">'
            f'<div class="plot">{plots.formation_vs_ehull(result.candidates, result.hull_points, threshold)}'
            "</div>"
            f'<div class="plot">{plots.ehull_histogram(result.candidates, threshold)}</div></div>'
        )
    else:
        plots_html = plots.note("No candidates, no plots.")
    failed_html = failed_table(failed) if failed else plots.note("No candidate failed.")
    params = json.dumps(_clean(result.parameters), indent=2, ensure_ascii=False)
    sig = json.dumps(_clean(result.engine_signature), indent=2, ensure_ascii=False)
    title = f"{result.name} — {space}"
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)}</title><style>{_CSS}</style>
<script>{plots.plotly_js()}</script></head>
<body><header><div class="inner"><h1>{escape(result.name)}</h1>
<div class="sub">Chemical space <b>{escape(space)}</b> ·
{_engine_html(result.engine_signature, result.engine)}</div>
{_calibration_html(result.calibration)}
<div class="meta">{"started " + escape(str(started)) + " · " if started else ""}report generated {_now()}
· mattwin {escape(__version__)}</div></div></header>
<nav><a href="#candidates">Candidates</a><a href="#hull">Stability</a><a href="#failed">Failed</a>
<a href="#routes">Synthesis</a><a href="#ladder">Escalation</a>
<a href="#parameters">Parameters</a><a href="candidates.csv">CSV</a><a href="candidates.json">JSON</a></nav>
<main><section class="cards">{_cards(result, ok, threshold)}</section>
<section id="candidates"><h2>Ranked candidates</h2>
<p class="note">Click a column header to sort. {_energy_note(result, threshold)} Structures are relaxed;
CIF links point to <code>structures/</code>.</p>{body}</section>
<section id="hull"><h2>Stability</h2>{plots_html}</section>
<section id="routes"><h2>Synthesis routes</h2>{route_cards(result.candidates)}</section>
<section id="ladder"><h2>Escalation ladder</h2>{ladder_cards(result.candidates, result.escalation)}</section>
<section id="failed"><h2>Failed candidates ({len(failed)})</h2>{failed_html}</section>
<section id="parameters"><h2>Parameters</h2>
<details><summary>Campaign parameters</summary><pre>{escape(params)}</pre></details>
<details><summary>Engine signature</summary><pre>{escape(sig)}</pre></details></section>
<footer>mattwin {escape(__version__)} · {len(result.hull_points)} phases on the hull plot ·
stability threshold {1000 * threshold:g} meV/atom</footer></main>
<script>{_SORT_JS}{FILTER_JS}</script></body></html>
"""
