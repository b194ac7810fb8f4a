"""The campaign report shows the synthesis fields: a synthesizability column, a filter, a route card per
candidate with routes; candidates.csv and candidates.json carry them."""

from __future__ import annotations

import json

from mattwin.discovery.results import CampaignResult, RankedCandidate
from mattwin.report.html import write_report

ROUTE = {
    "precursors": ["BaCO3", "TiO2"],
    "reaction": "BaCO3 + TiO2 -> BaTiO3 + CO2",
    "temperature_K": 1000.0,
    "dG_eV_atom": -0.186,
    "onset_K": 600.0,
    "competing": [{"formula": "Ba2TiO4", "dG_eV_atom": -0.006}],
    "competition_margin_eV_atom": -0.18,
    "selective": True,
}


def _result() -> CampaignResult:
    good = RankedCandidate(
        rank=1,
        candidate_id="a1",
        formula="BaTiO3",
        origin="o",
        status="ok",
        n_atoms=5,
        e_hull=0.0,
        synthesizability=0.83,
        synthesizability_interval=[0.6, 0.95],
        dynamically_stable=True,
        routes=[ROUTE],
        verdict="new; on the hull; dynamically stable; synthesizability 0.83",
    )
    bad = RankedCandidate(
        rank=2,
        candidate_id="b2",
        formula="Ba2TiO5",
        origin="o",
        status="ok",
        n_atoms=8,
        e_hull=0.3,
        synthesizability=None,
        synthesizability_interval=[0.0, 1.0],
        dynamically_stable=False,
        phonons={"mode": "imaginary mode -2.00 THz at X"},
        verdict="unlikely: imaginary phonon -2.00 THz at X",
    )
    return CampaignResult(
        "t", ["Ba", "Ti", "O"], "chgnet", {"package": "chgnet"}, 2, 2, 0, 0, 1.0, [good, bad], []
    )


def test_report_has_synth_column_filter_and_route_card(tmp_path) -> None:  # type: ignore[no-untyped-def]
    page = write_report(_result(), tmp_path / "rep", stability_threshold=0.025).read_text(encoding="utf-8")
    assert "Synth." in page and 'id="synth-min"' in page and 'id="hide-unlikely"' in page
    assert 'data-synth="0.8300"' in page and 'data-unlikely="1"' in page
    assert 'id="routes-1"' in page and "BaCO3 + TiO2 -&gt; BaTiO3 + CO2" in page
    assert "imaginary mode -2.00 THz at X" in page and ">domain<" in page
    data = json.loads((tmp_path / "rep" / "candidates.json").read_text(encoding="utf-8"))
    c0 = data["candidates"][0]
    assert c0["synthesizability"] == 0.83 and c0["routes"][0]["dG_eV_atom"] == -0.186
    assert c0["dynamically_stable"] is True and c0["verdict"].startswith("new")
    csv = (tmp_path / "rep" / "candidates.csv").read_text(encoding="utf-8")
    assert "synthesizability" in csv.splitlines()[0] and "BaCO3 + TiO2 -> BaTiO3 + CO2" in csv
