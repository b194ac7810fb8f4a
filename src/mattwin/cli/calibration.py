"""``mattwin calibrate`` and ``mattwin stability``: the twin calibrated against experiment."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from mattwin.cli.common import (
    DbOpt,
    EngineOpt,
    JsonOpt,
    app,
    console,
    fail,
    library_call,
    open_store,
    print_json,
    quiet_libraries,
)

CalibrationOpt = Annotated[
    str,
    typer.Option(
        "--calibration",
        help="default (the engine's newest fit), none (raw energies) or a stored ENGINE@VERSION",
    ),
]


@app.command()
def calibrate(
    engine: EngineOpt = "chgnet",
    folds: Annotated[
        int, typer.Option("--folds", help="cross-validation folds, grouped by chemical system")
    ] = 5,
    report: Annotated[Path | None, typer.Option("--report", help="write calibration.html here")] = None,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Fit the engine's formation-energy calibration against experiment (and your lab's measurements),
    store it, and print the held-out error before and after."""
    quiet_libraries()
    from mattwin.api.calibration import calibrate as run
    from mattwin.api.calibration import check_calibrate_settings
    from mattwin.api.lab import check_drift

    with library_call():
        check_calibrate_settings(engine, folds)  # before the drift check fits anything
        store = open_store(db)
        drift = check_drift(engine, store)  # against the fit about to be replaced
        if not as_json and drift.calibration is not None:
            from mattwin.cli.drift_view import print_drift

            print_drift(drift, refitting=True)
        rep = run(engine, store=store, report_dir=report, folds=folds)
    d = rep.to_dict()
    if as_json:
        print_json(d | {"drift": [c.to_dict() for c in drift.chemistries]})
        return
    console.print(
        f"[bold]{d['calibration']}[/]: {d['n_compounds']} compounds ({d['fitted_on']['reference_set']}"
        f", {d['fitted_on']['n_lab_used']} lab measurements)"
    )
    console.print(
        f"  held-out MAE (grouped {folds}-fold CV): raw {d['heldout_mae_raw']:.3f} -> calibrated "
        f"{d['heldout_mae_calibrated']:.3f} eV/atom"
    )
    if d.get("mae_mp2020") is not None:
        console.print(
            f"  MP2020-corrected MAE {d['mae_mp2020']:.3f} eV/atom on {d['n_mp2020']} compounds "
            "(MP2020 was fitted to this set: not a held-out figure)"
        )
    console.print(
        f"  coverage of the 90 % interval: {d['coverage_90']:.1%} of held-out values "
        f"(median half width {d['median_interval_90']:.3f} eV/atom)"
    )
    _by_class(d["heldout_mae_by_class"])
    if report:
        console.print(f"  report: {report / 'calibration.html'}")


def _by_class(mae: dict[str, float]) -> None:
    table = Table(title="held-out MAE by chemistry (eV/atom)")
    table.add_column("chemistry")
    table.add_column("MAE", justify="right")
    for cls, v in mae.items():
        table.add_row(cls, f"{v:.3f}")
    console.print(table)


def _interval(v: float | None, iv: list[float] | None) -> str:
    if v is None:
        return "-"
    return f"{v:.3f}" + (f" [{iv[0]:.3f}, {iv[1]:.3f}]" if iv else "")


@app.command()
def stability(
    files: Annotated[list[Path], typer.Argument(help="structure files: CIF, POSCAR, extxyz")],
    engine: EngineOpt = "chgnet",
    calibration: CalibrationOpt = "default",
    threshold: Annotated[
        float, typer.Option("--threshold", help="stability threshold on E_hull, eV/atom")
    ] = 0.025,
    temperature: Annotated[
        float, typer.Option("--temperature", help="synthesis temperature, K (300-2000)")
    ] = 1000.0,
    phonons_top: Annotated[
        int, typer.Option("--phonons-top", help="phonons (dynamic stability) for the best N structures")
    ] = 3,
    routes_top: Annotated[
        int, typer.Option("--routes-top", help="synthesis routes for the best N structures")
    ] = 3,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Calibrated formation enthalpy, E_hull (90 % intervals) and P(stable) of your own structures,
    against the reference phases of their chemical space relaxed with the same engine; and whether
    each can be made: synthesizability, phonons, routes from common precursors, a one-line verdict."""
    quiet_libraries()
    from mattwin.api.calibration import stability as run

    with library_call():
        reps = run(
            files,
            engine=engine,
            calibration=calibration,
            store=open_store(db),
            threshold=threshold,
            temperature_K=temperature,
            phonons_top=phonons_top,
            routes_top=routes_top,
        )
    if as_json:
        print_json([r.to_dict() for r in reps])
    else:
        _print_stability(reps)
    bad = [r for r in reps if r.status != "ok"]
    if bad:
        fail(ValueError("; ".join(f"{r.file}: {r.error}" for r in bad)))


def _print_stability(reps: list[Any]) -> None:
    cal = reps[0].calibration or "none (raw energies)"
    table = Table(title=f"stability with {reps[0].engine}, calibration {cal}")
    cols = (
        "file",
        "formula",
        "space group",
        "ΔH_f (eV/atom)",
        "E_hull (eV/atom)",
        "P(stable)",
        "synth.",
        "phonons",
    )
    for col in cols:
        table.add_column(col)
    for r in reps:
        if r.status != "ok":
            table.add_row(r.file, r.formula, "-", f"[red]{r.status}[/]", (r.error or "")[:50], "-", "-", "-")
            continue
        table.add_row(
            r.file,
            r.formula,
            r.spacegroup or "?",
            _interval(r.formation_energy_per_atom, r.formation_energy_interval),
            _interval(r.e_hull, r.e_hull_interval),
            f"{r.p_stable:.2f}" if r.p_stable is not None else "-",
            f"{r.synthesizability:.2f}" if r.synthesizability is not None else "-",
            {True: "stable", False: "[red]imaginary[/]", None: "-"}[r.dynamically_stable],
        )
    console.print(table)
    console.print(f"P(stable): probability that E_hull <= {reps[0].threshold} eV/atom; intervals 90 %")
    for r in reps:
        if r.verdict:
            console.print(f"[bold]{r.file}[/]: {r.verdict}")
