"""Bulk and shear moduli (Voigt–Reuss–Hill) of 12 common solids with each MLIP engine against experiment.

Structures are built from experimental room-temperature lattice parameters (Wyckoff, Crystal
Structures, 2nd ed. (1963), unless noted) and relaxed by each engine before straining. The
experimental K_VRH and G_VRH are computed here with the project's own VRH formulas from the measured
single-crystal elastic constants C_ij (GPa) cited next to each, except Al2O3 and TiO2 where the
published VRH aggregate values are used directly.

mattwin: ``elastic_tensor`` (relaxed ions; symmetry-reduced strain set, 4 magnitudes along only the
Voigt directions the point group needs; all strained cells relaxed together, one batched model call
per optimiser step; fit in the symmetry-invariant subspace). Baseline (first engine only, to stay
within ~15 min): the plain recipe: all 6 Voigt directions x the same 4 magnitudes, each strained cell
relaxed one at a time with the engine's ASE calculator and FIRE, unconstrained 21-constant fit;
the time ratio and the MAE of both are printed.

Run: ``python benchmarks/bench_elastic.py [--engines chgnet sevenn:7net-0] [--no-baseline]`` (~10 min).
"""

from __future__ import annotations

import argparse
import os
import time
import warnings
from typing import Any

import numpy as np

warnings.filterwarnings("ignore")
os.environ.setdefault("TQDM_DISABLE", "1")


def cubic(c11: float, c12: float, c44: float) -> np.ndarray:
    c = np.zeros((6, 6))
    c[:3, :3] = c12
    c[range(3), range(3)] = c11
    c[3, 3] = c[4, 4] = c[5, 5] = c44
    return c


# name: (space group, lattice, species, fractional coords, experimental C_ij or (K, G), reference)
SOLIDS: dict[str, tuple[str, tuple[float, ...], list[str], list[list[float]], Any, str]] = {
    "Si": (
        "Fd-3m",
        (5.431,),
        ["Si"],
        [[0, 0, 0]],
        cubic(165.6, 63.9, 79.5),
        "Hall, Phys. Rev. 161, 756 (1967)",
    ),
    "Al": (
        "Fm-3m",
        (4.049,),
        ["Al"],
        [[0, 0, 0]],
        cubic(107.3, 60.9, 28.3),
        "Vallin et al., J. Appl. Phys. 35, 1825 (1964)",
    ),
    "Cu": (
        "Fm-3m",
        (3.615,),
        ["Cu"],
        [[0, 0, 0]],
        cubic(168.4, 121.4, 75.4),
        "Overton & Gaffney, Phys. Rev. 98, 969 (1955)",
    ),
    "Fe": (
        "Im-3m",
        (2.866,),
        ["Fe"],
        [[0, 0, 0]],
        cubic(231.4, 134.7, 116.4),
        "Rayne & Chandrasekhar, Phys. Rev. 122, 1714 (1961)",
    ),
    "W": (
        "Im-3m",
        (3.165,),
        ["W"],
        [[0, 0, 0]],
        cubic(522.4, 204.4, 160.6),
        "Featherston & Neighbours, Phys. Rev. 130, 1324 (1963)",
    ),
    "MgO": (
        "Fm-3m",
        (4.212,),
        ["Mg", "O"],
        [[0, 0, 0], [0.5, 0.5, 0.5]],
        cubic(297.0, 95.2, 155.7),
        "Jackson & Niesler, in High-Pressure Research in Geophysics (1982) p. 93",
    ),
    "NaCl": (
        "Fm-3m",
        (5.640,),
        ["Na", "Cl"],
        [[0, 0, 0], [0.5, 0.5, 0.5]],
        cubic(49.1, 12.8, 12.8),
        "Bartels & Schuele, J. Phys. Chem. Solids 26, 537 (1965)",
    ),
    "GaAs": (
        "F-43m",
        (5.653,),
        ["Ga", "As"],
        [[0, 0, 0], [0.25, 0.25, 0.25]],
        cubic(118.8, 53.8, 59.4),
        "McSkimin, Jayaraman & Andreatch, J. Appl. Phys. 38, 2362 (1967)",
    ),
    "SiC": (
        "F-43m",
        (4.358,),
        ["Si", "C"],
        [[0, 0, 0], [0.25, 0.25, 0.25]],
        cubic(390.0, 142.0, 256.0),
        "3C-SiC: Feldman et al., Phys. Rev. 173, 787 (1968), "
        "as tabulated by Lambrecht et al., PRB 44, 3685 (1991)",
    ),
    "C": (
        "Fd-3m",
        (3.567,),
        ["C"],
        [[0, 0, 0]],
        cubic(1079.0, 124.0, 578.0),
        "McSkimin & Andreatch, J. Appl. Phys. 43, 2944 (1972)",
    ),
    "Al2O3": (
        "R-3c",
        (4.759, 12.991),
        ["Al", "O"],
        [[0, 0, 0.3522], [0.3064, 0, 0.25]],
        (254.4, 163.2),
        "Gieske & Barsch, Phys. Status Solidi 29, 121 (1968): K_VRH, G_VRH",
    ),
    "TiO2": (
        "P4_2/mnm",
        (4.594, 2.959),
        ["Ti", "O"],
        [[0, 0, 0], [0.3048, 0.3048, 0]],
        (211.6, 112.9),
        "rutile, Isaak et al., Phys. Chem. Minerals 26, 31 (1998): K_VRH, G_VRH",
    ),
}


