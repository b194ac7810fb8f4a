"""The learned proposer: which compositions, prototypes and substitutions are worth relaxing.

A gradient-boosted regression model (scikit-learn ``HistGradientBoostingRegressor``) predicts a
candidate's E_hull (eV/atom, clipped to 0..1) from cheap descriptors: composition statistics of
element properties (Pauling electronegativity, row, group, atomic radius, Mendeleev number;
fraction-weighted mean, spread, min, max), the number of elements and atoms per formula unit, the
stoichiometry prior of :mod:`mattwin.discovery.compositions`, mixed valence, and how the
structure was made (substitution, partial substitution, random, known compound) with its
substitution probability per ion pair.

It is trained on what the twin knows (:func:`training_data`): every relaxed candidate with an E_hull
in every campaign result in the store, plus the known compounds of the shipped CHGNet calibration set
(``mattwin/data/calibration_chgnet.json.gz``: experimentally known compounds relaxed with CHGNet,
their E_hull computed against each other and the elements). Retraining (:func:`train_proposer`) on
a store that grew gives a model that has learned from the new campaigns. :meth:`Proposer.reorder`
multiplies each candidate's prior score by exp(-predicted E_hull / :data:`TEMPERATURE`).
"""

from __future__ import annotations

import functools
import gzip
import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from importlib import resources
from typing import Any

import numpy as np
from pymatgen.core import Composition, Element

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
METHODS = ("substitution", "partial substitution", "random", "known", "other")
_P_RE = re.compile(r"p(?: per ion pair)?=([0-9.eE+-]+)")


@functools.lru_cache(maxsize=256)
def _props(symbol: str) -> tuple[float, ...]:
    el = Element(symbol)
    x = el.X if not math.isnan(el.X) else 2.0
    return (float(x), float(el.row), float(el.group), float(el.atomic_radius or 1.5), float(el.mendeleev_no))


def method_of(origin: str) -> str:
    """The generation method named at the start of a candidate's ``origin`` text."""
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


def features(formula: str, method: str, origin: str = "", mixed_valence: bool = False) -> list[float]:
    """The descriptor vector of one candidate (see the module docstring)."""
    m = _P_RE.search(origin)
    p = float(m.group(1)) if m else (1.0 if method == "known" else 0.0)
    onehot = [float(method == k) for k in METHODS]
    return [*_composition_features(formula), *onehot, math.log(max(p, 1e-4)), float(mixed_valence)]


@dataclass(frozen=True)
class Example:
    """One labelled example: a candidate's formula, how it was made, and its E_hull (eV/atom)."""

    formula: str
    method: str
    origin: str
    e_hull: float
    source: str

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
    for c in data["compounds"]:
        comp = Composition(c["formula"])
        if all(e.symbol in elements for e in comp.elements):
            entries.append(PDEntry(comp, float(c["energy_per_atom_eV"]) * comp.num_atoms, name=c["formula"]))
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
            out.append(
                Example(e.composition.reduced_formula, "known", "known compound", eh, "calibration set")
            )
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


def store_data(store: Any, exclude_campaign: str | None = None) -> list[Example]:
    """Every relaxed candidate with an E_hull in the store's campaign results (each material once),
    those of ``exclude_campaign`` left out (a campaign does not learn from its own earlier run)."""
    seen: set[str] = set()
    out = []
    for cid, cands in campaign_candidates(store, exclude_campaign):
        for c in cands:
            key = c.get("candidate_id") or f"{cid}:{c.get('formula')}:{c.get('origin')}"
            if c.get("status") != "ok" or c.get("e_hull") is None or key in seen:
                continue
            seen.add(key)
            origin = str(c.get("origin", ""))
            out.append(
                Example(str(c["formula"]), method_of(origin), origin, float(c["e_hull"]), f"campaign {cid}")
            )
    return out


def training_data(
    store: Any = None, include_known: bool = True, exclude_campaign: str | None = None
) -> list[Example]:
    """The store's relaxed candidates (if a store is given) plus the known compounds."""
    data = list(known_compound_data()) if include_known else []
    if store is not None:
        data += store_data(store, exclude_campaign)
    return data


@dataclass(frozen=True)
class Proposer:
    """A trained model; ``n_store`` and ``n_known`` say what it learned from."""

    model: Any
    n_store: int
    n_known: int
    temperature: float = TEMPERATURE

    def predict(self, rows: Sequence[tuple[str, str, str, bool]]) -> np.ndarray:
        """Predicted E_hull (eV/atom) of (formula, method, origin, mixed_valence) rows."""
        x = np.array([features(*r) for r in rows])
        return np.clip(self.model.predict(x), 0.0, E_HULL_CAP)

    def predict_candidates(self, cands: Sequence[Any]) -> np.ndarray:
        return self.predict([(c.formula, c.method, c.origin, bool(c.mixed_valence)) for c in cands])

    def reorder(self, cands: Sequence[Any]) -> list[Any]:
        """The candidates with score = prior score * exp(-predicted E_hull / temperature)."""
        pred = self.predict_candidates(cands)
        return [
            replace(c, score=c.score * math.exp(-float(e) / self.temperature), prior=c.score)
            for c, e in zip(cands, pred, strict=True)
        ]

    def describe(self) -> str:
        return (
            f"the learned proposer (gradient boosting on {self.n_store} relaxed store candidates and "
            f"{self.n_known} known compounds; E_hull temperature {self.temperature} eV/atom)"
        )


def fit(examples: Sequence[Example], seed: int = 0) -> Any:
    """Fit the regression model to examples (E_hull clipped to 0..E_HULL_CAP)."""
    from sklearn.ensemble import HistGradientBoostingRegressor

    if len(examples) < 20:
        raise MattwinError(f"learned proposer: {len(examples)} labelled examples are too few (need 20)")
    x = np.array([features(e.formula, e.method, e.origin) for e in examples])
    y = np.clip([e.e_hull for e in examples], 0.0, E_HULL_CAP)
    model = HistGradientBoostingRegressor(
        max_iter=200, learning_rate=0.05, max_leaf_nodes=15, random_state=seed
    )
    model.fit(x, y)
    return model


def train_proposer(
    store: Any = None, include_known: bool = True, seed: int = 0, exclude_campaign: str | None = None
) -> Proposer:
    """Train on everything the store and the shipped known compounds hold (retrain as data grow), the
    results of ``exclude_campaign`` left out."""
    data = training_data(store, include_known, exclude_campaign)
    n_known = sum(e.method == "known" for e in data)
    return Proposer(fit(data, seed), len(data) - n_known, n_known)
