"""Synthesizability: the PU score against SMACT charge balance, E_hull alone and the full verdict, on
known compounds held out from the classifier (grouped by chemical system) and an equal number of
hypothetical compositions from the generator.

A. Held-out score (every chemical system of the training data, 5 folds grouped by chemical system,
   ``GroupKFold``): positives = the known compounds of the held-out systems; negatives = as many of
   the generator's SMACT charge-balanced compositions of the same systems (not listed as known), drawn
   at random. ROC-AUC and recall at 10 % false positives for the bagged-PU score (refitted on the other
   folds) and for SMACT charge balance alone (a yes/no: its recall and false-positive rate).
B. E_hull alone, where affordable: the shipped calibration set's computed (CHGNet) formation energies
   of known compounds give each its E_hull against the other computed known compounds of its system;
   the recall of "E_hull <= window" (Sun et al. 67 meV/atom) and "<= 25 meV/atom". The generator's
   hypotheticals have no computed energy there, so no false-positive rate.
C. A campaign (default: the demo, ``examples/demo.toml``, CHGNet; cached in ``--db``): its screened
   candidates, known compositions = positives, new ones = unlabelled; ROC-AUC of -E_hull, of the score
   (refitted without every chemical system inside the campaign's elements), of charge balance and of the
   full verdict (score, or 0 when the verdict is "unlikely").

    python benchmarks/bench_synthesizability.py [--bags 30] [--seed 0] [--campaign examples/demo.toml]
        [--db mattwin.db] [--no-campaign]
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from pymatgen.core import Composition
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import GroupKFold

ROOT = Path(__file__).resolve().parents[1]


def _script():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("bsm", ROOT / "scripts" / "build_synthesizability_model.py")
    mod = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(mod)  # type: ignore[union-attr]
    return mod


def recall_at(y: np.ndarray, s: np.ndarray, fpr: float = 0.1) -> float:
    thr = np.quantile(s[y == 0], 1 - fpr)
    return float(np.mean(s[y == 1] > thr))


def part_a(b, n_bags: int, seed: int) -> None:  # type: ignore[no-untyped-def]
    from mattwin.synthesis.features import FEATURE_NAMES, feature_matrix

    pos = b.positives()
    unl = b.unlabelled(pos, seed)
    formulas = sorted(pos) + sorted(unl)
    y = np.array([1] * len(pos) + [0] * len(unl))
    gen = np.array([unl.get(f) == "generator" for f in formulas])
    groups = np.array([b.system(f) for f in formulas])
    x = feature_matrix(formulas)
    rng = np.random.default_rng(seed)
    scores, labels, cbs = [], [], []
    cb_col = FEATURE_NAMES.index("charge_balanced")
    for k, (tr, te) in enumerate(GroupKFold(n_splits=5).split(x, y, groups)):
        trees = b.fit_bags(x[tr], y[tr], n_bags, seed + k + 1)
        te_pos = te[y[te] == 1]
        te_gen = te[(y[te] == 0) & gen[te]]
        n = min(len(te_pos), len(te_gen))
        sel = np.concatenate([rng.choice(te_pos, n, replace=False), rng.choice(te_gen, n, replace=False)])
        scores.append(b.bag_score(trees, x[sel]))
        labels.append(y[sel])
        cbs.append(x[sel, cb_col])
    s, yy, cb = np.concatenate(scores), np.concatenate(labels), np.concatenate(cbs)
    n_pos = int(yy.sum())
    print(
        f"A. held out by chemical system (5 folds): {n_pos} known compounds vs {n_pos} "
        "generator hypotheticals"
    )
    print(f"   PU score        ROC-AUC {roc_auc_score(yy, s):.3f}   recall at 10% FP {recall_at(yy, s):.3f}")
    print(
        f"   charge balance  recall {cb[yy == 1].mean():.3f} at {cb[yy == 0].mean():.3f} false positives"
        f" (ROC-AUC {roc_auc_score(yy, cb):.3f}; the generator's compositions are all charge balanced)"
    )


def part_b() -> None:
    from pymatgen.analysis.phase_diagram import PDEntry, PhaseDiagram

    from mattwin.discovery.calibration_set import computed_compounds

    comps = {f: c for f, c in computed_compounds("chgnet").items() if c.usable}
    by_system: dict[str, list[str]] = {}
    for f in comps:
        els = sorted(e.symbol for e in Composition(f).elements)
        if len(els) > 1:
            by_system.setdefault("-".join(els), []).append(f)
    ehull = {}
    for f in comps:
        els = {e.symbol for e in Composition(f).elements}
        if len(els) < 2:
            continue
        entries = [PDEntry(Composition(e), 0.0) for e in els]
        for g, c in comps.items():
            if {e.symbol for e in Composition(g).elements} <= els and len(Composition(g).elements) > 1:
                entries.append(PDEntry(Composition(g), c.raw * Composition(g).num_atoms, name=g))
        pd = PhaseDiagram(entries)
        me = next(e for e in entries if e.name == f)
        ehull[f] = pd.get_e_above_hull(me)
    v = np.array(list(ehull.values()))
    print(
        f"B. E_hull alone (CHGNet raw energies of {len(v)} known compounds against each other "
        "and the elements):"
    )
    print(
        f"   recall of E_hull <= 67 meV/atom {np.mean(v <= 0.067):.3f}, "
        f"<= 25 meV/atom {np.mean(v <= 0.025):.3f}"
        " (no false-positive rate: the hypotheticals have no computed energy)"
    )


def part_c(b, toml: str, db: str, n_bags: int, seed: int) -> None:  # type: ignore[no-untyped-def]
    from mattwin.api import discover
    from mattwin.discovery.config import CampaignConfig
    from mattwin.store import Store
    from mattwin.synthesis.features import FEATURE_NAMES, feature_matrix

    # no measured anchors: the known compositions' own measured enthalpies must not inform E_hull here
    cfg = CampaignConfig.from_toml(toml).replace(measured_anchors=False)
    t0 = time.perf_counter()
    result = discover(config=cfg, store=Store(db))
    ok = [c for c in result.candidates if c.status == "ok" and c.e_hull is not None]
    y = np.array([1 if c.known_compound else 0 for c in ok])
    inside = set(cfg.elements)
    pos = b.positives()
    unl = b.unlabelled(pos, seed)
    keep = [f for f in sorted(pos) + sorted(unl) if not {e.symbol for e in Composition(f).elements} <= inside]
    yt = np.array([1 if f in pos else 0 for f in keep])
    trees = b.fit_bags(feature_matrix(keep), yt, n_bags, seed)
    xs = feature_matrix([c.formula for c in ok])
    s = b.bag_score(trees, xs)
    eh = np.array([-c.e_hull for c in ok])
    cb = xs[:, FEATURE_NAMES.index("charge_balanced")]
    ver = np.array(
        [0.0 if (c.verdict or "").startswith("unlikely") else si for c, si in zip(ok, s, strict=True)]
    )
    print(
        f"C. campaign {cfg.name} ({'-'.join(sorted(inside))}, {result.engine}): {len(ok)} screened, "
        f"{int(y.sum())} known compositions, {int((1 - y).sum())} new ({time.perf_counter() - t0:.0f} s)"
    )
    if 0 < y.sum() < len(y):
        for name, v in (
            ("-E_hull", eh),
            ("PU score (held out)", s),
            ("charge balance", cb),
            ("full verdict", ver),
        ):
            print(f"   {name:<20} ROC-AUC {roc_auc_score(y, v):.3f}")
    else:
        print("   (only one class among the candidates: no ROC-AUC)")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bags", type=int, default=30)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--campaign", default=str(ROOT / "examples" / "demo.toml"))
    ap.add_argument("--db", default="mattwin.db")
    ap.add_argument("--no-campaign", action="store_true")
    a = ap.parse_args(argv)
    warnings.simplefilter("ignore")
    t0 = time.perf_counter()
    b = _script()
    part_a(b, a.bags, a.seed)
    part_b()
    if not a.no_campaign:
        part_c(b, a.campaign, a.db, a.bags, a.seed)
    print(f"total {time.perf_counter() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
