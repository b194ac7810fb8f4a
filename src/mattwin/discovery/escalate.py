"""Escalation: a campaign's best candidates climb the ladder (``[escalate]``), cost-aware.

The decision the ladder serves is the campaign's top N (``top``) ranked by (dynamically or mechanically
unstable last, P(stable) to two decimals, the campaign's own order). Each (candidate, rung) that is not
done has a *value*: the expected number of candidates that would enter or leave the top N if it ran:

* ``phonons`` on a top-N candidate: P(imaginary mode), a Beta(1, 1) prior updated with every phonon
  verdict of the campaign so far; an imaginary mode demotes the candidate (it leaves the top N).
* ``ensemble`` (the other ensemble members relax the candidate and the reference phases): the
  probability, over a log-normal prior of the members' E_hull spread (median the geometric mean of the
  spreads seen so far, 0.03 eV/atom before any), that widening the candidate's E_hull σ to
  sqrt(σ² + spread²) changes the top-N set; the spread is then folded into its interval and P(stable).
* a property rung (``elastic``, ``diffusion``) on a top-N candidate that passed its stability rungs: 1
  (the decision needs the property); a Born-unstable elastic tensor demotes it. ``diffusion`` (an
  ionic conductor) runs NVT MD at :data:`DIFFUSION_TEMPS` (``md_ps`` each, the cell repeated to at least
  :data:`DIFFUSION_MIN_ATOMS` atoms) and the transport analysis of ``mattwin diffusion``: the carrier's D
  at each temperature, the Arrhenius Ea and the extrapolated 300 K Nernst-Einstein conductivity, which
  go into the candidate's targets and verdict; an MD the ensemble does not trust, or a carrier that does
  not diffuse, is said so. ``band_gap`` (a semiconductor) computes the periodic Kohn-Sham DFT gap of
  the candidate's primitive cell with the ``dft`` engine (PySCF PBC, default
  :data:`mattwin.discovery.escalate_config.DEFAULT_DFT`): it goes into the candidate's targets
  (``band_gap_eV``) and verdict, and a metal (no gap) is demoted.
* ``correlation`` on a top-N candidate with a transition-metal site (after its stability rungs): 1. It
  cuts the metal and its first anion shell (neighbours within :data:`SHELL_FACTOR` x the nearest
  anion distance) as a cluster with its formal charge, embedded in Evjen point charges
  (:func:`mattwin.materials.cluster.cut_cluster`), and runs the ``correlation_diagnostics`` task (RHF,
  frozen-core CCSD in ``correlation_basis``: T1, D1, largest T2, natural occupations). T1 > 0.02 (Lee &
  Taylor 1989) or D1 > 0.05 (Janssen & Nielsen 1998) flags the candidate ("MLIP/DFT energies less
  reliable") in its verdict; a ``multireference`` verdict (twice those, a T2 amplitude > 0.3, a
  natural occupation between 0.1 and 1.9, or a CCSD that does not converge) also widens its E_hull σ
  in quadrature by :data:`MR_SIGMA_PER_TM` eV per transition-metal atom, spread over the cell's
  atoms. The 3d-metal thresholds of Jiang et al. 2012 (T1 0.05, D1 0.15) are reported beside them.
  A d0 or d10 site (at the formal oxidation state: the structure's own, else pymatgen's guess) runs
  that closed-shell path; an open d shell (d1-d9) is cut in its high-spin state (2S+1 = n + 1 unpaired
  up to d5, 11 - n beyond, :func:`high_spin_multiplicity`, said in the ladder) and gets the open-shell
  diagnostics of :mod:`mattwin.tasks.correlation_open` at :data:`CORRELATION_OPEN_SHELL` level: UHF
  <S²> against S(S+1), UHF natural orbitals (Pulay & Hamilton 1988) and UMP2 natural occupations
  (Gordon et al. 1999; one between 0.1 and 1.9 besides the singly occupied ones: ``multireference``,
  with the same σ widening). A mixed-valence site (a non-integer d count) is said and not run.

Each step runs the option with the largest value per predicted second (:mod:`mattwin.discovery.cost`,
learned from the store's timings) that the budget and the rung's cap still allow, until no option has
value. ``policy = "all"`` instead runs every rung on every top-N candidate (the baseline). Every rung
is a runtime job: cached in the store, so a killed escalation resumes where it stopped; the cost booked
for a rung is the recorded wall time of its calculations, so a resumed run makes the same decisions.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

import numpy as np
from pymatgen.core import Structure
from scipy.stats import norm

from mattwin.analysis.hull import stability
from mattwin.discovery.config import CampaignConfig
from mattwin.discovery.cost import CostModel, learn_costs, work
from mattwin.discovery.escalate_config import EscalateConfig
from mattwin.discovery.references import ReferencePhase
from mattwin.discovery.results import CampaignResult, RankedCandidate
from mattwin.engines.registry import get_engine, member_specs
from mattwin.errors import CampaignError
from mattwin.runtime.execute import Execution, execute
from mattwin.runtime.jobs import Job, Outcome
from mattwin.store.store import Store

#: prior median of the ensemble members' E_hull spread, eV/atom, and its log-normal width
SPREAD_PRIOR, SPREAD_WIDTH = 0.03, 0.75
#: options worth less than this (expected top-N changes) are not run
MIN_VALUE = 1e-3
_TASK = {
    "ensemble": "relax",
    "phonons": "phonons",
    "elastic": "elastic_tensor",
    "diffusion": "md",
    "band_gap": "band_gap",
    "correlation": "correlation_diagnostics",
}
#: the diffusion rung: NVT MD at these temperatures (K), 2 fs steps, on the relaxed cell repeated to at
#: least DIFFUSION_MIN_ATOMS atoms (and every lattice vector at least DIFFUSION_MIN_LENGTH Å)
DIFFUSION_TEMPS = (900.0, 1300.0)
DIFFUSION_MIN_ATOMS, DIFFUSION_MIN_LENGTH = 32, 7.0
#: the correlation rung: the cluster holds the neighbours within SHELL_FACTOR x the nearest anion distance
#: (the first shell of a distorted site), embedded in Evjen point charges of (2n+1)^3 cells, n = EMBED_CELLS
SHELL_FACTOR, EMBED_CELLS = 1.2, 2
#: a policy allowance, not a calibrated error: the E_hull σ added (in quadrature) per transition-metal
#: atom of the cell, spread over its atoms, when the cluster's diagnostics say multireference
MR_SIGMA_PER_TM = 0.1
#: the thresholds proposed for 3d transition-metal species (Jiang, DeYonker & Wilson, J. Chem. Theory
#: Comput. 8, 460 (2012)); reported beside the main-group ones the verdict uses
TM_T1_LIMIT, TM_D1_LIMIT = 0.05, 0.15
#: an open-shell cluster's correlated check: UMP2 natural occupations with the UHF <S²> and natural
#: orbitals (``ump2``; seconds), not ROHF-UCCSD (``uccsd``; ~20 min for an FeO6 cluster in def2-SVP here)
CORRELATION_OPEN_SHELL = "ump2"
_Z = norm.ppf((np.arange(8) + 0.5) / 8)

Progress = Callable[[str, int, int, str], None]


class _Ladder:
    """The working state of one escalation: per candidate P(stable), σ, demotion and the ladder."""

    def __init__(self, result: CampaignResult, config: CampaignConfig) -> None:
        self.result = result
        self.config = config
        self.c = list(result.candidates)
        self.ok = [i for i, c in enumerate(self.c) if c.status == "ok" and not c.duplicate_of and c.structure]
        self.p = {i: float(self.c[i].p_stable or 0.0) for i in self.ok}
        self.sd = {i: float(self.c[i].e_hull_std or 0.0) for i in self.ok}
        self.demoted = {i: self.c[i].dynamically_stable is False for i in self.ok}
        self.ladder: dict[int, list[dict[str, Any]]] = {i: list(self.c[i].ladder) for i in self.ok}
        self.done: set[tuple[int, str]] = set()
        self.spent: dict[str, float] = {}
        self.spreads: list[float] = []
        self.charged: set[str] = set()  # calculation keys booked already (shared reference relaxations)
        self.refs_relaxed = False  # the other members relaxed the reference phases in this escalation
        self.clusters: dict[int, tuple[Any, str]] = {}  # the correlation rung's cluster (or why none)
        self.primitives: dict[int, Structure] = {}  # the band-gap rung's primitive cell
        for i in self.ok:  # phonons the synthesize stage ran: the first rung of the ladder
            c = self.c[i]
            if c.phonons is not None and c.dynamically_stable is not None and not self.ladder[i]:
                said = "dynamically stable" if c.dynamically_stable else f"{c.phonons.get('mode')}: demoted"
                key = (c.phonons.get("provenance") or {}).get("key")
                self.ladder[i].append(
                    {
                        "rung": "phonons",
                        "said": said,
                        "cost_s": 0.0,
                        "keys": [key],
                        "from": "synthesize stage",
                        "provenance": c.phonons.get("provenance"),
                    }
                )
                self.done.add((i, "phonons"))
        known = [c.dynamically_stable for c in self.c if c.dynamically_stable is not None]
        self.n_phonons, self.n_unstable = len(known), sum(1 for k in known if k is False)

    def order(self, p: dict[int, float] | None = None) -> list[int]:
        p = p or self.p
        return sorted(self.ok, key=lambda i: (self.demoted[i], -round(p[i], 2), i))

    def top(self, p: dict[int, float] | None = None) -> set[int]:
        return set(self.order(p)[: self.esc.top])

    @property
    def esc(self) -> EscalateConfig:
        assert self.config.escalate is not None
        return self.config.escalate


def _structure(c: RankedCandidate) -> Structure:
    return Structure.from_dict(c.structure or {})


def _value(s: _Ladder, i: int, rung: str, rungs: list[str]) -> float:
    if (i, rung) in s.done or s.demoted[i]:
        return 0.0
    in_top = i in s.top()
    if rung == "phonons":
        if s.c[i].dynamically_stable is not None:
            return 0.0
        return (1 + s.n_unstable) / (2 + s.n_phonons) if in_top else 0.0
    if rung == "ensemble":
        z = math.inf if s.p[i] >= 1 else -math.inf if s.p[i] <= 0 else float(norm.ppf(s.p[i]))
        if not math.isfinite(z) or s.sd[i] <= 0:
            return 0.0
        med = math.exp(np.mean(np.log(np.maximum(s.spreads, 1e-4)))) if s.spreads else SPREAD_PRIOR
        before = s.top()
        changed = 0
        for zk in _Z:
            spread = med * math.exp(SPREAD_WIDTH * zk)
            p = dict(s.p)
            p[i] = float(norm.cdf(z * s.sd[i] / math.hypot(s.sd[i], spread)))
            changed += len(s.top(p) ^ before) // 2
        return changed / len(_Z)
    if rung == "correlation" and _tm_site(_structure(s.c[i])) is None:
        return 0.0
    # a property rung: after the stability rungs
    if "phonons" in rungs and (i, "phonons") not in s.done and s.c[i].dynamically_stable is None:
        return 0.0
    return 1.0 if in_top else 0.0


def _others(engine: str) -> list[str]:
    mine = {get_engine(m).key for m in member_specs(engine)}
    return [m for m in member_specs("ensemble") if get_engine(m).key not in mine]


def _predict(
    s: _Ladder, i: int, rung: str, costs: CostModel, refs: Sequence[ReferencePhase], cands: Any
) -> float:
    st = _structure(s.c[i])
    if rung == "phonons":
        from mattwin.synthesis.dynamics import PHONON_PARAMS

        return costs.seconds("phonons", work("phonons", st, PHONON_PARAMS))
    if rung == "elastic":
        return costs.seconds("elastic_tensor", work("elastic_tensor", st, {}))
    if rung == "band_gap":
        k = get_engine(s.esc.dft).params["kmesh"]  # type: ignore[attr-defined]
        prim = _primitive(s, i)
        return costs.seconds("band_gap", work("band_gap", prim, {"k": round(float(np.prod(k)) ** (1 / 3))}))
    if rung == "diffusion":
        cell, steps = _md_cell(st), _md_steps(s.esc.md_ps)
        return sum(costs.seconds("md", work("md", cell, {"steps": steps})) for _ in DIFFUSION_TEMPS)
    if rung == "correlation":
        mol, _ = _cluster(s, i)
        if mol is None:
            return 1.0  # nothing to compute: the rung only says why
        return costs.seconds(
            "correlation_diagnostics", work("correlation_diagnostics", mol, _corr_params(mol))
        )
    members = _others(s.config.engine)
    t = sum(costs.seconds("relax", len(st)) for _ in members)
    if not s.refs_relaxed:  # the first ensemble rung also relaxes the reference phases with the members
        t += sum(costs.seconds("relax", len(r.structure)) for r in refs for _ in members)
    return t


def _widen(s: _Ladder, i: int, extra: float) -> tuple[float, float, float]:
    """Fold ``extra`` (eV/atom) into candidate ``i``'s E_hull σ in quadrature; its P(stable) and E_hull
    interval follow. Returns (old σ, new σ, old P(stable))."""
    old_sd, p = s.sd[i], s.p[i]
    new_sd = math.hypot(old_sd, extra)
    if 0 < p < 1 and old_sd > 0:
        s.p[i] = float(norm.cdf(norm.ppf(p) * old_sd / new_sd))
    s.sd[i] = new_sd
    c = s.c[i]
    lo, hi = (c.e_hull_interval or [c.e_hull, c.e_hull]) if c.e_hull is not None else (0.0, 0.0)
    e = c.e_hull or 0.0
    w = new_sd / old_sd if old_sd > 0 else 1.0
    s.c[i] = replace(
        c, e_hull_std=new_sd, p_stable=s.p[i], e_hull_interval=[e - (e - lo) * w, e + (hi - e) * w]
    )
    return old_sd, new_sd, p


def _charge(s: _Ladder, store: Store, key: str, fallback: float = 0.0) -> float:
    """CPU seconds of the calculation ``key`` if not booked before (its recorded wall time, else
    ``fallback``), and book it."""
    if key in s.charged:
        return 0.0
    s.charged.add(key)
    rec = store.lookup(key)
    return float(rec.wall_time_s or 0.0) if rec is not None else fallback


def _book(s: _Ladder, store: Store, outs: Sequence[Outcome]) -> tuple[float, int]:
    """CPU seconds of ``outs`` not booked before (their recorded wall times) and how many came from
    the store rather than being computed now."""
    t = sum(_charge(s, store, o.key, o.wall_time_s) for o in outs)
    return t, sum(o.cached for o in outs)


def _run_phonons(s: _Ladder, i: int, store: Store, execution: Execution | None) -> dict[str, Any]:
    from mattwin.synthesis.dynamics import dynamic_stability, phonon_job

    spec = member_specs(s.config.engine)[0]
    st = _structure(s.c[i])
    key = phonon_job(st, spec).key
    d = dynamic_stability(st, spec, store, execution, tolerance_THz=s.config.phonon_tolerance_THz)
    rec = store.lookup(key)
    cost = 0.0 if key in s.charged or rec is None else float(rec.wall_time_s or 0.0)
    s.charged.add(key)
    s.c[i] = replace(s.c[i], dynamically_stable=d.stable if d.computed else None, phonons=d.to_dict())
    if not d.computed:
        said = f"failed: {d.error}"
    elif d.stable:
        said = f"dynamically stable (softest mode {d.min_frequency_THz:.2f} THz)"
    else:
        said = f"{d.mode}: demoted"
        s.demoted[i] = True
    if d.computed:
        s.n_phonons += 1
        s.n_unstable += not d.stable
    return {"said": said, "cost_s": cost, "keys": [key], "provenance": d.provenance}


def _run_ensemble(
    s: _Ladder, i: int, refs: Sequence[ReferencePhase], cand: Any, store: Store, execution: Execution | None
) -> dict[str, Any]:
    from mattwin.discovery.stages.judge import member_phases as _phases

    cfg = s.config
    relax = {"fmax": cfg.fmax, "max_steps": cfg.max_steps}
    values = [s.c[i].raw_e_hull]
    outs_all: list[Outcome] = []
    for m in _others(cfg.engine):
        ref_jobs = [
            Job("relax", r.structure, m, {**relax, "relax_cell": r.relax_cell}, label=r.name) for r in refs
        ]
        cand_jobs = [Job("relax", cand.structure, m, {**relax, "relax_cell": True}, label=s.c[i].formula)]
        ref_out, cand_out = execute(ref_jobs, store, execution), execute(cand_jobs, store, execution)
        outs_all += ref_out + cand_out
        try:
            _, stab = stability(_phases(list(refs), [cand], ref_out, cand_out, m))
        except ValueError:
            continue
        if cand.key in stab:
            values.append(stab[cand.key].e_hull)
    s.refs_relaxed = True
    cost, n_cached = _book(s, store, outs_all)
    vals = [float(v) for v in values if v is not None]
    if len(vals) < 2:
        return {"said": "failed: the other members gave no E_hull", "cost_s": cost, "keys": []}
    spread = float(np.std(vals, ddof=1))
    s.spreads.append(spread)
    old_sd, new_sd, p = _widen(s, i, spread)
    return {
        "said": f"members' E_hull {', '.join(f'{v:.3f}' for v in vals)} eV/atom: spread {spread:.3f}; "
        f"σ {old_sd:.3f} -> {new_sd:.3f}, P(stable) {p:.2f} -> {s.p[i]:.2f}",
        "cost_s": cost,
        "keys": [o.key for o in outs_all if o.job.material_id == cand.key],
        "members": [*member_specs(cfg.engine), *_others(cfg.engine)],
        "n_from_store": n_cached,
    }


def _run_elastic(s: _Ladder, i: int, store: Store, execution: Execution | None) -> dict[str, Any]:
    spec = member_specs(s.config.engine)[0]
    out = execute(
        [Job("elastic_tensor", _structure(s.c[i]), spec, {}, label=s.c[i].formula)], store, execution
    )
    cost, _ = _book(s, store, out)
    o = out[0]
    if not (o.ok and o.result):
        return {"said": f"failed: {o.error}", "cost_s": cost, "keys": [o.key]}
    mod, born = o.result["moduli"], bool(o.result["born_stable"])
    said = f"K_VRH {mod.get('K_VRH', float('nan')):.1f} GPa, G_VRH {mod.get('G_VRH', float('nan')):.1f} GPa"
    if not born:
        said += f"; Born criteria fail ({', '.join(o.result['born_failed'])}): demoted"
        s.demoted[i] = True
    return {"said": said, "cost_s": cost, "keys": [o.key], "moduli_GPa": mod}


def _primitive(s: _Ladder, i: int) -> Structure:
    """The primitive cell of candidate ``i`` (the band-gap rung's cell: fewer atoms, the same crystal),
    found once per escalation: the policy prices the rung several times a step."""
    if i not in s.primitives:
        st = _structure(s.c[i])
        try:
            prim = st.get_primitive_structure(tolerance=0.1)
        except Exception:  # pymatgen's primitive search fails on some distorted cells: keep the cell
            prim = st
        s.primitives[i] = prim if len(prim) <= len(st) else st
    return s.primitives[i]


def _run_band_gap(s: _Ladder, i: int, store: Store, execution: Execution | None) -> dict[str, Any]:
    c = s.c[i]
    cell = _primitive(s, i)
    out = execute([Job("band_gap", cell, s.esc.dft, {}, label=c.formula)], store, execution)
    cost, _ = _book(s, store, out)
    o = out[0]
    if not (o.ok and o.result):
        return {"said": f"failed: {o.error}", "cost_s": cost, "keys": [o.key], "engine": s.esc.dft}
    r = o.result
    if r["is_metal"]:
        said = f"{r['label']}: metallic (no gap): demoted"
        s.demoted[i] = True
    else:
        kind = "direct" if r["is_direct"] else f"indirect; direct {r['direct_gap_eV']:.2f} eV"
        said = f"{r['label']}: gap {r['gap_eV']:.2f} eV ({kind}; semilocal DFT underestimates measured gaps)"
    verdict = f"{c.verdict}; {said}" if c.verdict else said
    s.c[i] = replace(c, targets={**c.targets, "band_gap_eV": float(r["gap_eV"])}, verdict=verdict)
    return {
        "said": said,
        "cost_s": cost,
        "keys": [o.key],
        "gap_eV": float(r["gap_eV"]),
        "n_atoms": len(cell),
        "engine": s.esc.dft,
    }


def _md_cell(st: Structure) -> Structure:
    """The relaxed cell repeated until it has DIFFUSION_MIN_ATOMS atoms and DIFFUSION_MIN_LENGTH Å."""
    mult = [max(1, math.ceil(DIFFUSION_MIN_LENGTH / a)) for a in st.lattice.abc]
    while len(st) * int(np.prod(mult)) < DIFFUSION_MIN_ATOMS:
        k = int(np.argmin([a * m for a, m in zip(st.lattice.abc, mult, strict=True)]))
        mult[k] += 1
    return st * mult


def _md_steps(ps: float) -> int:
    return max(1, int(round(ps * 1000.0 / 2.0)))


def _run_diffusion(s: _Ladder, i: int, store: Store) -> dict[str, Any]:
    from mattwin.api.dynamics import md
    from mattwin.api.transport import CARRIERS, diffusion
    from mattwin.errors import MattwinError

    c = s.c[i]
    spec = member_specs(s.config.engine)[0]
    carriers = [e for e in CARRIERS if e in {el.symbol for el in _structure(c).composition.elements}]
    if not carriers or len(_structure(c).composition.elements) < 2:
        return {"said": "no mobile carrier (Li, Na, K, Ag, H, F, Mg, Zn): not run", "cost_s": 0.0, "keys": []}
    cell = _md_cell(_structure(c))
    try:
        rep = md(cell, DIFFUSION_TEMPS, steps=_md_steps(s.esc.md_ps), engine=spec, store=store)
    except MattwinError as exc:
        return {"said": f"failed: {exc}", "cost_s": 0.0, "keys": []}
    keys = [r.key for r in rep.runs]
    cost = sum(_charge(s, store, k) for k in keys)  # the recorded wall times of runs not booked before
    carrier = carriers[0]
    try:
        tr = diffusion(rep.series_id, store=store, carrier=carrier)
    except MattwinError as exc:
        return {"said": f"failed: {exc}", "cost_s": cost, "keys": keys}
    parts = []
    for p in tr.points:
        d = p.diffusion.get(carrier, {})
        parts.append(
            f"D({p.temperature_K:g} K) {d.get('D_cm2_s', float('nan')):.2g} ± {d.get('D_err_cm2_s', 0):.1g}"
        )
    said = f"{carrier}: " + ", ".join(parts) + " cm²/s"
    fit = tr.arrhenius.get(carrier)
    targets = dict(c.targets)
    if fit is not None:
        said += f"; Ea {fit['Ea_eV']:.2f} ± {fit['Ea_err_eV']:.2f} eV"
        targets["activation_energy_eV"] = float(fit["Ea_eV"])
    liquid = list((tr.melting or {}).get("liquid") or [False] * len(tr.points))
    molten = [p.temperature_K for p, q in zip(tr.points, liquid, strict=False) if q]
    if molten:  # every species diffuses: a liquid's D, not the solid's conductivity
        said += f"; molten at {', '.join(f'{t:g}' for t in molten)} K (every species diffuses)"
        if fit is not None:
            targets.pop("activation_energy_eV", None)
            said += ": no solid-state Ea or 300 K conductivity recorded"
    elif tr.conductivity_300K_S_cm is not None:
        sigma, f = 1000 * tr.conductivity_300K_S_cm, tr.conductivity_300K_factor
        said += f"; σ(300 K) {sigma:.2g} mS/cm (×/÷ {f:.2g})"
        targets["ionic_conductivity_300K_S_cm"] = float(tr.conductivity_300K_S_cm)
    if fit is None:
        said += "; not diffusing at two temperatures: no Arrhenius fit, no 300 K conductivity"
    if any(p.stopped_untrusted for p in tr.points):
        said += "; stopped early: the ensemble does not trust the MD"
    verdict = f"{c.verdict}; MD {said}" if c.verdict else f"MD {said}"
    s.c[i] = replace(c, targets=targets, verdict=verdict)
    return {
        "said": said,
        "cost_s": cost,
        "keys": keys,
        "series_id": rep.series_id,
        "carrier": carrier,
        "md_atoms": len(cell),
        "temperatures_K": list(DIFFUSION_TEMPS),
        "conductivity_300K_S_cm": tr.conductivity_300K_S_cm,
        "arrhenius": fit,
        "liquid": liquid,
        "notes": tr.notes,
    }


def _tm_site(st: Structure) -> int | None:
    """The first transition-metal site of ``st`` (None: none)."""
    return next((k for k, site in enumerate(st) if site.specie.is_transition_metal), None)


def high_spin_multiplicity(d: int) -> int:
    """2S+1 of a d^n ion in its high-spin state (Hund's rule; also the weak-field octahedral and
    tetrahedral ground state): n unpaired electrons up to d5, 10 - n beyond."""
    return (d if d <= 5 else 10 - d) + 1


def _assigned_oxidation_states(st: Structure) -> dict[str, float]:
    """Per-element oxidation states the structure carries (every site decorated, one value per
    element), else {}."""
    q: dict[str, set[float]] = {}
    for site in st:
        ox = getattr(site.specie, "oxi_state", None)
        if ox is None:
            return {}
        q.setdefault(site.specie.symbol, set()).add(float(ox))
    if any(len(v) != 1 for v in q.values()) or all(next(iter(v)) == 0 for v in q.values()):
        return {}
    return {e: next(iter(v)) for e, v in q.items()}


def _cluster(s: _Ladder, i: int) -> tuple[Any, str]:
    """(the embedded cluster Molecule around the candidate's first transition-metal site, a description),
    or (None, why it cannot be diagnosed)."""
    if i in s.clusters:
        return s.clusters[i]
    from pymatgen.core import Element

    from mattwin.errors import MattwinError
    from mattwin.materials.cluster import _oxidation_states, cut_cluster
    from mattwin.materials.molecules import molecule_formula, with_charge_spin

    st = _structure(s.c[i])
    k = _tm_site(st)
    out: tuple[Any, str]
    if k is None:
        out = (None, "no transition-metal site: not run")
    else:
        metal = st[k].specie.symbol
        try:
            q = _assigned_oxidation_states(st) or _oxidation_states(st, None)
        except MattwinError:
            q = {}
        anions = {e for e, v in q.items() if v < 0}
        nbs = [n for n in st.get_neighbors(st[k], 4.0) if n.specie.symbol in anions]
        d_count = (Element(metal).group - q.get(metal, 0.0)) if metal in q else None
        if not anions or not nbs:
            out = (None, f"{metal} site without formal anion neighbours (not an ionic solid): not run")
        elif d_count is None or abs(d_count - round(d_count)) > 1e-6 or not 0 <= d_count <= 10:
            out = (
                None,
                f"{metal}{q.get(metal, 0.0):+.3g} is mixed valence (average d{d_count:.3g}): no single "
                "site d count for the cluster; not run"
                if d_count is not None
                else f"{metal}: no formal oxidation state; not run",
            )
        else:
            d = int(round(d_count))
            mult = high_spin_multiplicity(d)
            radius = SHELL_FACTOR * min(n.nn_distance for n in nbs)
            model = cut_cluster(
                st, center=k, radius=radius, capping="point_charges", embed_cells=EMBED_CELLS, charges=q
            )
            mol = with_charge_spin(model.molecule, int(model.molecule.charge), mult)
            shell = {e.symbol: int(n) for e, n in mol.composition.items() if e.symbol != metal}
            spin = f"high-spin S = {(mult - 1) / 2:g}, 2S+1 = {mult}" if mult > 1 else "closed shell"
            out = (
                mol,
                f"[{molecule_formula(mol)}]"
                f"{abs(int(mol.charge))}{'-' if mol.charge < 0 else '+'} cluster ({metal}{q[metal]:+g} "
                f"d{d}, {spin}, shell {', '.join(f'{n} {e}' for e, n in shell.items())}, "
                f"{model.n_point_charges} point charges)",
            )
    s.clusters[i] = out
    return out


def _corr_params(mol: Any) -> dict[str, str]:
    """The correlation_diagnostics job's parameters for cluster ``mol`` (its open-shell level)."""
    return {"open_shell": CORRELATION_OPEN_SHELL} if mol.spin_multiplicity > 1 else {}


def _open_shell_said(r: dict[str, Any], what: str, basis: str, n_unpaired: int) -> tuple[list[str], str]:
    """(flags, what the rung says) for an open-shell cluster's diagnostics ``r``: UHF <S²> against
    S(S+1), the UMP2 natural occupation furthest from 0/2 besides the singly occupied ones, T1/D1 when
    UCCSD ran."""
    from mattwin.tasks.correlation_open import split_somos

    _, rest = split_somos(np.asarray(r["natural_occupations"], dtype=float), n_unpaired)
    dev = float(np.max(np.minimum(rest, 2.0 - rest))) if rest.size else 0.0
    flags = [
        f"UHF <S²> = {r['s2_uhf']:.3f} (S(S+1) = {r['s2_exact']:g})",
        f"UMP2 natural occupations within {dev:.3f} of 0 or 2 besides the {n_unpaired} singly occupied",
    ]
    if r.get("t1_diagnostic") is not None:
        flags.append(f"open-shell T1 = {r['t1_diagnostic']:.3f}, D1 = {r['d1_diagnostic']:.3f}")
    said = f"{what}, {r.get('method', 'UHF/UMP2')}/{basis}: {'; '.join(flags)}: {r['verdict']}"
    return flags, said


def _run_correlation(s: _Ladder, i: int, store: Store, execution: Execution | None) -> dict[str, Any]:
    from mattwin.api.quantum import engine_spec
    from mattwin.tasks.correlation import D1_LIMIT, T1_LIMIT

    mol, what = _cluster(s, i)
    if mol is None:
        return {"said": what, "cost_s": 0.0, "keys": []}
    c = s.c[i]
    basis = s.esc.correlation_basis.strip().lower()
    spec = engine_spec("ccsd", basis, True)
    job = Job("correlation_diagnostics", mol, spec, _corr_params(mol), label=f"{c.formula} cluster")  # type: ignore[arg-type]
    out = execute([job], store, execution)
    cost, n_cached = _book(s, store, out)
    o = out[0]
    r: dict[str, Any] = dict(o.result or {})
    if not o.ok and o.error_type == "ConvergenceError" and "CCSD" in (o.error or ""):
        # CCSD that does not converge on a closed-shell reference: itself a multireference signal
        verdict = "multireference"
        flags = [f"CCSD/{basis} did not converge"]
        said = f"{what}: {flags[0]}: {verdict}"
    elif not (o.ok and o.result):
        return {"said": f"{what}: failed: {o.error}", "cost_s": cost, "keys": [o.key]}
    elif mol.spin_multiplicity > 1:
        verdict = r["verdict"]
        flags, said = _open_shell_said(r, what, basis, mol.spin_multiplicity - 1)
    else:
        t1, d1, t2, verdict = r["t1_diagnostic"], r["d1_diagnostic"], r["max_t2_amplitude"], r["verdict"]
        flags = [
            f"T1 = {t1:.3f}" + (f" > {T1_LIMIT} (Lee & Taylor 1989)" if t1 > T1_LIMIT else ""),
            f"D1 = {d1:.3f}" + (f" > {D1_LIMIT} (Janssen & Nielsen 1998)" if d1 > D1_LIMIT else ""),
            f"largest T2 {t2:.2f}",
        ]
        said = f"{what}, CCSD/{basis}: {'; '.join(flags)}: {verdict}"
        if any(site.specie.is_transition_metal and site.specie.row == 4 for site in mol):
            over = t1 > TM_T1_LIMIT or d1 > TM_D1_LIMIT
            said += (
                f" (the 3d-metal thresholds T1 {TM_T1_LIMIT}, D1 {TM_D1_LIMIT} of Jiang et al. 2012: "
                f"{'exceeded' if over else 'not exceeded'})"
            )
    said += {
        "single-reference": " (MLIP/DFT energies not flagged)",
        "caution": " (noticeable static correlation: MLIP/DFT energies less reliable)",
        "multireference": " (multireference suspected: MLIP/DFT energies less reliable)",
    }.get(verdict, "")
    st = _structure(c)
    n_tm = sum(1 for site in st if site.specie.is_transition_metal)
    extra = MR_SIGMA_PER_TM * n_tm / len(st) if verdict == "multireference" else 0.0
    if extra > 0:
        old_sd, new_sd, p = _widen(s, i, extra)
        said += f"; σ {old_sd:.3f} -> {new_sd:.3f} eV/atom, P(stable) {p:.2f} -> {s.p[i]:.2f}"
    if verdict != "single-reference":
        note = f"correlation: {verdict} ({', '.join(flags[:2])}): MLIP/DFT energies less reliable"
        s.c[i] = replace(s.c[i], verdict=f"{c.verdict}; {note}" if c.verdict else note)
    return {
        "said": said,
        "cost_s": cost,
        "keys": [o.key],
        "n_from_store": n_cached,
        "cluster": mol.formula,
        "cluster_charge": int(mol.charge),
        "engine": spec,
        "t1_diagnostic": r.get("t1_diagnostic"),
        "d1_diagnostic": r.get("d1_diagnostic"),
        "max_t2_amplitude": r.get("max_t2_amplitude"),
        "natural_occupations": r.get("natural_occupations"),
        "spin_multiplicity": int(mol.spin_multiplicity),
        "method": r.get("method", "RHF/CCSD"),
        "s2_uhf": r.get("s2_uhf"),
        "s2_exact": r.get("s2_exact"),
        "verdict": verdict,
        "sigma_added_eV_atom": extra,
        "advice": r.get("advice") or o.error,
    }


def escalate(
    config: CampaignConfig,
    result: CampaignResult,
    cands: Sequence[Any],
    refs: Sequence[ReferencePhase],
    store: Store,
    execution: Execution | None = None,
    progress: Progress | None = None,
) -> CampaignResult:
    """Run the campaign's ``[escalate]`` ladder on its best candidates (see the module docstring);
    return the result with each candidate's ladder, the feedback in its verdict and the new order."""
    esc = config.escalate
    if esc is None:
        return result
    rungs = esc.resolved_rungs(config.engine)
    if config.engine == "ensemble" and "ensemble" in rungs:
        raise CampaignError(
            "escalate: rung 'ensemble' needs a single-model engine; the campaign's is the ensemble"
        )
    s = _Ladder(result, config)
    by_key = {c.key: c for c in cands}
    budget = esc.budget_cpu_h * 3600
    cap = esc.rung_cap_cpu_h * 3600 if esc.rung_cap_cpu_h else math.inf
    log: list[dict[str, Any]] = []
    first = True
    baseline = s.order()[: esc.top]  # policy "all": every rung on each of these, in ladder order
    while True:
        costs = learn_costs(store, [_TASK[r] for r in rungs])
        if esc.policy == "all":
            options = [(1.0, i, r) for i in baseline for r in rungs if (i, r) not in s.done][:1]
        else:
            options = [(v, i, r) for i in s.ok for r in rungs if (v := _value(s, i, r, rungs)) > MIN_VALUE]
        if not options:
            break
        priced = sorted(
            ((v / max(_predict(s, i, r, costs, refs, cands), 1e-3), v, i, r) for v, i, r in options),
            key=lambda x: -x[0],
        )
        spent = sum(s.spent.values())
        affordable = [
            x
            for x in priced
            if spent + _predict(s, x[2], x[3], costs, refs, cands) <= budget
            and s.spent.get(x[3], 0.0) + _predict(s, x[2], x[3], costs, refs, cands) <= cap
        ]
        if first and not affordable:
            _, _, i, r = min(priced, key=lambda x: _predict(s, x[2], x[3], costs, refs, cands))
            need = _predict(s, i, r, costs, refs, cands)
            raise CampaignError(
                f"escalate: budget_cpu_h = {esc.budget_cpu_h} (cap {esc.rung_cap_cpu_h} per rung) "
                f"cannot buy one calculation: the cheapest, {r} of {s.c[i].formula}, is predicted at "
                f"{need / 3600:.3g} CPU-h; raise the budget"
            )
        first = False
        if not affordable:
            break
        ratio, value, i, rung = affordable[0]
        predicted = _predict(s, i, rung, costs, refs, cands)
        if progress:
            progress("escalate", len(log), len(log) + len(affordable), f"{rung} {s.c[i].formula}")
        s.done.add((i, rung))
        if rung == "phonons":
            entry = _run_phonons(s, i, store, execution)
        elif rung == "ensemble":
            entry = _run_ensemble(s, i, refs, by_key[s.c[i].candidate_id], store, execution)
        elif rung == "diffusion":
            entry = _run_diffusion(s, i, store)
        elif rung == "correlation":
            entry = _run_correlation(s, i, store, execution)
        elif rung == "band_gap":
            entry = _run_band_gap(s, i, store, execution)
        else:
            entry = _run_elastic(s, i, store, execution)
        s.spent[rung] = s.spent.get(rung, 0.0) + entry["cost_s"]
        entry = {"rung": rung, "value": value, "predicted_s": predicted, **entry}
        s.ladder[i].append(entry)
        log.append({"candidate_id": s.c[i].candidate_id, "formula": s.c[i].formula, **entry})
    return _finish(s, rungs, log, budget)


def _finish(s: _Ladder, rungs: list[str], log: list[dict[str, Any]], budget: float) -> CampaignResult:
    order = s.order()
    rest = [i for i in range(len(s.c)) if i not in set(order)]
    ranked = [
        replace(s.c[i], rank=k + 1, ladder=s.ladder.get(i, list(s.c[i].ladder)))
        for k, i in enumerate([*order, *rest])
    ]
    summary = {
        "policy": s.esc.policy,
        "rungs": rungs,
        "top": s.esc.top,
        "budget_cpu_s": budget,
        "spent_cpu_s": sum(s.spent.values()),
        "spent_per_rung_cpu_s": dict(s.spent),
        "n_rungs_run": len(log),
        "steps": log,
        "final_top": [ranked[k].candidate_id for k in range(min(s.esc.top, len(order)))],
    }
    return replace(s.result, candidates=ranked, escalation=summary)


def suggest_compute(camp: Any, store: Store, n: int = 5) -> Any:
    """``mattwin next --for compute``: the ``n`` calculations of the ladder with the largest value per
    predicted CPU second for a stored campaign (its ``[escalate]`` settings, or the defaults), without
    running them; stored like every batch of suggestions."""
    from dataclasses import fields

    from mattwin.discovery.loop.history import record_batch
    from mattwin.discovery.loop.next import NextReport, Suggestion

    cfg = CampaignConfig.from_stored(camp.config)
    if cfg.escalate is None:
        cfg = cfg.replace(escalate=EscalateConfig())
    assert cfg.escalate is not None
    rk = {f.name for f in fields(RankedCandidate)}
    cands = []
    for d in camp.result.get("candidates", []):
        c = RankedCandidate(**{k: v for k, v in d.items() if k in rk})
        if c.status == "ok" and c.structure is None:
            try:  # the generated structure: atoms and cell for the cost model
                c = replace(c, structure=store.get_material(c.candidate_id).as_dict())
            except KeyError:
                pass
        cands.append(c)
    result = CampaignResult(
        **{
            **{k: camp.result.get(k) for k in ("name", "elements", "engine")},
            "engine_signature": {},
            "n_generated": len(cands),
            "n_screened": 0,
            "n_failed": 0,
            "n_cached": 0,
            "wall_time_s": 0.0,
            "candidates": cands,
            "hull_points": [],
        }
    )
    s = _Ladder(result, cfg)
    for i in s.ok:  # rungs already in the stored ladder are done
        s.done.update((i, e["rung"]) for e in s.c[i].ladder)
    rungs = cfg.escalate.resolved_rungs(cfg.engine)
    costs = learn_costs(store, [_TASK[r] for r in rungs])
    spec = member_specs(cfg.engine)[0]
    options = []
    for i in s.ok:
        for r in rungs:
            v = _value(s, i, r, rungs)
            if v > MIN_VALUE:
                t = (
                    _predict(s, i, r, costs, [], cands)
                    if r != "ensemble"
                    else sum(costs.seconds("relax", len(_structure(s.c[i]))) for _ in _others(cfg.engine))
                )
                options.append((v / max(t, 1e-3) * 3600, v, t, i, r))
    options.sort(key=lambda x: -x[0])
    what = {
        "phonons": f"phonons (dynamic stability) with {spec}",
        "elastic": f"elastic tensor with {spec}",
        "ensemble": f"re-relax with {', '.join(_others(cfg.engine))} (ensemble spread)",
        "diffusion": f"MD at {', '.join(f'{t:g}' for t in DIFFUSION_TEMPS)} K with {spec} (carrier D)",
        "correlation": f"multireference diagnostics of a metal-site cluster in "
        f"{cfg.escalate.correlation_basis} (CCSD T1/D1 closed shell; UHF <S²> and UMP2 natural "
        "occupations, high spin, open shell)",
        "band_gap": f"periodic DFT band gap with {cfg.escalate.dft}",
    }
    sugg = [
        Suggestion(
            candidate_id=s.c[i].candidate_id,
            formula=s.c[i].formula,
            action=what[r],
            acquisition=float(a),
            reason=f"{v:.2f} expected changes to the top {cfg.escalate.top} for ~{t:.0f} CPU s (cost model "
            f"from {costs.n_timings(_TASK[r])} timings)",
            rank=s.order().index(i) + 1,
            p_stable=s.p[i],
            e_hull=s.c[i].e_hull,
            e_hull_std=s.sd[i],
        )
        for a, v, t, i, r in options[:n]
    ]
    acq = "value of information per CPU-hour (expected top-N changes / predicted cost)"
    created = record_batch(store, camp.campaign_id, "compute", acq, [x.to_dict() for x in sugg], {"n": n})
    return NextReport(camp.name, camp.campaign_id, "compute", acq, sugg, 0, created)


def format_ladders(result: CampaignResult) -> list[str]:
    """Text lines: the escalation's spending and each escalated candidate's ladder (rung, what it
    said, what it cost)."""
    e = result.escalation or {}
    per = ", ".join(f"{k} {v:.0f} s" for k, v in e.get("spent_per_rung_cpu_s", {}).items())
    lines = [
        f"escalation ({e.get('policy')}, top {e.get('top')}): {e.get('n_rungs_run', 0)} rungs, "
        f"{e.get('spent_cpu_s', 0.0):.0f} of {e.get('budget_cpu_s', 0.0):.0f} CPU s"
        + (f" ({per})" if per else "")
    ]
    for c in result.candidates:
        for k, x in enumerate(c.ladder):
            head = f"  #{c.rank} {c.formula} ({c.candidate_id})" if k == 0 else " " * (len(c.formula) + 24)
            src = " from the store" if x.get("from") else ""
            lines.append(f"{head}  {x['rung']}: {x['said']} [{x.get('cost_s', 0.0):.0f} s{src}]")
    return lines
