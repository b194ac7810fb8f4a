"""HTML tables of the campaign report: the ranked candidates (calibrated E_hull with its 90 % interval,
P(stable), the raw E_hull) and the failed ones. Every string from data is escaped; missing or
non-finite numbers print as a dash and sort last."""

from __future__ import annotations

import re
from collections.abc import Sequence
from html import escape
from urllib.parse import quote

from mattwin.discovery.results import RankedCandidate
from mattwin.report.plots import finite, interval

ON_HULL_TOL = 0.001  # eV/atom


def on_hull(c: RankedCandidate) -> bool:
    """Within 1 meV/atom of the hull or within one standard deviation of it."""
    e, s = finite(c.e_hull), finite(c.e_hull_std)
    return e is not None and (e <= ON_HULL_TOL or (s is not None and e <= s))


def probability_text(p: float | None) -> str:
    """A probability as a percentage, "< 1 %" and "> 99 %" at the ends, "—" without one."""
    v = finite(p)
    if v is None:
        return "—"
    if v < 0.01:
        return "&lt; 1 %"
    if v > 0.99:
        return "&gt; 99 %"
    return f"{100 * v:.0f} %"


def formula_html(formula: str) -> str:
    """Escaped formula with subscripted counts (Na2Cl -> Na<sub>2</sub>Cl) when it looks like one."""
    if re.fullmatch(r"[A-Za-z0-9().]+", formula):
        return re.sub(r"(\d+(?:\.\d+)?)", r"<sub>\1</sub>", formula)
    return escape(formula)


def _decomposition(text: str | None) -> str:
    if not text:
        return _text(None)
    return f'<td data-v="{escape(text)}">{" + ".join(formula_html(p) for p in text.split(" + "))}</td>'


def _num(
    value: float | None,
    std: float | None = None,
    digits: int = 3,
    extra: str = "",
    values: Sequence[float | None] | None = None,
) -> str:
    """A numeric cell: the value with its 90 % interval ``values`` when given, else ± ``std``."""
    v = finite(value)
    if v is None:
        return '<td class="num" data-v="">—</td>'
    iv, s = interval(values), finite(std)
    if iv is not None:
        aside = f' <span class="pm">[{iv[0]:.{digits}f}, {iv[1]:.{digits}f}]</span>'
    else:
        aside = f' <span class="pm">± {s:.{digits}f}</span>' if s is not None else ""
    return f'<td class="num" data-v="{v!r}">{v:.{digits}f}{aside}{extra}</td>'


def _prob(p: float | None) -> str:
    v = finite(p)
    return f'<td class="num" data-v="{"" if v is None else repr(v)}">{probability_text(p)}</td>'


def _text(value: str | None, cls: str = "") -> str:
    c = f' class="{cls}"' if cls else ""
    return f'<td{c} data-v="">—</td>' if not value else f"<td{c}>{escape(value)}</td>"


def _th(label: str, tip: str, num: bool = False) -> str:
    t = ' data-type="num"' if num else ""
    return f'<th{t} data-tip="{escape(tip)}">{label}</th>'


def _badge(c: RankedCandidate, threshold: float) -> str:
    e = finite(c.e_hull)
    if on_hull(c):
        return '<span class="badge hull" data-tip="within 1 meV/atom or one std of the hull">on hull</span>'
    if e is not None and e <= threshold:
        return f'<span class="badge near" data-tip="below {1000 * threshold:g} meV/atom">near</span>'
    return ""


def _head(targets: list[str], with_p: bool, with_raw: bool) -> list[str]:
    head = [
        _th("Rank", "rank by the campaign's objective (1 = best)", True),
        _th("Formula", "reduced formula of the relaxed structure"),
        _th("Space group", "international symbol of the relaxed structure"),
        _th(
            "E<sub>hull</sub> (eV/atom)",
            "energy above the convex hull; [low, high]: central 90 % interval, ± ensemble std",
            True,
        ),
    ]
    if with_p:
        head.append(_th("P(stable)", "probability that E_hull is within the stability threshold", True))
    if with_raw:
        head.append(
            _th("raw E<sub>hull</sub>", "E_hull from the uncalibrated engine energies (eV/atom)", True)
        )
    head += [
        _th("E<sub>f</sub> (eV/atom)", "formation energy per atom; [low, high]: 90 % interval, ± std", True),
        _th("E (eV/atom)", "total energy per atom ± ensemble std", True),
        _th("V (Å³/atom)", "relaxed volume per atom", True),
        _th("Atoms", "atoms in the cell", True),
        _th("Origin", "how the candidate was generated"),
        _th("Decomposition", "phases it would decompose into (hull facet)"),
        _th(
            "Synth.",
            "synthesizability: bagged positive-unlabelled classifier on composition (0-1; [5-95 %]); "
            "'domain': outside the model's domain",
            True,
        ),
        _th(
            "Phonons",
            "harmonic dynamic stability (top candidates only): stable, or the softest imaginary mode",
        ),
        _th("Verdict", "can it be made? window, free energy at temperature, phonons, score, best route"),
    ]
    head += [_th(escape(k), f"target property {k}", True) for k in targets]
    head.append(_th("CIF", "relaxed structure"))
    return head


