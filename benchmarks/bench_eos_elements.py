"""Equation of state of the 71 elemental crystals of the Delta test with each MLIP engine, against the
all-electron WIEN2k reference (PBE) that ships with ASE (``ase.collections.dcdft``: V0, B0, B'),
Lejaeghere et al., Crit. Rev. Solid State Mater. Sci. 39, 1 (2014); Science 351, aad3000 (2016).

Protocol (the Delta test's): the reference cell at fixed shape and fractional coordinates, scaled to 7
volumes in V0_ref (1 ± 0.06), Birch–Murnaghan fit. mattwin runs ``equation_of_state`` (relax=False,
relax_ions=False): all 7 volumes in one batched ``engine.evaluate`` call. Baseline, same energies:
a plain loop over the volumes with the engine's ASE calculator and ASE's own
``ase.eos.EquationOfState`` (Birch–Murnaghan) fit; the time ratio and the agreement of the two fits
are printed. Elements an engine has no parameters for, or whose fit fails, are listed, not fatal.

Run: ``python benchmarks/bench_eos_elements.py [--engines chgnet sevenn:7net-0] [--elements Si Cu]``
(~5-10 min on 2 cores).
"""

from __future__ import annotations

import argparse
import os
import time
import warnings

import numpy as np

warnings.filterwarnings("ignore")
os.environ.setdefault("TQDM_DISABLE", "1")

FACTORS = np.linspace(0.94, 1.06, 7)


def reference(symbol: str) -> tuple[object, float, float, float]:
    """(Atoms, V0 Å^3/atom, B0 GPa, B') of the WIEN2k reference."""
    from ase.collections import dcdft

    d = dcdft.data[symbol]
    return dcdft[symbol], d["wien2k_volume"], d["wien2k_B"], d["wien2k_Bp"]


def project_eos(engine, atoms, v0_ref: float):  # type: ignore[no-untyped-def]
    from mattwin.materials.identity import from_atoms
    from mattwin.tasks.eos import equation_of_state

    s = from_atoms(atoms)
    s.scale_lattice(v0_ref * len(s))
    t0 = time.perf_counter()
    res = equation_of_state(
        s, engine, n_points=len(FACTORS), volume_range=0.06, relax=False, relax_ions=False
    )
    return res, time.perf_counter() - t0


def baseline_eos(engine, atoms, v0_ref: float):  # type: ignore[no-untyped-def]
    from ase import units
    from ase.eos import EquationOfState

    calc = engine.calculator()
    n = len(atoms)
    vols, ens = [], []
    t0 = time.perf_counter()
    for f in FACTORS:
        a = atoms.copy()
        a.set_cell(a.cell * (v0_ref * n * f / a.get_volume()) ** (1 / 3), scale_atoms=True)
        a.calc = calc
        ens.append(a.get_potential_energy())
        vols.append(a.get_volume())
    v0, _e0, b = EquationOfState(vols, ens, eos="birchmurnaghan").fit()
    return v0 / n, b / units.GPa, time.perf_counter() - t0


def missing_elements(engine, atoms) -> set[str]:  # type: ignore[no-untyped-def]
    """Elements of ``atoms`` the engine has no parameters for. (engines/sevenn.py reports atomic numbers
    as strings in ``supported_elements``; they are mapped to symbols here.)"""
    from ase.data import chemical_symbols

    known = set(engine.supported_elements())
    if known and all(k.isdigit() for k in known):
        known = {chemical_symbols[int(k)] for k in known}
    return set(atoms.get_chemical_symbols()) - known


def run_engine(spec: str, symbols: list[str]) -> dict[str, object]:
    from mattwin.engines.registry import get_engine
    from mattwin.materials.identity import from_atoms

    engine = get_engine(spec)
    warm, _v, _b, _bp = reference("Si")  # load the model before any timing
    engine.evaluate([from_atoms(warm)])
    baseline_eos(engine, warm, 20.45)
    rows, skipped, t_proj, t_base, fit_dv = [], [], 0.0, 0.0, []
    for sym in symbols:
        atoms, v0r, b0r, _bpr = reference(sym)
        if missing_elements(engine, atoms):
            skipped.append(f"{sym} (unsupported)")
            continue
        try:
            res, tp = project_eos(engine, atoms, v0r)
            v0b, _b0b, tb = baseline_eos(engine, atoms, v0r)
        except Exception as exc:  # a failed fit is reported, the benchmark goes on
            skipped.append(f"{sym} ({type(exc).__name__})")
            continue
        t_proj += tp
        t_base += tb
        fit_dv.append(abs(res.v0_per_atom_A3 - v0b))
        rows.append((sym, res.v0_per_atom_A3, v0r, res.b0_GPa, b0r))
    return {"rows": rows, "skipped": skipped, "t_proj": t_proj, "t_base": t_base, "fit_dv": fit_dv}


def report(spec: str, out: dict[str, object]) -> None:
    rows = out["rows"]
    assert isinstance(rows, list)
    dv = np.array([r[1] - r[2] for r in rows])
    db = np.array([r[3] - r[4] for r in rows])
    noble = {"He", "Ne", "Ar", "Kr", "Xe", "Rn"}
    keep = np.array([r[0] not in noble for r in rows], dtype=bool)
    print(f"\n== {spec}: {len(rows)} elements fitted, {len(out['skipped'])} skipped")  # type: ignore[arg-type]
    print(f"  MAE V0 {np.mean(np.abs(dv)):.3f} A^3/atom   MAE B0 {np.mean(np.abs(db)):.1f} GPa   (all)")
    print(
        f"  MAE V0 {np.mean(np.abs(dv[keep])):.3f} A^3/atom   MAE B0 {np.mean(np.abs(db[keep])):.1f} GPa   "
        "(without noble gases: no dispersion in these MLIPs)"
    )
    print(
        f"  median |dV0| {np.median(np.abs(dv)):.3f} A^3/atom, median |dB0| {np.median(np.abs(db)):.1f} GPa"
    )
    worst = sorted(rows, key=lambda r: -abs(r[3] - r[4]))[:5]
    print("  largest B0 errors: " + ", ".join(f"{r[0]} {r[3]:.0f} vs {r[4]:.0f}" for r in worst))
    print(f"  skipped: {', '.join(out['skipped']) or 'none'}")  # type: ignore[arg-type]
    t_p, t_b = float(out["t_proj"]), float(out["t_base"])  # type: ignore[arg-type]
    print(
        f"  CPU time: mattwin batched {t_p:.1f} s, plain ASE loop {t_b:.1f} s, ratio {t_b / t_p:.2f}x; "
        f"fits agree with ASE's EquationOfState to {max(out['fit_dv']):.1e} A^3/atom"  # type: ignore[call-overload]
    )


def main() -> None:
    from ase.collections import dcdft

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--engines", nargs="+", default=["chgnet", "sevenn:7net-0"])
    ap.add_argument("--elements", nargs="+", default=list(dcdft.names))
    args = ap.parse_args()
    print(f"Delta-test elements: {len(args.elements)}; volumes V0_ref x {FACTORS.round(3).tolist()}")
    for spec in args.engines:
        report(spec, run_engine(spec, args.elements))


if __name__ == "__main__":
    main()
