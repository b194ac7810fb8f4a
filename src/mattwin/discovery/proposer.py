"""The learned proposer: which compositions, prototypes and substitutions are worth relaxing.

A gradient-boosted regression model (scikit-learn ``HistGradientBoostingRegressor``) predicts a
candidate's E_hull (eV/atom, clipped to 0..1) from cheap descriptors: composition statistics of
element properties (Pauling electronegativity, row, group, atomic radius, Mendeleev number;
fraction-weighted mean, spread, min, max), the number of elements and atoms per formula unit, the
stoichiometry prior of :mod:`mattwin.discovery.compositions`, mixed valence, how the structure was
made (substitution, partial substitution, random, evolution, known compound) with its substitution
probability per ion pair, and, with ``structural`` (the default), descriptors of the proposed
structure itself, unrelaxed (:mod:`mattwin.discovery.proposer_features`: Ewald energy of the
oxidation-state decorated structure, distances against ionic radii, coordination, packing,
bond-valence-sum deviation, space group) and, when an engine is given, its single-point formation
energy and that energy's height above the hull of what the twin knows.

It is trained on what the twin knows (:func:`training_data`): every relaxed candidate with an E_hull
in every campaign result in the store (its structure as generated, read back from the store), plus the
known compounds of the shipped CHGNet calibration set (``mattwin/data/calibration_chgnet.json.gz``:
experimentally known compounds relaxed with CHGNet, their E_hull computed against each other and the
elements; their structures are the relaxed ones, their single-point energy their CHGNet energy).
Retraining (:func:`train_proposer`) on a store that grew gives a model that has learned from the new
campaigns. :meth:`Proposer.reorder` multiplies each candidate's prior score by
exp(-predicted E_hull / :data:`TEMPERATURE`).
"""

from __future__ import annotations

import functools
import gzip
import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from importlib import resources
from typing import Any

import numpy as np
from pymatgen.core import Composition, Element, Structure

from mattwin.errors import MattwinError

__all__ = [
    "TEMPERATURE",
    "Proposer",
    "campaign_candidates",
    "features",
    "known_compound_data",
    "train_proposer",
    "training_data",
]

#: eV/atom: a candidate predicted 50 meV/atom higher on the hull is worth e^-1 as much
TEMPERATURE = 0.05
#: E_hull labels are clipped to this (eV/atom): beyond it a candidate is simply bad
E_HULL_CAP = 1.0
METHODS = ("substitution", "partial substitution", "random", "evolution", "known", "other")
#: the engine whose energies the known compounds' set holds (their single-point energies need it)
KNOWN_ENGINE = "chgnet"
_P_RE = re.compile(r"p(?: per ion pair)?=([0-9.eE+-]+)")


@functools.lru_cache(maxsize=256)
def _props(symbol: str) -> tuple[float, ...]:
    el = Element(symbol)
    x = el.X if not math.isnan(el.X) else 2.0
    return (float(x), float(el.row), float(el.group), float(el.atomic_radius or 1.5), float(el.mendeleev_no))


def method_of(origin: str) -> str:
    """The generation method named at the start of a candidate's ``origin`` text."""
    if origin.startswith("evolution"):
        return "evolution"
    for m in ("partial substitution", "substitution", "pyxtal random", "known"):
        if origin.startswith(m) or (m == "pyxtal random" and "random" in origin[:20]):
            return "random" if m == "pyxtal random" else m
    return "other"


@functools.lru_cache(maxsize=8192)
def _composition_features(formula: str) -> tuple[float, ...]:
    from mattwin.discovery.compositions import stoichiometry_prior

    comp = Composition(formula)
    fr = np.array([comp.get_atomic_fraction(e) for e in comp.elements])
    p = np.array([_props(e.symbol) for e in comp.elements])
    mean = fr @ p
    spread = np.sqrt(fr @ (p - mean) ** 2)
    return (
        *mean,
        *spread,
        *p.min(axis=0),
        *p.max(axis=0),
        float(len(comp.elements)),
        float(comp.reduced_composition.num_atoms),
        math.log(stoichiometry_prior(comp)),
    )


def features(
    formula: str,
    method: str,
    origin: str = "",
    mixed_valence: bool = False,
    structure: tuple[float, ...] | None = None,
    energy: tuple[float, float] | None = None,
) -> list[float]:
    """The descriptor vector of one candidate (see the module docstring); ``structure``: its
    :func:`~mattwin.discovery.proposer_features.structure_features` (None: composition only);
    ``energy``: (single-point formation energy, its height above the known hull), eV/atom."""
    from mattwin.discovery.proposer_features import N_STRUCTURE_FEATURES

    m = _P_RE.search(origin)
    p = float(m.group(1)) if m else (1.0 if method == "known" else 0.0)
    onehot = [float(method == k) for k in METHODS]
    out = [*_composition_features(formula), *onehot, math.log(max(p, 1e-4)), float(mixed_valence)]
    if structure is not None or energy is not None:  # the structure-aware model's columns
        out += list(structure) if structure is not None else [math.nan] * N_STRUCTURE_FEATURES
        out += list(energy) if energy is not None else [math.nan, math.nan]
    return out


