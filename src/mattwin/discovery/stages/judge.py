"""Stage ``judge``: the calibrated hull of the (member-mean) energies with intervals and P(stable),
the candidates ranked, relaxed duplicates named, hull points for the plot.

Experiment enters the hull twice, for known compounds only (never for a new composition):

* **Measured anchors** (with a calibration): a composition with a measured formation enthalpy
  (:func:`mattwin.discovery.known.measured_enthalpies`) has its lowest computed phase at that value
  (:mod:`mattwin.analysis.calibrated_hull`).
* **Known stable polymorph**: for a composition whose experimentally known structure is among the
  references (a library phase not marked metastable or predicted), experiment says that structure is
  the composition's stable form. A candidate polymorph's energy above it, ΔE, is known from the
  engine only to within its polymorph error σ (the campaign's stability threshold); with the
  constraint ΔE >= 0 the estimate is the mean of the normal N(ΔE_engine, σ²) truncated at 0 (and its
  variance joins the interval). A polymorph that the engine puts below the known phase is therefore
  never a stable new material on the engine's word alone; one more than 2σ below is named a likely
  engine artefact. Candidates that relaxed into the known structure are left as they are.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np
from pymatgen.analysis.phase_diagram import PhaseDiagram
from pymatgen.core import Structure

from mattwin.analysis.calibrated_hull import CalibratedStability, calibrated_stability
from mattwin.analysis.calibration import Calibration
from mattwin.analysis.hull import PhaseEnergy
from mattwin.analysis.mp2020 import mp2020_correction
from mattwin.analysis.ranking import Target, rank_key
from mattwin.discovery.config import CampaignConfig
from mattwin.discovery.known import PREDICTED, known_compositions, measured_enthalpies
from mattwin.discovery.references import ReferencePhase
from mattwin.discovery.results import CampaignResult, HullPoint, RankedCandidate
from mattwin.discovery.stages.state import CampaignState, Candidate, Context
from mattwin.engines.registry import get_engine, member_specs
from mattwin.errors import CampaignError
from mattwin.materials.identity import material_id
from mattwin.runtime.jobs import Outcome


def stage(state: CampaignState, ctx: Context) -> CampaignState:
    config = state.config
    targets = [Target.parse(t) for t in config.targets]
    result, pd = judge(
        config,
        member_specs(config.engine),
        list(state.refs),
        list(state.cands),
        list(state.ref_out),
        list(state.cand_out),
        targets,
        state.calibration,
    )
    return replace(state, result=result, pd=pd)


def member_phases(
    refs: Sequence[ReferencePhase],
    cands: Sequence[Candidate],
    ref_out: Sequence[Outcome],
    cand_out: Sequence[Outcome],
    spec: str,
) -> list[PhaseEnergy]:
    """The phases one member engine computed successfully (energies in eV/atom), on the MP2020
    scale when the engine predicts uncorrected Materials Project energies (SevenNet)."""
    correct = get_engine(spec).mp_energies == "uncorrected"
    rows = [(material_id(r.structure), r.name, r.structure, "reference") for r in refs]
    rows += [(c.key, c.structure.composition.reduced_formula, c.structure, "candidate") for c in cands]
    outs = [o for o in ref_out if o.job.engine == spec] + [o for o in cand_out if o.job.engine == spec]
    phases = []
    for (key, name, structure, kind), o in zip(rows, outs, strict=True):
        if not (o.ok and o.result):
            continue
        energy = float(o.result["energy_per_atom_eV"])
        if correct:
            relaxed = Structure.from_dict(o.result["structure"])
            energy += mp2020_correction(relaxed, energy) or 0.0
        phases.append(PhaseEnergy(key, name, structure.composition, energy, kind))
    return phases


def judge(
    config: CampaignConfig,
    specs: list[str],
    refs: Sequence[ReferencePhase],
    cands: Sequence[Candidate],
    ref_out: Sequence[Outcome],
    cand_out: Sequence[Outcome],
    targets: list[Target],
    calibration: Calibration | None = None,
) -> tuple[CampaignResult, PhaseDiagram]:
    """Calibrated hull of the (member-mean) energies with intervals; ranked candidates; hull points."""
    per_member = [member_phases(refs, cands, ref_out, cand_out, spec) for spec in specs]
    missing = sorted(
        set(config.elements)
        - {p.composition.elements[0].symbol for p in per_member[0] if len(p.composition.elements) == 1}
    )
    if missing:
        errors = [o.error for o in ref_out if not o.ok]
        raise CampaignError(
            f"campaign {config.name}: no elemental reference phase for {', '.join(missing)} could be computed"
            + (f" ({'; '.join(e for e in errors if e)})" if errors else "")
            + "; add one with `mattwin refs add`"
        )
    phases, spreads = _mean_phases(per_member)
    notes: dict[str, str] = {}
    ref_out_0 = [o for o in ref_out if o.job.engine == specs[0]]
    fits = ReferenceFits()
    phases, spreads = _known_polymorphs(
        phases,
        spreads,
        refs,
        ref_out_0,
        cands,
        [o for o in cand_out if o.job.engine == specs[0]],
        config.stability_threshold,
        notes,
        fits,
    )
    anchors = _anchors(phases, notes) if calibration is not None and config.measured_anchors else {}
    pd, stab = calibrated_stability(phases, calibration, config.stability_threshold, spreads, anchors=anchors)
    uncertain = calibration is not None or len(specs) > 1
    by_cand: dict[str, list[Outcome]] = {}
    for o in cand_out:
        by_cand.setdefault(o.job.material_id, []).append(o)
    cal_name = calibration.name if calibration else None
    known = known_compositions()
    ranked = [
        replace(
            _ranked(c, by_cand[c.key], stab.get(c.key), targets, uncertain, cal_name, known),
            thermo_note=notes.get(c.key) or notes.get(c.structure.composition.reduced_formula),
        )
        for c in cands
    ]
    ranked.sort(
        key=lambda r: rank_key(
            r.e_hull,
            (r.e_hull - r.e_hull_interval[0]) if r.e_hull is not None and r.e_hull_interval else None,
            config.stability_threshold,
            [r.targets.get(t.name) for t in targets],
            targets,
        )
    )
    ranked = _mark_relaxed_duplicates(ranked, refs, ref_out_0, fits)
    ranked = [RankedCandidate(**{**r.__dict__, "rank": i + 1}) for i, r in enumerate(ranked)]
    ref_ids = [material_id(r.structure) for r in refs]
    names = {mid: (r.name, r.source) for mid, r in zip(ref_ids, refs, strict=True)}
    formulas = {c.key: c.structure.composition.reduced_formula for c in cands}
    formulas.update(
        {mid: r.structure.composition.reduced_formula for mid, r in zip(ref_ids, refs, strict=True)}
    )
    hull_points = [
        HullPoint(
            name=names.get(k, (k, ""))[0],
            formula=formulas.get(k, k),
            kind="reference" if k in names else "candidate",
            formation_energy_per_atom=s.point.formation_energy_per_atom,
            e_hull=s.point.e_hull,
            source=names.get(k, ("", ""))[1],
        )
        for k, s in stab.items()
    ]
    failed = sum(r.status != "ok" for r in ranked)
    n_cached = sum(o.cached for o in [*ref_out, *cand_out])
    result = CampaignResult(
        name=config.name,
        elements=sorted(config.elements),
        engine=config.engine,
        engine_signature=get_engine(config.engine).signature,
        n_generated=len(cands),
        n_screened=len(cands) - failed,
        n_failed=failed,
        n_cached=n_cached,
        wall_time_s=0.0,
        candidates=ranked,
        hull_points=sorted(hull_points, key=lambda h: (h.kind, h.e_hull)),
        parameters=config.to_dict(),
        calibration=calibration.provenance() if calibration else None,
    )
    return result, pd


#: a candidate this many polymorph errors below the known stable phase is named a likely artefact
ARTEFACT_SIGMAS = 2.0


def _anchors(phases: Sequence[PhaseEnergy], notes: dict[str, str]) -> dict[str, tuple[float, float]]:
    """formula -> (measured ΔH_f, σ) for the compounds among ``phases`` with a measured enthalpy; a
    note per anchored formula."""
    measured = measured_enthalpies()
    out = {}
    for f in sorted({p.composition.reduced_formula for p in phases if len(p.composition.elements) > 1}):
        m = measured.get(f)
        if m is not None:
            out[f] = (m.value, m.uncertainty)
            notes.setdefault(f, f"{f} anchored to its measured ΔHf {m.value:.3f} eV/atom ({m.source})")
    return out


def _known_stable(r: ReferencePhase) -> bool:
    """A reference whose structure is an experimentally known, not metastable, form of a compound."""
    text = f"{r.source} {r.polymorph_note}".lower()
    return (
        len(r.structure.composition.elements) > 1
        and PREDICTED not in r.source
        and not any(w in text for w in ("metastable", "predicted", "high-pressure", "hypothetical"))
    )


class ReferenceFits:
    """Whether a candidate's relaxed structure is a reference's relaxed structure (the dedup matcher),
    each (candidate, reference) pair fitted once: the known-polymorph rule and the relaxed-duplicate
    marking both ask it of a candidate and its composition's known phase."""

    def __init__(self) -> None:
        from mattwin.discovery.dedup import DuplicateFilter

        self.matcher = DuplicateFilter().matcher
        self._fits: dict[tuple[str, int], bool] = {}

    def __call__(self, cand_key: str, relaxed: Structure, ref_index: int, ref_relaxed: Structure) -> bool:
        """Candidate ``cand_key`` (relaxed to ``relaxed``) against the reference at ``ref_index``."""
        pair = (cand_key, ref_index)
        if pair not in self._fits:
            self._fits[pair] = bool(self.matcher.fit(relaxed, ref_relaxed))
        return self._fits[pair]


