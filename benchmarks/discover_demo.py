"""Benchmark of the demo campaign: candidates generated, relaxations per minute, fraction on the
hull, peak memory; against a baseline in the same run.

Baseline: the same structures (reference phases and candidates) relaxed by a plain loop of
CHGNet's own ``StructOptimizer`` (FIRE + FrechetCellFilter, the same fmax and step cap), with no
store and no cache. The ratio mattwin / baseline is the first-run gain of batching net of the
store, checks and bookkeeping; the rerun line shows what the cache saves.

    python benchmarks/discover_demo.py [--elements Li Fe P O] [--max-atoms 16] [--budget 16]
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
import warnings
from pathlib import Path


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--elements", nargs="+", default=["Li", "Fe", "P", "O"])
    ap.add_argument("--max-atoms", type=int, default=28)
    ap.add_argument("--budget", type=int, default=20)
    ap.add_argument("--fmax", type=float, default=0.05)
    ap.add_argument("--steps", type=int, default=300)
    args = ap.parse_args()
    warnings.filterwarnings("ignore")

    from mattwin.discovery.campaign import run_campaign
    from mattwin.discovery.config import CampaignConfig
    from mattwin.discovery.generate import generate_candidates
    from mattwin.discovery.references import builtin_references
    from mattwin.store import Store

    cfg = CampaignConfig(
        elements=tuple(args.elements),
        name="bench",
        max_atoms=args.max_atoms,
        budget=args.budget,
        fmax=args.fmax,
        max_steps=args.steps,
    )
    refs = builtin_references(args.elements)
    t = time.perf_counter()
    cands = generate_candidates(
        args.elements,
        max_atoms=args.max_atoms,
        budget=args.budget,
        prototypes_extra=[r.structure for r in refs],
        exclude=[r.structure for r in refs],
    )
    t_gen = time.perf_counter() - t
    print(
        f"generated            {len(cands)} candidates in {t_gen:.1f} s "
        f"({len({c.formula for c in cands})} formulas, {len(refs)} reference phases)"
    )

    with tempfile.TemporaryDirectory() as tmp:
        store = Store(str(Path(tmp) / "bench.db"))
        t = time.perf_counter()
        result, _ = run_campaign(cfg, store=store)
        t_run = time.perf_counter() - t
        n_relax = len(store.calculations())
        ok = [c for c in result.candidates if c.status == "ok"]
        on_hull = [c for c in ok if c.e_hull is not None and c.e_hull <= cfg.stability_threshold]
        rate = n_relax / t_run * 60
        print(
            f"mattwin first run    {n_relax} relaxations ({len(refs)} references + {len(result.candidates)} "
            f"candidates) in {t_run:.0f} s = {rate:.1f} relaxed/min"
        )
        print(f"failed               {result.n_failed}")
        print(f"on hull (<=25 meV)   {len(on_hull)}/{len(ok)} = {len(on_hull) / max(len(ok), 1):.2f}")
        t = time.perf_counter()
        again, _ = run_campaign(cfg, store=store)
        t_again = time.perf_counter() - t
        print(
            f"mattwin rerun        {again.n_cached} cached, {t_again:.1f} s (x{t_run / t_again:.0f} faster)"
        )

    # baseline: a plain CHGNet StructOptimizer loop over the same structures (references + candidates)
    from chgnet.model import CHGNet, StructOptimizer

    opt = StructOptimizer(model=CHGNet.load(verbose=False))
    subset = [r.structure for r in refs] + [c.structure for c in cands]
    t = time.perf_counter()
    for s in subset:
        opt.relax(s, fmax=args.fmax, steps=args.steps, verbose=False)
    t_base = time.perf_counter() - t
    base_rate = len(subset) / t_base * 60
    # batched jobs overlap in time, so mattwin's rate is that of the whole campaign (references included)
    print(f"baseline (CHGNet StructOptimizer loop) {len(subset)} relaxations: {base_rate:.1f} relaxed/min")
    print(f"ratio mattwin campaign / baseline loop = {rate / base_rate:.2f}x")
    print(f"peak memory          {_peak_rss_mb():.0f} MB (max RSS of this process)")


if __name__ == "__main__":
    main()
