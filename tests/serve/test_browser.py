"""The dashboard in a real browser (Debian's Chromium through Playwright) over a store filled by a
real EMT campaign: pages render, the hull plot and the 3D structure draw something, the candidate
table sorts and filters on the server, a candidate leads to its calculations, and a running
campaign's progress changes on the page without a reload. Screenshots go to docs/screenshots/."""

from __future__ import annotations

import io
import json
import os
import re
from pathlib import Path
from typing import Any

from PIL import Image
from playwright.sync_api import Page, expect

from mattwin.serve.campaigns import generation_ids, relax_params
from mattwin.store.store import Store

SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def _ink(png: bytes) -> float:
    """Fraction of pixels that are not (near) the background colour of the image's corner."""
    img = Image.open(io.BytesIO(png)).convert("RGB")
    bg = img.getpixel((1, 1))
    px = list(img.getdata())
    return sum(1 for p in px if max(abs(a - b) for a, b in zip(p, bg, strict=True)) > 24) / len(px)


def _shot(page: Page, name: str) -> None:
    """The README's screenshot ``name``: written when missing or with MATTWIN_UPDATE_SCREENSHOTS=1 (so a
    plain test run leaves the checkout clean), else taken and checked non-blank only."""
    target = SHOTS / name
    if os.environ.get("MATTWIN_UPDATE_SCREENSHOTS") == "1" or not target.exists():
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(target), full_page=False)
    else:
        assert _ink(page.screenshot(full_page=False)) > 0.01, f"the page of {name} is blank"


def _first_campaign(page: Page, server: Any) -> str:
    page.goto(server.url + "/")
    expect(page.locator("#campaigns tbody tr")).to_have_count(1)
    row = page.locator("#campaigns tbody tr").first
    expect(row.locator('[data-field="status"]')).to_have_text("finished")
    return str(row.get_attribute("data-id"))


def test_campaign_page_hull_sort_filter(page: Page, server: Any) -> None:
    page.set_viewport_size({"width": 1400, "height": 900})
    cid = _first_campaign(page, server)
    _shot(page, "campaigns.png")
    page.click(f'a[href="/campaign/{cid}"]')
    # the hull plot: pymatgen's plotly figure drawn by plotly.js (served by the dashboard)
    hull = page.locator("#hull .js-plotly-plot")
    expect(hull).to_be_visible()
    assert page.locator("#hull .scatterlayer .trace").count() >= 2
    assert _ink(hull.screenshot()) > 0.01
    _shot(page, "campaign.png")
    rows = page.locator("#candidates tbody tr")
    n = rows.count()
    assert n >= 3
    # sort by E_hull, descending then ascending, on the server
    page.click('#candidates th a[data-sort="e_hull"]')
    expect(page).to_have_url(re.compile(r"sort=e_hull&order=asc"))
    asc = [float(t.split()[0]) for t in page.locator('#candidates td[data-col="e_hull"]').all_inner_texts()]
    assert asc == sorted(asc) and len(asc) == n
    page.click('#candidates th a[data-sort="e_hull"]')
    expect(page).to_have_url(re.compile(r"order=desc"))
    desc = [float(t.split()[0]) for t in page.locator('#candidates td[data-col="e_hull"]').all_inner_texts()]
    assert desc == sorted(asc, reverse=True)
    # filter: a formula substring, then the stability filter
    page.fill('input[name="q"]', "Ni")
    page.click("#apply")
    page.wait_for_url(re.compile(r"q=Ni"))
    formulas = page.locator("#candidates a.cand").all_inner_texts()
    assert formulas and all("Ni" in f for f in formulas) and len(formulas) < n
    page.fill('input[name="q"]', "")
    page.select_option("#stability", "unstable")
    page.click("#apply")
    page.wait_for_url(re.compile(r"stability=unstable"))
    classes = [
        page.locator("#candidates tbody tr").nth(i).get_attribute("class") for i in range(rows.count())
    ]
    assert classes and set(classes) == {"unstable"}


