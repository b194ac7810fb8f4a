"""The store under concurrent use, on SQLite and PostgreSQL: two campaigns (``mattwin discover``
processes that share a reference phase, so both write the same calculation) and a lab measurement
import (``add_measurements``) write at once; nothing is lost and nothing is stored twice."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mattwin.discovery.campaign import run_campaign
from mattwin.discovery.config import CampaignConfig
from mattwin.store import Store, schema

MEASUREMENTS = Path(__file__).resolve().parents[2] / "examples" / "measurements.csv"
CAMPAIGNS = {"a": ("Cu", "Al", "CuAl"), "b": ("Cu", "Ni", "CuNi")}  # both screen the Cu reference
COMMON = {"max_atoms": 8, "budget": 2, "n_random": 2, "max_steps": 150, "engine": "emt"}

# imports first, then waits for "go" on stdin: the import writes at once when told, while the campaigns
# (a few seconds of EMT relaxations) are still writing
_ADD = """
import json, sys
from mattwin.api import add_measurements
from mattwin.store import Store, schema
print("ready", flush=True)
sys.stdin.readline()
print(json.dumps(add_measurements(sys.argv[1], Store(sys.argv[2])).to_dict()))
"""


def _config(name: str) -> CampaignConfig:
    *elements, formula = CAMPAIGNS[name]
    return CampaignConfig(elements=tuple(elements), name=name, compositions=(formula,), **COMMON)  # type: ignore[arg-type]


def _discover(name: str, url: str, tmp_path: Path) -> subprocess.Popen[str]:
    c = _config(name)
    cmd = [sys.executable, "-m", "mattwin.cli.main", "discover", "--elements", *c.elements, "--name", name]
    cmd += ["--composition", *c.compositions, "--n-random", str(c.n_random), "--budget", str(c.budget)]
    cmd += ["--max-atoms", str(c.max_atoms), "--steps", str(c.max_steps), "--engine", c.engine]
    cmd += ["--db", url, "--json", "--report", str(tmp_path / name)]
    return subprocess.Popen(cmd, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _duplicates(store: Store, table: str, key: str) -> int:
    with store.engine.connect() as conn:
        return int(conn.exec_driver_sql(f"select count(*) - count(distinct {key}) from {table}").scalar())


@pytest.mark.slow
def test_two_campaigns_and_a_measurement_import_at_once(store, tmp_path):
    url = store.url
    importer = subprocess.Popen(
        [sys.executable, "-c", _ADD, str(MEASUREMENTS), url],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert importer.stdout is not None and importer.stdout.readline().strip() == "ready"
    campaigns = {name: _discover(name, url, tmp_path) for name in CAMPAIGNS}
    deadline = time.time() + 600
    while not store.calculations() and time.time() < deadline:  # both campaigns are writing
        time.sleep(0.05)
    out, err = importer.communicate("go\n", timeout=300)
    assert any(p.poll() is None for p in campaigns.values()), "the campaigns ended before the import"
    assert importer.returncode == 0, err[-3000:]
    report = json.loads(out)
    results = {}
    for name, proc in campaigns.items():
        out, err = proc.communicate(timeout=900)
        assert proc.returncode == 0, err[-3000:]
        results[name] = json.loads(out)

    assert report["n_new"] == report["n_read"] == 12 and report["bad"] == []
    assert len(store.measurements()) == 12
    for table, key in [(schema.calculations, "key"), (schema.materials, "id"), (schema.measurements, "key")]:
        assert _duplicates(store, table.name, key) == 0, table.name
    assert all(r["n_failed"] == 0 and r["n_generated"] >= 1 for r in results.values())
    n = len(store.calculations())
    for name in CAMPAIGNS:  # nothing lost: a rerun of each finds every calculation in the store
        again, _ = run_campaign(_config(name), store=store)
        assert again.n_failed == 0 and again.n_cached > 0
    assert len(store.calculations()) == n
    assert all(c.status == "done" for c in store.calculations())
