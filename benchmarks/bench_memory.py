"""Peak memory while screening many small candidates through the store: it must stay flat as the
campaign grows (no growth with the number of screened structures). Prints the process RSS after
500 and after 2,000 relaxations (batched, CHGNet, recorded in a temporary SQLite store), and the
ratio; the baseline is the RSS after the first 500.

    python benchmarks/bench_memory.py [--n 2000] [--first 500]
"""

from __future__ import annotations

import argparse
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import psutil


def small_candidates(n: int, seed: int = 0) -> list:  # type: ignore[type-arg]
    """Rattled binary rock-salt and CsCl-type cells of random cation/anion pairs (2 atoms each)."""
    from pymatgen.core import Lattice, Structure

    rng = np.random.default_rng(seed)
    cations = ["Li", "Na", "K", "Mg", "Ca", "Sr", "Zn", "Cu", "Ag", "Ni"]
    anions = ["F", "Cl", "Br", "O", "S", "N"]
    out = []
    for k in range(n):
        c, a = rng.choice(cations), rng.choice(anions)
        lat = rng.uniform(2.9, 3.6)
        if k % 2:
            s = Structure(Lattice.cubic(lat), [c, a], [[0, 0, 0], [0.5, 0.5, 0.5]])
        else:
            s = Structure.from_spacegroup(
                "Fm-3m", Lattice.cubic(lat * 1.5), [c, a], [[0, 0, 0], [0.5, 0.5, 0.5]]
            ).get_primitive_structure()
        s.perturb(0.03, seed=seed + k)
        out.append(s)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--first", type=int, default=500)
    ap.add_argument("--steps", type=int, default=60)
    args = ap.parse_args()
    warnings.filterwarnings("ignore")
    from mattwin.runtime import Job, run_jobs
    from mattwin.store import Store

    proc = psutil.Process()
    structures = small_candidates(args.n)
    params = {"fmax": 0.05, "max_steps": args.steps, "relax_cell": True}
    jobs = [Job("relax", s, "chgnet", params, label=f"c{i}") for i, s in enumerate(structures)]
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(str(Path(tmp) / "mem.db"))
        run_jobs(jobs[:4], store)  # model loaded
        rss0 = proc.memory_info().rss / 2**20
        t0 = time.perf_counter()
        run_jobs(jobs[4 : args.first], store)
        rss1 = proc.memory_info().rss / 2**20
        t1 = time.perf_counter()
        run_jobs(jobs[args.first :], store)
        rss2 = proc.memory_info().rss / 2**20
        t2 = time.perf_counter()
        n_done = len(store.calculations(status="done"))
    rate1 = (args.first - 4) / (t1 - t0) * 60
    rate2 = (args.n - args.first) / (t2 - t1) * 60
    print(f"after model load        {rss0:7.0f} MB")
    print(f"after {args.first:5d} relaxations {rss1:7.0f} MB  ({rate1:.0f} relaxed/min)")
    print(f"after {args.n:5d} relaxations {rss2:7.0f} MB  ({rate2:.0f} relaxed/min)")
    print(f"growth {args.first} -> {args.n}: {rss2 - rss1:+.0f} MB (ratio {rss2 / rss1:.2f}); {n_done} done")


if __name__ == "__main__":
    main()
