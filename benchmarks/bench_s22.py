"""S22 noncovalent interaction energies against CCSD(T)/CBS (Jurečka, Šponer, Černý, Hobza, PCCP 8,
1985 (2006); geometries and references from ``ase.data.s22``).

Run: ``OMP_NUM_THREADS=2 flock /tmp/mattwin-cpu.lock python benchmarks/bench_s22.py`` (about 10-14
minutes on 2 cores). Levels, each on the subset it can afford on a laptop in that time:

* ``DFT-D``: B3LYP-D3(BJ)/def2-SVP, no counterpoise (D3(BJ) was fitted without CP), all 22 dimers
  up to ``--dft-max-atoms`` atoms (default 30: all of S22).
* ``MP2/CBS``: DF-MP2 extrapolated aug-cc-pVDZ -> aug-cc-pVTZ (X^-3), HF in aug-cc-pVTZ, CP,
  on the dimers up to ``--mp2-max-atoms`` (default 12: 7 dimers).
* ``composite``: MP2/CBS + [CCSD(T) - MP2]/aug-cc-pVDZ, CP, up to ``--cc-max-atoms`` (default 10:
  the water, ammonia, methane, ethene-ethyne, formic acid dimers).
* ``baseline``: what one gets without the machinery above: plain DF-MP2/aug-cc-pVDZ without
  counterpoise, on the same subset as the composite. The ratio printed is baseline MAE / composite MAE
  (how much closer to CCSD(T)/CBS the composite scheme lands) and their CPU-time ratio.

Errors in kcal/mol (1 kcal/mol = 0.0434 eV); CPU time = process time of this script (all threads).
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable

os.environ.setdefault("OMP_NUM_THREADS", "2")

import numpy as np  # noqa: E402
from ase.data import s22  # noqa: E402
from ase.units import kcal, mol  # noqa: E402
from pymatgen.core import Molecule  # noqa: E402

from mattwin.engines.pyscf import PySCFEngine  # noqa: E402
from mattwin.tasks.interaction import interaction_energy  # noqa: E402

Level = Callable[[Molecule, list[list[int]]], float]


def s22_systems() -> list[tuple[str, Molecule, list[list[int]], float]]:
    """(name, dimer, fragments, reference kcal/mol) of the 22 S22 complexes."""
    out = []
    for name in s22.s22:
        atoms = s22.create_s22_system(name)
        n1 = s22.data[name]["dimer atoms"][0]
        frags = [list(range(n1)), list(range(n1, len(atoms)))]
        ref = s22.data[name]["interaction energy CC"] / (kcal / mol)
        out.append((name, Molecule(atoms.get_chemical_symbols(), atoms.positions), frags, ref))
    return out


def levels() -> dict[str, Level]:
    dft = PySCFEngine("b3lyp-d3bj/def2-svp")
    mp2_cbs = PySCFEngine("mp2/cbs(aug-cc-pvdz,aug-cc-pvtz);df=1")
    mp2_adz = PySCFEngine("mp2/aug-cc-pvdz;df=1")
    cc = PySCFEngine("ccsd(t)/aug-cc-pvdz")

    def e(engine: PySCFEngine, cp: bool, scheme: str = "single") -> Level:
        return lambda m, f: (
            interaction_energy(m, engine, f, scheme=scheme, counterpoise=cp).interaction_energy_kcal_mol
        )

    return {
        "DFT-D B3LYP-D3(BJ)/def2-SVP": e(dft, False),
        "MP2/CBS(aDZ,aTZ) CP": e(mp2_cbs, True),
        "composite MP2/CBS+dCCSD(T)/aDZ CP": e(cc, True, "composite"),
        "baseline DF-MP2/aDZ no CP": e(mp2_adz, False),
    }


def run(max_atoms: dict[str, int]) -> dict[str, dict[str, float]]:
    systems = s22_systems()
    table: dict[str, dict[str, float]] = {}
    for label, fn in levels().items():
        errors, names = [], []
        t0 = time.process_time()
        for name, dimer, frags, ref in systems:
            if len(dimer) > max_atoms[label]:
                continue
            err = fn(dimer, frags) - ref
            errors.append(err)
            names.append(name)
            print(f"  {label:36s} {name:38s} {err:+7.3f} kcal/mol", flush=True)
        cpu = time.process_time() - t0
        a = np.abs(errors)
        table[label] = {"n": len(a), "mae": float(a.mean()), "max": float(a.max()), "cpu_s": cpu,
                        "worst": names[int(a.argmax())]}  # fmt: skip
    return table


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dft-max-atoms", type=int, default=30)
    ap.add_argument("--mp2-max-atoms", type=int, default=12)
    ap.add_argument("--cc-max-atoms", type=int, default=10)
    args = ap.parse_args()
    labels = list(levels())
    limits = dict(zip(labels, [args.dft_max_atoms, args.mp2_max_atoms, args.cc_max_atoms, args.cc_max_atoms],
                      strict=True))  # fmt: skip
    wall = time.perf_counter()
    table = run(limits)
    print(f"\nS22 interaction energies vs CCSD(T)/CBS (kcal/mol), {os.environ['OMP_NUM_THREADS']} threads")
    print(f"{'level':36s} {'n':>3s} {'MAE':>7s} {'max':>7s} {'CPU s':>8s}  worst")
    for label, r in table.items():
        print(f"{label:36s} {r['n']:3d} {r['mae']:7.3f} {r['max']:7.3f} {r['cpu_s']:8.1f}  {r['worst']}")
    comp, base = table[labels[2]], table[labels[3]]
    print(
        f"\nbaseline/composite on the same {comp['n']} dimers: MAE ratio {base['mae'] / comp['mae']:.1f}x "
        f"(composite closer to CCSD(T)/CBS), CPU ratio {comp['cpu_s'] / base['cpu_s']:.1f}x "
        "(composite costlier)"
    )
    print(f"wall time {time.perf_counter() - wall:.0f} s")


if __name__ == "__main__":
    main()
