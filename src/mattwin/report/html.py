"""A self-contained HTML report of a campaign, with its structures (CIF) and tables (CSV, JSON).

The page inlines plotly.js once, so it opens offline; every string that comes from data is escaped.
"""

from __future__ import annotations

import csv
import json
import math
import re
from datetime import UTC, datetime
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from mattwin.discovery.results import CampaignResult, RankedCandidate
from mattwin.report import plots
from mattwin.report.plots import finite

if TYPE_CHECKING:
    from pymatgen.analysis.phase_diagram import PhaseDiagram

DEFAULT_THRESHOLD = 0.025  # eV/atom: "near the hull" (metastable but plausibly synthesizable)
ON_HULL_TOL = 0.001  # eV/atom

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


def on_hull(c: RankedCandidate) -> bool:
    """Within 1 meV/atom of the hull or within one standard deviation of it."""
    e, s = finite(c.e_hull), finite(c.e_hull_std)
    return e is not None and (e <= ON_HULL_TOL or (s is not None and e <= s))


_CSV_COLUMNS = [
    ("rank", "rank"),
    ("candidate_id", "candidate_id"),
    ("formula", "formula"),
    ("status", "status"),
    ("origin", "origin"),
    ("spacegroup", "spacegroup"),
    ("n_atoms", "n_atoms"),
    ("e_hull", "e_hull (eV/atom)"),
    ("e_hull_std", "e_hull_std (eV/atom)"),
    ("formation_energy_per_atom", "formation_energy (eV/atom)"),
    ("formation_energy_per_atom_std", "formation_energy_std (eV/atom)"),
    ("energy_per_atom", "energy (eV/atom)"),
    ("energy_per_atom_std", "energy_std (eV/atom)"),
    ("volume_per_atom", "volume (Å^3/atom)"),
    ("decomposition", "decomposition"),
    ("error", "error"),
]


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
    header = [h for _, h in _CSV_COLUMNS] + ["on_hull", "cif"] + [f"target:{k}" for k in targets]
    with (out / "candidates.csv").open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        for i, c in enumerate(result.candidates):
            row = [_clean(getattr(c, attr)) for attr, _ in _CSV_COLUMNS]
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


def formula_html(formula: str) -> str:
    """Escaped formula with subscripted counts (Na2Cl -> Na<sub>2</sub>Cl) when it looks like one."""
    if re.fullmatch(r"[A-Za-z0-9().]+", formula):
        return re.sub(r"(\d+(?:\.\d+)?)", r"<sub>\1</sub>", formula)
    return escape(formula)


def _decomposition(text: str | None) -> str:
    if not text:
        return _text(None)
    return f'<td data-v="{escape(text)}">{" + ".join(formula_html(p) for p in text.split(" + "))}</td>'


def _num(value: float | None, std: float | None = None, digits: int = 3, extra: str = "") -> str:
    v = finite(value)
    if v is None:
        return '<td class="num" data-v="">—</td>'
    s = finite(std)
    pm = f' <span class="pm">± {s:.{digits}f}</span>' if s is not None else ""
    return f'<td class="num" data-v="{v!r}">{v:.{digits}f}{pm}{extra}</td>'


def _text(value: str | None, cls: str = "") -> str:
    c = f' class="{cls}"' if cls else ""
    return f'<td{c} data-v="">—</td>' if not value else f"<td{c}>{escape(value)}</td>"


def _th(label: str, tip: str, num: bool = False) -> str:
    t = ' data-type="num"' if num else ""
    return f'<th{t} data-tip="{escape(tip)}">{label}</th>'


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