@dataclass(frozen=True)
class Example:
    """One labelled example: a candidate's formula, how it was made, and its E_hull (eV/atom)."""

    formula: str
    method: str
    origin: str
    e_hull: float
    source: str
    #: the structure as proposed (a store candidate's as generated; a known compound's relaxed one)
    structure: Any = field(default=None, compare=False, repr=False)
    #: energy per atom (eV/atom) of ``structure`` with :data:`KNOWN_ENGINE` when known without a calculation
    energy_per_atom: float | None = None

    @property
    def chemsys(self) -> str:
        return "-".join(sorted(e.symbol for e in Composition(self.formula).elements))


@functools.lru_cache(maxsize=1)
def known_compound_data() -> tuple[Example, ...]:
    """The shipped CHGNet calibration set's compounds with their E_hull against each other and the
    elements (eV/atom): known compounds, mostly on the hull, some above it."""
    from pymatgen.analysis.phase_diagram import PDEntry, PhaseDiagram

    path = resources.files("mattwin") / "data" / "calibration_chgnet.json.gz"
    with resources.as_file(path) as p, gzip.open(p, "rt", encoding="utf-8") as fh:
        data = json.load(fh)
    elements = data["element_energy_per_atom_eV"]
    entries = []
    structures: dict[str, Any] = {}
    for c in data["compounds"]:
        comp = Composition(c["formula"])
        if all(e.symbol in elements for e in comp.elements):
            entries.append(PDEntry(comp, float(c["energy_per_atom_eV"]) * comp.num_atoms, name=c["formula"]))
            structures.setdefault(comp.reduced_formula, (c.get("structure"), float(c["energy_per_atom_eV"])))
    by_sys: dict[frozenset[str], list[Any]] = {}
    for e in entries:
        by_sys.setdefault(frozenset(x.symbol for x in e.composition.elements), []).append(e)
    out = []
    for system in by_sys:
        phases = [x for s, xs in by_sys.items() if s <= system for x in xs]
        phases += [PDEntry(Composition(el), elements[el]) for el in system]
        pd = PhaseDiagram(phases)
        for e in by_sys[system]:
            eh = float(pd.get_e_above_hull(e) or 0.0)
            f = e.composition.reduced_formula
            sdict, epa = structures.get(f, (None, None))
            s = Structure.from_dict(sdict) if isinstance(sdict, dict) else None
            out.append(Example(f, "known", "known compound", eh, "calibration set", s, epa))
    return tuple(sorted(out, key=lambda x: x.formula))


def campaign_candidates(store: Any, exclude_campaign: str | None = None) -> list[tuple[str, list[Any]]]:
    """(campaign id, its result's candidate rows) of every finished campaign of the store but
    ``exclude_campaign`` (a result that does not parse is passed over)."""
    from sqlalchemy import select

    from mattwin.store import schema

    with store.engine.connect() as conn:
        rows = conn.execute(select(schema.campaigns.c.id, schema.campaigns.c.result)).fetchall()
    out = []
    for cid, result in rows:
        if not result or cid == exclude_campaign:
            continue
        try:
            out.append((cid, list(json.loads(result).get("candidates", []))))
        except (ValueError, AttributeError):
            continue
    return out


def store_data(
    store: Any, exclude_campaign: str | None = None, with_structures: bool = False
) -> list[Example]:
    """Every relaxed candidate with an E_hull in the store's campaign results (each material once),
    those of ``exclude_campaign`` left out (a campaign does not learn from its own earlier run); with
    ``with_structures``, each with its structure as generated (read from the store)."""
    seen: set[str] = set()
    out = []
    for cid, cands in campaign_candidates(store, exclude_campaign):
        for c in cands:
            key = c.get("candidate_id") or f"{cid}:{c.get('formula')}:{c.get('origin')}"
            if c.get("status") != "ok" or c.get("e_hull") is None or key in seen:
                continue
            seen.add(key)
            origin = str(c.get("origin", ""))
            structure = None
            if with_structures and c.get("candidate_id"):
                try:
                    structure = store.get_material(c["candidate_id"])
                except (KeyError, LookupError, ValueError):
                    structure = None
            out.append(
                Example(
                    str(c["formula"]),
                    method_of(origin),
                    origin,
                    float(c["e_hull"]),
                    f"campaign {cid}",
                    structure,
                )
            )
    return out


