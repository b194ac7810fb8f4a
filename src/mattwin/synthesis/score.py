"""The data-driven synthesizability score: a bagged positive-unlabelled classifier on composition
features (Mordelet & Vert, Pattern Recognit. Lett. 37, 201 (2014)), calibrated with Elkan & Noto
(KDD 2008), shipped as data (``data/synthesizability_model.npz``, built by
``scripts/build_synthesizability_model.py``).

Positives: compositions known from experiment (pymatgen's exp_compounds.json.gz, reaction-network's
FREED and NIST-JANAF tables, the shipped reference library). Unlabelled: compositions the generator
proposes in the same chemical systems (SMACT charge-balanced, ``discovery/generate.py``) and
enumerated small-integer stoichiometries, none of them listed. Each bag is a decision tree on all
positives against an equal-size bootstrap of the unlabelled; the score is the mean over bags.
The probability is ``min(1, g(s) / c)``: ``g`` the isotonic fit of "listed" on out-of-fold scores
(folds grouped by chemical system), ``c`` the mean of ``g`` over the held-out positives (Elkan-Noto).
The interval is the 5-95 % range over groups of bags. A composition with an element seen in fewer
than ``min_element_count`` training positives, or more elements than any positive, is outside the
model's domain: no number, interval [0, 1].

The trees are stored as arrays (children, feature, threshold, leaf probability) and evaluated here
with numpy, so the score does not depend on the scikit-learn version.
"""

from __future__ import annotations

import functools
import json
from dataclasses import asdict, dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
from pymatgen.core import Composition

from mattwin.errors import SettingsError
from mattwin.synthesis.features import FEATURE_NAMES, feature_matrix

MODEL_FILE = "synthesizability_model.npz"


@dataclass(frozen=True)
class SynthScore:
    """Synthesizability of a composition: ``probability`` (0-1, None outside the domain), its
    ``interval`` (5-95 %), ``in_domain`` and, when outside, ``reason``; ``model`` names the fit."""

    formula: str
    probability: float | None
    interval: list[float]
    in_domain: bool
    reason: str | None
    model: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class TreeEnsemble:
    """Decision trees as flat arrays; ``offsets[t]`` is the first node of tree t."""

    left: np.ndarray
    right: np.ndarray
    feature: np.ndarray
    threshold: np.ndarray
    value: np.ndarray
    offsets: np.ndarray

    @property
    def n_trees(self) -> int:
        return len(self.offsets)

    def predict_trees(self, x: np.ndarray) -> np.ndarray:
        """(n_samples, n_trees) leaf probabilities."""
        out = np.empty((len(x), self.n_trees))
        rows = np.arange(len(x))
        for t, start in enumerate(self.offsets):
            node = np.full(len(x), start, dtype=np.int64)
            for _ in range(200):
                f = self.feature[node]
                leaf = f < 0
                if leaf.all():
                    break
                go_left = x[rows, np.where(leaf, 0, f)] <= self.threshold[node]
                nxt = np.where(go_left, self.left[node], self.right[node]) + start
                node = np.where(leaf, node, nxt)
            out[:, t] = self.value[node]
        return out