def _ranked_table(ok: list[tuple[int, RankedCandidate]], cifs: dict[int, str], threshold: float) -> str:
    if not ok:
        return '<div class="empty">No candidate was screened successfully.</div>'
    targets = sorted({k for _, c in ok for k in c.targets})
    head = [
        _th("Rank", "rank by the campaign's objective (1 = best)", True),
        _th("Formula", "reduced formula of the relaxed structure"),
        _th("Space group", "international symbol of the relaxed structure"),
        _th("E<sub>hull</sub> (eV/atom)", "energy above the convex hull ± ensemble std", True),
        _th("E<sub>f</sub> (eV/atom)", "formation energy per atom ± ensemble std", True),
        _th("E (eV/atom)", "total energy per atom ± ensemble std", True),
        _th("V (Å³/atom)", "relaxed volume per atom", True),
        _th("Atoms", "atoms in the cell", True),
        _th("Origin", "how the candidate was generated"),
        _th("Decomposition", "phases it would decompose into (hull facet)"),
    ]
    head += [_th(escape(k), f"target property {k}", True) for k in targets]
    head.append(_th("CIF", "relaxed structure"))
    rows = []
    for i, c in ok:
        badge = ""
        e = finite(c.e_hull)
        if on_hull(c):
            badge = (
                '<span class="badge hull" data-tip="within 1 meV/atom or one std of the hull">on hull</span>'
            )
        elif e is not None and e <= threshold:
            badge = f'<span class="badge near" data-tip="below {1000 * threshold:g} meV/atom">near</span>'
        link = cifs.get(i)
        cif = f'<td><a href="{escape(quote(link))}" download>CIF</a></td>' if link else _text(None)
        rows.append(
            f'<tr id="cand-{c.rank}"><td class="num" data-v="{c.rank}">{c.rank}</td>'
            f'<td data-v="{escape(c.formula)}" title="{escape(c.candidate_id)}">'
            f"{formula_html(c.formula)}</td>"
            + _text(c.spacegroup)
            + _num(c.e_hull, c.e_hull_std, extra=badge)
            + _num(c.formation_energy_per_atom, c.formation_energy_per_atom_std)
            + _num(c.energy_per_atom, c.energy_per_atom_std)
            + _num(c.volume_per_atom, digits=2)
            + f'<td class="num" data-v="{c.n_atoms}">{c.n_atoms}</td>'
            + _text(c.origin + (f" — relaxed into {c.duplicate_of}" if c.duplicate_of else ""))
            + _decomposition(c.decomposition)
            + "".join(_num(c.targets.get(k)) for k in targets)
            + cif
            + "</tr>"
        )
    return (
        '<div class="tablewrap"><table class="sortable" id="ranked"><thead><tr>'
        + "".join(head)
        + "</tr></thead><tbody>\n"
        + "\n".join(rows)
        + "\n</tbody></table></div>"
    )


def _failed_table(failed: list[RankedCandidate]) -> str:
    rows = [
        f'<tr><td class="num">{c.rank}</td><td>{escape(c.candidate_id)}</td>'
        f"{_text(c.formula)}{_text(c.origin)}{_text(c.status)}{_text(c.error, 'err')}</tr>"
        for c in failed
    ]
    return (
        '<div class="tablewrap"><table class="sortable" id="failed"><thead><tr>'
        '<th data-type="num">Rank</th><th>ID</th><th>Formula</th><th>Origin</th><th>Status</th><th>Error</th>'
        "</tr></thead><tbody>\n" + "\n".join(rows) + "\n</tbody></table></div>"
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
    n_hull = sum(on_hull(c) for _, c in ok)
    n_near = sum(1 for _, c in ok if (e := finite(c.e_hull)) is not None and e <= threshold)
    space = "–".join(result.elements) or "—"
    started = result.parameters.get("started_at") or result.parameters.get("date")
    cards = [
        ("generated", result.n_generated),
        ("screened", result.n_screened),
        ("failed", result.n_failed),
        ("cached", result.n_cached),
        ("ranked", len(ok)),
        ("on hull", n_hull),
        (f"≤ {1000 * threshold:g} meV/atom", n_near),
        ("wall time", _duration(result.wall_time_s)),
    ]
    cards_html = "".join(
        f'<div class="card"><div class="v">{escape(str(v))}</div><div class="k">{escape(k)}</div></div>'
        for k, v in cards
    )
    if not result.candidates:
        body = '<div class="empty">No candidates: this campaign produced nothing to rank.</div>'
    else:
        body = _ranked_table(ok, cifs, threshold)
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
    failed_html = _failed_table(failed) if failed else plots.note("No candidate failed.")
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
<div class="meta">{"started " + escape(str(started)) + " · " if started else ""}report generated {_now()}
· mattwin {escape(__version__)}</div></div></header>
<nav><a href="#candidates">Candidates</a><a href="#hull">Stability</a><a href="#failed">Failed</a>
<a href="#parameters">Parameters</a><a href="candidates.csv">CSV</a><a href="candidates.json">JSON</a></nav>
<main><section class="cards">{cards_html}</section>
<section id="candidates"><h2>Ranked candidates</h2>
<p class="note">Click a column header to sort. Energies from {escape(result.engine)}; ± is the ensemble
standard deviation. Structures are relaxed; CIF links point to <code>structures/</code>.</p>{body}</section>
<section id="hull"><h2>Stability</h2>{plots_html}</section>
<section id="failed"><h2>Failed candidates ({len(failed)})</h2>{failed_html}</section>
<section id="parameters"><h2>Parameters</h2>
<details><summary>Campaign parameters</summary><pre>{escape(params)}</pre></details>
<details><summary>Engine signature</summary><pre>{escape(sig)}</pre></details></section>
<footer>mattwin {escape(__version__)} · {len(result.hull_points)} phases on the hull plot ·
stability threshold {1000 * threshold:g} meV/atom</footer></main>
<script>{_SORT_JS}</script></body></html>
"""
