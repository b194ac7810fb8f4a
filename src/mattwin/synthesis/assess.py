"""Can it be made? One call that fills every candidate's synthesizability fields and its verdict.

:func:`assess_candidates` takes the ranked candidates of a campaign (or of ``mattwin stability``)
and adds, per candidate: the metastability window of its chemistry (Sun et al. 2016) and whether its
calibrated E_hull is within it; ΔG_f and E_hull at the synthesis temperature (Bartel et al. 2018);
the PU synthesizability score with its interval or "outside the model's domain"; for the top
``phonons_top`` candidates, harmonic phonons (dynamically stable or the softest imaginary mode); for
the top ``routes_top``, the best solid-state routes from common precursors; and a one-line verdict.
Candidates judged unlikely (an imaginary mode, or E_hull beyond the window even at the lower end of
its interval) move below the others; the order is otherwise kept.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from pymatgen.core import Composition, Structure

from mattwin.discovery.results import HullPoint, RankedCandidate
from mattwin.errors import SettingsError
from mattwin.runtime.execute import Execution
from mattwin.store.store import Store
from mattwin.synthesis.dynamics import (
    MAX_DISPLACED_ATOMS,
    TOLERANCE_THZ,
    displaced_atoms,
    dynamic_stability_many,
)
from mattwin.synthesis.routes import routes as find_routes
from mattwin.synthesis.score import load_model
from mattwin.synthesis.thermo import (
    SolidPhase,
    check_temperature,
    gibbs_formation_energy,
    gibbs_hull,
    metastability_window,
)

log = logging.getLogger(__name__)
Progress = Callable[[str, int, int, str], None]
#: temperatures at which the target's ΔG_f is computed for the routes' onset (K)
ROUTE_TEMPERATURES = tuple(float(t) for t in range(300, 2001, 100))


@dataclass(frozen=True)
class SynthesisSettings:
    """engine: for the phonons; temperature_K: synthesis temperature (300-2000 K); phonons_top /
    routes_top: how many of the best candidates get phonons / routes; phonon_tolerance_THz."""

    engine: str = "chgnet"
    temperature_K: float = 1000.0
    phonons_top: int = 3
    routes_top: int = 3
    phonon_tolerance_THz: float = TOLERANCE_THZ

    def __post_init__(self) -> None:
        check_temperature(self.temperature_K)
        for key in ("phonons_top", "routes_top"):
            v = getattr(self, key)
            if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v <= 100:
                raise SettingsError(f"{key} = {v!r}: must be a whole number from 0 to 100")
        if not 0 <= float(self.phonon_tolerance_THz) <= 5:
            raise SettingsError(
                f"phonon tolerance {self.phonon_tolerance_THz!r} THz: must be from 0 to 5 THz"
            )

    @classmethod
    def of(cls, config: Any) -> SynthesisSettings:
        """From a :class:`SynthesisSettings` or a campaign config (its ``[synthesize]`` fields)."""
        if isinstance(config, cls):
            return config
        return cls(
            engine=str(getattr(config, "engine", "chgnet")),
            temperature_K=float(getattr(config, "temperature_K", 1000.0)),
            phonons_top=int(getattr(config, "phonons_top", 3)),
            routes_top=int(getattr(config, "routes_top", 3)),
            phonon_tolerance_THz=float(getattr(config, "phonon_tolerance_THz", TOLERANCE_THZ)),
        )


def _structure(c: RankedCandidate) -> Structure | None:
    return Structure.from_dict(c.structure) if c.structure else None


def _gibbs(
    ranked: Sequence[RankedCandidate],
    hull_points: Sequence[HullPoint],
    ref_structures: dict[str, Structure],
    t: float,
) -> dict[str, dict[str, float]]:
    """Candidate id -> {dGf_eV_atom, e_hull_eV_atom} at ``t``; the phases are the hull's (references at
    their starting structures' volumes, candidates relaxed)."""
    cand = {c.candidate_id: c for c in ranked if c.status == "ok" and c.structure}
    phases = []
    for h in hull_points:
        if h.kind == "candidate":
            c = cand.get(h.name)
            s = _structure(c) if c else None
        else:
            s = ref_structures.get(h.name)
        if s is not None:
            phases.append(SolidPhase(h.name, s, h.formation_energy_per_atom))
    if not hull_points:  # no hull given: each candidate alone (ΔG_f only)
        out = {}
        for k, c in cand.items():
            s = _structure(c)
            if s is not None and c.formation_energy_per_atom is not None:
                out[k] = {"dGf_eV_atom": gibbs_formation_energy(s, c.formation_energy_per_atom, t)}
        return out
    return {k: v for k, v in gibbs_hull(phases, t).items() if k in cand}


