"""Throughput of CHGNet relaxations on a Dask LocalCluster: 1 worker vs 2 workers (or any list).

The same small mixed cells (rattled rock-salt NaCl/MgO/LiF, Si, Cu supercells; 2-16 atoms; fmax 0.05,
at most 200 steps) are relaxed with each worker count, each in a fresh temporary store, with
``cpu_count // workers`` torch threads per worker. Workers load the model before the clock starts,
so the figure is steady-state throughput (relaxations per minute), not start-up time.

    python benchmarks/bench_scaling.py                 # 24 relaxations, 1 and 2 workers
    python benchmarks/bench_scaling.py --jobs 8 --workers 1 2 4
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

import numpy as np
from pymatgen.core import Lattice, Structure

os.environ.setdefault("TQDM_DISABLE", "1")


def _rocksalt(a: str, b: str, lat: float) -> Structure:
    return Structure.from_spacegroup("Fm-3m", Lattice.cubic(lat), [a, b], [[0, 0, 0], [0.5, 0.5, 0.5]])


def prototypes() -> list[Structure]:
    """Eight small cells, 2 to 16 atoms."""
    si = Structure.from_spacegroup("Fd-3m", Lattice.cubic(5.43), ["Si"], [[0, 0, 0]])
    cu = Structure.from_spacegroup("Fm-3m", Lattice.cubic(3.61), ["Cu"], [[0, 0, 0]])
    return [
        _rocksalt("Na", "Cl", 5.64).get_primitive_structure(),  # 2
        _rocksalt("Mg", "O", 4.21),  # 8
        _rocksalt("Li", "F", 4.03).get_primitive_structure(),  # 2
        _rocksalt("Li", "F", 4.03),  # 8
        si.get_primitive_structure(),  # 2
        si,  # 8
        cu,  # 4
        cu * (2, 2, 1),  # 16
    ]


def cells(n: int, seed: int = 0) -> list[Structure]:
    """``n`` distinct cells: the prototypes strained by up to 3 % and rattled by 0.05 Å."""
    rng = np.random.default_rng(seed)
    protos = prototypes()
    out = []
    for i in range(n):
        s = protos[i % len(protos)].copy()
        s.scale_lattice(s.volume * (1 + rng.uniform(-0.03, 0.03)) ** 3)
        coords = s.cart_coords + rng.normal(0.0, 0.05, (len(s), 3))
        out.append(Structure(s.lattice, s.species, coords, coords_are_cartesian=True))
    return out


def run(
    workers: int, structures: list[Structure], engine: str, params: dict, torch_threads: int | None = None
) -> tuple[float, int, int]:
    """Wall time (s), relaxations done, failed: all ``structures`` on a fresh ``workers``-worker cluster."""
    from mattwin.engines.registry import get_engine
    from mattwin.runtime.distributed import dask_client, run_jobs_distributed
    from mattwin.runtime.jobs import Job

    jobs = [Job("relax", s, engine, params) for s in structures]
    with (
        tempfile.TemporaryDirectory() as tmp,
        dask_client(workers=workers, torch_threads=torch_threads) as client,
    ):

        def warm() -> int:  # load the model in each worker before the clock starts
            import torch

            get_engine(engine).calculator()
            return torch.get_num_threads()

        threads = client.run(warm)
        print(f"  {workers} worker(s), torch threads per worker: {sorted(threads.values())}", flush=True)
        t0 = time.perf_counter()
        outs = run_jobs_distributed(jobs, os.path.join(tmp, "bench.db"), client)
        wall = time.perf_counter() - t0
    done = sum(o.ok for o in outs)
    return wall, done, len(outs) - done


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--jobs", type=int, default=24, help="relaxations per run (default 24)")
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="worker counts (default 1 2)")
    ap.add_argument("--engine", default="chgnet")
    ap.add_argument("--fmax", type=float, default=0.05)
    ap.add_argument("--max-steps", type=int, default=200)
    ap.add_argument("--torch-threads", type=int, help="per worker (default: cpu_count // workers)")
    args = ap.parse_args(argv)

    from mattwin.runtime.distributed import cpu_count

    structures = cells(args.jobs)
    params = {"fmax": args.fmax, "max_steps": args.max_steps, "relax_cell": True}
    sizes = sorted(len(s) for s in structures)
    print(
        f"{args.jobs} {args.engine} relaxations ({sizes[0]}-{sizes[-1]} atoms, fmax {args.fmax}, "
        f"<= {args.max_steps} steps) on {cpu_count()} CPUs",
        flush=True,
    )
    rates = {}
    for w in args.workers:
        wall, done, failed = run(w, structures, args.engine, params, args.torch_threads)
        rates[w] = 60.0 * done / wall
        print(f"  {w} worker(s): {wall:.1f} s, {done} done, {failed} failed, {rates[w]:.1f} relaxations/min")
    base = args.workers[0]
    for w in args.workers[1:]:
        print(f"speed-up {w} vs {base} worker(s): {rates[w] / rates[base]:.2f}x")


if __name__ == "__main__":
    main()
