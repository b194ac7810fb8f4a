"""The quantum-algorithm rung against the classical rungs, side by side in one run: energy error against
the exact energy of the same active space and CPU time of each.

Systems (fixed before any run; none of the SQD settings were tuned on them):
  * N2 stretched to 2.0 Å, 6-31G, (10e,12o) active space (627,264 determinants): the classic
    multireference bond-breaking case;
  * a Cu-O cluster model cut from cuprite Cu2O (a = 4.27 Å) with ``materials/cluster.py``: the Cu(I)
    site and its two O neighbours, [CuO2]3-, embedded in Evjen point charges (2 cells), def2-SVP,
    (10e,10o) active space around the Fermi level (63,504 determinants).
Rungs: SQD from LUCJ samples (noiseless state vector; noisy device model where the trajectory cost fits
its time budget), SQD from uniformly random samples (as many shots; and capped at the LUCJ subspace
size), selected CI at the SQD subspace shape, CCSD(T) in
the space, DMRG-CASCI (block2, M = ``--bond-dim``), against CASCI (FCI) as the exact energy.
Everything is emulated on a classical simulator; no quantum speed-up is claimed. The script states where
the quantum rung loses.

    python benchmarks/bench_quantum_rung.py [--shots 10000] [--bond-dim 200] [--systems n2,cu2o]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from dataclasses import replace

from pymatgen.core import Lattice, Molecule, Structure

from mattwin.engines.pyscf import PySCFEngine
from mattwin.engines.pyscf_dmrg import DMRGSolver
from mattwin.engines.pyscf_run import PROGRESS_LISTENERS, build_mole, run_scf
from mattwin.materials.cluster import cut_cluster
from mattwin.quantum import EMULATION_NOTE
from mattwin.quantum.rung import run_rung


def cu2o_cluster() -> Molecule:
    """[CuO2]3- from cuprite (O on a bcc lattice, Cu on the tetrahedral-interstitial quarter sites)."""
    a = 4.27
    cu = [[0.25, 0.25, 0.25], [0.75, 0.75, 0.25], [0.75, 0.25, 0.75], [0.25, 0.75, 0.75]]
    s = Structure(Lattice.cubic(a), ["O", "O", "Cu", "Cu", "Cu", "Cu"], [[0, 0, 0], [0.5, 0.5, 0.5], *cu])
    model = cut_cluster(s, center=2, radius=2.0, capping="point_charges", embed_cells=2)
    return model.molecule


SYSTEMS = {
    "n2": (
        "N2 2.0 Å (10e,12o)/6-31G",
        lambda: Molecule(["N", "N"], [[0, 0, 0], [0, 0, 2.0]]),
        "sqd(10,12)/6-31g",
    ),
    "cu2o": ("[CuO2]3- from Cu2O (10e,10o)/def2-SVP", cu2o_cluster, "sqd(10,10)/def2-svp"),
}


def bench(key: str, shots: int, bond_dim: int, seed: int) -> list[tuple[str, float | None, float, str]]:
    title, make, spec = SYSTEMS[key]
    mol = make()
    eng = PySCFEngine(f"{spec};shots={shots};seed={seed};m={bond_dim}")
    s = eng.settings
    t0 = time.process_time()
    mf = run_scf(build_mole(mol, s.basis, (), s.max_memory_mb), mol, replace(s, method="hf"), title)
    t_scf = time.process_time() - t0
    out = run_rung(mf, s, title)
    space = out["space"]
    exact = out["reference"]["energy_hartree"]
    t0 = time.process_time()
    with tempfile.TemporaryDirectory() as scratch:
        e_dmrg, _ = DMRGSolver(bond_dim, scratch).kernel(
            space.h1, space.h2, space.norb, space.nelec, ecore=space.ecore
        )
    t_dmrg = time.process_time() - t0
    rows = [(r["rung"], r["error_mEh"], r["cpu_s"], _detail(r)) for r in out["rows"]]
    rows.insert(-2, (f"DMRG-CASCI (block2, M = {bond_dim})", (e_dmrg - exact) * 1000, t_dmrg, ""))
    print(
        f"\n== {title}: {space.n_qubits} qubits, {space.n_determinants:,} determinants; SCF {t_scf:.1f} s CPU"
    )
    print(f"{'rung':<44} {'E - E_FCI (mEh)':>16} {'CPU (s)':>9}  detail")
    for name, err, cpu, detail in rows:
        e = "—" if err is None else f"{err:+.4f}"
        print(f"{name:<44} {e:>16} {cpu:>9.2f}  {detail}")
    print(f"verdict: {out['verdict']}")
    return rows


def _detail(r: dict) -> str:
    bits = []
    if r.get("determinants"):
        bits.append(f"{r['determinants']:,} dets")
    if r.get("shots"):
        bits.append(f"{r['shots']} shots, {r.get('unique_samples', 0)} unique")
    if r.get("note"):
        bits.append(str(r["note"]))
    return "; ".join(bits)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--shots", type=int, default=10_000)
    ap.add_argument("--bond-dim", type=int, default=200)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--systems", default="n2,cu2o")
    args = ap.parse_args()
    PROGRESS_LISTENERS.append(lambda text: print(f"  [{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr))
    print(f"bench_quantum_rung: {EMULATION_NOTE}")
    t0 = time.perf_counter()
    for key in args.systems.split(","):
        rows = bench(key.strip(), args.shots, args.bond_dim, args.seed)
        head = rows[0]
        sci = next(r for r in rows if r[0].startswith("selected CI"))
        rand = next(r for r in rows if "random" in r[0])
        rand_eq = next(r for r in rows if "random" in r[0] and "LUCJ subspace size" in r[0])
        dmrg = next(r for r in rows if r[0].startswith("DMRG"))
        print(
            f"summary {key}: SQD(LUCJ) error {head[1]:.3f} mEh in {head[2]:.1f} s; selected CI at equal "
            f"determinants {sci[1]:.3f} mEh in {sci[2]:.1f} s; SQD(random) {rand[1]:.3f} mEh, at the LUCJ "
            f"subspace size {rand_eq[1]:.3f} mEh; DMRG "
            f"{dmrg[1]:.4f} mEh in {dmrg[2]:.1f} s; error ratio SQD(LUCJ)/SCI = "
            f"{head[1] / max(sci[1], 1e-9):.2f}, CPU ratio SQD(LUCJ)/DMRG = "
            f"{head[2] / max(dmrg[2], 1e-9):.2f}"
        )
    print(f"total wall time {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
