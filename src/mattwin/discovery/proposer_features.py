"""Structure-aware descriptors of a proposed (unrelaxed) crystal for the learned proposer.

Everything here is computed on the structure as the generator proposes it, before any relaxation, and
costs milliseconds (:func:`structure_features`) or one single-point MLIP energy (:class:`SinglePoint`,
about 1/50 of a relaxation, through the runtime: cached in the store):

- electrostatics of the oxidation-state decorated structure (each element at its formula's likeliest
  mean oxidation state, pymatgen ``oxi_state_guesses``): the Ewald energy per atom (eV/atom) and the same
  divided by the mean squared charge (a Madelung-like number, comparable across charge scales);
- geometry against ionic radii (Shannon, pymatgen ``Species.ionic_radius``): the shortest cation-anion,
  anion-anion and cation-cation distance over their radii sum, the shortest distance of any pair over
  the sum of atomic radii, the mean cation coordination number (anions within 1.25x the radii sum), the
  ionic packing fraction and the volume per atom (Å^3);
- the bond-valence-sum deviation: mean over charged sites of |BVS - |q|| / |q| (O'Keeffe-Brese
  element parameters as pymatgen ships them), NaN where a parameter is missing;
- symmetry: the space-group number (spglib, symprec 0.1) and the number of atoms;
- energy (optional, :class:`SinglePoint`): the single-point formation energy per atom of the unrelaxed
  structure against the engine's elemental energies (of its shipped calibration set), and that minus
  the convex hull of what the twin knows (:class:`KnownHull`: known compounds and earlier campaigns'
  relaxed candidates of the same engine, formation energies; the candidate's own campaign left out).

NaN marks what cannot be computed (no oxidation states for an intermetallic, no engine energies); the
gradient-boosted model handles it as missing.
"""

from __future__ import annotations

import functools
import gzip
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import numpy as np
from pymatgen.core import Composition, Element, Species, Structure

__all__ = [
    "N_STRUCTURE_FEATURES",
    "KnownHull",
    "SinglePoint",
    "element_energies",
    "structure_features",
]

STRUCTURE_FEATURE_NAMES = (
    "ewald_per_atom",
    "ewald_per_q2",
    "min_pair_over_atomic_radii",
    "cation_anion_over_ionic_radii",
    "anion_anion_over_ionic_radii",
    "cation_cation_over_ionic_radii",
    "cation_coordination",
    "ionic_packing_fraction",
    "volume_per_atom",
    "bvs_deviation",
    "spacegroup",
    "n_atoms",
)
N_STRUCTURE_FEATURES = len(STRUCTURE_FEATURE_NAMES)
#: eV/atom: single-point formation energies are clipped to +-this (a collapsed random start is just bad)
EF_CLIP = 5.0


@functools.lru_cache(maxsize=4096)
def mean_oxidation_states(formula: str) -> tuple[tuple[str, float], ...] | None:
    """(element, mean oxidation state) of the formula's likeliest assignment, or None (intermetallics)."""
    import warnings

    comp = Composition(formula)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            guesses = comp.oxi_state_guesses(max_sites=-8)
        except (ValueError, KeyError):
            return None
    if not guesses:
        return None
    return tuple(sorted((str(k), float(v)) for k, v in guesses[0].items()))


@functools.lru_cache(maxsize=512)
def _ionic_radius(symbol: str, q: float) -> float:
    """Shannon radius (Å) of the nearest integer state, else the element's atomic radius."""
    qi = round(q)
    if qi != 0:
        try:
            r = Species(symbol, qi).ionic_radius
            if r is not None:
                return float(r)
        except (ValueError, KeyError):
            pass
    return float(Element(symbol).atomic_radius or 1.5)


@functools.lru_cache(maxsize=128)
def _atomic_radius(symbol: str) -> float:
    return float(Element(symbol).atomic_radius or 1.5)


