"""``mattwin measure``: measurements in from the lab (CSV/JSON/YAML files), and back out."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from mattwin.cli.common import (
    DbOpt,
    EngineOpt,
    JsonOpt,
    app,
    console,
    library_call,
    open_store,
    print_json,
    quiet_libraries,
)

measure_app = typer.Typer(no_args_is_help=True, help="Lab measurements: add a file, list what is stored.")
app.add_typer(measure_app, name="measure")


@measure_app.command("add")
def measure_add(
    file: Annotated[Path, typer.Argument(help="measurement file: .csv, .json, .yaml (see README)")],
    skip_bad: Annotated[
        bool, typer.Option("--skip-bad", help="store the good rows of a file that has bad ones")
    ] = False,
    engine: EngineOpt = "chgnet",
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Add the measurements of a file; a file with a bad row stores nothing unless --skip-bad.
    Formation enthalpies are then compared with the engine's calibrated predictions (drift check)."""
    from mattwin.api.lab import add_measurements, check_drift, check_engine
    from mattwin.errors import MattwinError

    drift, unchecked = None, ""
    with library_call():
        check_engine(engine)
        store = open_store(db)
        rep = add_measurements(file, store=store, skip_bad=skip_bad)
        keys = {m.content_key() for m in rep.measurements if m.property == "formation_enthalpy"}
        if keys:
            quiet_libraries()
            try:
                drift = check_drift(engine, store)
            except MattwinError as exc:  # the measurements are stored: say why the check failed, go on
                unchecked = str(exc)
    if as_json:
        extra = {"drift": drift.to_dict()} if drift else {"drift_error": unchecked} if unchecked else {}
        print_json(rep.to_dict() | extra)
        return
    n = len(rep.measurements)
    console.print(
        f"{escape(rep.file)}: {n} measurement{'s' * (n != 1)} read, {rep.n_new} new, "
        f"{rep.n_present} already in the store",
        soft_wrap=True,
    )
    if rep.bad:
        console.print(f"[yellow]skipped {len(rep.bad)} bad row{'s' * (len(rep.bad) != 1)}:[/]")
        for b in rep.bad:
            console.print(f"  {b}", markup=False, highlight=False, soft_wrap=True)
    if drift is not None:
        from mattwin.cli.drift_view import print_drift, print_measurements

        print_measurements(drift, keys)
        print_drift(drift)
    if unchecked:
        console.print(f"drift not checked: {escape(unchecked)}", soft_wrap=True)


@measure_app.command("list")
def measure_list(
    prop: Annotated[
        str | None, typer.Option("--property", help="only this property (or an alias: ΔHf, Tm, band gap)")
    ] = None,
    formula: Annotated[str | None, typer.Option("--formula", help="only this material, e.g. Fe2O3")] = None,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """List stored measurements, values in the field's units (eV/atom, Å, eV, GPa, S/cm, K)."""
    from mattwin.api.lab import list_measurements

    with library_call():
        rows = list_measurements(property=prop, formula=formula, store=open_store(db))
    if as_json:
        print_json([m.to_dict() for m in rows])
        return
    table = Table(title=f"{len(rows)} measurements")
    for col in ("formula", "property", "value", "T (K)", "method", "source", "date"):
        table.add_column(col)
    for m in rows:
        name = escape(m.formula if m.material == m.formula else f"{m.formula} ({m.material})")
        t = "-" if m.temperature_K is None else f"{m.temperature_K:g}"
        text = (escape(m.method) or "-", escape(m.source), m.date or "-")
        table.add_row(name, m.property, m.display(), t, *text)
    console.print(table)


@app.command("drift")
def drift_status(
    engine: EngineOpt = "chgnet",
    calibration: Annotated[
        str | None,
        typer.Option("--calibration", help="a stored ENGINE@VERSION (default: the newest fit)"),
    ] = None,
    k: Annotated[float, typer.Option("--k", help="CUSUM reference value, σ of z")] = 0.5,
    h: Annotated[float, typer.Option("--h", help="CUSUM decision interval, σ of z")] = 4.0,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Has the model drifted from the lab? Every formation enthalpy measured since the calibration's
    fit against its prediction (z, 90 % interval), and a CUSUM per chemistry that flags a drift."""
    quiet_libraries()
    from mattwin.api.lab import check_drift

    with library_call():
        rep = check_drift(engine, store=open_store(db), calibration=calibration, k=k, h=h)
    if as_json:
        print_json(rep.to_dict())
        return
    from mattwin.cli.drift_view import print_drift, print_measurements

    print_measurements(rep)
    print_drift(rep)
