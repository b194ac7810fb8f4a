"""What every ``mattwin`` command shares: the Typer app, common options, error handling, JSON output.

Commands live in one module per area (``main``: screening; ``quantum``, ``dynamics``, ``multiscale``)
and register themselves on :data:`app`.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Iterator
from typing import Annotated, Any

import typer
from rich.console import Console
from typer.exceptions import TyperException

app = typer.Typer(add_completion=False, no_args_is_help=True, help="mattwin: an open materials digital twin.")
refs_app = typer.Typer(no_args_is_help=True, help="Reference phases (competing phases for the convex hull).")
app.add_typer(refs_app, name="refs")
console = Console(stderr=True)

DbOpt = Annotated[
    str | None, typer.Option("--db", help="SQLite path or database URL (default: $MATTWIN_DB or mattwin.db)")
]
EngineOpt = Annotated[
    str,
    typer.Option("--engine", "-e", help="chgnet, chgnet:0.2.0, sevenn:7net-0, sevenn:7net-l3i5, ensemble"),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="print the result as JSON on stdout")]

#: ``--debug`` given: errors re-raise with their Python traceback (set by :func:`_global_options`)
_debug = False


@app.callback()
def _global_options(
    debug: Annotated[
        bool, typer.Option("--debug", help="show the Python traceback of an error instead of one line")
    ] = False,
) -> None:
    """mattwin: an open materials digital twin."""
    global _debug
    _debug = debug


def open_store(db: str | None) -> Any:
    """The store at ``db``; one error line (exit 2) when it cannot be opened or is not a database."""
    from sqlalchemy.exc import SQLAlchemyError

    from mattwin.errors import SettingsError
    from mattwin.store import Store

    try:
        return Store(db)
    except (SQLAlchemyError, OSError) as exc:
        if _debug:
            raise
        cause = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        fail(
            SettingsError(
                f"--db {_without_password(db)}: cannot open the database ({cause}); "
                "give a writable SQLite file or a reachable postgresql:// URL"
            )
        )


def _without_password(db: str | None) -> str:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    if not db:
        return "(default: $MATTWIN_DB or mattwin.db)"
    try:
        return make_url(db).render_as_string(hide_password=True) if "://" in db else db
    except ArgumentError:
        return db


def fail(exc: Exception, code: int = 2) -> None:
    """Print ``error: <exc>`` on stderr (unwrapped, markup in the message shown as typed) and exit."""
    from rich.markup import escape

    console.print(f"[bold red]error:[/] {escape(str(exc))}", soft_wrap=True)
    raise typer.Exit(code=code)


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")


@contextlib.contextmanager
def library_call() -> Iterator[None]:
    """Run library code: what libraries print goes to stderr (so ``--json`` output on stdout stays
    parseable) and a mattwin error becomes one line naming the input and cause, exit status 2.
    Any other exception is a bug: one line asking for a report, exit status 1. With ``--debug``
    both re-raise with their traceback."""
    from mattwin.errors import MattwinError

    try:
        with contextlib.redirect_stdout(sys.stderr):
            yield
    except (typer.Exit, typer.Abort, TyperException):  # exits and usage errors: click handles them
        raise
    except MattwinError as exc:
        if _debug:
            raise
        fail(exc)
    except Exception as exc:
        if _debug:
            raise
        fail(
            RuntimeError(
                f"unexpected {type(exc).__name__}: {exc} (a bug in mattwin; rerun with --debug for the "
                "traceback and report it)"
            ),
            code=1,
        )


def quiet_libraries() -> None:
    import logging
    import warnings

    warnings.filterwarnings("ignore")
    logging.getLogger().setLevel(logging.ERROR)
    os.environ.setdefault("TQDM_DISABLE", "1")


#: options that take several values the way scientists type them: --elements Li Fe P O
MULTI_VALUE_OPTIONS: set[str] = {"--elements", "--composition", "--target", "--temps"}


def _is_number(text: str) -> bool:
    """``1000.5`` is a value (a temperature), not a file name, although it contains a dot."""
    try:
        float(text)
    except ValueError:
        return False
    return True


def expand_multi_value_options(argv: list[str]) -> list[str]:
    """Turn ``--elements Li Fe P O`` into ``--elements Li --elements Fe ...`` for click, which only
    takes one value per option. Values end at the next option or at a file name (has . or /)."""
    out: list[str] = []
    i = 0
    while i < len(argv):
        tok = argv[i]
        out.append(tok)
        i += 1
        if tok in MULTI_VALUE_OPTIONS:
            first = True
            while (
                i < len(argv)
                and not argv[i].startswith("-")
                and (first or not any(c in argv[i] for c in "./") or _is_number(argv[i]))
            ):
                if not first:
                    out.append(tok)
                out.append(argv[i])
                first = False
                i += 1
    return out
