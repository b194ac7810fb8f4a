"""Near-hull candidates per CPU-hour: mattwin's full generator against substitution alone and random alone.

On each chemical space the generators propose ``--budget`` candidates (at most ``--max-atoms``
atoms, known phases left out): the full generator (:func:`propose_candidates`: every common oxidation
state, mixed valence, orbit-resolved and partial substitution, PyXtal random for compositions no
prototype fits, the budget spent by :func:`mattwin.discovery.generate.allocate`, ordered by the learned
proposer trained on its store and the shipped known compounds), substitution alone
(:func:`generate_candidates`, the earlier generator: one oxidation state per element, whole-ion
substitution) and random alone (PyXtal random structures of the full generator's compositions, best score
first, one each); "default" is the full generator without the learned proposer, as campaigns run it
unless ``[generate] learned = true``. Each set is relaxed with CHGNet through the campaign's screen step,
each generator in its own store (references relaxed first, not counted; nothing shared through the cache)
and judged on the raw-energy hull (no calibration; no phonons or routes); a candidate counts when its
E_hull <= 50 meV/atom and it did not relax into a reference or a better-ranked candidate. CPU time is the
process time of each screen.

    OMP_NUM_THREADS=1 nice -n 5 .venv/bin/python benchmarks/bench_generation.py
"""

from __future__ import annotations

import argparse
import os
import time
import warnings
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", "1")
warnings.filterwarnings("ignore")

SPACES = [["Li", "Mn", "O"], ["Na", "Zn", "S"]]


def _random_alone(
    elements: list[str], max_atoms: int, budget: int, exclude: list[Any], seed: int
) -> list[Any]:
    from mattwin.discovery.compositions import composition_candidates
    from mattwin.discovery.dedup import DuplicateFilter
    from mattwin.discovery.generate import random_for_composition

    seen = DuplicateFilter(exclude)
    out: list[Any] = []
    done: set[str] = set()
    for i, cc in enumerate(composition_candidates(elements, max_atoms)):
        if len(out) >= budget:
            break
        if cc.formula in done:
            continue
        done.add(cc.formula)
        out += [c for c in random_for_composition(cc, 1, max_atoms, seed + i) if seen.add(c.structure)]
    return out[:budget]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--budget", type=int, default=12)
    ap.add_argument("--max-atoms", type=int, default=12)
    ap.add_argument("--steps", type=int, default=150)
    ap.add_argument("--db", default="bench_generation.db")
    ap.add_argument(
        "--spaces", nargs="+", default=["-".join(s) for s in SPACES], help="chemical spaces, e.g. Li-Mn-O"
    )
    args = ap.parse_args(argv)
    from mattwin.discovery.campaign import _Cand, campaign_references, screen
    from mattwin.discovery.config import CampaignConfig
    from mattwin.discovery.generate import generate_candidates, propose_candidates
    from mattwin.discovery.proposer import train_proposer
    from mattwin.store import Store

    # one store per generator: candidates two generators share must not be free (cached) for the second
    stores = {
        m: Store(f"{args.db.removesuffix('.db')}_{m}.db")
        for m in ("full", "default", "substitution", "random")
    }
    print(
        f"# budget {args.budget} candidates per generator and space, <= {args.max_atoms} atoms, CHGNet "
        f"fmax 0.05 eV/Å, {args.steps} steps, raw hull; hit = E_hull <= 50 meV/atom and unique"
    )
    totals: dict[str, list[float]] = {}
    for elements in [s.split("-") for s in args.spaces]:
        cfg = CampaignConfig(
            elements=tuple(elements),
            max_atoms=args.max_atoms,
            budget=args.budget,
            max_steps=args.steps,
            calibration="none",
            name="bench-generation",
            phonons_top=0,
            routes_top=0,
        )
        refs = campaign_references(cfg, stores["full"])
        known = [r.structure for r in refs]
        sets = {
            "full": propose_candidates(
                elements,
                args.max_atoms,
                args.budget,
                prototypes_extra=known,
                exclude=known,
                proposer=train_proposer(stores["full"]),
            ),
            "default": propose_candidates(
                elements, args.max_atoms, args.budget, prototypes_extra=known, exclude=known
            ),
            "substitution": generate_candidates(
                elements, args.max_atoms, args.budget, prototypes_extra=known, exclude=known
            ),
            "random": _random_alone(elements, args.max_atoms, args.budget, known, seed=0),
        }
        for method, cands in sets.items():
            screen(cfg, [], refs, stores[method])  # the references first: not counted
            c0 = time.process_time()
            result, _ = screen(
                cfg, [_Cand(c.structure, c.origin, c.method, c.score) for c in cands], refs, stores[method]
            )
            cpu = time.process_time() - c0
            hits = [
                c
                for c in result.candidates
                if c.status == "ok" and c.e_hull is not None and c.e_hull <= 0.05 and not c.duplicate_of
            ]
            t = totals.setdefault(method, [0, 0.0, 0])
            t[0] += len(hits)
            t[1] += cpu
            t[2] += len(cands)
            print(
                f"{'-'.join(elements):9s} {method:12s} {len(cands):3d} candidates, "
                f"{len(hits):2d} within 50 meV/atom "
                f"({', '.join(sorted(h.formula for h in hits)) or '-'}), {cpu:.0f} CPU s",
                flush=True,
            )
    for method, (n_hits, cpu, n) in totals.items():
        print(
            f"total {method:12s}: {n_hits} hits from {n} candidates in {cpu:.0f} CPU s = "
            f"{3600 * n_hits / max(cpu, 1e-9):.1f} per CPU-hour"
        )
    rate = {m: 3600 * h / max(cpu, 1e-9) for m, (h, cpu, _n) in totals.items()}
    for top in ("full", "default"):
        for base in ("substitution", "random"):
            b = rate[base]
            print(
                f"ratio {top} / {base}: {rate[top] / b:.2f}"
                if b
                else f"ratio {top} / {base}: n/a (none found)"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
