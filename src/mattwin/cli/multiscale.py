"""``mattwin`` commands of the multiscale area: ``eos``, ``elastic``, ``phonons`` and ``part``; they
register on :data:`mattwin.cli.common.app`."""

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
    library_call,
    open_store,
    print_json,
    quiet_libraries,
)

FileArg = Annotated[Path, typer.Argument(help="structure file: CIF, POSCAR, extxyz")]
ReportOpt = Annotated[Path | None, typer.Option("--report", help="write an HTML page into this folder")]


def _finish(rep: Any, report: Path | None, as_json: bool) -> bool:
    """Write the HTML page if asked; print JSON and return True when --json."""
    if report is not None:
        from mattwin.api import write_property_report

        with library_call():
            path = write_property_report(rep, report)
        console.print(f"  report     {path}")
    if as_json:
        print_json(rep.to_dict())
    return as_json


def _check_report(report: Path | None) -> None:
    """Refuse a --report folder that cannot be written before computing, not after."""
    if report is not None:
        from mattwin.materials.io import check_writable

        check_writable(report, folder=True)


def _header(rep: Any) -> None:
    cached = " (cached)" if rep.cached else ""
    console.print(f"[bold]{rep.formula}[/] {rep.task.replace('_', ' ')} with {rep.engine}{cached}")
    for spec, key in zip(rep.engine_signatures, rep.keys, strict=True):
        console.print(f"  run key    {key}  ({spec.get('engine')} {spec.get('model', '')})")


