"""Latency of the dashboard's candidates page on a small and a large store, beside two baselines.

Builds SQLite stores by bulk inserts: one campaign of ``--candidates`` candidates (its ranked result
stored as a campaign result, each candidate with a relaxation), a second campaign of the same size
still running (no result: its page joins candidates with their relaxations in SQL), and other
calculations on other materials up to ``--sizes`` calculations in all (default 1,000 and 100,000).
For each store it times ``--requests`` requests (median and 95th percentile, in-process through the
ASGI app, templates rendered) of

- the finished campaign's candidates page, sorted by E_hull, page 2 of 50 rows,
- the running campaign's candidates page (progress and relaxation status per row),

and the baselines: the same running-campaign page on a copy of the store without the indexes on
``material_id`` (``ix_calculations_material_id``, ``ix_calculations_material_task``,
``ix_candidates_material_id``), and writing the
static HTML report (:func:`mattwin.report.write_report`) of the finished campaign, the page a
command would otherwise produce. Ratios: baseline / dashboard.

    python benchmarks/bench_serve.py [--sizes 1000 100000] [--candidates 500] [--requests 40]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sqlite3
import statistics
import tempfile
import time
import warnings
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

warnings.filterwarnings("ignore")

ELEMENTS = ["Au", "Cu", "Ni"]
FORMULAS = ["CuNi", "CuAu", "NiAu", "Cu3Au", "CuAu3", "Ni3Au", "CuNi3", "CuNiAu2", "Cu2NiAu", "CuNi2Au"]


def _structure_json() -> str:
    from pymatgen.core import Lattice, Structure

    s = Structure(Lattice.cubic(3.7), ["Cu", "Au"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    return json.dumps(s.as_dict())


def _ranked(i: int, mid: str, rng: np.random.Generator) -> dict[str, Any]:
    eh = float(abs(rng.normal(0.08, 0.1)))
    ef = float(rng.normal(-0.05, 0.1))
    return {
        "rank": i + 1, "candidate_id": mid, "formula": FORMULAS[i % len(FORMULAS)], "origin": "benchmark",
        "status": "ok", "n_atoms": 4, "error": None, "spacegroup": "Pm-3m (221)", "energy_per_atom": -3.0,
        "energy_per_atom_std": None, "formation_energy_per_atom": ef, "formation_energy_per_atom_std": 0.1,
        "e_hull": eh, "e_hull_std": 0.05, "decomposition": "Cu + Au", "volume_per_atom": 13.0,
        "targets": {"volume_per_atom": 13.0 + i % 7}, "duplicate_of": None,
        "formation_energy_interval": [ef - 0.15, ef + 0.15], "e_hull_interval": [max(0, eh - 0.1), eh + 0.1],
        "p_stable": float(rng.uniform()), "raw_formation_energy_per_atom": ef, "raw_e_hull": eh,
        "calibration": "bench@1", "known_compound": None,
    }  # fmt: skip


def build_store(path: Path, n_calcs: int, n_cand: int, seed: int = 0) -> tuple[str, str]:
    """A store with ``n_calcs`` calculations; returns the finished and the running campaign's ids."""
    from mattwin.serve.campaigns import generation_ids, relax_params
    from mattwin.store.store import Store

    Store(str(path)).engine.dispose()  # the schema, with its indexes
    rng = np.random.default_rng(seed)
    now = datetime.now(UTC).isoformat(sep=" ")
    sj = _structure_json()
    sig = json.dumps({"engine": "emt", "model": "EMT", "package": "ase", "version": "bench"})
    cfgs = {
        "done": {"elements": ELEMENTS, "engine": "emt", "budget": n_cand, "max_atoms": 8, "compositions": [],
                 "n_random": 0, "seed": 0, "fmax": 0.05, "max_steps": 200, "targets": ["volume_per_atom:max"],
                 "stability_threshold": 0.025, "calibration": "none", "name": "finished"},
    }  # fmt: skip
    cfgs["run"] = {**cfgs["done"], "seed": 1, "name": "running"}
    params = relax_params(cfgs["done"])
    con = sqlite3.connect(path)
    materials, calcs, cands = [], [], []
    ranked = []
    for kind in ("done", "run"):
        gen = generation_ids(cfgs[kind])[0]
        for i in range(n_cand):
            mid = f"{kind}{i:012d}"
            materials.append((mid, FORMULAS[i % len(FORMULAS)], 4, sj, now))
            cands.append((gen, mid, i, "benchmark", "bench", 0.0))
            if kind == "done" or i % 2 == 0:  # the running campaign: half relaxed so far
                calcs.append((f"k-{mid}", "relax", mid, "emt-key", sig, params, "done", '{"energy_eV": -1}',
                              None, None, now, now, 0.5, "bench", "bench"))  # fmt: skip
            if kind == "done":
                ranked.append(_ranked(i, mid, rng))
    n_other = max(0, n_calcs - len(calcs))
    for j in range(n_other):
        mid = f"other{j // 5:011d}"
        if j % 5 == 0:
            materials.append((mid, "CuNi", 4, sj, now))
        calcs.append((f"o-{j}", ("static", "relax", "equation_of_state", "elastic_tensor", "phonons")[j % 5],
                      mid, "emt-key", sig, params, "done", '{"energy_eV": -1}', None, None, now, now, 0.5,
                      "bench", "bench"))  # fmt: skip
    con.executemany("INSERT INTO materials VALUES (?,?,?,?,?)", materials)
    con.executemany("INSERT INTO candidates VALUES (?,?,?,?,?,?)", cands)
    con.executemany(
        "INSERT INTO calculations (key, task, material_id, engine_key, engine_signature, params, status,"
        " result, error, error_type, started_at, finished_at, wall_time_s, host, mattwin_version)"
        " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        calcs,
    )
    hull = [{"name": f, "formula": f, "kind": "candidate", "formation_energy_per_atom": -0.05, "e_hull": 0.1,
             "source": ""} for f in FORMULAS]  # fmt: skip
    hull += [{"name": e, "formula": e, "kind": "reference", "formation_energy_per_atom": 0.0, "e_hull": 0.0,
              "source": "bench"} for e in ELEMENTS]  # fmt: skip
    result = {"name": "finished", "elements": ELEMENTS, "engine": "emt", "engine_signature": json.loads(sig),
              "n_generated": n_cand, "n_screened": n_cand, "n_failed": 0, "n_cached": 0, "wall_time_s": 60.0,
              "candidates": ranked, "hull_points": hull, "parameters": cfgs["done"],
              "calibration": None}  # fmt: skip
    con.execute(
        "INSERT INTO campaigns VALUES (?,?,?,?,?)",
        ("finished00000001", "finished", json.dumps(cfgs["done"], sort_keys=True), now, json.dumps(result)),
    )
    con.execute(
        "INSERT INTO campaigns VALUES (?,?,?,?,?)",
        ("running000000001", "running", json.dumps(cfgs["run"], sort_keys=True), now, None),
    )
    con.commit()
    assert con.execute("SELECT count(*) FROM calculations").fetchone()[0] == max(n_calcs, len(calcs))
    con.close()
    return "finished00000001", "running000000001"


