"""Several targets: one posterior per target over the candidates, a qLogNEHVI batch, and which
measurement each suggestion should be.

* ``formation_energy_per_atom`` and ``e_hull``: the formation-enthalpy surrogates of
  :mod:`mattwin.discovery.loop.next` (eV/atom), informed by calorimetry.
* ``volume_per_atom`` and ``density``: one GP of ln(volume per atom / Å³) over the pool, prior mean the
  relaxed volume, prior σ the engine's measured volume error
  (:func:`mattwin.discovery.loop.objectives.volume_error`), informed by measured lattice parameters
  (:func:`mattwin.discovery.loop.objectives.log_volume_from_lattice`); ln density = ln(mass per atom)
  - ln volume, so the density's posterior is the same GP's, negated and shifted per candidate.

The batch is :func:`mattwin.discovery.loop.acquisition.pareto_batch` (qLogNEHVI + log P(feasible)).
The action of a suggestion is the measurement of the objective in which the candidate is the most
uncertain, its posterior σ divided by the standard deviation of that objective's posterior means over
the pool (the scale on which the Pareto front is spread).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import numpy as np
from pymatgen.core import Composition, Structure
from sqlalchemy import select

from mattwin.discovery.loop.acquisition import pareto_batch
from mattwin.discovery.loop.objectives import VolumeError, log_volume_from_lattice
from mattwin.discovery.loop.surrogate import Pool, fit_surrogate, posterior
from mattwin.lab import Measurement
from mattwin.store import schema
from mattwin.store.store import Store

#: g/cm³ of one g/mol in one Å³ (1 / (N_A · 1e-24 cm³))
G_CM3 = 1.66053907
_SHOW = {
    "formation_energy_per_atom": ("ΔHf", "eV/atom", ".3f"),
    "e_hull": ("E_hull", "eV/atom", ".3f"),
    "volume_per_atom": ("volume", "Å³/atom", ".2f"),
    "density": ("density", "g/cm³", ".3f"),
}


@dataclass(frozen=True)
class Objective:
    """One target's posterior over the pool: ``mean`` (n,), ``cov`` (n, n) in the surrogate's units
    (eV/atom; ln Å³/atom or ln g/cm³ where ``log``), and the lab property that informs it."""

    name: str
    maximize: bool
    mean: np.ndarray
    cov: np.ndarray
    measure: str
    log: bool = False

    def sd(self, i: int) -> float:
        return float(np.sqrt(max(self.cov[i, i], 0.0)))

    def value(self, i: int) -> tuple[float, float]:
        """Candidate i's posterior mean and σ in the property's unit (eV/atom, Å³/atom, g/cm³)."""
        m, s = float(self.mean[i]), self.sd(i)
        return (float(np.exp(m)), float(np.exp(m) * s)) if self.log else (m, s)

    def show(self, i: int) -> str:
        label, unit, fmt = _SHOW[self.name]
        v, s = self.value(i)
        return f"{label} {v:{fmt}} ± {s:{fmt}} {unit}"


@dataclass(frozen=True)
class ParetoPlan:
    """The batch (pool index, acquisition value), each pick's measurement and reason, the objectives
    and the lattice-parameter measurements they saw (pool index -> measurement)."""

    picks: list[tuple[int, float]]
    measure: dict[int, str]
    reasons: dict[int, str]
    objectives: list[Objective]
    lattice: dict[int, Measurement]

    def posterior(self, i: int) -> dict[str, list[float]]:
        """Each objective's posterior [mean, σ] of candidate i in the property's unit."""
        return {o.name: list(o.value(i)) for o in self.objectives}


def relaxed_structure(store: Store, cand: dict[str, Any]) -> Structure | None:
    """The candidate's relaxed structure: its stored relaxation whose volume per atom is the campaign's
    (a stored campaign result keeps no structures); None when the store has none."""
    if cand.get("structure"):
        return Structure.from_dict(cand["structure"])
    calcs = schema.calculations
    q = select(calcs.c.result).where(
        (calcs.c.material_id == cand["candidate_id"]) & (calcs.c.task == "relax") & (calcs.c.status == "done")
    )
    with store.engine.connect() as conn:
        rows = [json.loads(r[0]) for r in conn.execute(q) if r[0]]
    best, err = None, np.inf
    for r in rows:
        if "structure" in r:
            st = Structure.from_dict(r["structure"])
            d = abs(st.volume / len(st) - float(cand["volume_per_atom"]))
            if d < err:
                best, err = st, d
    return best if err < 1e-3 * float(cand["volume_per_atom"]) else None


def log_volume_posterior(
    store: Store,
    cands: list[dict[str, Any]],
    pool: Pool,
    lattice: dict[int, Measurement],
    verr: VolumeError,
) -> tuple[np.ndarray, np.ndarray]:
    """Posterior mean (n,) and covariance (n, n) of ln(volume per atom / Å³), conditioned on the
    measured lattice parameters of candidates whose relaxed structure the store holds."""
    idx, y, unc = [], [], []
    for i, m in sorted(lattice.items()):
        st = relaxed_structure(store, cands[i])
        if st is not None:
            v, sd = log_volume_from_lattice(st, m.value, m.uncertainty, verr.engine)
            idx.append(i)
            y.append(v)
            unc.append(sd)
    ln_v = np.log([float(c["volume_per_atom"]) for c in cands])
    vpool = Pool(pool.ids, pool.features, ln_v, np.full(len(cands), verr.rms))
    return posterior(fit_surrogate(vpool, idx, y, unc), vpool)


def volume_objective(
    name: str, maximize: bool, cands: list[dict[str, Any]], log_v: tuple[np.ndarray, np.ndarray]
) -> Objective:
    """``volume_per_atom`` or ``density`` from the ln-volume posterior."""
    mu, cov = log_v
    if name == "volume_per_atom":
        return Objective(name, maximize, mu, cov, "lattice_parameter", log=True)
    comps = [Composition(c["formula"]) for c in cands]
    ln_m = np.log([float(c.weight) / c.num_atoms * G_CM3 for c in comps])  # g/cm³ · Å³ per atom
    return Objective(name, maximize, ln_m - mu, cov, "lattice_parameter", log=True)


def plan(
    objectives: list[Objective],
    observed: list[int],
    n: int,
    log_feasible: np.ndarray,
    allowed: list[int],
    p: np.ndarray,
    note: dict[str, str],
) -> tuple[list[tuple[int, float]], dict[int, str], dict[int, str]]:
    """The qLogNEHVI batch, and each pick's measurement and reason (``note``: a text per measured
    property, appended to the reason of a pick that asks for it)."""
    picks = pareto_batch(
        [o.mean for o in objectives],
        [o.cov for o in objectives],
        [o.maximize for o in objectives],
        observed,
        n,
        log_feasible,
        allowed,
    )
    scale = {o.name: max(float(np.std(o.mean)), 1e-9) for o in objectives}
    names = ", ".join(f"{o.name}:{'max' if o.maximize else 'min'}" for o in objectives)
    measure: dict[int, str] = {}
    reasons: dict[int, str] = {}
    for i, _ in picks:
        rel = {o.name: o.sd(i) / scale[o.name] for o in objectives}
        best = max(objectives, key=lambda o: rel[o.name])
        measure[i] = best.measure
        reasons[i] = (
            f"Pareto over {names}: " + ", ".join(o.show(i) for o in objectives) + f", P(stable) {p[i]:.2f}; "
            f"most uncertain in {best.name} (σ {rel[best.name]:.2f} of the pool's spread)"
            + (f"; {note[best.measure]}" if best.measure in note else "")
        )
    return picks, measure, reasons