def store_hull_entries(store: Any, engine: str) -> list[tuple[str, float, str]]:
    """(formula, formation energy per atom against ``engine``'s shipped elemental energies, "campaign
    ID") of every relaxed candidate of the store's finished campaigns run with ``engine``."""
    from sqlalchemy import select

    from mattwin.discovery.proposer_features import element_energies, formation_energy
    from mattwin.store import schema

    mu = element_energies(engine)
    if mu is None or store is None:
        return []
    with store.engine.connect() as conn:
        rows = conn.execute(select(schema.campaigns.c.id, schema.campaigns.c.config)).fetchall()
    engines = {}
    for cid, cfg in rows:
        try:
            engines[cid] = json.loads(cfg).get("engine")
        except (ValueError, AttributeError, TypeError):
            continue
    out = []
    for cid, cands in campaign_candidates(store):
        if engines.get(cid) != engine:
            continue
        for c in cands:
            epa = c.get("energy_per_atom")
            if c.get("status") == "ok" and c.get("formula") and isinstance(epa, int | float):
                ef = formation_energy(str(c["formula"]), float(epa), mu)
                if math.isfinite(ef):
                    out.append((str(c["formula"]), ef, f"campaign {cid}"))
    return out


def training_data(
    store: Any = None,
    include_known: bool = True,
    exclude_campaign: str | None = None,
    with_structures: bool = False,
) -> list[Example]:
    """The store's relaxed candidates (if a store is given) plus the known compounds."""
    data = list(known_compound_data()) if include_known else []
    if store is not None:
        data += store_data(store, exclude_campaign, with_structures)
    return data


@functools.lru_cache(maxsize=16384)
def _structure_features_cached(mid: str, structure_json: str) -> tuple[float, ...]:
    from mattwin.discovery.proposer_features import structure_features

    return structure_features(Structure.from_str(structure_json, fmt="json"))


def structure_features_of(structure: Structure) -> tuple[float, ...]:
    """:func:`~mattwin.discovery.proposer_features.structure_features`, cached by material id."""
    from mattwin.materials.identity import material_id

    return _structure_features_cached(material_id(structure), structure.to_json())


@dataclass
class Featurizer:
    """Descriptor vectors of candidates: composition and method always; with ``structural`` the
    structure descriptors; with ``single_point`` (a :class:`~mattwin.discovery.proposer_features.SinglePoint`)
    the single-point formation energy and its height above ``hull`` (a
    :class:`~mattwin.discovery.proposer_features.KnownHull`), the entries of ``exclude`` left out."""

    structural: bool = True
    single_point: Any = None
    hull: Any = None

    def rows(
        self,
        items: Sequence[tuple[str, str, str, bool, Any]],
        exclude: Sequence[Any] | None = None,
        energies: Sequence[float | None] | None = None,
    ) -> np.ndarray:
        """(formula, method, origin, mixed_valence, structure or None) -> feature matrix. ``energies``:
        known energies per atom (eV/atom, of :data:`KNOWN_ENGINE`) that spare a single point."""
        from mattwin.discovery.proposer_features import element_energies, formation_energy

        n = len(items)
        ef = [math.nan] * n
        if self.structural and self.single_point is not None and self.single_point.available:
            mu = element_energies(self.single_point.engine) or {}
            todo = []
            for i, (formula, _, _, _, s) in enumerate(items):
                known = energies[i] if energies is not None else None
                if known is not None and self.single_point.engine == KNOWN_ENGINE:
                    ef[i] = formation_energy(formula, float(known), mu)
                elif s is not None:
                    todo.append(i)
            for i, e in zip(todo, self.single_point.formation([items[i][4] for i in todo]), strict=True):
                ef[i] = e
        out = []
        for i, (formula, method, origin, mixed, s) in enumerate(items):
            if not self.structural:
                out.append(features(formula, method, origin, mixed))
                continue
            if s is None:
                out.append(features(formula, method, origin, mixed, None, (math.nan, math.nan)))
                continue
            above = math.nan
            if self.hull is not None and math.isfinite(ef[i]):
                above = self.hull.above(formula, ef[i], exclude[i] if exclude is not None else None)
            out.append(features(formula, method, origin, mixed, structure_features_of(s), (ef[i], above)))
        return np.array(out, dtype=float)


