"""``mattwin next``: the measurements (or calculations) a campaign should run next.

The campaign's candidates form the pool; their calibrated formation energies are the surrogate's prior
mean and the calibration's σ its prior spread (:mod:`mattwin.discovery.loop.surrogate`); the lab's
formation-enthalpy measurements of candidates condition it. With a target (``formation_energy_per_atom``
or ``e_hull``, min or max) the batch maximises qLogNEI times P(stable) (and the synthesizability score
where the campaign has one); with none (the demo) it is the batch that most reduces the expected
entropy of the stable/unstable classification (:mod:`mattwin.discovery.loop.acquisition`). Every batch
is stored with its time stamp and the measurements it saw (:mod:`mattwin.discovery.loop.history`).

With two or more targets each target has its own surrogate: the formation energy and E_hull as above;
the volume per atom and the density one GP of ln(volume per atom), prior mean the relaxed volume and
prior σ the engine's volume error measured against the reference library's experimental structures,
conditioned on measured lattice parameters (:mod:`mattwin.discovery.loop.objectives`; ln density =
ln(mass per atom) - ln volume). The batch maximises BoTorch's qLogNEHVI over the targets times
P(stable) (x synthesizability) (:func:`mattwin.discovery.loop.acquisition.pareto_batch`), and each
suggestion's action is the measurement (calorimetry or XRD) of the objective in which the candidate is
the most uncertain, in units of the spread of that objective's posterior means over the pool.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
from pymatgen.core import Composition
from sqlalchemy import select

from mattwin.discovery.config import CampaignConfig
from mattwin.discovery.loop.acquisition import binary_entropy, p_stable, stability_batch, target_batch
from mattwin.discovery.loop.history import record_batch
from mattwin.discovery.loop.objectives import volume_error
from mattwin.discovery.loop.pareto import (
    Objective,
    ParetoPlan,
    log_volume_posterior,
    plan,
    volume_objective,
)
from mattwin.discovery.loop.surrogate import (
    DEFAULT_SIGMA,
    Pool,
    candidate_features,
    class_features,
    fit_surrogate,
    inputs,
    posterior,
)
from mattwin.errors import CampaignError, MeasurementError
from mattwin.lab import Measurement
from mattwin.store import schema
from mattwin.store.store import Store

#: campaign targets a lab measurement informs, and the measured property that informs each
LAB_TARGETS = ("formation_energy_per_atom", "e_hull", "volume_per_atom", "density")
INFORMED_BY = {
    "formation_energy_per_atom": "formation_enthalpy",
    "e_hull": "formation_enthalpy",
    "volume_per_atom": "lattice_parameter",
    "density": "lattice_parameter",
}
#: targets that a single-target campaign plans (qLogNEI); the others need a second target
SINGLE_TARGETS = ("formation_energy_per_atom", "e_hull")
MEASURED = "formation_enthalpy"
ACTIONS = {
    "formation_enthalpy": "measure formation enthalpy of {f} (calorimetry)",
    "lattice_parameter": "measure lattice parameter of {f} (XRD)",
}


@dataclass(frozen=True)
class StoredCampaign:
    """A campaign as the store holds it: id, name, config (dict) and its last result (dict)."""

    campaign_id: str
    name: str
    config: dict[str, Any]
    result: dict[str, Any]

    @property
    def threshold(self) -> float:
        return float(self.config.get("stability_threshold", 0.025))

    def candidates(self) -> list[dict[str, Any]]:
        return [c for c in self.result.get("candidates", []) if c.get("status") == "ok"]


def load_campaign(ref: str | Path, store: Store) -> StoredCampaign:
    """A campaign by its TOML file, stored id or name (the newest of that name); it must have been run."""
    p = Path(ref)
    campaigns = schema.campaigns
    if p.suffix == ".toml" or p.is_file():
        cfg = CampaignConfig.from_toml(p)
        q = select(campaigns).where(campaigns.c.id == cfg.campaign_id)
        label = f"{p} (id {cfg.campaign_id})"
    else:
        q = select(campaigns).where((campaigns.c.id == str(ref)) | (campaigns.c.name == str(ref)))
        label = repr(str(ref))
    with store.engine.connect() as conn:
        rows = sorted(conn.execute(q), key=lambda r: (r.result is not None, r.created_at))
    if not rows:
        raise CampaignError(
            f"campaign {label}: not in the store {store.url}; run `mattwin discover` on it first, "
            "or give a stored campaign id or name"
        )
    row = rows[-1]
    if row.result is None:
        raise CampaignError(
            f"campaign {label}: has not been run to the end (no result in the store); "
            "run `mattwin discover` on it first"
        )
    return StoredCampaign(row.id, row.name, json.loads(row.config), json.loads(row.result))


def match_measurements(
    camp: StoredCampaign, measurements: list[Measurement], prop: str = MEASURED
) -> dict[int, Measurement]:
    """Candidate index -> its newest measurement of ``prop`` (default the formation enthalpy). A
    measurement names a candidate by material id, or by formula: then it is the candidate of that
    formula with the lowest predicted formation energy (the polymorph a synthesis most likely made)."""
    cands = camp.candidates()
    by_id = {c["candidate_id"]: i for i, c in enumerate(cands)}
    by_formula: dict[str, int] = {}
    for i, c in enumerate(cands):
        j = by_formula.get(c["formula"])
        if j is None or c["formation_energy_per_atom"] < cands[j]["formation_energy_per_atom"]:
            by_formula[c["formula"]] = i
    out: dict[int, Measurement] = {}
    for m in measurements:
        if m.property != prop:
            continue
        k = by_id.get(m.material_id or "", by_formula.get(Composition(m.formula).reduced_formula))
        if k is not None:
            out[k] = m
    return out


def check_measurements_belong(camp: StoredCampaign, measurements: list[Measurement]) -> None:
    """Raise :class:`MeasurementError` naming a measurement of a material the campaign does not have."""
    ids = {c["candidate_id"] for c in camp.candidates()}
    formulas = {c["formula"] for c in camp.candidates()}
    for m in measurements:
        if (m.material_id and m.material_id in ids) or Composition(m.formula).reduced_formula in formulas:
            continue
        raise MeasurementError(
            f"{m.file} row {m.row}: {m.material} is not a screened candidate of campaign {camp.name} "
            f"({', '.join(sorted(formulas))}); measure one of its candidates or use `mattwin measure add`"
        )


@dataclass(frozen=True)
class Suggestion:
    """One next experiment or calculation; ``acquisition`` in the unit ``NextReport.acquisition`` says."""

    candidate_id: str
    formula: str
    action: str
    acquisition: float
    reason: str
    rank: int
    p_stable: float | None = None
    e_hull: float | None = None  # posterior mean, eV/atom
    e_hull_std: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class NextReport:
    """A batch of suggestions for one campaign, with the posterior ranking it came from."""

    campaign: str
    campaign_id: str
    mode: str  # "lab" or "compute"
    acquisition: str
    suggestions: list[Suggestion]
    n_measurements: int
    created_at: datetime | None = None
    ranking: list[dict[str, Any]] = field(default_factory=list)
    #: what the re-plan did with the calibration first (:class:`mattwin.discovery.loop.relearn.Relearned`)
    relearned: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["suggestions"] = [s.to_dict() for s in self.suggestions]
        return d


def _pool(cands: list[dict[str, Any]]) -> tuple[Pool, np.ndarray, np.ndarray, np.ndarray]:
    """The pool, with E_hull means, E_hull σ and a_j = Cov(E_hull, ΔH_f)/Var(ΔH_f) per candidate."""
    feats = np.array([candidate_features(c["formula"], c.get("volume_per_atom")) for c in cands])
    mean = np.array([c["formation_energy_per_atom"] for c in cands], dtype=float)
    sig_f = np.array([c.get("formation_energy_per_atom_std") or DEFAULT_SIGMA for c in cands], dtype=float)
    e = np.array([c["e_hull"] for c in cands], dtype=float)
    sig_e = np.array([c.get("e_hull_std") or DEFAULT_SIGMA for c in cands], dtype=float)
    # E_hull = ΔH_f - H (hull of the competing phases); with Var(H) ~ Var(ΔH_f) the regression of
    # E_hull on ΔH_f has slope σ_E² / (2 σ_F²): competing phases that share the candidate's error
    # (small σ_E) make its own measurement say little about its stability
    a = np.clip(sig_e**2 / (2 * sig_f**2), 0.0, 1.0)
    ids = [c["candidate_id"] for c in cands]
    classes = np.array([class_features(c["formula"]) for c in cands])
    return Pool(ids, feats, mean, np.maximum(sig_f, 1e-3), classes), e, sig_e, a


def _targets(camp: StoredCampaign) -> list[tuple[str, bool]]:
    out: list[tuple[str, bool]] = []
    targets = list(camp.config.get("targets", []))
    for t in targets:
        name, _, goal = t.partition(":")
        if name not in LAB_TARGETS:
            raise CampaignError(
                f"campaign {camp.name}: target {t!r} has no lab measurement that informs it; "
                "`mattwin next --for lab` handles formation_energy_per_atom, e_hull (formation enthalpy), "
                "volume_per_atom, density (lattice parameter)"
            )
        if name in {n for n, _ in out}:
            raise CampaignError(
                f"campaign {camp.name}: target {name} is named twice ({', '.join(targets)}); "
                "give each property once, with :min or :max"
            )
        out.append((name, goal == "max"))
    if len(out) == 1 and out[0][0] not in SINGLE_TARGETS:
        raise CampaignError(
            f"campaign {camp.name}: target {targets[0]!r} alone is not planned by `mattwin next --for lab` "
            f"(one target: {', '.join(SINGLE_TARGETS)}); add a second target (e.g. "
            "formation_energy_per_atom:min) for a Pareto (qNEHVI) plan"
        )
    return out


def suggest_lab(camp: StoredCampaign, store: Store, n: int = 5) -> NextReport:
    """The next ``n`` formation-enthalpy measurements for a campaign (see the module docstring)."""
    cands = camp.candidates()
    if not cands:
        raise CampaignError(f"campaign {camp.name}: no successfully screened candidate to measure")
    targets = _targets(camp)
    pool, e_prior, sig_e, a = _pool(cands)
    matched = match_measurements(camp, store.measurements(property=MEASURED))
    idx = sorted(matched)
    y = [float(matched[i].value) for i in idx]
    unc = [float(matched[i].uncertainty or 0.02) for i in idx]
    # ΔH_f: the full surrogate, with the chemistry-class term. E_hull: without it, because a shift linear
    # in the atom fractions (the class term) moves the candidate and the hull of its competing phases at
    # the same composition alike and cancels in E_hull
    fmodel = fit_surrogate(pool, idx, y, unc)
    mu_f, cov_f = posterior(fmodel, pool)
    hull_pool = Pool(pool.ids, pool.features, pool.mean, pool.sigma)
    model = fit_surrogate(hull_pool, idx, y, unc)
    mu, cov = posterior(model, hull_pool)
    v0 = pool.sigma**2
    var = np.maximum(np.diag(cov), 1e-12)
    e_post = e_prior + a * (mu - pool.mean)
    sd_post = np.sqrt(np.maximum(sig_e**2 - a**2 * np.maximum(v0 - var, 0.0), 1e-12))
    p = p_stable(e_post, sd_post, camp.threshold)
    allowed = [i for i, c in enumerate(cands) if not c.get("duplicate_of")]
    noise = np.full(len(cands), 0.02)
    multi: ParetoPlan | None = None
    if len(targets) >= 2:
        multi = _multi_target(camp, store, cands, targets, pool, (mu_f, cov_f), e_prior, (idx, y, unc), p, n)
        picks, reasons = multi.picks, multi.reasons
        acq = "qLogNEHVI x P(stable)" + (" x synthesizability" if _has_synth(cands) else "")
    elif targets:
        name, maximize = targets[0]
        feasible = np.log(np.clip(p, 1e-6, 1.0)) + np.log(_synthesizability(cands))
        tpool, tmodel, tmu, tvar = pool, fmodel, mu_f, np.maximum(np.diag(cov_f), 1e-12)
        if name == "e_hull":  # E_hull = ΔH_f + (E_hull - ΔH_f predicted): the same GP, shifted per candidate
            shift = e_prior - pool.mean
            tpool = Pool(pool.ids, pool.features, e_prior, pool.sigma)  # no class term (it cancels)
            tmodel = fit_surrogate(tpool, idx, [v + shift[i] for v, i in zip(y, idx, strict=True)], unc)
            tmu, tcov = posterior(tmodel, tpool)
            tvar = np.maximum(np.diag(tcov), 1e-12)
        x = inputs(tpool)
        picks = target_batch(tmodel, x, x[idx] if idx else None, n, maximize, feasible, allowed)
        acq = "qLogNEI x P(stable)" + (" x synthesizability" if _has_synth(cands) else "")
        reasons = {
            i: f"{name} {'max' if maximize else 'min'}: posterior {tmu[i]:.3f} ± {np.sqrt(tvar[i]):.3f} "
            f"eV/atom, P(stable) {p[i]:.2f}"
            for i, _ in picks
        }
    else:
        picks = stability_batch_posterior(e_post, cov, a, sd_post, noise, camp.threshold, n, allowed)
        acq = "expected entropy reduction of stable/unstable (bits)"
        h = binary_entropy(p)
        reasons = {
            i: f"P(stable) {p[i]:.2f} (entropy {h[i]:.2f} bits), "
            f"E_hull {e_post[i]:.3f} ± {sd_post[i]:.3f} eV/atom"
            + ("; already measured" if i in matched else "")
            for i, _ in picks
        }
    order = np.argsort(-p, kind="stable")
    rank = {int(i): r + 1 for r, i in enumerate(order)}
    sugg = [
        Suggestion(
            candidate_id=cands[i]["candidate_id"],
            formula=cands[i]["formula"],
            action=ACTIONS[multi.measure[i] if multi else MEASURED].format(f=cands[i]["formula"]),
            acquisition=float(v),
            reason=reasons[i],
            rank=rank[i],
            p_stable=float(p[i]),
            e_hull=float(e_post[i]),
            e_hull_std=float(sd_post[i]),
        )
        for i, v in picks
    ]
    ranking = [
        {
            "candidate_id": cands[i]["candidate_id"],
            "formula": cands[i]["formula"],
            "p_stable": float(p[i]),
            "e_hull": float(e_post[i]),
            "formation_energy_per_atom": float(mu_f[i]),
            "measured": i in matched,
            **({"objectives": multi.posterior(i), "measured_lattice": i in multi.lattice} if multi else {}),
        }
        for i in order
    ]
    seen = list(matched.values()) + (list(multi.lattice.values()) if multi else [])
    basis = {"measurements": sorted(m.content_key() for m in seen), "n": n}
    created = record_batch(store, camp.campaign_id, "lab", acq, [s.to_dict() for s in sugg], basis)
    return NextReport(camp.name, camp.campaign_id, "lab", acq, sugg, len(seen), created, ranking)


def stability_batch_posterior(
    e_hull: np.ndarray,
    cov: np.ndarray,
    a: np.ndarray,
    sd: np.ndarray,
    noise: np.ndarray,
    threshold: float,
    n: int,
    allowed: list[int],
) -> list[tuple[int, float]]:
    """:func:`stability_batch` with E_hull = a ΔH_f + independent part: the E_hull σ that no
    formation-energy measurement removes stays."""
    rest = np.sqrt(np.maximum(sd**2 - a**2 * np.diag(cov), 0.0))
    return stability_batch(e_hull, cov, a, noise, threshold, n, allowed, floor=rest)


def _has_synth(cands: list[dict[str, Any]]) -> bool:
    return any(_synth_value(c) is not None for c in cands)


def _synth_value(c: dict[str, Any]) -> float | None:
    s = c.get("synthesizability")
    if isinstance(s, dict):
        s = s.get("score", s.get("probability"))
    return float(s) if isinstance(s, int | float) else None


def _synthesizability(cands: list[dict[str, Any]]) -> np.ndarray:
    """The candidates' synthesizability scores in (0, 1] (1 where none is known)."""
    return np.array([np.clip(_synth_value(c) or 1.0, 1e-6, 1.0) for c in cands])