def test_candidate_structure_and_calculations(page: Page, server: Any) -> None:
    page.set_viewport_size({"width": 1400, "height": 900})
    cid = _first_campaign(page, server)
    page.goto(f"{server.url}/campaign/{cid}?sort=rank")
    page.locator("#candidates a.cand").first.click()
    expect(page).to_have_url(re.compile(r"/candidate/[0-9a-f]+"))
    viewer = page.locator("#viewer")
    expect(viewer).to_have_attribute("data-rendered", "1")
    canvas = viewer.locator("canvas")
    expect(canvas).to_have_count(1)
    page.wait_for_timeout(300)
    assert _ink(viewer.screenshot()) > 0.01, "the 3D viewer drew nothing"
    _shot(page, "candidate.png")
    calcs = page.locator("#calculations tbody tr")
    assert calcs.count() >= 1
    assert "relax" in calcs.first.inner_text() and "emt" in calcs.first.inner_text()
    with page.expect_download() as dl:
        page.click("#dl-cif")
    assert "_cell_length_a" in Path(dl.value.path()).read_text()
    page.locator("#calculations a.calc").first.click()
    prov = page.locator("#provenance")
    expect(prov).to_contain_text("emt")
    expect(prov).to_contain_text('"fmax": 0.05')
    expect(prov).to_contain_text("wall time")


def test_measurements_parity_and_escaping(page: Page, server: Any) -> None:
    page.set_viewport_size({"width": 1400, "height": 900})
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(server.url + "/measurements")
    expect(page.locator("#measurements tbody tr")).to_have_count(3)
    expect(page.locator("#parity .js-plotly-plot")).to_be_visible()
    # the source with a script tag is shown as text and never runs
    expect(page.locator("#measurements")).to_contain_text("<script>alert(1)</script> notebook")
    assert not dialogs
    _shot(page, "measurements.png")


def test_running_campaign_progress_updates_without_reload(
    page: Page, db_copy: Path, server_factory: Any
) -> None:
    """A campaign without a result in a copy of the store: relaxations written into the store by this
    test appear as progress on the open pages (the fetch loop), while the page is never reloaded."""
    store = Store(str(db_copy))
    with store.engine.connect() as conn:
        cfg = json.loads(conn.exec_driver_sql("SELECT config FROM campaigns").scalar_one())
    cfg = {**cfg, "seed": 99, "name": "running", "fmax": 0.04}  # relaxations of its own, none yet
    materials = store.calculations(task="relax")[:4]
    structures = [store.get_material(c.material_id) for c in materials]
    store.save_campaign("running0000000001", "running", cfg)
    store.add_candidates(generation_ids(cfg)[0], [(s, "test", "test", 0.0) for s in structures])
    with server_factory(db_copy) as server:
        page.goto(f"{server.url}/campaign/running0000000001")
        summary = page.locator("#summary")
        expect(summary.locator('[data-field="jobs"]')).to_have_text("4")
        expect(summary.locator('[data-field="done"]')).to_have_text("0")
        page.evaluate("window.__not_reloaded = true")
        params = json.loads(relax_params(cfg))
        for i, c in enumerate(materials):
            store.record(
                key=f"live{i:028d}", task="relax", material_id=c.material_id,
                engine_signature=c.engine_signature,
                engine_key="live", params=params, status="done", result=c.result, wall_time_s=0.5,
            )  # fmt: skip
            expect(summary.locator('[data-field="done"]')).to_have_text(str(i + 1), timeout=8000)
        expect(summary.locator('[data-field="status"]')).to_have_text("running")
        # the campaign finishes (its result is stored): the page says so, still without a reload
        with store.engine.connect() as conn:
            q = "SELECT result FROM campaigns WHERE result IS NOT NULL"
            finished = json.loads(conn.exec_driver_sql(q).scalar_one())
        store.save_campaign_result("running0000000001", finished)
        expect(summary.locator('[data-field="status"]')).to_have_text("finished", timeout=8000)
        expect(page.locator("#finished-note")).to_be_visible()
        assert page.evaluate("window.__not_reloaded === true")
        page.goto(server.url + "/")
        expect(page.locator('tr[data-id="running0000000001"] [data-field="done"]')).to_have_text("4")