def _row(
    c: RankedCandidate,
    cif_link: str | None,
    targets: list[str],
    threshold: float,
    with_p: bool,
    with_raw: bool,
) -> str:
    cif = f'<td><a href="{escape(quote(cif_link))}" download>CIF</a></td>' if cif_link else _text(None)
    synth = "" if c.synthesizability is None else f"{c.synthesizability:.4f}"
    unlikely = "1" if (c.verdict or "").startswith("unlikely") else "0"
    return (
        f'<tr id="cand-{c.rank}" data-synth="{synth}" data-unlikely="{unlikely}">'
        f'<td class="num" data-v="{c.rank}">{c.rank}</td>'
        f'<td data-v="{escape(c.formula)}" title="{escape(c.candidate_id)}">'
        f"{formula_html(c.formula)}</td>"
        + _text(c.spacegroup)
        + _num(c.e_hull, c.e_hull_std, extra=_badge(c, threshold), values=c.e_hull_interval)
        + (_prob(c.p_stable) if with_p else "")
        + (_num(c.raw_e_hull) if with_raw else "")
        + _num(
            c.formation_energy_per_atom, c.formation_energy_per_atom_std, values=c.formation_energy_interval
        )
        + _num(c.energy_per_atom, c.energy_per_atom_std)
        + _num(c.volume_per_atom, digits=2)
        + f'<td class="num" data-v="{c.n_atoms}">{c.n_atoms}</td>'
        + _text(c.origin + (f" — relaxed into {c.duplicate_of}" if c.duplicate_of else ""))
        + _decomposition(c.decomposition)
        + _synth(c)
        + _phonons(c)
        + _text(c.verdict, "verdict")
        + "".join(_num(c.targets.get(k)) for k in targets)
        + cif
        + "</tr>"
    )


def _synth(c: RankedCandidate) -> str:
    if c.synthesizability is None:
        label = "domain" if c.synthesizability_interval is not None else "—"
        return f'<td class="num" data-v="">{label}</td>'
    iv = c.synthesizability_interval or [c.synthesizability, c.synthesizability]
    return (
        f'<td class="num" data-v="{c.synthesizability:.4f}" title="5-95 %: {iv[0]:.2f}-{iv[1]:.2f}">'
        f"{c.synthesizability:.2f}</td>"
    )


def _phonons(c: RankedCandidate) -> str:
    if c.dynamically_stable is None:
        return _text(None)
    if c.dynamically_stable:
        return '<td data-v="stable">stable</td>'
    mode = (c.phonons or {}).get("mode") or "imaginary mode"
    return f'<td data-v="imaginary" class="bad">{escape(mode)}</td>'


SYNTH_FILTER = (
    '<div class="filter">Show synthesizability ≥ <input type="number" id="synth-min" min="0" max="1" '
    'step="0.05" value="0"> <label><input type="checkbox" id="hide-unlikely"> hide "unlikely"</label></div>'
)
FILTER_JS = """
(function(){var m=document.getElementById("synth-min"),h=document.getElementById("hide-unlikely");
if(!m)return;function f(){var v=parseFloat(m.value)||0;
document.querySelectorAll("#ranked tbody tr").forEach(function(r){var s=r.dataset.synth;
var hide=(v>0&&(s===""||parseFloat(s)<v))||(h.checked&&r.dataset.unlikely==="1");
r.style.display=hide?"none":"";});}
m.addEventListener("input",f);h.addEventListener("change",f);})();
"""


def ranked_table(ok: list[tuple[int, RankedCandidate]], cifs: dict[int, str], threshold: float) -> str:
    """The sortable table of screened candidates in rank order (``ok``: (index, candidate) pairs).

    A P(stable) column appears when any candidate has one, a raw E_hull column when any is calibrated.
    """
    if not ok:
        return '<div class="empty">No candidate was screened successfully.</div>'
    targets = sorted({k for _, c in ok for k in c.targets})
    with_p = any(finite(c.p_stable) is not None for _, c in ok)
    with_raw = any(c.calibration and finite(c.raw_e_hull) is not None for _, c in ok)
    rows = [_row(c, cifs.get(i), targets, threshold, with_p, with_raw) for i, c in ok]
    return (
        SYNTH_FILTER
        + '<div class="tablewrap"><table class="sortable" id="ranked"><thead><tr>'
        + "".join(_head(targets, with_p, with_raw))
        + "</tr></thead><tbody>\n"
        + "\n".join(rows)
        + "\n</tbody></table></div>"
    )


def failed_table(failed: list[RankedCandidate]) -> str:
    """The candidates that could not be screened, with their error messages."""
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