def _truncated_normal(m: float, sigma: float) -> tuple[float, float]:
    """Mean and variance of N(m, sigma²) truncated to [0, inf)."""
    from scipy.stats import norm

    a = -m / sigma
    lam = float(np.exp(norm.logpdf(a) - norm.logsf(a)))
    return m + sigma * lam, sigma**2 * max(1.0 + a * lam - lam**2, 0.0)


def _known_polymorphs(
    phases: list[PhaseEnergy],
    spreads: dict[str, float],
    refs: Sequence[ReferencePhase],
    ref_out: Sequence[Outcome],
    cands: Sequence[Candidate],
    cand_out: Sequence[Outcome],
    sigma: float,
    notes: dict[str, str],
    fits: ReferenceFits | None = None,
) -> tuple[list[PhaseEnergy], dict[str, float]]:
    """Candidate polymorphs of a composition whose known stable structure is a reference, at or above
    it (see the module docstring); ``notes`` gets the reason per changed candidate key."""
    if sigma <= 0:
        return phases, spreads
    energy = {p.key: p.energy_per_atom for p in phases}
    known: dict[str, tuple[float, str, int, Structure | None]] = {}
    for i, (r, o) in enumerate(zip(refs, ref_out, strict=True)):
        key = material_id(r.structure)
        if key not in energy or not _known_stable(r):
            continue
        f = r.structure.composition.reduced_formula
        relaxed = Structure.from_dict(o.result["structure"]) if o.ok and o.result else None
        if f not in known or energy[key] < known[f][0]:
            known[f] = (energy[key], r.name, i, relaxed)
    if not known:
        return phases, spreads
    fits = fits or ReferenceFits()
    relaxed_c = {
        o.job.material_id: Structure.from_dict(o.result["structure"]) for o in cand_out if o.ok and o.result
    }
    cand_keys = {c.key for c in cands}
    spreads = dict(spreads)
    out = []
    for p in phases:
        f = p.composition.reduced_formula
        if p.kind != "candidate" or p.key not in cand_keys or f not in known:
            out.append(p)
            continue
        e_known, name, i_known, s_known = known[f]
        s = relaxed_c.get(p.key)
        if s is not None and s_known is not None and fits(p.key, s, i_known, s_known):
            out.append(p)
            continue
        m = p.energy_per_atom - e_known
        mean, var = _truncated_normal(m, sigma)
        out.append(PhaseEnergy(p.key, p.name, p.composition, e_known + mean, p.kind))
        spreads[p.key] = float(np.hypot(spreads.get(p.key, 0.0), np.sqrt(var)))
        note = (
            f"engine puts it {m * 1000:+.0f} meV/atom from the known {name}, the stable form by "
            f"experiment: {mean * 1000:.0f} meV/atom above it at a polymorph error of {sigma * 1000:.0f}"
        )
        if m < -ARTEFACT_SIGMAS * sigma:
            note += "; below the known phase beyond the engine's error: likely an engine artefact"
        notes[p.key] = note
    return out, spreads


