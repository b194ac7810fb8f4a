"""``mattwin generate``: the Propose step of ``mattwin discover`` on its own, nothing relaxed."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from mattwin.cli.common import (
    DbOpt,
    JsonOpt,
    app,
    console,
    fail,
    library_call,
    open_store,
    print_json,
    quiet_libraries,
)


@app.command()
def generate(
    elements: Annotated[
        list[str] | None, typer.Option("--elements", help="chemical space, e.g. Li Fe P O")
    ] = None,
    max_atoms: Annotated[int, typer.Option("--max-atoms", help="largest cell to propose")] = 28,
    budget: Annotated[int, typer.Option("--budget", help="most candidates to propose")] = 50,
    compositions: Annotated[
        list[str] | None, typer.Option("--composition", help="formula to add PyXtal random structures of")
    ] = None,
    n_random: Annotated[int, typer.Option("--n-random", help="random structures per --composition")] = 4,
    seed: Annotated[int, typer.Option(help="random seed")] = 0,
    learned: Annotated[
        bool,
        typer.Option(
            "--learned/--no-learned",
            help="order with the proposer trained on the store's results, as discover can (default: off)",
        ),
    ] = False,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="folder to write each candidate's CIF into")
    ] = None,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Propose candidates in a chemical space without screening them: what `discover` would relax."""
    quiet_libraries()
    if not elements:
        fail(ValueError("--elements: no chemical space given; name it, e.g. --elements Li Fe P O"))
    if budget < 1:
        fail(ValueError(f"--budget {budget}: must be at least 1"))
    if max_atoms < 2:
        fail(ValueError(f"--max-atoms {max_atoms}: a compound needs at least 2 atoms; use 2 or more"))
    if n_random < 0:
        fail(ValueError(f"--n-random {n_random}: must not be negative"))
    if out is not None and out.exists() and not out.is_dir():
        fail(ValueError(f"--out {out}: exists and is not a folder; name a folder"))
    from mattwin.discovery.campaign import campaign_references, propose_for
    from mattwin.discovery.config import CampaignConfig

    with library_call():
        cfg = CampaignConfig(
            elements=tuple(elements or ()),
            max_atoms=max_atoms,
            budget=budget,
            compositions=tuple(compositions or ()),
            n_random=n_random,
            seed=seed,
            learned=learned,
        )
        store = open_store(db)
        from mattwin.discovery.stages.generate import learned_proposer

        proposer = learned_proposer(cfg, store)
        cands = propose_for(cfg, campaign_references(cfg, store), proposer=proposer)
        if out is not None:
            out.mkdir(parents=True, exist_ok=True)
            for i, c in enumerate(cands):
                c.structure.to(filename=str(out / f"{i:03d}_{c.formula}_{c.candidate_id[:8]}.cif"))
    rows = [c.to_dict() for c in cands]
    if as_json:
        print_json({"elements": sorted(cfg.elements), "n_candidates": len(rows), "candidates": rows})
        return
    _print(rows, proposer)


def _print(rows: list[dict[str, Any]], proposer: Any) -> None:
    table = Table(title=f"{len(rows)} proposed candidates (not relaxed)")
    for col in ("#", "formula", "atoms", "oxidation states", "method", "score", "origin"):
        table.add_column(col, overflow="fold")
    for i, r in enumerate(rows, 1):
        ox = ", ".join(
            f"{el}{'/'.join(f'{q:+d}' for q in sorted(set(qs)))}" for el, qs in r["oxidation_states"].items()
        )
        table.add_row(
            str(i), r["formula"], str(r["n_atoms"]), ox, r["method"], f"{r['score']:.3g}", r["origin"]
        )
    console.print(table)
    if proposer is not None:
        console.print(f"reordered by {proposer.describe()}")
