"""Shared fixtures: small real structures, a throwaway PostgreSQL server, and a fresh store per test
on each backend (SQLite file, PostgreSQL database)."""

from __future__ import annotations

import glob
import itertools
import os
import pwd
import shlex
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from pymatgen.core import Lattice, Structure

os.environ.setdefault("TQDM_DISABLE", "1")


@pytest.fixture
def si_diamond() -> Structure:
    """Si in the diamond structure, conventional cell, a = 5.43 Å (experiment)."""
    return Structure.from_spacegroup("Fd-3m", Lattice.cubic(5.43), ["Si"], [[0, 0, 0]])


@pytest.fixture
def nacl() -> Structure:
    """Rock-salt NaCl, conventional cell, a = 5.64 Å."""
    return Structure.from_spacegroup("Fm-3m", Lattice.cubic(5.64), ["Na", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]])


@pytest.fixture
def cu_fcc() -> Structure:
    """fcc Cu, primitive cell, a = 3.61 Å."""
    return Structure.from_spacegroup(
        "Fm-3m", Lattice.cubic(3.61), ["Cu"], [[0, 0, 0]]
    ).get_primitive_structure()


# -- PostgreSQL: a private server per test session ---------------------------------------------
_PG_MISSING = (
    "PostgreSQL server binaries not found (no /usr/lib/postgresql/*/bin/initdb, no initdb on PATH): "
    "the PostgreSQL tests need a real server. Install Debian's PostgreSQL: "
    "`apt-get install -y postgresql` (CI's .ci/run installs it before `make test`)."
)


def _pg_bindir() -> Path:
    """The bin directory of the newest installed PostgreSQL server, or fail the test."""
    found = sorted(
        (Path(p).parent for p in glob.glob("/usr/lib/postgresql/*/bin/initdb")),
        key=lambda d: int(d.parent.name) if d.parent.name.isdigit() else 0,
    )
    if found:
        return found[-1]
    on_path = shutil.which("initdb")  # other distributions put it on PATH
    if on_path and shutil.which("pg_ctl"):
        return Path(on_path).parent
    pytest.fail(_PG_MISSING, pytrace=False)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _as_server_user(cmd: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: as root, run ``cmd`` as the ``postgres`` system user."""
    if os.geteuid() != 0:
        return cmd
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        pytest.fail("running as root, and there is no `postgres` user to run the server as. " + _PG_MISSING)
    if shutil.which("runuser"):
        return ["runuser", "-u", "postgres", "--", *cmd]
    return ["su", "postgres", "-s", "/bin/sh", "-c", shlex.join(cmd)]


def _run(cmd: list[str], cwd: Path, what: str) -> None:
    proc = subprocess.run(_as_server_user(cmd), cwd=cwd, capture_output=True, text=True, timeout=120)
    if proc.returncode != 0:
        pytest.fail(f"{what} failed ({proc.returncode}): {proc.stdout}{proc.stderr}", pytrace=False)


#: pg_ctl command lines of the session's server ("start", "stop"), for the fault tests
_PG_CTL: dict[str, list[str]] = {}


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """A PostgreSQL server of its own on 127.0.0.1 (free port, socket in a temporary directory),
    started for this test session and stopped after it; yields the URL of an empty database."""
    import psycopg

    bindir = _pg_bindir()
    # not under pytest's tmp_path: that is private to root, and the server runs as `postgres`
    base = Path(tempfile.mkdtemp(prefix="mattwin-pg-"))
    data, sock, log = base / "data", base / "sock", base / "server.log"
    pg_ctl = str(bindir / "pg_ctl")
    started = False
    try:
        sock.mkdir()
        if os.geteuid() == 0:
            _as_server_user(["true"])  # fails clearly when there is no `postgres` user
            pw = pwd.getpwnam("postgres")
            for p in (base, sock):
                os.chown(p, pw.pw_uid, pw.pw_gid)
        t0 = time.perf_counter()
        initdb = [str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust", "-E", "UTF8"]
        _run([*initdb, "--locale=C", "--no-sync"], base, "initdb")
        for attempt in range(3):  # a free port can be taken by someone else before the server binds it
            port = _free_port()
            options = f"-h 127.0.0.1 -p {port} -k {sock} -c fsync=off -c synchronous_commit=off"
            start = [pg_ctl, "-D", str(data), "-l", str(log), "-o", options, "-w", "-t", "60", "start"]
            started = True  # a half-started server is stopped below too
            proc = subprocess.run(
                _as_server_user(start), cwd=base, capture_output=True, text=True, timeout=90
            )
            if proc.returncode == 0:
                break
            if attempt == 2:
                server_log = log.read_text(errors="replace")[-4000:] if log.exists() else ""
                pytest.fail(f"pg_ctl start failed: {proc.stdout}{proc.stderr}{server_log}", pytrace=False)
        _PG_CTL.update(start=start, cwd=[str(base)], status=[pg_ctl, "-D", str(data), "status"])
        _PG_CTL["stop"] = [pg_ctl, "-D", str(data), "-m", "fast", "-w", "stop"]
        with psycopg.connect(f"postgresql://postgres@127.0.0.1:{port}/postgres", autocommit=True) as conn:
            conn.execute("CREATE DATABASE mattwin")
        print(f"\nPostgreSQL {bindir.parent.name} on port {port}: up in {time.perf_counter() - t0:.1f} s")
        yield f"postgresql://postgres@127.0.0.1:{port}/mattwin"
    finally:
        if started:
            stop = [pg_ctl, "-D", str(data), "-m", "immediate", "-w", "stop"]
            subprocess.run(_as_server_user(stop), cwd=base, capture_output=True, timeout=60)
        shutil.rmtree(base, ignore_errors=True)


class PostgresControl:
    """Stop and start the session's PostgreSQL server for real (``pg_ctl``), same port and data."""

    def stop(self) -> None:
        _run(_PG_CTL["stop"], Path(_PG_CTL["cwd"][0]), "pg_ctl stop")

    def start(self) -> None:
        _run(_PG_CTL["start"], Path(_PG_CTL["cwd"][0]), "pg_ctl start")

    def running(self) -> bool:
        cmd = _as_server_user(_PG_CTL["status"])
        return subprocess.run(cmd, cwd=_PG_CTL["cwd"][0], capture_output=True, timeout=60).returncode == 0


@pytest.fixture
def postgres_control(postgres_server: str) -> Iterator[PostgresControl]:
    """Stops and starts the session's server; it is running again after the test whatever happened."""
    control = PostgresControl()
    yield control
    if not control.running():
        control.start()


_pg_db_numbers = itertools.count()


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request, tmp_path):  # type: ignore[no-untyped-def]
    """A fresh store on each backend: an SQLite file, and a new database on the session's real
    PostgreSQL server (dropped after the test)."""
    from mattwin.store import Store

    if request.param == "sqlite":
        s = Store(str(tmp_path / "test.db"))
        yield s
        s.engine.dispose()
        return

    import psycopg
    from sqlalchemy.engine import make_url

    server = request.getfixturevalue("postgres_server")  # started only when a PostgreSQL test runs
    name = f"mattwin_t{os.getpid()}_{next(_pg_db_numbers)}"
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        # a plain postgresql:// URL, as users give it: the store picks the driver
        s = Store(make_url(server).set(database=name).render_as_string(hide_password=False))
        yield s
        s.engine.dispose()
    finally:
        with psycopg.connect(server, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
