"""Build the synthesizability model shipped as ``src/mattwin/data/synthesizability_model.npz``.

    python scripts/build_synthesizability_model.py [--bags 60] [--seed 0] [--out PATH]

Positives: every multi-element composition known from experiment that mattwin ships or reads
(``mattwin.discovery.known``: pymatgen exp_compounds.json.gz, reaction-network FREED and NIST-JANAF,
the reference library). Unlabelled, in the chemical systems of the positives (2-4 elements):
the generator's SMACT charge-balanced compositions (``discovery.generate.charge_balanced_compositions``,
at most 12 atoms per formula unit) and enumerated coprime stoichiometries (coefficients 1-6), with
the known ones removed. Bagged PU (Mordelet & Vert 2014) with decision trees; Elkan-Noto calibration
on out-of-fold scores with folds grouped by chemical system (``GroupKFold``, 5 folds). Deterministic
for a given seed and package versions. Takes about a minute on one core.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import random
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np
from pymatgen.core import Composition, Element
from sklearn.isotonic import IsotonicRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import GroupKFold
from sklearn.tree import DecisionTreeClassifier

from mattwin.synthesis.features import FEATURE_NAMES, feature_matrix
from mattwin.synthesis.score import TreeEnsemble, save_model

VERSION = 1
OUT = Path(__file__).resolve().parents[1] / "src" / "mattwin" / "data" / "synthesizability_model.npz"
MIN_ELEMENT_COUNT = 3
N_GROUPS = 12


def system(formula: str) -> str:
    return "-".join(sorted(e.symbol for e in Composition(formula).elements))


def positives() -> dict[str, str]:
    from mattwin.discovery.known import _shipped_known

    out = {}
    for f, src in _shipped_known().items():
        c = Composition(f)
        if len(c.elements) >= 2 and all(isinstance(e, Element) and e.Z <= 94 for e in c.elements):
            out[c.reduced_formula] = src
    return out


def _ratios(k: int, max_coef: int) -> list[tuple[int, ...]]:
    return [r for r in itertools.product(range(1, max_coef + 1), repeat=k) if math.gcd(*r) == 1]


def unlabelled(pos: dict[str, str], seed: int, per_system: int = 8) -> dict[str, str]:
    """Reduced formula -> "generator" or "enumerated", in the chemical systems of the positives."""
    from mattwin.discovery.generate import charge_balanced_compositions

    rng = random.Random(seed)
    systems = sorted({system(f) for f in pos})
    out: dict[str, str] = {}
    for sysname in systems:
        els = sysname.split("-")
        if not 2 <= len(els) <= 4:
            continue
        try:
            gen = [
                c.reduced_formula
                for c, _ in charge_balanced_compositions(els, max_atoms=12, max_stoich=8)
                if len(c.elements) == len(els)
            ]
        except Exception:  # an element SMACT has no data for
            gen = []
        gen = [f for f in gen if f not in pos]
        rng.shuffle(gen)
        for f in gen[:per_system]:
            out.setdefault(f, "generator")
        enum = []
        for r in _ratios(len(els), 6 if len(els) < 4 else 3):
            f = Composition(dict(zip(els, r, strict=True))).reduced_formula
            if f not in pos and f not in out:
                enum.append(f)
        rng.shuffle(enum)
        for f in enum[: per_system // 2]:
            out.setdefault(f, "enumerated")
    return out


def fit_bags(x: np.ndarray, y: np.ndarray, n_bags: int, seed: int) -> list[DecisionTreeClassifier]:
    rng = np.random.default_rng(seed)
    p_idx, u_idx = np.flatnonzero(y == 1), np.flatnonzero(y == 0)
    trees = []
    for b in range(n_bags):
        u = rng.choice(u_idx, size=len(p_idx), replace=True)
        idx = np.concatenate([p_idx, u])
        t = DecisionTreeClassifier(min_samples_leaf=3, max_features="sqrt", random_state=seed * 1000 + b)
        t.fit(x[idx], y[idx])
        trees.append(t)
    return trees


def bag_score(trees: list[DecisionTreeClassifier], x: np.ndarray) -> np.ndarray:
    return np.mean([t.predict_proba(x)[:, 1] for t in trees], axis=0)


def export(trees: list[DecisionTreeClassifier]) -> TreeEnsemble:
    left, right, feat, thr, val, offsets = [], [], [], [], [], []
    start = 0
    for t in trees:
        tr = t.tree_
        v = tr.value[:, 0, :]
        prob = v[:, 1] / v.sum(axis=1)
        offsets.append(start)
        left.append(tr.children_left)
        right.append(tr.children_right)
        feat.append(np.where(tr.children_left < 0, -1, tr.feature))
        thr.append(tr.threshold)
        val.append(prob)
        start += tr.node_count
    return TreeEnsemble(
        np.concatenate(left),
        np.concatenate(right),
        np.concatenate(feat),
        np.concatenate(thr),
        np.concatenate(val),
        np.array(offsets),
    )


def recall_at_fpr(y: np.ndarray, s: np.ndarray, fpr: float = 0.1) -> float:
    thr = np.quantile(s[y == 0], 1 - fpr)
    return float(np.mean(s[y == 1] > thr))


def grouped_oof(x: np.ndarray, y: np.ndarray, groups: np.ndarray, n_bags: int, seed: int) -> np.ndarray:
    """Out-of-fold bagged-PU scores, folds grouped by chemical system."""
    oof = np.zeros(len(y))
    for k, (tr, te) in enumerate(GroupKFold(n_splits=5).split(x, y, groups)):
        oof[te] = bag_score(fit_bags(x[tr], y[tr], n_bags, seed + k + 1), x[te])
    return oof


def build(n_bags: int, seed: int) -> tuple[TreeEnsemble, dict[str, np.ndarray], dict[str, object]]:
    t0 = time.perf_counter()
    pos = positives()
    unl = unlabelled(pos, seed)
    formulas = sorted(pos) + sorted(unl)
    y = np.array([1] * len(pos) + [0] * len(unl))
    groups = np.array([system(f) for f in formulas])
    x = feature_matrix(formulas)
    print(f"{len(pos)} positives, {len(unl)} unlabelled ({Counter(unl.values())}), {x.shape[1]} features")
    oof = grouped_oof(x, y, groups, n_bags, seed)
    iso = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(oof, y)
    g = iso.predict(oof)
    c = float(np.mean(g[y == 1]))
    cb = x[:, FEATURE_NAMES.index("charge_balanced")]
    gen = np.array([unl.get(f) == "generator" for f in formulas])
    sel = (y == 1) | gen
    evaluation = {
        "held_out": "5 folds grouped by chemical system (GroupKFold)",
        "roc_auc_all_unlabelled": float(roc_auc_score(y, oof)),
        "recall_at_10pct_fp_all_unlabelled": recall_at_fpr(y, oof),
        "roc_auc_vs_generator": float(roc_auc_score(y[sel], oof[sel])),
        "recall_at_10pct_fp_vs_generator": recall_at_fpr(y[sel], oof[sel]),
        "roc_auc_charge_balanced_known_vs_generator": float(
            roc_auc_score(y[sel & (cb == 1)], oof[sel & (cb == 1)])
        ),
        "charge_balance_recall": float(cb[y == 1].mean()),
        "charge_balance_fp_rate_all_unlabelled": float(cb[y == 0].mean()),
    }
    print(json.dumps(evaluation, indent=1))
    trees = fit_bags(x, y, n_bags, seed)
    ens = export(trees)
    counts = Counter(e.symbol for f in pos for e in Composition(f).elements)
    meta = {
        "version": VERSION,
        "features": list(FEATURE_NAMES),
        "n_positive": len(pos),
        "n_unlabelled": len(unl),
        "n_bags": n_bags,
        "seed": seed,
        "c": c,
        "n_groups": N_GROUPS,
        "element_counts": dict(sorted(counts.items())),
        "max_elements": max(len(Composition(f).elements) for f in pos),
        "min_element_count": MIN_ELEMENT_COUNT,
        "evaluation": evaluation,
        "sources": "mattwin.discovery.known (exp_compounds, FREED, NIST-JANAF, reference library)",
        "build_seconds": round(time.perf_counter() - t0, 1),
    }
    arrays = {"iso_x": np.asarray(iso.X_thresholds_, float), "iso_y": np.asarray(iso.y_thresholds_, float)}
    return ens, arrays, meta


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bags", type=int, default=60)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=OUT)
    a = ap.parse_args(argv)
    ens, arrays, meta = build(a.bags, a.seed)
    save_model(a.out, ens, arrays, meta)
    print(f"wrote {a.out} ({a.out.stat().st_size / 1e6:.2f} MB, {ens.n_trees} trees, c = {meta['c']:.3f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
