"""``mattwin next``: the next experiments or calculations of a campaign."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from mattwin.cli.common import (
    DbOpt,
    JsonOpt,
    app,
    console,
    library_call,
    open_store,
    print_json,
    quiet_libraries,
)


@app.command("next")
def next_(
    campaign: Annotated[str, typer.Argument(help="campaign TOML file, or a stored campaign's id or name")],
    n: Annotated[int, typer.Option("--n", help="how many suggestions (one batch)")] = 5,
    mode: Annotated[str, typer.Option("--for", help="lab (measurements) or compute (calculations)")] = "lab",
    measured: Annotated[
        Path | None,
        typer.Option(
            "--measured", help="store this lab file of the campaign's candidates first, then re-plan"
        ),
    ] = None,
    history: Annotated[
        bool, typer.Option("--history", help="print the campaign's stored batches (oldest first) instead")
    ] = False,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Suggest the next measurements (or calculations) of a campaign by Bayesian optimisation; every
    batch is stored with its time stamp."""
    quiet_libraries()
    from mattwin.api.loop import next_experiments

    if history:
        from mattwin.api.loop import suggestion_history

        with library_call():
            batches = suggestion_history(campaign, store=open_store(db))
        if as_json:
            print_json(batches)
            return
        for b in batches:
            picks = ", ".join(f"{x['formula']} ({x['candidate_id'][:8]})" for x in b["batch"])
            seen = len(b["basis"].get("measurements", []))
            console.print(f"{b['created_at']}  {b['mode']:7s} {picks}  [{seen} measurement(s) seen]")
        return
    with library_call():
        rep = next_experiments(campaign, n=n, mode=mode, store=open_store(db), measured=measured)
    if as_json:
        print_json([s.to_dict() for s in rep.suggestions])
        return
    table = Table(title=f"{rep.campaign}: next {len(rep.suggestions)} ({rep.mode}), {rep.acquisition}")
    for col in ("#", "formula", "candidate", "action", "acquisition", "reason"):
        table.add_column(col)
    for k, s in enumerate(rep.suggestions, 1):
        table.add_row(
            str(k), s.formula, s.candidate_id, escape(s.action), f"{s.acquisition:.4g}", escape(s.reason)
        )
    console.print(table)
    re = rep.relearned or {}
    if re.get("rejudged"):
        console.print(
            f"lab measurements changed the calibration: {re['before']} -> {re['after']} "
            f"({'refitted now' if re['refitted'] else 'stored fit'}); the campaign was re-judged with it"
        )
    console.print(
        f"based on {rep.n_measurements} measurement(s) of its candidates; stored at {rep.created_at}"
    )
