"""Store operations that wait for the database: a dropped PostgreSQL connection (server restarted,
network blip) or an SQLite file locked by another writer is retried with backoff for a bounded time
(``MATTWIN_DB_RETRY_S``, default 60 s); then, and at once for a full disk, a :class:`StoreError` says
what happened. Every write of the store is idempotent (upserts by key), so a retry after a commit
whose acknowledgement was lost stores nothing twice."""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Concatenate, ParamSpec, TypeVar

from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError

from mattwin.errors import StoreError

if TYPE_CHECKING:
    from mattwin.store.store import Store

log = logging.getLogger("mattwin.store")

P = ParamSpec("P")
T = TypeVar("T")

_PG_LOST = {"57P01", "57P02", "57P03"}  # admin shutdown, crash shutdown, cannot connect now
_MAX_DELAY_S = 2.0


def fault(exc: DBAPIError) -> str | None:
    """What went wrong: "full" (no space left), "locked" (SQLite, another writer), "lost" (the
    connection dropped or the server is unreachable), or None for any other database error."""
    orig = exc.orig
    code = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    text = str(orig).lower()
    if code == "53100" or "disk is full" in text or "no space left" in text:
        return "full"
    if "database is locked" in text or "database table is locked" in text:
        return "locked"
    if exc.connection_invalidated:
        return "lost"
    driver = type(orig).__module__.split(".")[0]
    if isinstance(exc, OperationalError) and driver in ("psycopg", "psycopg2"):
        if code is None or str(code).startswith("08") or code in _PG_LOST:
            return "lost"
    return None


def database_name(url: str) -> str:
    """``url`` as shown in messages: the file of a SQLite database, the URL without its password."""
    if url.startswith("sqlite:///"):
        return url.removeprefix("sqlite:///")
    return make_url(url).render_as_string(hide_password=True)


def _message(kind: str, db: str, what: str, waited_s: float, exc: DBAPIError) -> str:
    safe = "every result recorded before is intact, and a rerun resumes from them"
    if kind == "full":
        return f"{db}: disk full while {what}; {safe}: free space on the database's disk, then rerun"
    if kind == "locked":
        return (
            f"{db}: locked by another writer for more than {waited_s:.0f} s while {what}; {safe}: let the "
            "other writer finish (or raise MATTWIN_DB_RETRY_S), then rerun"
        )
    cause = str(exc.orig).strip().splitlines()[0] if str(exc.orig).strip() else type(exc.orig).__name__
    return (
        f"{db}: the database connection was lost and not back after {waited_s:.0f} s while {what} "
        f"({cause}); {safe}: when the server is up again, rerun (MATTWIN_DB_RETRY_S sets the wait)"
    )


def retrying(fn: Callable[[], T], what: str, url: str, retry_s: float) -> T:
    """``fn()``, retried with backoff (0.1 s doubling to 2 s) while the database is unreachable or
    locked, for at most ``retry_s`` seconds; then a :class:`StoreError` (at once for a full disk)."""
    t0 = time.monotonic()
    delay = 0.1
    while True:
        try:
            return fn()
        except DBAPIError as exc:
            kind = fault(exc)
            if kind is None:
                raise
            waited = time.monotonic() - t0
            if kind == "full" or waited >= retry_s:
                raise StoreError(_message(kind, database_name(url), what, waited, exc)) from exc
            if delay == 0.1:
                db = database_name(url)
                cause = "connection lost" if kind == "lost" else "locked by another writer"
                log.warning("%s: %s while %s; retrying for up to %.0f s", db, cause, what, retry_s)
            time.sleep(min(delay, retry_s - waited))
            delay = min(2 * delay, _MAX_DELAY_S)


def waits(what: str) -> Callable[[Callable[Concatenate[Store, P], T]], Callable[Concatenate[Store, P], T]]:
    """Decorate a :class:`~mattwin.store.store.Store` method: run it through :func:`retrying`
    (the store's ``url`` and ``retry_s``); ``what`` names the operation in messages."""

    def wrap(method: Callable[Concatenate[Store, P], T]) -> Callable[Concatenate[Store, P], T]:
        @functools.wraps(method)
        def run(self: Store, *args: P.args, **kwargs: P.kwargs) -> T:
            return retrying(lambda: method(self, *args, **kwargs), what, self.url, self.retry_s)

        return run

    return wrap
