"""Relaxation throughput: mattwin's batched relaxation against a plain loop of ASE FIRE with the
same model's ASE calculator (same fmax, step cap, FrechetCellFilter), on the same mixed candidates,
in one run. Also the share of wall time spent inside the model's forward/backward pass.

    python benchmarks/bench_relax_throughput.py [--n 64] [--engine chgnet] [--steps 200]

Candidates: the shipped reference phases with 4 to 40 atoms, rattled (0.05 Å) and strained (+2 %),
so every one needs a real relaxation.
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np


def candidates(n: int, seed: int = 0) -> list:  # type: ignore[type-arg]
    from mattwin.discovery.references import builtin_references

    pool = [r.structure for r in builtin_references() if 4 <= len(r.structure) <= 40 and r.relax_cell]
    rng = np.random.default_rng(seed)
    picked = [pool[i] for i in rng.choice(len(pool), size=min(n, len(pool)), replace=False)]
    out = []
    for k, s in enumerate(picked):
        s = s.copy()
        s.perturb(0.05, min_distance=0.01, seed=seed + k)
        s.apply_strain(0.02 if k % 2 else -0.02)
        out.append(s)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n", type=int, default=64)
    ap.add_argument("--engine", default="chgnet")
    ap.add_argument("--fmax", type=float, default=0.05)
    ap.add_argument("--steps", type=int, default=200)
    args = ap.parse_args()
    warnings.filterwarnings("ignore")

    import torch
    from ase.filters import FrechetCellFilter
    from ase.optimize import FIRE

    from mattwin.engines import get_engine
    from mattwin.materials.identity import to_atoms
    from mattwin.tasks.batch_relax import BatchStats, relax_batch

    structures = candidates(args.n)
    engine = get_engine(args.engine)
    sizes = [len(s) for s in structures]
    print(
        f"{len(structures)} candidates, {min(sizes)}-{max(sizes)} atoms (mean {np.mean(sizes):.1f}); "
        f"engine {engine.label}; fmax {args.fmax} eV/Å, <= {args.steps} steps; device "
        f"{'cuda' if torch.cuda.is_available() else 'cpu'}, {torch.get_num_threads()} torch threads"
    )
    engine.evaluate([structures[0]])  # load the model before timing

    # baseline: a plain loop of ASE FIRE + the model's own ASE calculator
    calc = engine.calculator()
    model_s = 0.0
    orig = calc.calculate

    def timed(*a, **k):  # type: ignore[no-untyped-def]
        nonlocal model_s
        t = time.perf_counter()
        orig(*a, **k)
        model_s += time.perf_counter() - t

    calc.calculate = timed  # type: ignore[method-assign]
    t0 = time.perf_counter()
    base_e, base_steps = [], 0
    for s in structures:
        atoms = to_atoms(s)
        atoms.calc = calc
        opt = FIRE(FrechetCellFilter(atoms), logfile=None)
        opt.run(fmax=args.fmax, steps=args.steps)
        base_steps += opt.nsteps
        base_e.append(atoms.get_potential_energy() / len(atoms))
    t_base = time.perf_counter() - t0
    base_rate = len(structures) / t_base * 60
    print(
        f"plain ASE loop : {t_base:7.1f} s  {base_rate:6.1f} relaxed/min  "
        f"({base_steps} steps, model share {model_s / t_base:.0%})"
    )

    stats = BatchStats()
    t0 = time.perf_counter()
    results = {
        i: r for i, r, _ in relax_batch(structures, engine, fmax=args.fmax, max_steps=args.steps, stats=stats)
    }
    t_batch = time.perf_counter() - t0
    ok = [i for i, r in results.items() if not isinstance(r, Exception)]
    rate = len(structures) / t_batch * 60
    diff = max(abs(results[i].energy_per_atom_eV - base_e[i]) for i in ok)  # type: ignore[union-attr]
    print(
        f"mattwin batched: {t_batch:7.1f} s  {rate:6.1f} relaxed/min  "
        f"({stats.model_calls} model calls for {stats.evaluations} evaluations, "
        f"model share {stats.model_share:.0%})"
    )
    print(
        f"ratio batched / plain loop = {rate / base_rate:.2f}x; "
        f"max |dE| vs plain loop = {1000 * diff:.2f} meV/atom; {len(ok)}/{len(structures)} ok"
    )


if __name__ == "__main__":
    main()
