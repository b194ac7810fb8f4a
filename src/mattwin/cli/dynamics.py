"""``mattwin`` commands of the dynamics area: ``md`` and ``diffusion``; they register on
:data:`mattwin.cli.common.app`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

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
from mattwin.errors import MDError

if TYPE_CHECKING:
    from mattwin.api.dynamics import MDReport


@app.command()
def md(
    file: Annotated[Path, typer.Argument(help="structure file: CIF, POSCAR, extxyz")],
    temps: Annotated[
        list[float] | None, typer.Option("--temps", help="temperatures in K, e.g. 600 800 1000")
    ] = None,
    ps: Annotated[float, typer.Option("--ps", help="duration of each run, ps")] = 10.0,
    engine: EngineOpt = "chgnet",
    ensemble: Annotated[str, typer.Option("--ensemble", help="nvt, npt or nve")] = "nvt",
    timestep_fs: Annotated[float, typer.Option("--timestep-fs", help="time step, fs")] = 2.0,
    pressure_gpa: Annotated[float, typer.Option("--pressure-gpa", help="pressure for npt, GPa")] = 0.0,
    thermostat: Annotated[str, typer.Option(help="nose-hoover or langevin (nvt)")] = "nose-hoover",
    sample_every: Annotated[int, typer.Option("--sample-every", help="steps between saved frames")] = 10,
    seed: Annotated[int, typer.Option(help="seed of the initial velocities")] = 0,
    trust_std: Annotated[
        float, typer.Option("--trust-std", help="ensemble force spread (eV/Å) above which a run stops")
    ] = 0.5,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Molecular dynamics at one or more temperatures (replicas advance together); stored, resumable."""
    quiet_libraries()
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from mattwin.api import md as run

    temperatures = temps or [300.0]
    bars = Progress(
        TextColumn("[bold]{task.description:>22}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
    )
    tasks: dict[str, int] = {}

    def progress(name: str, step: int, total: int) -> None:
        if name not in tasks:
            tasks[name] = bars.add_task(name[-22:], total=total)
        bars.update(tasks[name], completed=step)  # type: ignore[arg-type]

    with library_call(), bars:
        rep = run(
            file,
            temperatures_K=temperatures,
            ps=ps,
            engine=engine,
            ensemble=ensemble,
            timestep_fs=timestep_fs,
            pressure_GPa=pressure_gpa,
            thermostat=thermostat,
            sample_every=sample_every,
            seed=seed,
            trust_force_std_eV_A=trust_std,
            store=open_store(db),
            progress=progress,
        )
    if as_json:
        print_json(rep.to_dict())
    else:
        _print_runs(rep, ensemble)
    failed = [r for r in rep.runs if r.error]
    if failed:  # a partly failed series is not a success
        fail(MDError("; ".join(f"{r.temperature_K:g} K failed: {r.error}" for r in failed)))


def _print_runs(rep: MDReport, ensemble: str) -> None:
    table = Table(title=f"{rep.formula}: {ensemble.upper()} MD with {rep.engine}  (series {rep.series_id})")
    for col in ("T (K)", "⟨T⟩ (K)", "steps", "E_tot (eV/atom)", "drift (meV/atom/ps)", "ns/day", "status"):
        table.add_column(col, justify="right")
    for r in rep.runs:
        res = r.result or {}
        drift = res.get("conserved_drift_meV_per_atom_per_ps")
        status = (
            "failed"
            if r.error
            else ("untrusted: stopped" if res.get("stopped_untrusted") else "cached" if r.cached else "done")
        )
        table.add_row(
            f"{r.temperature_K:g}",
            f"{res.get('mean_temperature_K', float('nan')):.0f}",
            f"{res.get('steps_done', 0)}/{res.get('steps_requested', 0)}",
            f"{res.get('mean_total_energy_eV_per_atom', float('nan')):.4f}",
            "—" if drift is None else f"{drift:.3f}",
            f"{res.get('ns_per_day', 0.0):.3f}",
            status,
        )
    console.print(table)
    if any(not r.error for r in rep.runs):
        console.print(f"analyse with: mattwin diffusion {rep.series_id}")


@app.command()
def diffusion(
    run_id: Annotated[
        str, typer.Argument(help="series id printed by `mattwin md` (or a calculation key prefix)")
    ],
    carrier: Annotated[
        str | None, typer.Option(help="conducting species (default: Li, Na, ... if present)")
    ] = None,
    skip: Annotated[float, typer.Option(help="fraction of each run discarded as equilibration")] = 0.1,
    blocks: Annotated[int, typer.Option(help="blocks for the error of D")] = 5,
    report: Annotated[
        Path | None, typer.Option("--report", help="write dynamics.html into this folder")
    ] = None,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Diffusion coefficients, Arrhenius fit, conductivity and RDF of a stored MD series."""
    quiet_libraries()
    from mattwin.api import diffusion as run

    with library_call():
        rep = run(
            run_id,
            store=open_store(db),
            carrier=carrier,
            skip_fraction=skip,
            n_blocks=blocks,
            report_dir=report,
        )
    if as_json:
        print_json(rep.to_dict())
        return
    species = list(rep.points[0].diffusion)
    table = Table(title=f"{rep.formula}: tracer diffusion ({rep.ensemble.upper()}, series {rep.run_id})")
    table.add_column("T (K)", justify="right")
    for sp in species:
        table.add_column(f"D({sp}) cm²/s", justify="right")
    table.add_column("σ (S/cm)", justify="right")
    for p in rep.points:
        ds = [f"{p.diffusion[s]['D_cm2_s']:.3g} ± {p.diffusion[s]['D_err_cm2_s']:.2g}" for s in species]
        table.add_row(
            f"{p.temperature_K:g}", *ds, "—" if p.conductivity_S_cm is None else f"{p.conductivity_S_cm:.3g}"
        )
    console.print(table)
    for sp, fit in rep.arrhenius.items():
        console.print(
            f"  {sp}: Ea = {fit['Ea_eV']:.3f} ± {fit['Ea_err_eV']:.3f} eV; D(300 K) = "
            f"{fit['D_extrapolated_cm2_s']:.2g} cm²/s (×/÷ {fit['D_extrapolated_factor']:.1f})"
        )
    if rep.conductivity_300K_S_cm is not None:
        console.print(
            f"  σ({rep.carrier}, 300 K) = {1000 * rep.conductivity_300K_S_cm:.3g} mS/cm (Nernst–Einstein)"
        )
    if rep.thermal_expansion:
        console.print(f"  linear thermal expansion α_L = {rep.thermal_expansion['alpha_L_per_K']:.3e} 1/K")
    if rep.melting and rep.melting.get("T_melt_K") is not None:
        m = rep.melting
        console.print(f"  melts between {m['T_solid_K']:g} and {m['T_liquid_K']:g} K ({m['caveat']})")
    for n in rep.notes:
        console.print(f"  [yellow]note:[/] {n}")
    if rep.report:
        console.print(f"  wrote {rep.report}")