def _eligible(c: RankedCandidate, window: float) -> bool:
    """Worth phonons and routes: screened, not a copy of a better-ranked candidate (a user structure that
    relaxed into a reference phase still is), and not far beyond its window."""
    copy = (c.duplicate_of or "").startswith("candidate")
    return c.status == "ok" and not copy and c.e_hull is not None and c.e_hull <= window + 0.1


def _fmt_meV(x: float) -> str:
    return f"{x * 1000:.0f}"


def verdict(c: RankedCandidate) -> str:
    """The one line for a candidate whose synthesis fields are filled."""
    if c.status != "ok":
        return f"not judged: {c.status} ({c.error or 'no result'})"
    parts: list[str] = []
    head = f"known compound ({c.known_compound})" if c.known_compound else "new"
    if c.duplicate_of:
        head += f"; relaxed into {c.duplicate_of}"
    unlikely: list[str] = []
    w = c.metastability_window or {}
    window = w.get("window_eV_atom")
    eh = c.e_hull if c.e_hull is not None else 0.0
    if c.e_hull_interval:
        lo, hi = c.e_hull_interval
        spread = (hi - lo) / 2
        pm = f" ± {_fmt_meV(spread)}" if spread >= 0.0005 else ""
        hull = f"{_fmt_meV(eh)}{pm} meV/atom above hull"
    else:
        lo = eh
        hull = f"{_fmt_meV(eh)} meV/atom above hull"
    if eh <= 1e-6:
        up = c.e_hull_interval[1] if c.e_hull_interval else 0.0
        hull = "on the hull" + (f" (upper {_fmt_meV(up)} meV/atom)" if up >= 0.0005 else "")
    if window is not None:
        where = "within" if eh <= window else "beyond"
        hull += f" ({where} the {w.get('chemistry')} window of {_fmt_meV(window)} meV/atom)"
        if lo > window:
            unlikely.append(f"{_fmt_meV(eh)} meV/atom above hull, beyond the {w.get('chemistry')} window")
    parts.append(hull)
    if c.thermo_note:
        parts.append(c.thermo_note)
    g = c.gibbs or {}
    if "e_hull_eV_atom" in g:
        parts.append(f"{_fmt_meV(g['e_hull_eV_atom'])} meV/atom above hull at {g['temperature_K']:.0f} K")
    if c.dynamically_stable is True:
        parts.append("dynamically stable")
    elif c.dynamically_stable is False:
        mode = (c.phonons or {}).get("mode") or "imaginary phonon"
        parts.append(mode)
        unlikely.append(mode.replace("imaginary mode", "imaginary phonon"))
    elif c.phonons and c.phonons.get("error"):
        skipped = str(c.phonons["error"]).startswith("phonons skipped")
        parts.append("phonons skipped (cost cap)" if skipped else "phonons failed")
    if c.synthesizability is not None:
        lo_s, hi_s = c.synthesizability_interval or [c.synthesizability, c.synthesizability]
        note = " (a training compound)" if c.known_compound else ""
        parts.append(f"synthesizability {c.synthesizability:.2f} [{lo_s:.2f}-{hi_s:.2f}]{note}")
    elif c.synthesizability_interval is not None:
        parts.append("synthesizability: outside the model's domain")
    if c.routes:
        r = c.routes[0]
        parts.append(
            f"route {' + '.join(r['precursors'])} at {r['temperature_K'] - 273.15:.0f} °C "
            f"(ΔG {r['dG_eV_atom']:+.2f} eV/atom"
            + (f"; competing {', '.join(x['formula'] for x in r['competing'][:2])}" if r["competing"] else "")
            + ")"
        )
    line = "; ".join([head, *parts])
    return f"unlikely: {'; '.join(unlikely)} -- {line}" if unlikely else line