@app.command()
def eos(
    file: FileArg,
    engine: EngineOpt = "chgnet",
    points: Annotated[int, typer.Option("--points", help="number of volumes")] = 9,
    volume_range: Annotated[float, typer.Option("--range", help="volumes V0 (1 ± range)")] = 0.06,
    no_relax: Annotated[bool, typer.Option("--no-relax", help="scale the given cell, no relaxation")] = False,
    report: ReportOpt = None,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Equation of state (Birch–Murnaghan V0, B0, B'); stored in the database."""
    quiet_libraries()
    from mattwin.api import equation_of_state as run

    with library_call():
        _check_report(report)
        rep = run(
            file,
            engine=engine,
            n_points=points,
            volume_range=volume_range,
            relax=not no_relax,
            store=open_store(db),
        )
    if _finish(rep, report, as_json):
        return
    _header(rep)
    for res in rep.results:
        console.print(
            f"  V0 {res['v0_per_atom_A3']:.4f} ± {res['v0_std_A3'] / res['n_atoms']:.4f} Å³/atom   "
            f"B0 {res['b0_GPa']:.2f} ± {res['b0_std_GPa']:.2f} GPa   "
            f"B' {res['bp']:.2f} ± {res['bp_std']:.2f}   "
            f"rms {res['rms_residual_meV_atom']:.3f} meV/atom"
        )


def _c_table(c: list[list[float]]) -> Table:
    t = Table(title="C_ij (GPa), Voigt order xx yy zz yz xz xy")
    for n in ["", "xx", "yy", "zz", "yz", "xz", "xy"]:
        t.add_column(n, justify="right")
    for n, row in zip(["xx", "yy", "zz", "yz", "xz", "xy"], c, strict=True):
        t.add_row(n, *(f"{x:.1f}" for x in row))
    return t


@app.command()
def elastic(
    file: FileArg,
    engine: EngineOpt = "chgnet",
    strain: Annotated[
        float, typer.Option("--strain", help="largest strain magnitude (also half of it)")
    ] = 0.01,
    no_relax: Annotated[
        bool, typer.Option("--no-relax", help="strain the given cell, no relaxation")
    ] = False,
    report: ReportOpt = None,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Elastic tensor, Voigt–Reuss–Hill moduli and Born stability; the run key feeds `mattwin part`."""
    quiet_libraries()
    from mattwin.api import elastic as run

    strains = (-strain, -strain / 2, strain / 2, strain)
    with library_call():
        _check_report(report)
        rep = run(file, engine=engine, strains=strains, relax=not no_relax, store=open_store(db))
    if _finish(rep, report, as_json):
        return
    _header(rep)
    for res in rep.results:
        console.print(_c_table(res["C_GPa"]))
        m = res["moduli"]
        console.print(
            f"  K_VRH {m['K_vrh_GPa']:.1f} GPa  G_VRH {m['G_vrh_GPa']:.1f} GPa  "
            f"E {m['youngs_modulus_GPa']:.1f} GPa  "
            f"ν {m['poisson_ratio']:.3f}  A_U {m['universal_anisotropy']:.2f}"
        )
        born = "stable" if res["born_stable"] else "[red]UNSTABLE[/]: " + "; ".join(res["born_failed"])
        console.print(f"  Born       {born} ({res['crystal_system']}, {res['space_group']})")


@app.command()
def phonons(
    file: FileArg,
    engine: EngineOpt = "chgnet",
    supercell: Annotated[
        tuple[int, int, int] | None, typer.Option("--supercell", help="supercell multiples, e.g. 2 2 2")
    ] = None,
    min_length: Annotated[
        float, typer.Option("--min-length", help="else: shortest supercell vector, Å")
    ] = 10.0,
    conductivity: Annotated[
        bool, typer.Option("--conductivity", help="also lattice thermal conductivity with phono3py (costly)")
    ] = False,
    qha: Annotated[
        bool, typer.Option("--qha", help="also quasi-harmonic thermal expansion (7 volumes)")
    ] = False,
    report: ReportOpt = None,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Phonons (phonopy): dynamic stability, bands, DOS, Cv and F(T); optional QHA and phono3py kappa."""
    quiet_libraries()
    from mattwin.api import phonons as run
    from mattwin.api import thermal_conductivity, thermal_expansion

    store = open_store(db)
    with library_call():
        _check_report(report)
        rep = run(file, engine=engine, supercell=supercell, min_length=min_length, store=store)
        sc3 = supercell or (2, 2, 2)
        kappa = (
            thermal_conductivity(file, engine=engine, supercell=sc3, store=store) if conductivity else None
        )
        expansion = thermal_expansion(file, engine=engine, supercell=supercell, store=store) if qha else None
    if report is not None and expansion is not None:
        _finish(expansion, report, False)
    if as_json:
        data = rep.to_dict()
        if kappa is not None:
            data["thermal_conductivity"] = kappa.to_dict()
        if expansion is not None:
            data["thermal_expansion"] = expansion.to_dict()
        _finish(rep, report, False)
        print_json(data)
        return
    _finish(rep, report, False)
    _header(rep)
    res = rep.result
    state = "dynamically stable" if res["dynamically_stable"] else "[red]imaginary modes[/]"
    console.print(f"  lowest mode {res['min_frequency_THz']:.3f} THz: {state}")
    console.print(f"  supercell  {res['supercell_matrix']} ({res['n_displacements']} displacements)")
    console.print(f"  Cv(300 K)  {res['cp_300K_J_kg_K']:.1f} J/(kg K)")
    if kappa is not None:
        console.print(f"  kappa(300 K) {kappa.summary['kappa_300K_scalar_W_mK']:.2f} W/(m K) (phono3py RTA)")
    if expansion is not None:
        alpha = expansion.summary["alpha_300K_1_K"] / 3
        console.print(f"  alpha(300 K) {alpha * 1e6:.2f} x 1e-6 /K linear (quasi-harmonic)")


@app.command()
def part(
    material: Annotated[
        str, typer.Option("--material", help="key (or unique prefix) of a stored elastic run")
    ],
    geometry: Annotated[
        str, typer.Option("--geometry", help="plate-with-hole, bracket, or a mesh file (mm; .msh, .vtu, ...)")
    ] = "plate-with-hole",
    load: Annotated[
        str, typer.Option("--load", help="traction (10MPa, 0.1GPa) or total force (1000N)")
    ] = "10MPa",
    plane: Annotated[str, typer.Option("--plane", help="2D parts: stress or strain")] = "stress",
    out: Annotated[Path, typer.Option("--out", help="folder for cards, fields and part.html")] = Path(
        "mattwin-part"
    ),
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Solve a part made of a computed material: von Mises stress, displacement, heat flow, cards."""
    quiet_libraries()
    from mattwin.api import part as run

    with library_call():
        rep = run(material, geometry=geometry, load=load, out=out, plane=plane, store=open_store(db))
    if as_json:
        print_json(rep.to_dict())
        return
    console.print(
        f"[bold]{rep.geometry}[/] of {rep.material['name']} (run {rep.material_run[:12]}): {rep.description}"
    )
    console.print(
        f"  load             {rep.load}: traction {rep.traction_MPa:.4g} MPa, force {rep.load_N:.4g} N"
    )
    console.print(
        f"  max von Mises    {rep.max_von_mises_MPa:.4g} MPa ({rep.stress_concentration:.3f} x traction)"
    )
    console.print(f"  max displacement {rep.max_displacement_mm:.4g} mm")
    if rep.heat_flow_W is not None:
        console.print(f"  heat flow        {rep.heat_flow_W:.4g} W (400 K -> 300 K faces)")
    for f in rep.files:
        console.print(f"  wrote            {f}")
