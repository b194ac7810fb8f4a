"""The ``mattwin`` command line: thin commands that parse, call one library function, and print."""

from __future__ import annotations

import sys
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
    expand_multi_value_options,
    fail,
    library_call,
    open_store,
    print_json,
    quiet_libraries,
    refs_app,
)


@app.command()
def energy(
    file: Annotated[Path, typer.Argument(help="structure file: CIF, POSCAR, extxyz")],
    engine: EngineOpt = "chgnet",
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Single-point energy (eV), forces and stress of one structure; stored in the database."""
    quiet_libraries()
    from mattwin.api import energy as run

    with library_call():
        rep = run(file, engine=engine, store=open_store(db))
    if as_json:
        print_json(rep.to_dict())
        return
    std = f" ± {rep.energy_per_atom_std_eV:.4f}" if rep.energy_per_atom_std_eV is not None else ""
    console.print(
        f"[bold]{rep.formula}[/] ({rep.n_atoms} atoms) with {rep.engine}{' (cached)' if rep.cached else ''}"
    )
    console.print(f"  energy        {rep.energy_eV:.4f} eV   ({rep.energy_per_atom_eV:.4f}{std} eV/atom)")
    console.print(f"  max force     {rep.max_force_eV_A:.4f} eV/Å")
    console.print(f"  stress        {', '.join(f'{x:.3f}' for x in rep.stress_GPa)} GPa (xx yy zz yz xz xy)")


@app.command()
def relax(
    file: Annotated[Path, typer.Argument(help="structure file: CIF, POSCAR, extxyz")],
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="write the relaxed structure (.cif, .vasp, .extxyz)")
    ] = None,
    engine: EngineOpt = "chgnet",
    fmax: Annotated[float, typer.Option(help="force criterion, eV/Å")] = 0.05,
    steps: Annotated[int, typer.Option(help="maximum optimiser steps")] = 500,
    fix_cell: Annotated[bool, typer.Option("--fix-cell", help="relax positions only")] = False,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Relax cell and positions of one structure; stored in the database."""
    quiet_libraries()
    from mattwin.api import relax as run

    with library_call():
        rep = run(
            file,
            engine=engine,
            fmax=fmax,
            max_steps=steps,
            relax_cell=not fix_cell,
            store=open_store(db),
            out=out,
        )
    if as_json:
        print_json(rep.to_dict(with_structure=True))
        return
    std = f" ± {rep.energy_per_atom_std_eV:.4f}" if rep.energy_per_atom_std_eV is not None else ""
    a, b, c = rep.lattice_abc_A
    al, be, ga = rep.lattice_angles_deg
    console.print(f"[bold]{rep.formula}[/] relaxed with {rep.engine}{' (cached)' if rep.cached else ''}")
    console.print(f"  energy     {rep.energy_eV:.4f} eV   ({rep.energy_per_atom_eV:.4f}{std} eV/atom)")
    console.print(f"  lattice    a={a:.4f} b={b:.4f} c={c:.4f} Å   α={al:.2f} β={be:.2f} γ={ga:.2f}°")
    console.print(f"  volume     {rep.volume_A3:.3f} Å³")
    console.print(
        f"  converged  {rep.converged} after {rep.n_steps} steps (max force {rep.max_force_eV_A:.4f} eV/Å)"
    )
    if out:
        console.print(f"  wrote      {out}")


@app.command()
def discover(
    campaign: Annotated[Path | None, typer.Argument(help="campaign TOML file (optional)")] = None,
    elements: Annotated[
        list[str] | None, typer.Option("--elements", help="chemical space, e.g. Li Fe P O")
    ] = None,
    max_atoms: Annotated[int | None, typer.Option("--max-atoms", help="largest cell to screen")] = None,
    budget: Annotated[int | None, typer.Option("--budget", help="most candidates to screen")] = None,
    engine: Annotated[str | None, typer.Option("--engine", "-e", help="engine spec (default chgnet)")] = None,
    compositions: Annotated[
        list[str] | None, typer.Option("--composition", help="formula for PyXtal random structures")
    ] = None,
    n_random: Annotated[
        int | None, typer.Option("--n-random", help="random structures per --composition")
    ] = None,
    target: Annotated[
        list[str] | None,
        typer.Option(
            "--target",
            help="rank near-stable by FIELD:min|max (volume_per_atom, density, formation_energy_per_atom)",
        ),
    ] = None,
    name: Annotated[str | None, typer.Option("--name", help="campaign name")] = None,
    seed: Annotated[int | None, typer.Option(help="random seed")] = None,
    learned: Annotated[
        bool | None,
        typer.Option(
            "--learned/--no-learned",
            help="order the proposals with the proposer retrained on the store (default: off)",
        ),
    ] = None,
    evolution: Annotated[
        float | None,
        typer.Option(
            "--evolution",
            help="share of the budget (0-0.9) for the evolutionary search of the best compositions "
            "(default 0: off)",
        ),
    ] = None,
    calibration: Annotated[
        str | None,
        typer.Option("--calibration", help="default (the engine's newest fit), none (raw) or ENGINE@VERSION"),
    ] = None,
    fmax: Annotated[float | None, typer.Option(help="force criterion, eV/Å")] = None,
    steps: Annotated[int | None, typer.Option("--steps", help="maximum optimiser steps")] = None,
    report: Annotated[Path, typer.Option("--report", help="report folder")] = Path("mattwin-report"),
    workers: Annotated[
        int | None, typer.Option("--workers", help="run on a Dask LocalCluster with N worker processes")
    ] = None,
    dask: Annotated[
        str | None, typer.Option("--dask", help="run on a running Dask scheduler, e.g. tcp://host:8786")
    ] = None,
    escalate: Annotated[
        list[str] | None,
        typer.Option(
            "--escalate",
            help="ladder rung for the top candidates (repeat): ensemble, phonons, elastic, diffusion, "
            "correlation",
        ),
    ] = None,
    escalate_top: Annotated[
        int | None, typer.Option("--escalate-top", help="escalate the top N by P(stable)")
    ] = None,
    escalate_budget: Annotated[
        float | None, typer.Option("--escalate-budget", help="escalation budget, CPU-hours")
    ] = None,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Find stable candidates in a chemical space: generate, relax, judge E_hull, rank, report."""
    quiet_libraries()
    from mattwin.api import discover as run
    from mattwin.cli.progress import CampaignProgress
    from mattwin.discovery.config import CampaignConfig

    overrides = dict(
        max_atoms=max_atoms,
        budget=budget,
        engine=engine,
        compositions=compositions,
        n_random=n_random,
        targets=target,
        name=name,
        seed=seed,
        learned=learned,
        evolution=evolution,
        calibration=calibration,
        fmax=fmax,
        max_steps=steps,
    )
    if campaign is None and not elements:
        fail(ValueError("give a campaign TOML file or --elements"))
    try:
        with library_call():
            if campaign is not None:
                cfg = CampaignConfig.from_toml(campaign).replace(**overrides, elements=elements)
            else:
                cfg = CampaignConfig(elements=tuple(elements or ())).replace(**overrides)
            from mattwin.discovery.escalate_config import with_escalation

            cfg = with_escalation(cfg, escalate, escalate_top, escalate_budget)
            with CampaignProgress(console) as progress:
                result = run(
                    cfg,
                    store=open_store(db),
                    report_dir=report,
                    progress=progress,
                    workers=workers,
                    scheduler=dask,
                )
    except KeyboardInterrupt:
        console.print("[yellow]interrupted:[/] every finished calculation is in the store; rerun to resume")
        raise typer.Exit(code=130) from None
    if as_json:
        print_json(result.to_dict(with_structures=False))
        return
    _print_ranking(result, report)


def _print_ranking(result: Any, report: Path) -> None:
    def ehull(c: Any) -> str:
        if c.e_hull is None or c.e_hull != c.e_hull:  # None or NaN
            return "-"
        if c.e_hull_interval:
            return f"{c.e_hull:.3f} [{c.e_hull_interval[0]:.3f}-{c.e_hull_interval[1]:.3f}]"
        return f"{c.e_hull:.3f}" + (f" ± {c.e_hull_std:.3f}" if c.e_hull_std is not None else "")

    def prob(p: float | None) -> str:
        return "-" if p is None else "<1 %" if p < 0.01 else ">99 %" if p > 0.99 else f"{100 * p:.0f} %"

    shown = result.candidates[:25]
    with_p = any(c.p_stable is not None for c in shown)
    cal = result.calibration
    energies = f"calibration {cal.get('name')}" if cal else "raw energies (no calibration)"
    table = Table(title=f"{result.name}: {'-'.join(result.elements)} with {result.engine}, {energies}")
    cols = ["rank", "formula", "space group", "E_hull (eV/atom)", *(["P(stable)"] if with_p else [])]
    for col in (*cols, "E_f (eV/atom)", "origin"):
        table.add_column(col, no_wrap=col.startswith("E_hull"))
    for c in shown:
        if c.status != "ok":
            p = ["-"] if with_p else []
            table.add_row(str(c.rank), c.formula, "-", f"[red]{c.status}[/]", *p, "-", (c.error or "")[:60])
            continue
        p = [prob(c.p_stable)] if with_p else []
        fe = c.formation_energy_per_atom
        table.add_row(
            str(c.rank),
            c.formula,
            c.spacegroup or "?",
            ehull(c),
            *p,
            f"{fe:.3f}" if fe is not None else "-",
            c.origin[:60] + (f" [dim](relaxed into {c.duplicate_of})[/]" if c.duplicate_of else ""),
        )
    console.print(table)
    console.print(
        f"{result.n_generated} candidates, {result.n_screened} screened, {result.n_failed} failed, "
        f"{result.n_cached} calculations from the store, {result.wall_time_s:.0f} s. "
        f"Report: {report / 'report.html'}"
    )
    if result.escalation is not None:
        from mattwin.discovery.escalate import format_ladders

        for line in format_ladders(result):
            console.print(line, markup=False, highlight=False, soft_wrap=True)


@refs_app.command("add")
def refs_add(
    path: Annotated[
        Path, typer.Argument(help="CIF folder, structure file, or Materials Project JSON export")
    ],
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Add your own reference phases; campaigns in their chemical space use them from now on."""
    quiet_libraries()
    from mattwin.api import add_references

    with library_call():
        phases = add_references(path, store=open_store(db))
    if as_json:
        print_json([{"name": p.name, "formula": p.formula, "source": p.source} for p in phases])
        return
    for p in phases:
        console.print(f"added {p.formula:12s} {p.name}  [dim]({p.source})[/]")


@refs_app.command("list")
def refs_list(
    elements: Annotated[
        list[str] | None, typer.Option("--elements", help="only phases within these elements")
    ] = None,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """List the reference phases of a chemical space (shipped and user-added)."""
    quiet_libraries()
    from mattwin.discovery.references import builtin_references

    rows = [(r.formula, r.name, r.source) for r in builtin_references(elements)]
    rows += [(s.composition.reduced_formula, n, src) for s, n, src, _ in open_store(db).references(elements)]
    if as_json:
        print_json([{"formula": f, "name": n, "source": s} for f, n, s in rows])
        return
    table = Table(title="reference phases")
    for col in ("formula", "name", "source"):
        table.add_column(col)
    for row in rows:
        table.add_row(*row)
    console.print(table)


@app.command()
def engines(as_json: JsonOpt = False) -> None:
    """List the engines this installation offers."""
    from mattwin.engines.registry import available_engines

    found = available_engines()
    if as_json:
        print_json(found)
        return
    for name, target in sorted(found.items()):
        console.print(f"{name:10s} {target}")


# the frontier areas register their commands on ``app`` when imported
import mattwin.cli.calibration  # noqa: E402,F401
import mattwin.cli.generate  # noqa: E402,F401
import mattwin.cli.loop  # noqa: E402,F401
import mattwin.cli.serve  # noqa: E402,F401
from mattwin.cli import dynamics, embedding, lab, multiscale, quantum  # noqa: E402,F401


def main() -> None:
    """Console entry point of ``mattwin``."""
    app(args=expand_multi_value_options(sys.argv[1:]), prog_name="mattwin")


if __name__ == "__main__":
    main()