def time_requests(client: Any, url: str, n: int) -> tuple[float, float]:
    """(median, 95th percentile) latency in ms of ``n`` GETs of ``url`` after one warm-up request."""
    r = client.get(url)
    assert r.status_code == 200, (url, r.status_code, r.text[:300])
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        r = client.get(url)
        times.append((time.perf_counter() - t0) * 1000)
        assert r.status_code == 200
    return statistics.median(times), float(np.percentile(times, 95))


def static_report_ms(db: Path, campaign: str, n: int) -> float:
    """Median ms of writing the static report of the stored campaign result."""
    from mattwin.discovery.results import CampaignResult
    from mattwin.report import write_report
    from mattwin.serve.figures import hull_points, ranked

    con = sqlite3.connect(db)
    res = json.loads(con.execute("SELECT result FROM campaigns WHERE id = ?", (campaign,)).fetchone()[0])
    con.close()
    names = CampaignResult.__dataclass_fields__
    result = CampaignResult(
        **{**{k: v for k, v in res.items() if k in names}, "candidates": ranked(res["candidates"]),
           "hull_points": hull_points(res)}
    )  # fmt: skip
    times = []
    with tempfile.TemporaryDirectory() as out:
        for _ in range(n):
            t0 = time.perf_counter()
            write_report(result, Path(out))
            times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[1000, 100000])
    ap.add_argument("--candidates", type=int, default=500)
    ap.add_argument("--requests", type=int, default=40)
    args = ap.parse_args()
    from fastapi.testclient import TestClient

    from mattwin.serve import create_app, open_read_only

    with tempfile.TemporaryDirectory() as tmp:
        for size in args.sizes:
            db = Path(tmp) / f"store{size}.db"
            t0 = time.perf_counter()
            done, running = build_store(db, size, args.candidates)
            built = time.perf_counter() - t0
            bare = Path(tmp) / f"store{size}-noindex.db"
            shutil.copy(db, bare)
            con = sqlite3.connect(bare)
            con.execute("DROP INDEX ix_calculations_material_id")
            con.execute("DROP INDEX ix_calculations_material_task")
            con.execute("DROP INDEX ix_candidates_material_id")
            con.commit()
            con.close()
            client = TestClient(create_app(open_read_only(str(db))), base_url="http://127.0.0.1")
            plain = TestClient(create_app(open_read_only(str(bare))), base_url="http://127.0.0.1")
            page = f"/campaign/{done}?sort=e_hull&order=asc&page=2&per_page=50"
            live = f"/campaign/{running}?page=2&per_page=50"
            n = args.requests
            med, p95 = time_requests(client, page, n)
            lmed, lp95 = time_requests(client, live, n)
            bmed, bp95 = time_requests(plain, live, max(5, n // 4))
            amed, _ = time_requests(client, "/api/campaigns", n)
            rep = static_report_ms(db, done, 3)
            both = f"{args.candidates} + {args.candidates}"
            print(f"store of {size:,} calculations ({both} candidates; built in {built:.1f} s):")
            print(
                f"  finished campaign, candidates page (sorted by E_hull, page 2): median {med:.1f} ms, "
                f"p95 {p95:.1f} ms; static report of the same campaign {rep:.0f} ms = {rep / med:.1f}x"
            )
            print(
                f"  running campaign, candidates page + relaxation status: median {lmed:.1f} ms, "
                f"p95 {lp95:.1f} ms; without the material_id indexes {bmed:.1f} ms (p95 {bp95:.1f}) = "
                f"{bmed / lmed:.1f}x"
            )
            print(f"  /api/campaigns (live progress of both): median {amed:.1f} ms")


if __name__ == "__main__":
    main()
