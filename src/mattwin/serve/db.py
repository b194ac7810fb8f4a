"""The dashboard's database connection: read-only by construction.

SQLite is opened through a ``file:...?mode=ro`` URI (and ``PRAGMA query_only``), so the SQLite
library itself refuses every write; PostgreSQL sessions start with ``default_transaction_read_only``
on and ``SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY``, so the server refuses every write.
Nothing here creates tables or indexes: a database that is not a mattwin store is an error.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from sqlalchemy import Engine as SAEngine
from sqlalchemy import create_engine, event, inspect
from sqlalchemy.exc import SQLAlchemyError

from mattwin.errors import SettingsError
from mattwin.settings import db_url_from
from mattwin.store.store import engine_url

#: tables a store must have for the dashboard to show it
REQUIRED_TABLES = ("materials", "calculations", "campaigns", "candidates")


@dataclass
class ReadOnlyStore:
    """A read-only SQLAlchemy engine on a mattwin store; ``url`` as given (password hidden in ``shown``)."""

    url: str
    shown: str
    engine: SAEngine
    tables: frozenset[str]

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name


def _sqlite_path(url: str) -> Path | None:
    if url.startswith("sqlite:///"):
        return Path(url.removeprefix("sqlite:///").split("?", 1)[0])
    return None


def _sqlite_engine(path: Path) -> SAEngine:
    uri = f"file:{quote(str(path.resolve()))}?mode=ro"

    def connect() -> sqlite3.Connection:
        conn = sqlite3.connect(uri, uri=True, check_same_thread=False, timeout=30)
        conn.execute("PRAGMA query_only=ON")
        return conn

    return create_engine("sqlite://", creator=connect)


def _postgres_engine(url: str) -> SAEngine:
    engine = create_engine(
        engine_url(url),
        pool_pre_ping=True,
        connect_args={"options": "-c default_transaction_read_only=on"},
    )

    @event.listens_for(engine, "connect")
    def _read_only(dbapi_conn: Any, _record: Any) -> None:
        cur = dbapi_conn.cursor()
        cur.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
        cur.close()
        dbapi_conn.commit()

    return engine


def open_read_only(db: str | None) -> ReadOnlyStore:
    """Open the store at ``db`` (SQLite path or URL; None: ``$MATTWIN_DB`` or ``mattwin.db``) read-only.

    Raises :class:`SettingsError` naming the database when it is missing, unreadable or not a store."""
    url = db_url_from(db)
    shown = engine_url(url).render_as_string(hide_password=True) if "://" in url else url
    path = _sqlite_path(url)
    if path is not None:
        shown = str(path)
        if not path.is_file():
            raise SettingsError(
                f"--db {path}: no such database file; give the SQLite file a campaign wrote "
                "(mattwin discover --db FILE) or a postgresql:// URL"
            )
        engine = _sqlite_engine(path)
    elif engine_url(url).get_backend_name() == "postgresql":
        engine = _postgres_engine(url)
    else:
        raise SettingsError(f"--db {shown}: unsupported database; give a SQLite file or a postgresql:// URL")
    try:
        tables = frozenset(inspect(engine).get_table_names())
    except SQLAlchemyError as exc:
        cause = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        raise SettingsError(f"--db {shown}: cannot open the database read-only ({cause})") from exc
    missing = [t for t in REQUIRED_TABLES if t not in tables]
    if missing:
        raise SettingsError(
            f"--db {shown}: not a mattwin store (no {', '.join(missing)} table); "
            "give the database a campaign wrote"
        )
    return ReadOnlyStore(url=url, shown=shown, engine=engine, tables=tables)
