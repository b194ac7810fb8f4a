"""``mattwin embed``: ONIOM-style QM/MM energy of a defect or adsorbate."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from mattwin.cli.common import (
    MULTI_VALUE_OPTIONS,
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

MULTI_VALUE_OPTIONS.update({"--center", "--region"})


@app.command()
def embed(
    file: Annotated[Path, typer.Argument(help="structure file: CIF, POSCAR, extxyz")],
    high: Annotated[str, typer.Option("--high", help="engine of the region, e.g. pyscf:b3lyp/def2-svp")],
    engine: EngineOpt = "chgnet",
    center: Annotated[
        list[int] | None, typer.Option("--center", help="atom indices at the centre of the region")
    ] = None,
    radius: Annotated[float, typer.Option(help="region radius around the centre atoms, Å")] = 3.0,
    region: Annotated[
        list[int] | None, typer.Option("--region", help="explicit atom indices of the region")
    ] = None,
    cap: Annotated[bool, typer.Option("--cap/--no-cap", help="H link atoms on cut bonds")] = True,
    relax_steps: Annotated[int, typer.Option("--relax-steps", help="relax the region atoms")] = 0,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Embedded energy: a high-level region (e.g. PySCF) inside an MLIP environment (ONIOM, eV)."""
    quiet_libraries()
    from mattwin.api.embedding import embed as run

    with library_call():
        res = run(
            file,
            high=high,
            engine=engine,
            region=region,
            center=center,
            radius=radius,
            cap=cap,
            relax_steps=relax_steps,
            store=open_store(db),
        )
    if as_json:
        print_json(res.to_dict() | {"correction_eV": res.correction_eV})
        return
    console.print(f"[bold]{file}[/]: {len(res.region)} region atoms, {res.n_link_atoms} H link atoms")
    console.print(f"  E(ONIOM)              {res.energy_eV:.4f} eV")
    console.print(f"  E_low(system)         {res.energy_low_system_eV:.4f} eV")
    console.print(f"  E_high - E_low region {res.correction_eV:.4f} eV")
    console.print(f"  max region force      {res.max_force_eV_A:.4f} eV/Å after {res.n_steps} steps")
