"""How the drift of the model from the lab is printed (``measure add``, ``drift``, ``calibrate``)."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from rich.markup import escape
from rich.table import Table

from mattwin.cli.common import console


def _signed(x: float, fmt: str = ".2f") -> str:
    return f"{x:+{fmt}}"


def print_measurements(rep: Any, keys: Collection[str] | None = None) -> None:
    """One row per monitored measurement (those with a key in ``keys``, or all): measured and
    predicted (eV/atom), z, inside the interval or not; flagged chemistries in red."""
    rows = [r for r in rep.residuals if keys is None or r.key in keys]
    fitted = [] if keys is None else [k for k in keys if k in rep.fitted_keys]
    if rows:
        level = f"{rep.level:.0%}"
        console.print(f"formation enthalpies (eV/atom) against {rep.calibration}, {level} intervals:")
        table = Table()
        for col in ("formula", "measured", f"predicted [{level}]", "z", "interval"):
            table.add_column(col, justify="right" if col == "z" else "left")
        flagged = {c.chemistry for c in rep.flagged}
        for r in rows:
            inside = "inside" if r.inside else "[yellow]outside[/]"
            name = escape(r.formula)
            table.add_row(
                f"[bold red]{name}[/]" if r.chemistry in flagged else name,
                f"{r.measured_eV_per_atom:.3f} ± {r.uncertainty_eV_per_atom:.3f}",
                f"{r.predicted_eV_per_atom:.3f} [{r.interval_low_eV_per_atom:.3f}, "
                f"{r.interval_high_eV_per_atom:.3f}]",
                _signed(r.z, ".1f"),
                inside,
            )
        console.print(table)
    if fitted:
        console.print(f"{len(fitted)} of them are in the fit of {rep.calibration} already: not monitored")


def _alarm(c: Any) -> str:
    """One line on a flagged chemistry: which way, by how much, and where the chart crossed h."""
    when = f", {escape(c.first_alarm_time[:16].replace('T', ' '))}" if c.first_alarm_time else ""
    return (
        f"  [bold red]{escape(c.chemistry)}[/]: {c.direction} than predicted, by "
        f"{c.mean_residual_eV_per_atom:+.3f} eV/atom on average; alarm at "
        f"{escape(c.first_alarm_formula or '?')} (measurement {c.first_alarm_index + 1} of {c.n}{when})"
    )


def print_drift(rep: Any, refitting: bool = False) -> None:
    """The drift status per chemistry (CUSUM), what was not predictable, and what to do (``refitting``:
    printed by ``mattwin calibrate`` before it refits)."""
    if rep.calibration is None:
        console.print(f"drift not checked: {escape(rep.note or '')}", soft_wrap=True)
        return
    head = f"drift of {rep.calibration} from the lab ({rep.baseline}"
    if rep.n_fitted:
        head += f"; {rep.n_fitted} measurements in its fit are not monitored"
    console.print(head + ")", soft_wrap=True)
    if rep.chemistries:
        console.print(f"CUSUM of z by chemistry (k = {rep.k:g}, h = {rep.h:g}):")
        table = Table()
        for col in ("chemistry", "n", "mean z", "mean Δ eV/atom", "S+", "S-", "status"):
            table.add_column(col, justify="left" if col in ("chemistry", "status") else "right")
        for c in rep.chemistries:
            name = f"[bold red]{escape(c.chemistry)}[/]" if c.flagged else escape(c.chemistry)
            table.add_row(
                name,
                str(c.n),
                _signed(c.mean_z),
                _signed(c.mean_residual_eV_per_atom, ".3f"),
                f"{c.s_plus:.1f}",
                f"{c.s_minus:.1f}",
                f"[bold red]DRIFT ({c.direction.split()[-1]})[/]" if c.flagged else "in control",
            )
        console.print(table)
        for c in rep.flagged:
            console.print(_alarm(c), soft_wrap=True)
    else:
        since = " since this fit" if rep.n_fitted else ""
        console.print(f"  no formation-enthalpy measurement to monitor{since}")
    if rep.flagged:
        names = ", ".join(c.chemistry for c in rep.flagged)
        todo = (
            "refitting now"
            if refitting
            else f"run `mattwin calibrate --engine {escape(rep.engine)}` to refit"
        )
        console.print(
            f"[bold red]the model has drifted from the lab for {escape(names)}[/]: {todo}", soft_wrap=True
        )
    for p in rep.not_predictable:
        console.print(f"  not predictable yet: {escape(p.formula)}: {escape(p.reason)}", soft_wrap=True)