def _multi_target(
    camp: StoredCampaign,
    store: Store,
    cands: list[dict[str, Any]],
    targets: list[tuple[str, bool]],
    pool: Pool,
    formation: tuple[np.ndarray, np.ndarray],
    e_prior: np.ndarray,
    measured: tuple[list[int], list[float], list[float]],
    p: np.ndarray,
    n: int,
) -> ParetoPlan:
    """qLogNEHVI over two or more targets (:mod:`mattwin.discovery.loop.pareto`)."""
    idx, y, unc = measured
    verr = volume_error(str(camp.config.get("engine", "chgnet")))
    lattice: dict[int, Measurement] = {}
    log_v = None
    if any(t in ("volume_per_atom", "density") for t, _ in targets):
        found = store.measurements(property="lattice_parameter")
        lattice = match_measurements(camp, found, "lattice_parameter")
        log_v = log_volume_posterior(store, cands, pool, lattice, verr)
    objectives: list[Objective] = []
    for name, maximize in targets:
        if name == "formation_energy_per_atom":
            objectives.append(Objective(name, maximize, *formation, "formation_enthalpy"))
        elif name == "e_hull":  # as for one target: the ΔHf GP shifted per candidate, no class term
            shift = e_prior - pool.mean
            tpool = Pool(pool.ids, pool.features, e_prior, pool.sigma)
            tmodel = fit_surrogate(tpool, idx, [v + shift[i] for v, i in zip(y, idx, strict=True)], unc)
            objectives.append(Objective(name, maximize, *posterior(tmodel, tpool), "formation_enthalpy"))
        else:
            assert log_v is not None
            objectives.append(volume_objective(name, maximize, cands, log_v))
    allowed = [i for i, c in enumerate(cands) if not c.get("duplicate_of")]
    feasible = np.log(np.clip(p, 1e-6, 1.0)) + np.log(_synthesizability(cands))
    observed = sorted(set(idx) | set(lattice))
    note = {"lattice_parameter": f"volume prior σ: {verr.describe()}"}
    picks, measure, reasons = plan(objectives, observed, n, feasible, allowed, p, note)
    return ParetoPlan(picks, measure, reasons, objectives, lattice)
