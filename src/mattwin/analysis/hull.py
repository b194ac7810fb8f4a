"""Formation energies and energies above the convex hull (pure functions over pymatgen's PhaseDiagram).

All energies in eV/atom. With an ensemble, the hull is built once per member from that member's own
energies, and the mean and sample standard deviation of each phase's E_hull over the members are
reported: the spread carries the model disagreement into the stability verdict.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from pymatgen.analysis.phase_diagram import PDEntry, PhaseDiagram
from pymatgen.core import Composition


@dataclass(frozen=True)
class PhaseEnergy:
    """A phase for the hull: ``key`` identifies it across ensemble members; energy in eV/atom."""

    key: str
    name: str
    composition: Composition
    energy_per_atom: float
    kind: str = "candidate"  # or "reference"


@dataclass(frozen=True)
class Stability:
    """E_hull and formation energy (eV/atom) with their ensemble spread (None for one engine)."""

    e_hull: float
    formation_energy_per_atom: float
    decomposition: str
    e_hull_std: float | None = None
    formation_energy_per_atom_std: float | None = None


def _entry(p: PhaseEnergy) -> PDEntry:
    return PDEntry(p.composition, p.energy_per_atom * p.composition.num_atoms, name=p.key)


def build_phase_diagram(phases: Sequence[PhaseEnergy]) -> PhaseDiagram:
    """The phase diagram of ``phases``; raises ValueError naming any element without an elemental phase."""
    elements = sorted({el.symbol for p in phases for el in p.composition.elements})
    have = {p.composition.elements[0].symbol for p in phases if len(p.composition.elements) == 1}
    missing = [e for e in elements if e not in have]
    if missing:
        raise ValueError(
            f"no elemental reference phase for {', '.join(missing)}: the hull needs every element's "
            "ground state computed with the same engine (add one with `mattwin refs add`)"
        )
    return PhaseDiagram([_entry(p) for p in phases])


def _decomposition(pd: PhaseDiagram, p: PhaseEnergy, names: dict[str, str]) -> str:
    decomp = pd.get_decomposition(p.composition)
    parts = sorted(decomp.items(), key=lambda kv: -kv[1])
    return " + ".join(
        f"{frac:.2f} {names.get(str(getattr(e, 'name', '')), e.composition.reduced_formula)}"
        for e, frac in parts
    )


def stability(phases: Sequence[PhaseEnergy]) -> tuple[PhaseDiagram, dict[str, Stability]]:
    """E_hull, formation energy and decomposition of every phase against all the others."""
    pd = build_phase_diagram(phases)
    names = {p.key: p.name for p in phases}
    out = {}
    for p in phases:
        entry = _entry(p)
        out[p.key] = Stability(
            e_hull=float(pd.get_e_above_hull(entry, allow_negative=True) or 0.0),
            formation_energy_per_atom=float(pd.get_form_energy_per_atom(entry)),
            decomposition=_decomposition(pd, p, names),
        )
    return pd, out


def ensemble_stability(
    per_member: Sequence[Sequence[PhaseEnergy]],
) -> tuple[PhaseDiagram, dict[str, Stability]]:
    """Stability per member, then mean and spread over members for the phases every member has.

    Returns the phase diagram of the member-mean energies (for plots) and the aggregated results.
    """
    if len(per_member) == 1:
        return stability(per_member[0])
    results = [stability(phases)[1] for phases in per_member]
    common = set.intersection(*(set(r) for r in results))
    by_key = {p.key: p for p in per_member[0]}
    mean_phases = []
    for key in common:
        energies = [next(p.energy_per_atom for p in ph if p.key == key) for ph in per_member]
        base = by_key[key]
        mean_phases.append(PhaseEnergy(key, base.name, base.composition, float(np.mean(energies)), base.kind))
    pd_mean, mean_stab = stability(mean_phases)
    out = {}
    for key in common:
        eh = np.array([r[key].e_hull for r in results])
        ef = np.array([r[key].formation_energy_per_atom for r in results])
        out[key] = Stability(
            e_hull=float(eh.mean()),
            formation_energy_per_atom=float(ef.mean()),
            decomposition=mean_stab[key].decomposition,
            e_hull_std=float(eh.std(ddof=1)),
            formation_energy_per_atom_std=float(ef.std(ddof=1)),
        )
    return pd_mean, out


def e_above_hull_samples(fractions: np.ndarray, energies: np.ndarray) -> np.ndarray:
    """E_hull (eV/atom) of every phase for many draws of all phase energies at once.

    ``fractions``: (P, n_el) atomic fractions of the P phases (every element needs an elemental phase);
    ``energies``: (S, P) energies per atom, one row per draw. Returns (S, P), each row the energy above
    the lower convex hull of that draw's phases (a convex piecewise-linear function, evaluated as the
    maximum of its facets' planes; qhull as in pymatgen's PhaseDiagram, about 1 ms per draw).
    """
    from scipy.spatial import ConvexHull, QhullError

    x = np.asarray(fractions, dtype=float)
    e = np.atleast_2d(np.asarray(energies, dtype=float))
    pure = x.max(1) > 1 - 1e-9
    n_el = x.shape[1]
    out = np.empty_like(e)
    for s, row in enumerate(e):
        mu = np.array([row[pure & (x[:, k] > 0.5)].min() for k in range(n_el)])
        ef = row - x @ mu
        if n_el == 1:
            out[s] = ef
            continue
        pts = np.column_stack([x[:, :-1], ef])
        lift = np.vstack([pts, np.column_stack([np.eye(n_el)[:, :-1], np.full(n_el, ef.max() + 1.0)])])
        try:
            hull = ConvexHull(lift)
        except QhullError:
            hull = ConvexHull(lift, qhull_options="QJ")
        eq = hull.equations[hull.equations[:, -2] < -1e-9]  # lower facets: normal points down in energy
        planes = -(pts[:, :-1] @ eq[:, :-2].T + eq[:, -1]) / eq[:, -2]
        out[s] = ef - planes.max(1)
    return out