@dataclass(frozen=True)
class SynthModel:
    trees: TreeEnsemble
    iso_x: np.ndarray
    iso_y: np.ndarray
    c: float
    n_groups: int
    element_counts: dict[str, int]
    max_elements: int
    min_element_count: int
    meta: dict[str, Any]

    @property
    def name(self) -> str:
        return f"bagged-PU trees v{self.meta.get('version', 1)} ({self.meta.get('n_positive')} known)"

    def calibrate(self, s: np.ndarray) -> np.ndarray:
        g = np.interp(s, self.iso_x, self.iso_y)
        return np.clip(g / self.c, 0.0, 1.0)

    def domain(self, comp: Composition) -> str | None:
        els = [e.symbol for e in comp.elements]
        rare = [e for e in els if self.element_counts.get(e, 0) < self.min_element_count]
        if rare:
            return (
                f"outside the model's domain: {', '.join(rare)} in fewer than {self.min_element_count} "
                "known compounds of the training data"
            )
        if len(els) > self.max_elements:
            n, most = len(els), self.max_elements
            return f"outside the model's domain: {n} elements (training data: at most {most})"
        if len(els) < 2:
            return "outside the model's domain: an element, not a compound"
        return None

    def score(self, formulas: list[str]) -> list[SynthScore]:
        comps = [Composition(f) for f in formulas]
        out: list[SynthScore | None] = [None] * len(comps)
        todo = []
        for i, c in enumerate(comps):
            why = self.domain(c)
            if why:
                out[i] = SynthScore(c.reduced_formula, None, [0.0, 1.0], False, why, self.name)
            else:
                todo.append(i)
        if todo:
            x = feature_matrix([comps[i] for i in todo])
            per_tree = self.trees.predict_trees(x)
            groups = np.array_split(np.arange(self.trees.n_trees), self.n_groups)
            group_s = np.stack([per_tree[:, g].mean(1) for g in groups], axis=1)
            p = self.calibrate(per_tree.mean(1))
            pg = self.calibrate(group_s)
            for k, i in enumerate(todo):
                lo, hi = np.quantile(pg[k], [0.05, 0.95])
                lo, hi = min(float(lo), float(p[k])), max(float(hi), float(p[k]))
                out[i] = SynthScore(comps[i].reduced_formula, float(p[k]), [lo, hi], True, None, self.name)
        return [o for o in out if o is not None]


def save_model(path: Path, trees: TreeEnsemble, arrays: dict[str, np.ndarray], meta: dict[str, Any]) -> None:
    np.savez_compressed(
        path,
        left=trees.left.astype(np.int32),
        right=trees.right.astype(np.int32),
        feature=trees.feature.astype(np.int16),
        threshold=trees.threshold.astype(np.float64),
        value=trees.value.astype(np.float32),
        offsets=trees.offsets.astype(np.int64),
        meta=np.array(json.dumps(meta)),
        **arrays,  # type: ignore[arg-type]
    )


def load_model(path: Path | None = None) -> SynthModel:
    """The shipped model (or the one at ``path``)."""
    if path is None:
        return _shipped()
    return _load(path)


@functools.lru_cache(maxsize=1)
def _shipped() -> SynthModel:
    ref = resources.files("mattwin.data").joinpath(MODEL_FILE)
    with resources.as_file(ref) as p:
        if not Path(p).exists():
            raise SettingsError(
                f"{MODEL_FILE}: the synthesizability model is missing; "
                "build it with `python scripts/build_synthesizability_model.py`"
            )
        return _load(Path(p))


def _load(path: Path) -> SynthModel:
    d = np.load(path, allow_pickle=False)
    meta = json.loads(str(d["meta"]))
    if list(meta.get("features", [])) != list(FEATURE_NAMES):
        raise SettingsError(
            f"{path}: built for other features; rebuild it with scripts/build_synthesizability_model.py"
        )
    trees = TreeEnsemble(
        d["left"].astype(np.int64),
        d["right"].astype(np.int64),
        d["feature"].astype(np.int64),
        d["threshold"],
        d["value"].astype(float),
        d["offsets"],
    )
    return SynthModel(
        trees=trees,
        iso_x=d["iso_x"],
        iso_y=d["iso_y"],
        c=float(meta["c"]),
        n_groups=int(meta["n_groups"]),
        element_counts={str(k): int(v) for k, v in meta["element_counts"].items()},
        max_elements=int(meta["max_elements"]),
        min_element_count=int(meta["min_element_count"]),
        meta=meta,
    )


def synthesizability(formulas: list[str]) -> list[SynthScore]:
    """The shipped model's score of each formula."""
    return load_model().score(formulas)