def structure_features(structure: Structure) -> tuple[float, ...]:
    """The geometric, electrostatic and symmetry descriptors of one structure (see the module)."""
    import warnings

    from pymatgen.symmetry.analyzer import SpacegroupAnalyzer

    nan = math.nan
    n = len(structure)
    syms = [site.specie.symbol for site in structure]
    ox = mean_oxidation_states(structure.composition.reduced_formula)
    q = np.array([dict(ox).get(s, 0.0) for s in syms]) if ox else np.zeros(n)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            sg = float(SpacegroupAnalyzer(structure, symprec=0.1).get_space_group_number())
        except Exception:  # noqa: BLE001 - spglib gives up on a few odd cells
            sg = 1.0
    dm = structure.distance_matrix.copy() if n > 1 else np.full((1, 1), np.inf)
    np.fill_diagonal(dm, np.inf)
    ra = np.array([_atomic_radius(s) for s in syms])
    min_pair = float(np.min(dm / (ra[:, None] + ra[None, :])))
    vpa = structure.volume / n
    if not ox or not (q != 0).any():
        return (nan, nan, min_pair, nan, nan, nan, nan, nan, vpa, nan, sg, float(n))
    ri = np.array([_ionic_radius(s, qq) for s, qq in zip(syms, q, strict=True)])
    ratio = dm / (ri[:, None] + ri[None, :])
    cat, an = q > 0, q < 0

    def block(a: np.ndarray, b: np.ndarray) -> float:
        return float(ratio[np.ix_(a, b)].min()) if a.any() and b.any() else nan

    # periodic images: the distance matrix gives the nearest image of each pair only; a site's own
    # images (one atom of a kind per cell) count through the shortest lattice vector
    self_ratio = min(structure.lattice.abc) / (2 * ri)
    ca = block(cat, an)
    aa = min(block(an, an), float(self_ratio[an].min()))
    cc = min(block(cat, cat), float(self_ratio[cat].min())) if cat.any() else nan
    nbrs = structure.get_all_neighbors(min(6.0, 1.25 * 2 * float(ri.max()) + 0.5))
    cn = []
    for i in np.flatnonzero(cat):
        cn.append(
            sum(1 for nb in nbrs[i] if q[nb.index] < 0 and nb.nn_distance < 1.25 * (ri[i] + ri[nb.index]))
        )
    packing = float(sum(4 / 3 * math.pi * r**3 for r in ri) / structure.volume)
    try:
        from pymatgen.analysis.ewald import EwaldSummation

        dec = structure.copy()
        dec.add_oxidation_state_by_element(dict(ox))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ewald = float(EwaldSummation(dec, acc_factor=4.0).total_energy) / n
    except (ValueError, KeyError, ZeroDivisionError):
        ewald = nan
    q2 = float(np.mean(q**2))
    bvs = _bvs_deviation(structure, q, nbrs)
    return (
        ewald,
        ewald / q2 if q2 > 0 else nan,
        min_pair,
        ca,
        aa,
        cc,
        float(np.mean(cn)) if cn else nan,
        packing,
        vpa,
        bvs,
        sg,
        float(n),
    )


def _bvs_deviation(structure: Structure, q: np.ndarray, nbrs: list[Any]) -> float:
    """Mean |BVS - |q|| / |q| over the charged sites, cation-anion bonds only (O'Keeffe & Brese, J. Am.
    Chem. Soc. 113, 3226 (1991): R_ij from the elements' r and c, b = 0.31 Å); NaN if a parameter lacks."""
    from pymatgen.analysis.bond_valence import BV_PARAMS

    devs = []
    for i, site in enumerate(structure):
        if q[i] == 0:
            continue
        p1 = BV_PARAMS.get(Element(site.specie.symbol))
        if p1 is None:
            return math.nan
        s_i = 0.0
        for nb in nbrs[i]:
            if q[i] * q[nb.index] >= 0:
                continue
            p2 = BV_PARAMS.get(Element(nb.specie.symbol))
            if p2 is None:
                return math.nan
            r1, r2, c1, c2 = p1["r"], p2["r"], p1["c"], p2["c"]
            r = r1 + r2 - r1 * r2 * (math.sqrt(c1) - math.sqrt(c2)) ** 2 / (c1 * r1 + c2 * r2)
            s_i += math.exp((r - nb.nn_distance) / 0.31)
        devs.append(abs(s_i - abs(q[i])) / abs(q[i]))
    return float(np.mean(devs)) if devs else math.nan


