"""The dashboard's pages over a real EMT campaign (in-process, no browser): the ranked table's
server-side sort, filters and pagination agree with the stored result; a candidate leads to its
frontier calculation (equation of state) drawn with the report's figure; the campaign list's
counts are the store's."""

from __future__ import annotations

import json
import re
import sqlite3
import warnings
from pathlib import Path

from mattwin.serve import create_app, open_read_only
from mattwin.serve.candidates import Query, ranked_page

warnings.filterwarnings("ignore", message=".*httpx.*")
from fastapi.testclient import TestClient  # noqa: E402


def _result(db: Path) -> tuple[str, dict]:  # type: ignore[type-arg]
    con = sqlite3.connect(db)
    cid, text = con.execute("SELECT id, result FROM campaigns").fetchone()
    con.close()
    return cid, json.loads(text)


def test_ranked_table_sorts_filters_and_pages_like_the_result(campaign_db: Path) -> None:
    _, res = _result(campaign_db)
    cands, thr = res["candidates"], 0.025
    ok = [c for c in cands if c["status"] == "ok"]
    page = ranked_page(cands, Query(sort="e_hull", order="desc", per_page=2, page=1), thr)
    assert page.total == len(cands) and page.n_pages == -(-len(cands) // 2)
    assert [r["e_hull"] for r in page.rows] == sorted((c["e_hull"] for c in ok), reverse=True)[:2]
    # page 2 continues where page 1 stopped
    p2 = ranked_page(cands, Query(sort="e_hull", order="desc", per_page=2, page=2), thr)
    assert [r["e_hull"] for r in p2.rows] == sorted((c["e_hull"] for c in ok), reverse=True)[2:4]
    # the target column exists, sorts, and takes a range filter
    assert "targets.volume_per_atom" in page.columns
    vols = sorted(c["targets"]["volume_per_atom"] for c in ok)
    mid = vols[len(vols) // 2]
    kept = ranked_page(cands, Query(col="targets.volume_per_atom", lo=mid, per_page=200), thr)
    assert kept.total == sum(v >= mid for v in vols) and all(
        r["targets"]["volume_per_atom"] >= mid for r in kept.rows
    )
    # stability classes partition the candidates; "maybe" includes "stable"
    counts = {s: ranked_page(cands, Query(stability=s, per_page=200), thr).total for s in
              ("stable", "maybe", "unstable", "failed")}  # fmt: skip
    assert counts["maybe"] + counts["unstable"] + counts["failed"] == len(cands)
    assert counts["stable"] == sum(c["e_hull"] is not None and c["e_hull"] <= thr for c in ok)
    # known / new compositions partition them too, and a formula substring keeps only its matches
    new = ranked_page(cands, Query(known="new", per_page=200), thr)
    known = ranked_page(cands, Query(known="known", per_page=200), thr)
    assert new.total + known.total == len(cands)
    assert all(r.get("known_compound") for r in known.rows) and not any(
        r.get("known_compound") for r in new.rows
    )
    ni = ranked_page(cands, Query(q="ni", per_page=200), thr)
    assert ni.total == sum("ni" in c["formula"].lower() for c in cands) and 0 < ni.total < len(cands)
    # nothing from the URL is trusted: unknown columns and orders fall back to the defaults
    bad = ranked_page(cands, Query(sort="__class__", order="sideways", per_page=10**9, page=-3), thr)
    assert bad.query.sort == "rank" and bad.query.order == "asc" and bad.query.page == 1
    assert bad.query.per_page == 200


def test_candidate_links_to_its_frontier_page(campaign_db: Path) -> None:
    cid, res = _result(campaign_db)
    c = TestClient(create_app(open_read_only(str(campaign_db))), base_url="http://127.0.0.1")
    top = next(r for r in res["candidates"] if r["status"] == "ok")
    html = c.get(f"/candidate/{top['candidate_id']}?campaign={cid}").text
    assert "relax" in html and "equation_of_state" in html
    key = re.search(r'href="/calculation/([0-9a-f]+)">equation_of_state<', html)
    assert key and f'href="/calculation/{key.group(1)}">multiscale' in html, "EOS -> multiscale page"
    calc = c.get(f"/calculation/{key.group(1)}").text
    assert 'id="eos"' in calc and "Birch" in calc and "B0 =" in calc
    full = c.get(f"/calculation/{key.group(1)}/report")
    assert full.status_code == 200 and "equation of state" in full.text
    md_keys = re.findall(r'href="/calculation/([0-9a-f]+)">dynamics', html)
    assert len(md_keys) == 2, "both MD runs link to the dynamics page"
    run = c.get(f"/calculation/{md_keys[0]}").text
    assert 'id="dynamics-link"' in run
    dyn = c.get(f"/calculation/{md_keys[0]}/dynamics")
    assert dyn.status_code == 200 and "Dynamics of" in dyn.text and "msd" in dyn.text.lower()
    assert "600" in dyn.text and "900" in dyn.text  # both temperatures of the series
    rec = c.get(f"/candidate/{top['candidate_id']}/record.json").json()
    assert rec["material_id"] == top["candidate_id"] and rec["calculations"][0]["task"] == "relax"


def test_campaign_counts_are_the_stores(campaign_db: Path) -> None:
    con = sqlite3.connect(campaign_db)
    n_relax = con.execute("SELECT count(*) FROM calculations WHERE task = 'relax'").fetchone()[0]
    n_cand = con.execute("SELECT count(*) FROM candidates").fetchone()[0]
    con.close()
    _, res = _result(campaign_db)
    c = TestClient(create_app(open_read_only(str(campaign_db))), base_url="http://127.0.0.1")
    (s,) = c.get("/api/campaigns").json()
    assert s["status"] == "finished" and s["n_candidates"] == n_cand == len(res["candidates"])
    assert s["n_done"] == s["n_jobs"] == n_cand < n_relax  # the reference phases are relaxed too
    assert s["n_screened"] == res["n_screened"] and abs(s["wall_time_s"] - res["wall_time_s"]) < 1e-9


def test_a_spectrum_is_reachable_from_its_calculation(campaign_db: Path) -> None:
    con = sqlite3.connect(campaign_db)
    key, mol = con.execute(
        "SELECT key, material_id FROM calculations WHERE task = 'excited_states'"
    ).fetchone()
    con.close()
    c = TestClient(create_app(open_read_only(str(campaign_db))), base_url="http://127.0.0.1")
    page = c.get(f"/candidate/{mol}").text  # a molecule: shown in 3D from XYZ, no cell
    assert 'data-format="xyz"' in page and f'href="/calculation/{key}">spectra' in page
    assert c.get(f"/candidate/{mol}/structure.cif").text.splitlines()[0].strip() == "4"  # XYZ of H2CO
    calc = c.get(f"/calculation/{key}").text
    assert 'id="spectrum"' in calc and "TDDFT" in calc


def test_synthesizability_column_filters_when_the_result_has_one(campaign_db: Path) -> None:
    _, res = _result(campaign_db)
    cands = [{**c, "synthesizability": round(0.1 * i, 2)} for i, c in enumerate(res["candidates"])]
    page = ranked_page(
        cands, Query(col="synthesizability", lo=0.5, sort="synthesizability", order="desc"), 0.025
    )
    assert "synthesizability" in page.extra_columns and page.columns["synthesizability"][1]
    assert [r["synthesizability"] for r in page.rows] == sorted(
        (c["synthesizability"] for c in cands if c["synthesizability"] >= 0.5), reverse=True
    )
    none = [{**c, "synthesizability": None} for c in res["candidates"]]  # a result without scores
    assert "synthesizability" not in ranked_page(none, Query(), 0.025).columns


def test_campaign_status_from_the_age_of_its_last_relaxation() -> None:
    from datetime import UTC, datetime, timedelta

    from mattwin.serve.campaigns import ACTIVE_S, _status

    now = datetime(2026, 1, 1, 12, tzinfo=UTC)
    old, recent = now - timedelta(seconds=ACTIVE_S + 1), now - timedelta(seconds=5)
    assert _status(recent, old, now.timestamp()) == "running"
    assert _status(old, old, now.timestamp()) == "stopped"
    assert _status(None, recent, now.timestamp()) == "running"  # generating, relaxing references
    assert _status(None, old, now.timestamp()) == "stopped"
