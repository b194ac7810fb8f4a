"""Fixtures of the dashboard tests: a store filled by a real small campaign (EMT on Cu-Ni-Au, about
10 s), lab measurements of its compounds, a dashboard server on a free localhost port, and Debian's
Chromium for Playwright (never a downloaded browser)."""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mattwin.store.store import Store

CHROMIUM = "/usr/bin/chromium"
XSS = "<script>alert(1)</script>"
CAMPAIGN = {
    "elements": ["Cu", "Ni", "Au"],
    "engine": "emt",
    "max_atoms": 8,
    "budget": 12,
    "compositions": ["CuNi", "CuAu"],
    "n_random": 3,
    "max_steps": 200,
    "calibration": "none",
    "targets": ["volume_per_atom:max"],
    "name": "CuNiAu-emt",
}
MEASUREMENTS = """material,property,value,unit,uncertainty,temperature_K,method,source
AuCu,formation_enthalpy,-0.092,eV/atom,0.01,298.15,calorimetry,Hultgren et al. 1973 (binary alloys)
CuNi,formation_enthalpy,0.03,eV/atom,0.01,298.15,calorimetry,"<script>alert(1)</script> notebook"
Cu,lattice_parameter,3.615,Å,0.001,298.15,XRD,lab notebook 7
"""


@pytest.fixture(scope="session")
def campaign_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite store with one finished EMT campaign, the equation of state of its best candidate's
    relaxed structure and two short MD runs of it, a TDDFT spectrum of formaldehyde (frontier results) and
    three measurements."""
    from pymatgen.core import Structure

    from mattwin.api import add_measurements, discover, equation_of_state, excite, md

    folder = tmp_path_factory.mktemp("serve-store")
    db = folder / "campaign.db"
    store = Store(str(db))
    cfg = dict(CAMPAIGN)
    result = discover(elements=cfg.pop("elements"), store=store, **cfg)
    assert result.n_screened >= 3, "the campaign must screen a few candidates for the tests to mean anything"
    top = next(c for c in result.candidates if c.status == "ok")
    relaxed = Structure.from_dict(top.structure)
    equation_of_state(relaxed, engine="emt", store=store)
    md(relaxed, temperatures_K=[600, 900], steps=100, sample_every=5, engine="emt", store=store)
    excite("C=O", method="tddft", basis="sto-3g", states=3, store=store)  # a spectrum (PySCF, ~3 s)
    csv = folder / "measurements.csv"
    csv.write_text(MEASUREMENTS, encoding="utf-8")
    add_measurements(csv, store=store)
    store.engine.dispose()
    return db


@pytest.fixture
def db_copy(campaign_db: Path, tmp_path: Path) -> Path:
    """A private copy of the campaign store (tests may write into it through a normal Store)."""
    dst = tmp_path / "copy.db"
    shutil.copy(campaign_db, dst)
    return dst


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """The dashboard app under uvicorn in a thread, on ``url``."""

    def __init__(self, db: Path, token: str | None = None) -> None:
        import uvicorn

        from mattwin.serve import create_app, open_read_only

        self.store = open_read_only(str(db))
        self.app = create_app(self.store, token=token)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(self.app, host="127.0.0.1", port=self.port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> Server:
        self.thread.start()
        deadline = time.time() + 20
        while not self.server.started:
            if time.time() > deadline or not self.thread.is_alive():
                raise RuntimeError("the dashboard server did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.should_exit = True
        self.thread.join(10)
        self.store.engine.dispose()


@pytest.fixture
def server(campaign_db: Path) -> Iterator[Server]:
    with Server(campaign_db) as s:
        yield s


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    """Debian's Chromium (no downloaded browser), as root without a sandbox, software rendering."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} not found: install Debian's chromium package (scripts/install_services.sh)")
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": ["--no-sandbox", "--disable-gpu"],
    }


@pytest.fixture
def server_factory() -> type[Server]:
    """The :class:`Server` class, for tests that start a server over a store of their own."""
    return Server