def assess_candidates(
    ranked: list[RankedCandidate],
    config: Any,
    store: Store,
    execution: Execution | None = None,
    progress: Progress | None = None,
    *,
    hull_points: Sequence[HullPoint] = (),
    references: Sequence[Any] = (),
) -> list[RankedCandidate]:
    """The candidates with the synthesis fields and the verdict filled, re-ranked (see the module
    docstring). ``config``: a campaign config or :class:`SynthesisSettings`; ``hull_points`` and
    ``references`` (the campaign's :class:`~mattwin.discovery.references.ReferencePhase` list) give
    the finite-temperature hull. One candidate's failure (phonons, routes) never stops the others."""
    st = SynthesisSettings.of(config)
    t = st.temperature_K
    out = [replace(c, metastability_window=metastability_window(c.formula)) for c in ranked]
    if progress:
        progress("synthesize", 0, 4, "synthesizability score")
    model = load_model()
    scores = {s.formula: s for s in model.score(sorted({c.formula for c in out}))}
    out = [
        replace(
            c,
            synthesizability=scores[Composition(c.formula).reduced_formula].probability,
            synthesizability_interval=scores[Composition(c.formula).reduced_formula].interval,
        )
        for c in out
    ]
    if progress:
        progress("synthesize", 1, 4, f"free energies at {t:g} K")
    refs = {r.name: r.structure for r in references}
    try:
        g = _gibbs(out, hull_points, refs, t)
    except Exception as exc:  # the descriptor has no data for an element (G_i(T)): no finite-T picture
        log.warning("free energies at %g K failed: %s", t, exc)
        g = {}
    out = [
        replace(c, gibbs={"temperature_K": t, **g[c.candidate_id]}) if c.candidate_id in g else c for c in out
    ]
    top = [c for c in out if _eligible(c, (c.metastability_window or {}).get("window_eV_atom", 0.067))]
    # new compositions first (a known compound is known to exist); a structure past the phonon cost cap
    # is reported as skipped and does not take one of the phonons_top places
    top = [c for c in top if not c.known_compound] + [c for c in top if c.known_compound]
    ph_top = _phonon_choice(top, st.phonons_top)
    if progress:
        progress("synthesize", 2, 4, f"phonons of {len(ph_top)} candidates")
    if ph_top:
        structs = [_structure(c) for c in ph_top]
        dyn = dynamic_stability_many(
            [s for s in structs if s is not None],
            st.engine,
            store,
            execution,
            tolerance_THz=st.phonon_tolerance_THz,
            labels=[f"phonons {c.formula} {c.candidate_id}" for c in ph_top],
        )
        by_id = {c.candidate_id: d for c, d in zip(ph_top, dyn, strict=True)}
        out = [
            replace(
                c,
                dynamically_stable=(by_id[c.candidate_id].stable if by_id[c.candidate_id].computed else None),
                phonons=by_id[c.candidate_id].to_dict(),
            )
            if c.candidate_id in by_id
            else c
            for c in out
        ]
    rt_top = top[: st.routes_top]
    if progress:
        progress("synthesize", 3, 4, f"routes for {len(rt_top)} candidates")
    found: dict[str, list[dict[str, Any]]] = {}
    for c in rt_top:
        try:
            found[c.candidate_id] = _routes_for(c, t)
        except Exception as exc:  # one candidate's routes never stop the others
            log.warning("routes to %s failed: %s", c.formula, exc)
    out = [replace(c, routes=found[c.candidate_id]) if c.candidate_id in found else c for c in out]
    out = [replace(c, verdict=verdict(c)) for c in out]
    order = sorted(range(len(out)), key=lambda i: (out[i].verdict or "").startswith("unlikely"))
    out = [replace(out[i], rank=k + 1) for k, i in enumerate(order)]
    if progress:
        progress("synthesize", 4, 4, "verdicts")
    return out


def _phonon_choice(top: list[RankedCandidate], n: int) -> list[RankedCandidate]:
    chosen: list[RankedCandidate] = []
    costly: list[RankedCandidate] = []
    for c in top:
        if len(chosen) >= n or len(costly) >= 2 * n:
            break
        s = _structure(c)
        if s is None:
            continue
        try:
            n_disp, n_atoms = displaced_atoms(s)
        except Exception:  # symmetry analysis failed: the phonon task reports it
            chosen.append(c)
            continue
        (costly if n_disp * n_atoms > MAX_DISPLACED_ATOMS else chosen).append(c)
    return chosen + costly


def _routes_for(c: RankedCandidate, t: float) -> list[dict[str, Any]]:
    s = _structure(c)
    if s is None or c.formation_energy_per_atom is None:
        return []
    temps = sorted({*ROUTE_TEMPERATURES, t})
    target_g = {tt: gibbs_formation_energy(s, c.formation_energy_per_atom, tt) for tt in temps}
    return [r.to_dict() for r in find_routes(c.formula, target_g, t)]
