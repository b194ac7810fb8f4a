"""S22 noncovalent interaction energies against CCSD(T)/CBS (Jurečka, Šponer, Černý, Hobza, PCCP 8,
1985 (2006); geometries and references from ``ase.data.s22``).

Run: ``OMP_NUM_THREADS=2 flock /tmp/mattwin-cpu.lock python benchmarks/bench_s22.py`` (about 11
minutes on 2 cores). Levels, each on the subset a laptop affords in that time (B3LYP/def2-SVP on the
24-atom uracil dimer alone takes about a minute per SCF on 2 cores; CCSD(T)/aug-cc-pVDZ cost grows
as N^7):

* ``DFT-D``: B3LYP-D3(BJ)/def2-SVP with counterpoise (without CP the def2-SVP basis-set
  superposition error overbinds H-bonded dimers by 3-7 kcal/mol), on the dimers up to
  ``--dft-max-atoms`` atoms (default 16: 10 of the 22).
* ``MP2/CBS``: DF-MP2 extrapolated aug-cc-pVDZ -> aug-cc-pVTZ (X^-3), HF in aug-cc-pVTZ, CP; and
* ``composite``: MP2/CBS + [CCSD(T) - MP2]/aug-cc-pVDZ, CP, both from one composite run on the
  dimers with at most ``--cc-max-heavy`` non-hydrogen atoms and ``--cc-max-atoms`` atoms (defaults
  4 and 10: ammonia, water, methane dimers and ethene-ethyne; ``--cc-max-atoms 12`` adds the ethene
  dimer, about 5 more minutes); the MP2/CBS row is the composite's own MP2/CBS part, so its CPU
  time is inside the composite's.
* ``baseline``: what one gets without that machinery: plain DF-MP2/aug-cc-pVDZ without
  counterpoise, on the composite's dimers. The ratio printed is baseline MAE / composite MAE (how
  much closer to CCSD(T)/CBS the composite lands) and their CPU-time ratio.

Errors in kcal/mol (1 kcal/mol = 0.0434 eV); CPU time = process time of this script (all threads).
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("OMP_NUM_THREADS", "2")

import numpy as np  # noqa: E402
from ase.data import s22  # noqa: E402
from ase.units import kcal, mol  # noqa: E402
from pymatgen.core import Molecule  # noqa: E402

from mattwin.engines.pyscf import PySCFEngine  # noqa: E402
from mattwin.tasks.interaction import interaction_energy  # noqa: E402


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


def _heavy(m: Molecule) -> int:
    return sum(1 for site in m if site.specie.symbol != "H")


def _stats(errors: list[float], names: list[str], cpu: float) -> dict[str, float | str]:
    a = np.abs(errors)
    return {
        "n": len(a),
        "mae": float(a.mean()),
        "max": float(a.max()),
        "cpu_s": cpu,
        "worst": names[int(a.argmax())],
    }


def run(dft_max_atoms: int, cc_max_heavy: int, cc_max_atoms: int) -> dict[str, dict[str, float | str]]:
    """Errors (kcal/mol) of every level on its subset, MAE, max, CPU seconds, worst dimer."""
    systems = s22_systems()
    dft = PySCFEngine("b3lyp-d3bj/def2-svp")
    cc = PySCFEngine("ccsd(t)/aug-cc-pvdz")
    base = PySCFEngine("mp2/aug-cc-pvdz;df=1")
    rows: dict[str, tuple[list[float], list[str], float]] = {}

    def add(label: str, name: str, err: float, cpu: float) -> None:
        errs, names, t = rows.get(label, ([], [], 0.0))
        rows[label] = ([*errs, err], [*names, name], t + cpu)
        print(f"  {label:36s} {name:38s} {err:+7.3f} kcal/mol", flush=True)

    for name, dimer, frags, ref in systems:
        if len(dimer) <= dft_max_atoms:
            t0 = time.process_time()
            e = interaction_energy(dimer, dft, frags, counterpoise=True).interaction_energy_kcal_mol
            add("DFT-D B3LYP-D3(BJ)/def2-SVP CP", name, e - ref, time.process_time() - t0)
    for name, dimer, frags, ref in systems:
        if _heavy(dimer) > cc_max_heavy or len(dimer) > cc_max_atoms:
            continue
        t0 = time.process_time()
        r = interaction_energy(dimer, cc, frags, scheme="composite")
        cpu = time.process_time() - t0
        c = r.components_kcal_mol
        add("MP2/CBS(aDZ,aTZ) CP", name, c["hf_aug-cc-pvtz"] + c["mp2_corr_cbs"] - ref, 0.0)
        add("composite MP2/CBS+dCCSD(T)/aDZ CP", name, r.interaction_energy_kcal_mol - ref, cpu)
        t0 = time.process_time()
        e = interaction_energy(dimer, base, frags, counterpoise=False).interaction_energy_kcal_mol
        add("baseline DF-MP2/aDZ no CP", name, e - ref, time.process_time() - t0)
    return {label: _stats(*v) for label, v in rows.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dft-max-atoms", type=int, default=16)
    ap.add_argument("--cc-max-heavy", type=int, default=4)
    ap.add_argument("--cc-max-atoms", type=int, default=10)
    args = ap.parse_args()
    wall = time.perf_counter()
    table = run(args.dft_max_atoms, args.cc_max_heavy, args.cc_max_atoms)
    print(f"\nS22 interaction energies vs CCSD(T)/CBS (kcal/mol), {os.environ['OMP_NUM_THREADS']} threads")
    print(f"{'level':36s} {'n':>3s} {'MAE':>7s} {'max':>7s} {'CPU s':>8s}  worst")
    for label, r in table.items():
        cpu = f"{r['cpu_s']:8.1f}" if r["cpu_s"] else "    (in composite)"
        print(f"{label:36s} {r['n']:3d} {r['mae']:7.3f} {r['max']:7.3f} {cpu}  {r['worst']}")
    comp, base = table["composite MP2/CBS+dCCSD(T)/aDZ CP"], table["baseline DF-MP2/aDZ no CP"]
    print(
        f"\nbaseline/composite on the same {comp['n']} dimers: MAE ratio "
        f"{float(base['mae']) / float(comp['mae']):.1f}x (composite closer to CCSD(T)/CBS), "
        f"CPU ratio {float(comp['cpu_s']) / float(base['cpu_s']):.1f}x (composite costlier)"
    )
    print(f"wall time {time.perf_counter() - wall:.0f} s")


if __name__ == "__main__":
    main()