def structure(name: str):  # type: ignore[no-untyped-def]
    from pymatgen.core import Lattice, Structure

    sg, lat, species, coords, _ref, _cite = SOLIDS[name]
    lattice = (
        Lattice.cubic(lat[0])
        if len(lat) == 1
        else (Lattice.hexagonal(*lat) if sg.startswith("R") else Lattice.tetragonal(*lat))
    )
    return Structure.from_spacegroup(sg, lattice, species, coords).get_primitive_structure()


def experiment(name: str) -> tuple[float, float]:
    from mattwin.analysis.elasticity import vrh_moduli

    ref = SOLIDS[name][4]
    if isinstance(ref, tuple):
        return ref
    m = vrh_moduli(ref)
    return m.K_vrh_GPa, m.G_vrh_GPa


def baseline(s, engine) -> tuple[float, float, float]:  # type: ignore[no-untyped-def]
    """Plain recipe: 24 strained cells relaxed one at a time in ASE, 21-constant fit. (K, G, seconds)."""
    from mattwin.analysis.elasticity import fit_stiffness, vrh_moduli
    from mattwin.tasks.elastic import DEFAULT_STRAINS, standard_frame, strained
    from mattwin.tasks.eos import prerelax
    from mattwin.tasks.relax import relax

    t0 = time.perf_counter()
    prim = standard_frame(prerelax(s, engine, 0.005))[0]
    ref = relax(prim, engine, fmax=0.005, max_steps=300, relax_cell=False)
    vectors, stresses = [], []
    for d in range(6):
        for m in DEFAULT_STRAINS:
            e = np.zeros(6)
            e[d] = m
            r = relax(strained(prim, e), engine, fmax=0.005, max_steps=300, relax_cell=False)
            vectors.append(e)
            stresses.append(np.asarray(r.stress_GPa) - np.asarray(ref.stress_GPa))
    fit = fit_stiffness(vectors, stresses, [])
    m = vrh_moduli(fit.C_GPa)
    return m.K_vrh_GPa, m.G_vrh_GPa, time.perf_counter() - t0


def run(spec: str, with_baseline: bool) -> None:
    from mattwin.engines.registry import get_engine
    from mattwin.tasks.elastic import elastic_tensor

    engine = get_engine(spec)
    engine.evaluate([structure("Si")])  # load the model before timing
    print(f"\n== {spec}")
    print(
        f"{'solid':6} {'K exp':>7} {'K':>7} {'G exp':>7} {'G':>7} {'n_def':>5} {'t (s)':>6}"
        + (f" {'K base':>7} {'G base':>7} {'t base':>7}" if with_baseline else "")
    )
    dk, dg, dkb, dgb, tp, tb = [], [], [], [], 0.0, 0.0
    for name in SOLIDS:
        k_exp, g_exp = experiment(name)
        s = structure(name)
        t0 = time.perf_counter()
        try:
            res = elastic_tensor(s, engine)
        except Exception as exc:  # report and go on
            print(f"{name:6} failed: {type(exc).__name__}: {exc}")
            continue
        t = time.perf_counter() - t0
        tp += t
        k, g = res.moduli["K_vrh_GPa"], res.moduli["G_vrh_GPa"]
        dk.append(k - k_exp)
        dg.append(g - g_exp)
        line = f"{name:6} {k_exp:7.1f} {k:7.1f} {g_exp:7.1f} {g:7.1f} {res.n_deformations:5d} {t:6.1f}"
        if with_baseline:
            kb, gb, t_b = baseline(s, engine)
            tb += t_b
            dkb.append(kb - k_exp)
            dgb.append(gb - g_exp)
            line += f" {kb:7.1f} {gb:7.1f} {t_b:7.1f}"
        print(line + ("" if res.born_stable else "  Born-unstable: " + "; ".join(res.born_failed)))
    print(
        f"  MAE K_VRH {np.mean(np.abs(dk)):.1f} GPa, MAE G_VRH {np.mean(np.abs(dg)):.1f} GPa "
        f"({len(dk)} solids), time {tp:.1f} s"
    )
    if with_baseline and dkb:
        print(
            f"  baseline MAE K {np.mean(np.abs(dkb)):.1f} GPa, G {np.mean(np.abs(dgb)):.1f} GPa, "
            f"time {tb:.1f} s; "
            f"speed-up of mattwin's batched symmetry-reduced recipe: {tb / tp:.2f}x"
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--engines", nargs="+", default=["chgnet", "sevenn:7net-0"])
    ap.add_argument("--no-baseline", action="store_true")
    args = ap.parse_args()
    for i, spec in enumerate(args.engines):
        run(spec, with_baseline=(i == 0 and not args.no_baseline))
    print("\nreferences (experimental C_ij -> VRH here, or published VRH):")
    for name, v in SOLIDS.items():
        print(f"  {name}: {v[5]}")


if __name__ == "__main__":
    main()