def _mean_phases(per_member: list[list[PhaseEnergy]]) -> tuple[list[PhaseEnergy], dict[str, float]]:
    """The phases every member computed, at the members' mean energy, and each phase's spread
    (sample standard deviation of the member energies, eV/atom; empty for one engine)."""
    if len(per_member) == 1:
        return per_member[0], {}
    energies: dict[str, list[float]] = {}
    for phases in per_member:
        for p in phases:
            energies.setdefault(p.key, []).append(p.energy_per_atom)
    n = len(per_member)
    common = [p for p in per_member[0] if len(energies[p.key]) == n]
    mean = [
        PhaseEnergy(p.key, p.name, p.composition, float(np.mean(energies[p.key])), p.kind) for p in common
    ]
    return mean, {p.key: float(np.std(energies[p.key], ddof=1)) for p in common}


def _mark_relaxed_duplicates(
    ranked: list[RankedCandidate],
    refs: Sequence[ReferencePhase],
    ref_out: Sequence[Outcome],
    fits: ReferenceFits | None = None,
) -> list[RankedCandidate]:
    """Name the reference phase or better-ranked candidate that a candidate became on relaxation
    (different starting prototypes often relax to one structure); ``fits``: the candidate-reference
    matches already made (by the known-polymorph rule)."""
    fits = fits or ReferenceFits()
    # per formula: (relaxed structure, label, the reference's index or None for a candidate)
    seen: dict[str, list[tuple[Structure, str, int | None]]] = {}
    for i, (r, o) in enumerate(zip(refs, ref_out, strict=True)):
        if o.ok and o.result:
            s = Structure.from_dict(o.result["structure"])
            seen.setdefault(s.composition.reduced_formula, []).append((s, f"reference {r.name}", i))
    out = []
    for c in ranked:
        if c.status != "ok" or c.structure is None:
            out.append(c)
            continue
        s = Structure.from_dict(c.structure)
        same = seen.setdefault(c.formula, [])
        dup = next(
            (
                label
                for other, label, i in same
                if (fits.matcher.fit(s, other) if i is None else fits(c.candidate_id, s, i, other))
            ),
            None,
        )
        if dup is None:
            same.append((s, f"candidate {c.candidate_id}", None))
        out.append(RankedCandidate(**{**c.__dict__, "duplicate_of": dup}))
    return out