@dataclass(frozen=True)
class Proposer:
    """A trained model; ``n_store`` and ``n_known`` say what it learned from; ``featurizer`` how it
    describes a candidate; ``exclude`` the hull source left out when predicting (the campaign's own)."""

    model: Any
    n_store: int
    n_known: int
    temperature: float = TEMPERATURE
    featurizer: Featurizer = field(default_factory=lambda: Featurizer(structural=False))
    exclude: str | None = None

    def predict(self, rows: Sequence[tuple[Any, ...]]) -> np.ndarray:
        """Predicted E_hull (eV/atom) of (formula, method, origin, mixed_valence[, structure]) rows."""
        items = [(r[0], r[1], r[2], bool(r[3]), r[4] if len(r) > 4 else None) for r in rows]
        x = self.featurizer.rows(items, [self.exclude] * len(items))
        return np.clip(self.model.predict(x), 0.0, E_HULL_CAP)

    def predict_candidates(self, cands: Sequence[Any]) -> np.ndarray:
        return self.predict(
            [(c.formula, c.method, c.origin, bool(c.mixed_valence), c.structure) for c in cands]
        )

    def reorder(self, cands: Sequence[Any]) -> list[Any]:
        """The candidates with score = prior score * exp(-predicted E_hull / temperature)."""
        pred = self.predict_candidates(cands)
        return [
            replace(c, score=c.score * math.exp(-float(e) / self.temperature), prior=c.score)
            for c, e in zip(cands, pred, strict=True)
        ]

    def describe(self) -> str:
        f = self.featurizer
        what = "composition, method"
        if f.structural:
            what += ", unrelaxed-structure descriptors"
            if f.single_point is not None and f.single_point.available:
                what += f", {f.single_point.engine} single-point E_f and its height above the hull"
        return (
            f"the learned proposer (gradient boosting on {what}; {self.n_store} relaxed store candidates "
            f"and {self.n_known} known compounds; E_hull temperature {self.temperature} eV/atom)"
        )


#: HistGradientBoostingRegressor settings (chosen on the dev chemical spaces, see the README)
HGB_PARAMS: dict[str, Any] = {"max_iter": 200, "learning_rate": 0.05, "max_leaf_nodes": 15}


def _exclude_of(e: Example) -> str:
    return f"known {e.formula}" if e.method == "known" else e.source


def fit(examples: Sequence[Example], seed: int = 0, featurizer: Featurizer | None = None) -> Any:
    """Fit the regression model to examples (E_hull clipped to 0..E_HULL_CAP); each example's
    height above the known hull leaves out its own campaign (a known compound: itself)."""
    from sklearn.ensemble import HistGradientBoostingRegressor

    if len(examples) < 20:
        raise MattwinError(f"learned proposer: {len(examples)} labelled examples are too few (need 20)")
    feat = featurizer or Featurizer(structural=False)
    x = feat.rows(
        [(e.formula, e.method, e.origin, False, e.structure) for e in examples],
        [_exclude_of(e) for e in examples],
        [e.energy_per_atom for e in examples],
    )
    x[:, np.isnan(x).all(axis=0)] = 0.0  # a descriptor nothing has (no single points): constant
    y = np.clip([e.e_hull for e in examples], 0.0, E_HULL_CAP)
    model = HistGradientBoostingRegressor(**HGB_PARAMS, random_state=seed)
    model.fit(x, y)
    return model


def known_hull(store: Any, engine: str | None) -> Any:
    """The :class:`~mattwin.discovery.proposer_features.KnownHull` of ``engine``: the known compounds'
    formation energies (when it is :data:`KNOWN_ENGINE`) and the store's relaxed candidates of it."""
    from mattwin.discovery.proposer_features import KnownHull, element_energies, formation_energy

    if engine is None or element_energies(engine) is None:
        return None
    entries: list[tuple[str, float, str]] = []
    if engine == KNOWN_ENGINE:
        mu = element_energies(engine) or {}
        for e in known_compound_data():
            if e.energy_per_atom is not None:
                entries.append(
                    (e.formula, formation_energy(e.formula, e.energy_per_atom, mu), f"known {e.formula}")
                )
    entries += store_hull_entries(store, engine) if store is not None else []
    return KnownHull(entries)


def train_proposer(
    store: Any = None,
    include_known: bool = True,
    seed: int = 0,
    exclude_campaign: str | None = None,
    *,
    structural: bool = True,
    engine: str | None = None,
    execution: Any = None,
) -> Proposer:
    """Train on everything the store and the shipped known compounds hold (retrain as data grow), the
    results of ``exclude_campaign`` left out. ``structural``: with the unrelaxed-structure descriptors;
    ``engine``: also with its single-point formation energies (calculated through the runtime, cached in
    ``store``; the known compounds' are their energies when ``engine`` is :data:`KNOWN_ENGINE`)."""
    from mattwin.discovery.proposer_features import SinglePoint

    data = training_data(store, include_known, exclude_campaign, with_structures=structural)
    n_known = sum(e.method == "known" for e in data)
    sp = SinglePoint(engine, store, execution) if (structural and engine and store is not None) else None
    feat = Featurizer(structural, sp, known_hull(store, engine) if sp is not None else None)
    exclude = f"campaign {exclude_campaign}" if exclude_campaign else None
    return Proposer(fit(data, seed, feat), len(data) - n_known, n_known, featurizer=feat, exclude=exclude)
