"""The learned proposer's ranking of generated candidates of chemical spaces it never saw (offline).

DEV chemical spaces only (default Li-Zn-S, K-Ca-S, Na-Sr-Te, Li-Ca-Se; not the spaces of
``bench_proposer_rounds.py``): two campaigns each (budget ``--budget``, <= ``--max-atoms`` atoms, CHGNet
150 steps, raw hull, proposer off, ``skip_screened``, seeds 0 and 1) make the labelled candidates (resumed
from ``--db`` when run before). Then, for each descriptor set (composition only; + the unrelaxed-structure
descriptors; + the single-point CHGNet formation energy and its height above the known hull) and
each held-out space, the proposer is trained on the 548 known compounds and the other spaces' candidates
and predicts the held-out candidates' E_hull:

- space: the held-out space is unknown to training and to the known hull (round 1 of a new space);
- round: only the space's seed-1 campaign is held out (its seed-0 campaign is known: round 2).

Printed: the Spearman rank correlation with the relaxed E_hull of the prediction, of the generator's own
score (-ln score) and of the reordering score (-ln score + prediction / T, T = 0.05 eV/atom), mean over
the held-out spaces. Descriptors and hyperparameters of the shipped proposer were chosen on this.

    OMP_NUM_THREADS=1 nice -n 5 .venv/bin/python benchmarks/bench_proposer_ranking.py
"""

from __future__ import annotations

import argparse
import json
import os
import warnings

os.environ.setdefault("OMP_NUM_THREADS", "1")
warnings.filterwarnings("ignore")

DEV_SPACES = ["Li-Zn-S", "K-Ca-S", "Na-Sr-Te", "Li-Ca-Se"]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--spaces", nargs="+", default=DEV_SPACES)
    ap.add_argument("--budget", type=int, default=24)
    ap.add_argument("--max-atoms", type=int, default=10)
    ap.add_argument("--db", default="bench_proposer_ranking.db")
    args = ap.parse_args(argv)
    import numpy as np
    from scipy.stats import spearmanr
    from sqlalchemy import select

    from mattwin.discovery import proposer as P
    from mattwin.discovery.campaign import run_campaign
    from mattwin.discovery.config import CampaignConfig
    from mattwin.discovery.proposer_features import SinglePoint
    from mattwin.materials.identity import material_id
    from mattwin.store import Store, schema

    store = Store(args.db)
    for space in args.spaces:
        for seed in (0, 1):
            cfg = CampaignConfig(
                elements=tuple(space.split("-")),
                name=f"dev-{space}-{seed}",
                max_atoms=args.max_atoms,
                budget=args.budget,
                seed=seed,
                max_steps=150,
                calibration="none",
                phonons_top=0,
                routes_top=0,
                stages=("generate", "screen", "judge"),
                skip_screened=True,
                measured_anchors=False,
            )
            res, _ = run_campaign(cfg, store)
            print(f"# {space} seed {seed}: {len(res.candidates)} candidates", flush=True)
    with store.engine.connect() as conn:
        cfgs = {
            cid: json.loads(c)
            for cid, c in conn.execute(select(schema.campaigns.c.id, schema.campaigns.c.config))
        }
        prior = {
            mid: s
            for mid, s in conn.execute(select(schema.candidates.c.material_id, schema.candidates.c.score))
        }
    src = {f"campaign {cid}": ("-".join(sorted(c["elements"])), c["seed"]) for cid, c in cfgs.items()}
    data = [e for e in P.store_data(store, with_structures=True) if e.structure is not None]
    known = list(P.known_compound_data())
    spaces = sorted({src[e.source][0] for e in data})
    print(
        f"# {len(data)} relaxed candidates: "
        + ", ".join(f"{s} {sum(src[e.source][0] == s for e in data)}" for s in spaces)
    )
    sp = SinglePoint("chgnet", store)
    hull = P.known_hull(store, "chgnet")
    feats = {
        "composition only": P.Featurizer(structural=False),
        "+ structure": P.Featurizer(structural=True),
        "+ structure + single point": P.Featurizer(structural=True, single_point=sp, hull=hull),
    }
    print("split  descriptors                   model  prior  reorder(T=0.05)")
    for split in ("space", "round"):
        for name, feat in feats.items():
            res_m, res_p, res_r = [], [], []
            for held in spaces:
                if split == "space":
                    test = [e for e in data if src[e.source][0] == held]
                    out = frozenset(s for s, v in src.items() if v[0] == held)
                else:
                    test = [e for e in data if src[e.source] == (held, 1)]
                    out = frozenset(s for s, v in src.items() if v == (held, 1))
                if len(test) < 5:
                    continue
                train = known + [e for e in data if e.source not in out]
                model = P.fit(train, 0, feat)
                x = feat.rows(
                    [(e.formula, e.method, e.origin, False, e.structure) for e in test], [out] * len(test)
                )
                pred = np.clip(model.predict(x), 0.0, P.E_HULL_CAP)
                y = [e.e_hull for e in test]
                pr = -np.log([max(prior.get(material_id(e.structure), 1e-6), 1e-12) for e in test])
                res_m.append(spearmanr(pred, y).statistic)
                res_p.append(spearmanr(pr, y).statistic)
                res_r.append(spearmanr(pr + pred / P.TEMPERATURE, y).statistic)
            print(
                f"{split:6s} {name:28s} {np.mean(res_m):6.3f} {np.mean(res_p):6.3f} {np.mean(res_r):6.3f}",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