def _ranked(
    c: Candidate,
    outs: list[Outcome],
    cs: CalibratedStability | None,
    targets: list[Target],
    uncertain: bool,
    calibration: str | None,
    known: dict[str, str],
) -> RankedCandidate:
    formula = c.structure.composition.reduced_formula
    base: dict[str, Any] = {
        "rank": 0,
        "candidate_id": c.key,
        "formula": formula,
        "origin": c.origin,
        "n_atoms": len(c.structure),
        "known_compound": known.get(formula),
    }
    bad = [o for o in outs if not o.ok]
    if bad or cs is None:
        status = "unsupported" if bad and bad[0].error_type == "UnsupportedElementError" else "failed"
        return RankedCandidate(status=status, error=bad[0].error if bad else "no stability result", **base)
    stab = cs.point
    relaxed = Structure.from_dict(outs[0].result["structure"])  # type: ignore[index]
    energies = [o.result["energy_per_atom_eV"] for o in outs]  # type: ignore[index]

    not_converged = [o.job.engine for o in outs if not o.result.get("converged", True)]  # type: ignore[union-attr]
    props = {
        "volume_per_atom": relaxed.volume / len(relaxed),
        "density": float(relaxed.density),
        "formation_energy_per_atom": stab.formation_energy_per_atom,
        "e_hull": stab.e_hull,
    }
    return RankedCandidate(
        status="ok",
        error=(
            f"relaxation not converged within max_steps ({', '.join(not_converged)})"
            if not_converged
            else None
        ),
        spacegroup=_spacegroup(relaxed),
        energy_per_atom=float(np.mean(energies)),
        energy_per_atom_std=float(np.std(energies, ddof=1)) if len(energies) > 1 else None,
        formation_energy_per_atom=stab.formation_energy_per_atom,
        formation_energy_per_atom_std=cs.formation_energy_std if uncertain else None,
        e_hull=stab.e_hull,
        e_hull_std=cs.e_hull_std if uncertain else None,
        decomposition=stab.decomposition,
        formation_energy_interval=list(cs.formation_energy_interval) if uncertain else None,
        e_hull_interval=list(cs.e_hull_interval) if uncertain else None,
        p_stable=cs.p_stable,
        raw_formation_energy_per_atom=cs.raw_formation_energy_per_atom,
        raw_e_hull=cs.raw_e_hull,
        calibration=calibration,
        volume_per_atom=props["volume_per_atom"],
        targets={t.name: props[t.name] for t in targets if t.name in props},
        structure=relaxed.as_dict(),
        **base,
    )


def _spacegroup(structure: Structure) -> str | None:
    from pymatgen.symmetry.analyzer import SpacegroupAnalyzer

    try:
        sga = SpacegroupAnalyzer(structure, symprec=0.1)
        return f"{sga.get_space_group_symbol()} ({sga.get_space_group_number()})"
    except Exception:
        return None
