"""Formation enthalpies against experiment, per engine: raw, MP2020-corrected and mattwin-calibrated.

Data: the compounds of the shipped computed set (``scripts/build_calibration_set.py``: structures from
the reference library or searched with CHGNet, relaxed by every engine) joined with pymatgen's
experimental formation enthalpies (``exp_compounds.json.gz``, the MP2020 fitting set, read from the
installed package). The lab's own measurements are not used here.

* raw: the engine's formation energy from its own elemental reference energies;
* MP2020: pymatgen's ``MaterialsProject2020Compatibility`` applied to the engine's energies (GGA+U for
  U metals in oxides and fluorides). MP2020 was fitted to this very set with PBE energies, so its MAE
  here is *not* a held-out figure; it answers whether the MLIP energies sit on MP's GGA/GGA+U scale;
* mattwin: corrections per anion/U metal + residual GP + conformal intervals
  (``mattwin.analysis.calibration``), held-out by 5-fold cross-validation grouped by chemical system
  (no compound's chemical system is in the folds it was fitted on; each outer fold's conformal scores
  come from an inner grouped CV of its training folds only).

Engines: the GGA-level ones (CHGNet 0.3.0, SevenNet-0, SevenNet-l3i5, and "ensemble": the mean of those
three, MP2020-scaled where a member needs it) and the r2SCAN-level ones (CHGNet's r2scan weights,
SevenNet-MF-0's R2SCAN head, and "ensemble-r2scan": the mean of those two,
``ensemble:chgnet:r2scan,sevenn:7net-mf-0@r2scan``). An r2SCAN model's energies are r2SCAN energies:
MP2020 does not apply to them (its "MP2020" column shows what applying it anyway does), and they are
never averaged with GGA-level ones.

Printed per engine: n, MAE of the engine's own energies ("own", no correction), with MP2020 applied to
every member ("MP2020"), on the hull's scale ("hull": MP2020 only for engines that predict uncorrected
MP energies, i.e. SevenNet; this is `--calibration none`), and calibrated ("mattwin", held-out); the
ratio hull/mattwin, coverage of the 90 % (and 68 %) intervals, and the calibrated MAE by chemistry.
References: raw PBE ~0.19 eV/atom, ML-corrected PBE ~0.08 (Adhikari et al. 2023), fitted corrections
(FERE, MP2020) ~0.05, experiments themselves ~0.02-0.04. Target: calibrated ensemble <= 0.06 eV/atom,
coverage of the 90 % interval in [0.85, 0.95].

Also printed: the calibrated MAE split into compounds with a reference-library structure and
compounds with a searched one (the search's misses dominate the error).

Run: ``python benchmarks/bench_formation_enthalpy.py [--engines chgnet ensemble]`` (~2 min per engine).
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from pathlib import Path

import numpy as np

warnings.filterwarnings("ignore")

#: "ensemble" is the default ensemble (chgnet, sevenn:7net-0, sevenn:7net-l3i5); the r2SCAN ensemble
#: is spelled out
ENGINES = (
    "chgnet",
    "sevenn:7net-0",
    "sevenn:7net-l3i5",
    "ensemble",
    "chgnet:r2scan",
    "sevenn:7net-mf-0@r2scan",
    "ensemble:chgnet:r2scan,sevenn:7net-mf-0@r2scan",
)
#: short names for the printed table
SHORT = {"ensemble:chgnet:r2scan,sevenn:7net-mf-0@r2scan": "ensemble-r2scan"}


def evaluate(engine: str, folds: int, seed: int) -> dict[str, object]:
    from mattwin.analysis.calibration import cross_validate
    from mattwin.discovery.calibration_set import (
        calibration_points,
        computed_compounds,
        mp2020_formation_energy,
    )

    t0 = time.perf_counter()
    points = calibration_points(engine)
    if not points:
        return {"engine": engine, "n": 0, "note": "no computed set ships for this engine"}
    ho = cross_validate(points, engine, k=folds, seed=seed)
    m = ho.metrics()
    mp = mp2020_formation_energy(engine)
    pairs = [(mp[f], y) for f, y in zip(ho.formulas, ho.measured, strict=True) if f in mp]
    own = _own_scale(engine)
    own_err = [abs(own[f] - y) for f, y in zip(ho.formulas, ho.measured, strict=True) if f in own]
    by_class: dict[str, list[float]] = {}
    for c, r, y in zip(ho.classes, ho.calibrated, ho.measured, strict=True):
        by_class.setdefault(c, []).append(abs(r - y))
    computed = computed_compounds(engine)
    lib = np.array([computed[f].structure_source.startswith("reference library") for f in ho.formulas])
    err_raw, err_cal = np.abs(ho.raw - ho.measured), np.abs(ho.calibrated - ho.measured)
    return {
        "engine": engine,
        "n": len(points),
        "mae_own": float(np.mean(own_err)),
        "mae_raw": m["heldout_mae_raw"],
        "mae_mp2020": float(np.mean([abs(a - b) for a, b in pairs])) if pairs else None,
        "n_mp2020": len(pairs),
        "mae_calibrated": m["heldout_mae_calibrated"],
        "ratio_raw_over_calibrated": m["heldout_mae_raw"] / m["heldout_mae_calibrated"],
        "coverage_90": m["coverage_90"],
        "coverage_68": m["coverage_68"],
        "median_half_width_90": m["median_interval_90"],
        "mae_by_class": {c: (len(v), float(np.mean(v))) for c, v in sorted(by_class.items())},
        "n_library_structure": int(lib.sum()),
        "mae_raw_library_structure": float(err_raw[lib].mean()),
        "mae_calibrated_library_structure": float(err_cal[lib].mean()),
        "mae_raw_searched_structure": float(err_raw[~lib].mean()),
        "mae_calibrated_searched_structure": float(err_cal[~lib].mean()),
        "wall_s": time.perf_counter() - t0,
    }


def _short(engine: str) -> str:
    return SHORT.get(engine, engine)


def _own_scale(engine: str) -> dict[str, float]:
    """Formation energies from the engine's energies as they come (no MP2020 anywhere), eV/atom."""
    from mattwin.discovery.calibration_set import computed_set, raw_formation_energy
    from mattwin.engines.registry import member_specs

    per = []
    for spec in member_specs(engine):
        data = computed_set(spec) or {"compounds": [], "element_energy_per_atom_eV": {}}
        els = data["element_energy_per_atom_eV"]
        per.append(
            {
                r["formula"]: raw_formation_energy(r["formula"], r["energy_per_atom_eV"], els)
                for r in data["compounds"]
            }
        )
    common = set.intersection(*(set(p) for p in per))
    return {f: float(np.mean([p[f] for p in per])) for f in common}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--engines", nargs="+", default=list(ENGINES))
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = ap.parse_args()
    rows = []
    cols = ("n", "own", "MP2020", "hull", "mattwin", "ratio", "cov90", "cov68")
    widths = (4, 6, 7, 6, 8, 6, 6, 6)
    head = f"{'engine':18s} " + " ".join(f"{c:>{w}s}" for c, w in zip(cols, widths, strict=True))
    print("formation-enthalpy MAE (eV/atom) against experiment; mattwin: held-out, grouped 5-fold CV")
    print(head)
    for engine in args.engines:
        r = evaluate(engine, args.folds, args.seed)
        rows.append(r)
        if not r["n"]:
            print(f"{_short(engine):18s} {r['note']}")
            continue
        mp = f"{r['mae_mp2020']:.3f}" if r["mae_mp2020"] is not None else "-"
        print(
            f"{_short(engine):18s} {r['n']:4d} {r['mae_own']:6.3f} {mp:>7s} {r['mae_raw']:6.3f} "
            f"{r['mae_calibrated']:8.3f} "
            f"{r['ratio_raw_over_calibrated']:6.2f} {r['coverage_90']:6.1%} {r['coverage_68']:6.1%}"
            f"   ({r['wall_s']:.0f} s)",
            flush=True,
        )
    print("\nheld-out MAE (eV/atom) by structure source, hull scale -> mattwin-calibrated:")
    print(f"{'engine':18s} {'library structure':>24s} {'searched structure':>24s}")
    for r in rows:
        if r["n"]:
            print(
                f"{_short(r['engine']):18s} "
                f"{r['mae_raw_library_structure']:8.3f} -> {r['mae_calibrated_library_structure']:.3f} "
                f"({r['n_library_structure']:3d}) "
                f"{r['mae_raw_searched_structure']:8.3f} -> {r['mae_calibrated_searched_structure']:.3f} "
                f"({r['n'] - r['n_library_structure']:3d})"
            )
    print("\ncalibrated held-out MAE by chemistry (n, eV/atom):")
    classes = sorted({c for r in rows if r["n"] for c in r["mae_by_class"]})
    print(f"{'chemistry':20s}" + "".join(f"{_short(r['engine'])[:16]:>18s}" for r in rows if r["n"]))
    for c in classes:
        cells = []
        for r in rows:
            if r["n"]:
                n, v = r["mae_by_class"].get(c, (0, float("nan")))
                cells.append(f"{v:12.3f} ({n:3d})")
        print(f"{c:20s}" + "".join(f"{x:>18s}" for x in cells))
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
