"""Hit rate round over round: campaigns with the learned proposer against the same campaigns without it.

A chemical space the proposer never saw (default Na-Mg-Se: none of the 548 known compounds of its
training set, the shipped CHGNet calibration set, lies in it; no Na-Se, Mg-Se or Na-Mg-Se compound) is
searched in ``--rounds`` rounds of ``--budget`` candidates each, twice, each arm in its own store:

- learned: ``[generate] learned = true``: every round's proposals are ordered by the proposer retrained
  on the store (the known compounds plus every candidate the earlier rounds relaxed, with its E_hull);
- off: ``learned = false``: the generator's own scores (composition commonness x substitution
  probability), nothing learned;
- evolution (``--arms evolution``): off plus ``[generate] evolution = --evolution``: that share of the
  budget goes to the evolutionary search of the best-scored compositions (charged in full as
  relaxations; its candidates' relaxations are not counted again).

``--arms`` picks the arms (default learned off); the ratio printed is the first arm's over the second's.

Both arms run real campaigns (``run_campaign``: generate, screen, judge; CHGNet, raw-energy hull, no
calibration) with ``skip_screened = true`` (a round leaves out what the earlier rounds of its store
relaxed) and seed = the round number; after each round its hits join the store's reference phases
(``mattwin refs add``), so later rounds are judged on a hull that has them and a later candidate
that relaxes into one is no hit. A hit is a candidate that relaxed without failing, did not relax
into a reference or a better-ranked candidate, and lies within ``--window`` eV/atom of its campaign's
hull. The hit rate is hits per relaxed candidate; CPU time is the process time of the campaign.

    OMP_NUM_THREADS=1 nice -n 5 .venv/bin/python benchmarks/bench_proposer_rounds.py
"""

from __future__ import annotations

import argparse
import os
import time
import warnings

os.environ.setdefault("OMP_NUM_THREADS", "1")
warnings.filterwarnings("ignore")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--space", default="Na-Mg-Se", help="chemical space, e.g. Na-Mg-Se")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--budget", type=int, default=8, help="candidates per round")
    ap.add_argument("--max-atoms", type=int, default=10)
    ap.add_argument("--steps", type=int, default=150)
    ap.add_argument("--window", type=float, default=0.05, help="stability window, eV/atom")
    ap.add_argument("--db", default="bench_proposer_rounds.db")
    ap.add_argument(
        "--arms",
        nargs="+",
        default=["learned", "off"],
        choices=["learned", "off", "evolution"],
        help="arms to run; the ratio is the first's over the second's (evolution: off plus --evolution)",
    )
    ap.add_argument("--evolution", type=float, default=0.5, help="evolution arm: share of the budget")
    args = ap.parse_args(argv)
    from mattwin.discovery.campaign import run_campaign
    from mattwin.discovery.config import CampaignConfig
    from mattwin.discovery.proposer import known_compound_data
    from mattwin.store import Store

    elements = tuple(args.space.split("-"))
    inside = [e.formula for e in known_compound_data() if set(e.chemsys.split("-")) <= set(elements)]
    print(
        f"# {args.space}: {len(inside)} of the proposer's {len(known_compound_data())} known training "
        f"compounds lie in it{' (' + ', '.join(inside) + ')' if inside else ''}; {args.rounds} rounds x "
        f"{args.budget} candidates (<= {args.max_atoms} atoms), CHGNet {args.steps} steps, raw hull, "
        f"hit = unique and E_hull <= {1000 * args.window:.0f} meV/atom"
    )
    rows: dict[str, list[tuple[int, int, float, list[str]]]] = {}
    for arm in args.arms:
        store = Store(f"{args.db.removesuffix('.db')}_{arm}.db")
        for r in range(1, args.rounds + 1):
            cfg = CampaignConfig(
                elements=elements,
                name=f"rounds-{arm}-{r}",
                max_atoms=args.max_atoms,
                budget=args.budget,
                seed=r,
                max_steps=args.steps,
                calibration="none",
                phonons_top=0,
                routes_top=0,
                stages=("generate", "screen", "judge"),
                learned=arm == "learned",
                evolution=args.evolution if arm == "evolution" else 0.0,
                skip_screened=True,
            )
            c0 = time.process_time()
            result, _ = run_campaign(cfg, store)
            cpu = time.process_time() - c0
            ok = [c for c in result.candidates if c.status == "ok"]
            hits = [c for c in ok if c.e_hull is not None and c.e_hull <= args.window and not c.duplicate_of]
            for h in hits:
                store.add_reference(store.get_material(h.candidate_id), f"round {r} hit {h.formula}", "bench")
            # relaxations: the candidates, except the evolutionary search's (their relaxations were its
            # own), plus the share of the budget the search was given (charged in full)
            n_relax = sum(not c.origin.startswith("evolution") for c in result.candidates)
            n_relax += cfg.evolution_relaxations if cfg.evolution else 0
            rows.setdefault(arm, []).append((len(hits), n_relax, cpu, [h.formula for h in hits]))
            print(
                f"{arm:9s} round {r}: {n_relax:2d} relaxed, {len(hits):2d} hits "
                f"({', '.join(sorted(h.formula for h in hits)) or '-'}), hit rate "
                f"{len(hits) / max(n_relax, 1):.3f}, {cpu:.0f} CPU s",
                flush=True,
            )
    tot = {arm: (sum(x[0] for x in v), sum(x[1] for x in v), sum(x[2] for x in v)) for arm, v in rows.items()}
    if len(rows) < 2:  # one arm only: its totals
        for arm, (h, n, cpu) in tot.items():
            print(f"total {arm:9s}: {h} hits / {n} relaxations = {h / max(n, 1):.3f}; {cpu:.0f} CPU s")
        return 0
    first, second = args.arms[0], args.arms[1]
    print(f"round  {first} hit rate  {second} hit rate  ratio")
    for r in range(args.rounds):
        (hl, nl, _, _), (ho, no, _, _) = rows[first][r], rows[second][r]
        a, b = hl / max(nl, 1), ho / max(no, 1)
        print(f"{r + 1:5d}  {a:16.3f}  {b:12.3f}  {a / b if b else float('nan'):5.2f}")
    for arm, (h, n, cpu) in tot.items():
        print(
            f"total {arm:9s}: {h} hits / {n} relaxations = {h / max(n, 1):.3f}; "
            f"{3600 * h / max(cpu, 1e-9):.0f} per CPU-hour"
        )
    a, b = tot[first][0] / max(tot[first][1], 1), tot[second][0] / max(tot[second][1], 1)
    print(
        f"ratio {first} / {second} (hits per relaxation, all rounds): {a / b:.2f}"
        if b
        else f"ratio: n/a ({second} found none)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