# ---------------------------------------------------------------------------- energies
@functools.lru_cache(maxsize=16)
def element_energies(engine: str) -> dict[str, float] | None:
    """Elemental energies (eV/atom) of ``engine`` from its shipped calibration set, or None."""
    for path in sorted((resources.files("mattwin") / "data").iterdir(), key=lambda p: p.name):
        if not path.name.startswith("calibration_") or not path.name.endswith(".json.gz"):
            continue
        with resources.as_file(path) as p, gzip.open(p, "rt", encoding="utf-8") as fh:
            data = json.load(fh)
        if data.get("engine") == engine:
            return {str(k): float(v) for k, v in data["element_energy_per_atom_eV"].items()}
    return None


def formation_energy(formula: str, energy_per_atom: float, mu: dict[str, float]) -> float:
    """Formation energy per atom (eV/atom) against elemental energies ``mu``; NaN if one lacks."""
    comp = Composition(formula)
    if not all(e.symbol in mu for e in comp.elements):
        return math.nan
    ref = sum(comp.get_atomic_fraction(e) * mu[e.symbol] for e in comp.elements)
    return float(np.clip(energy_per_atom - ref, -EF_CLIP, EF_CLIP))


@dataclass
class SinglePoint:
    """Single-point formation energies (eV/atom) of unrelaxed structures with ``engine`` (one
    ``static`` job each through the runtime, cached in ``store``); NaN where the engine has no shipped
    elemental energies or the calculation fails. ``n_computed`` counts the calculations not read
    from the cache."""

    engine: str
    store: Any
    execution: Any = None
    n_computed: int = 0

    @property
    def available(self) -> bool:
        return element_energies(self.engine) is not None

    def formation(self, structures: Sequence[Structure]) -> list[float]:
        mu = element_energies(self.engine)
        if mu is None or not structures:
            return [math.nan] * len(structures)
        from mattwin.runtime.execute import execute
        from mattwin.runtime.jobs import Job

        out = [math.nan] * len(structures)
        idx = [i for i, s in enumerate(structures) if all(e.symbol in mu for e in s.composition.elements)]
        jobs = [
            Job("static", structures[i], self.engine, {}, label=f"proposer single point {i}") for i in idx
        ]
        for i, o in zip(idx, execute(jobs, self.store, self.execution), strict=True):
            self.n_computed += not o.cached
            if o.ok and o.result:
                e = float(o.result["energy_per_atom_eV"])
                out[i] = formation_energy(structures[i].composition.reduced_formula, e, mu)
        return out


@dataclass
class KnownHull:
    """The convex hull of formation energies (eV/atom) the twin knows: (formula, E_f, source) entries
    plus the elements at 0; :meth:`above` leaves out the entries of one source (a campaign does not
    know its own results when it proposes)."""

    entries: list[tuple[str, float, str]] = field(default_factory=list)
    _cache: dict[tuple[frozenset[str], frozenset[str]], Any] = field(default_factory=dict, repr=False)

    def above(self, formula: str, e_f: float, exclude: str | frozenset[str] | None = None) -> float:
        """``e_f`` minus the hull's formation energy at ``formula`` (eV/atom; NaN if ``e_f`` is), the
        entries of the source(s) ``exclude`` left out."""
        if not math.isfinite(e_f):
            return math.nan
        comp = Composition(formula)
        system = frozenset(e.symbol for e in comp.elements)
        left_out = frozenset([exclude]) if isinstance(exclude, str) else (exclude or frozenset())
        key = (system, left_out)
        if key not in self._cache:
            from pymatgen.analysis.phase_diagram import PDEntry, PhaseDiagram

            phases = [PDEntry(Composition(el), 0.0) for el in system]
            for f, ef, src in self.entries:
                c = Composition(f)
                if src not in left_out and {e.symbol for e in c.elements} <= system and math.isfinite(ef):
                    phases.append(PDEntry(c, ef * c.num_atoms))
            self._cache[key] = PhaseDiagram(phases)
        hull = float(self._cache[key].get_hull_energy_per_atom(comp))
        return float(np.clip(e_f - hull, -EF_CLIP, EF_CLIP))
