"""The HTML campaign report: page content, escaping, plotly embedded once, CIF/CSV/JSON side files."""

from __future__ import annotations

import csv
import json
import re
from dataclasses import replace
from pathlib import Path

import pytest
from pymatgen.analysis.phase_diagram import PDEntry, PhaseDiagram
from pymatgen.core import Composition, Lattice, Structure
from pymatgen.io.cif import CifParser

from mattwin.discovery.results import CampaignResult, HullPoint, RankedCandidate
from mattwin.report import write_report

PLOTLY_BANNER = "* plotly.js v"
EVIL = "boom <script>alert('x')</script> & more"


def _nacl() -> Structure:
    return Structure.from_spacegroup("Fm-3m", Lattice.cubic(5.64), ["Na", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]])


def _na2cl() -> Structure:
    return Structure(Lattice.cubic(4.5), ["Na", "Na", "Cl"], [[0, 0, 0], [0.5, 0.5, 0], [0.5, 0, 0.5]])


def _result(std: bool = True) -> CampaignResult:
    s = 0.004 if std else None
    cands = [
        # listed out of rank order on purpose: the table must come out sorted
        RankedCandidate(
            rank=2,
            candidate_id="sub-na2cl",
            formula="Na2Cl",
            origin="substitution",
            status="ok",
            n_atoms=3,
            spacegroup="Pmmm",
            energy_per_atom=-2.1,
            energy_per_atom_std=s,
            formation_energy_per_atom=-1.2,
            formation_energy_per_atom_std=s,
            e_hull=0.31,
            e_hull_std=s,
            decomposition="NaCl + Na",
            volume_per_atom=30.4,
            structure=_na2cl().as_dict(),
        ),
        RankedCandidate(
            rank=1,
            candidate_id="proto-nacl",
            formula="NaCl",
            origin="prototype",
            status="ok",
            n_atoms=8,
            spacegroup="Fm-3m",
            energy_per_atom=-3.3,
            energy_per_atom_std=s,
            formation_energy_per_atom=-2.0,
            formation_energy_per_atom_std=s,
            e_hull=0.0,
            e_hull_std=s,
            decomposition="NaCl",
            volume_per_atom=22.43,
            structure=_nacl().as_dict(),
        ),
        RankedCandidate(
            rank=3,
            candidate_id="rand-nan",
            formula="NaCl3",
            origin="random",
            status="ok",
            n_atoms=4,
            e_hull=float("nan"),
        ),
        RankedCandidate(
            rank=4,
            candidate_id="bad<id>",
            formula="NaCl2",
            origin="random",
            status="failed",
            n_atoms=3,
            error=EVIL,
        ),
    ]
    points = [
        HullPoint("Na", "Na", "reference", 0.0, 0.0, "ref"),
        HullPoint("Cl2", "Cl2", "reference", 0.0, 0.0, "ref"),
        HullPoint("proto-nacl", "NaCl", "candidate", -2.0, 0.0),
    ]
    return CampaignResult(
        name="NaCl <test> campaign",
        elements=["Na", "Cl"],
        engine="ensemble",
        engine_signature={
            "engine": "ensemble",
            "members": [
                {"engine": "chgnet", "package": "chgnet", "version": "0.4.2", "model": "0.3.0"},
                {"engine": "sevenn", "package": "sevenn", "version": "0.13", "model": "7net-0"},
            ],
        },
        n_generated=10,
        n_screened=4,
        n_failed=1,
        n_cached=2,
        wall_time_s=125.0,
        candidates=cands,
        hull_points=points,
        parameters={"seed": 7},
    )


def _phase_diagram() -> PhaseDiagram:
    entries = [
        PDEntry(Composition("Na"), 0.0),
        PDEntry(Composition("Cl2"), 0.0),
        PDEntry(Composition("NaCl"), -4.0),
        PDEntry(Composition("Na2Cl"), -3.0),
    ]
    return PhaseDiagram(entries)


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    out = tmp_path_factory.mktemp("rep")
    path = write_report(_result(), out, phase_diagram=_phase_diagram())
    return path, path.read_text(encoding="utf-8")


def test_page_written_with_header(report: tuple[Path, str]) -> None:
    path, page = report
    assert path.name == "report.html" and path.exists()
    assert "NaCl &lt;test&gt; campaign" in page and "<test>" not in page
    assert "Na–Cl" in page
    assert "chgnet 0.4.2" in page and "7net-0" in page
    assert "2 min 05 s" in page


def test_ranked_rows_in_rank_order(report: tuple[Path, str]) -> None:
    page = report[1]
    ids = re.findall(r'<tr id="cand-(\d+)"', page)
    assert ids == ["1", "2", "3"]  # the failed candidate is not ranked
    row1 = page[page.index('id="cand-1"') : page.index('id="cand-2"')]
    assert "on hull" in row1 and "± 0.004" in row1 and "Fm-3m" in row1
    assert "Na<sub>2</sub>Cl" in page
    row3 = page[page.index('id="cand-3"') :].split("</tr>")[0]
    assert ">nan<" not in row3.lower() and 'data-v="nan"' not in row3 and "—" in row3
    assert 'class="sortable"' in page and "aria-sort" in page


def test_failed_message_escaped(report: tuple[Path, str]) -> None:
    page = report[1]
    assert "boom &lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; more" in page
    assert "<script>alert" not in page
    assert "bad&lt;id&gt;" in page
    # every <script> on the page is ours: plotly.js, four figures and the sort script
    assert page.count("<script") == page.count("</script>")


def test_plotly_once_and_plots(report: tuple[Path, str]) -> None:
    page = report[1]
    assert page.count(PLOTLY_BANNER) == 1
    assert "<script src" not in page and "<link" not in page  # nothing fetched: opens offline
    for div in ("hull-plot", "ehull-strip", "formation-vs-ehull", "ehull-histogram"):
        assert f'id="{div}"' in page


def test_cifs_parse_back(report: tuple[Path, str]) -> None:
    path, page = report
    cifs = sorted((path.parent / "structures").glob("*.cif"))
    assert [c.name for c in cifs] == ["1_NaCl_proto-nacl.cif", "2_Na2Cl_sub-na2cl.cif"]
    for cif, expected in zip(cifs, (_nacl(), _na2cl()), strict=True):
        s = CifParser(cif).parse_structures(primitive=False)[0]
        assert s.composition.reduced_composition == expected.composition.reduced_composition
        assert f'href="structures/{cif.name}"' in page


def test_csv_and_json(report: tuple[Path, str]) -> None:
    out = report[0].parent
    with (out / "candidates.csv").open(encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    header, body = rows[0], rows[1:]
    assert "e_hull (eV/atom)" in header and "volume (Å^3/atom)" in header
    assert len(body) == 4
    by_id = {r[header.index("candidate_id")]: r for r in body}
    assert by_id["proto-nacl"][header.index("cif")] == "structures/1_NaCl_proto-nacl.cif"
    assert by_id["rand-nan"][header.index("e_hull (eV/atom)")] == ""
    data = json.loads((out / "candidates.json").read_text(encoding="utf-8"))
    assert len(data["candidates"]) == 4 and data["name"] == "NaCl <test> campaign"


def test_single_engine_no_std_and_no_phase_diagram(tmp_path: Path) -> None:
    page = write_report(_result(std=False), tmp_path).read_text(encoding="utf-8")
    ranked = page.split('id="ranked"')[1].split("</table>")[0]
    assert "<tbody>" in ranked and 'class="pm"' not in ranked
    assert 'id="hull-plot"' not in page and 'id="ehull-strip"' in page
    assert page.count(PLOTLY_BANNER) == 1


def test_zero_candidates(tmp_path: Path) -> None:
    r = CampaignResult("empty", ["Na", "Cl"], "chgnet", {"package": "chgnet"}, 0, 0, 0, 0, 0.5, [], [])
    path = write_report(r, tmp_path / "new" / "dir")
    page = path.read_text(encoding="utf-8")
    assert "No candidates" in page
    assert not (path.parent / "structures").exists()
    with (path.parent / "candidates.csv").open(encoding="utf-8") as fh:
        assert len(list(csv.reader(fh))) == 1


def test_all_failed(tmp_path: Path) -> None:
    r = _result()
    failed = [c for c in r.candidates if c.status == "failed"]
    r2 = CampaignResult(r.name, r.elements, r.engine, r.engine_signature, 1, 1, 1, 0, 1.0, failed, [])
    page = write_report(r2, tmp_path).read_text(encoding="utf-8")
    assert "No candidate was screened successfully" in page
    assert "boom &lt;script&gt;" in page


CAL = {
    "name": "ensemble@0123abcd4567",
    "engine": "ensemble",
    "version": "0123abcd4567",
    "n_compounds": 812,
    "fitted_on": {"reference_set": "synthetic"},
    "heldout_mae_raw": 0.121,
    "heldout_mae_calibrated": 0.043,
    "coverage_90": 0.88,
    "coverage_68": 0.66,
}


def _calibrated() -> CampaignResult:
    r = _result()
    extra = {
        "proto-nacl": {"e_hull_interval": [0.0, 0.009], "p_stable": 0.995, "raw_e_hull": 0.0},
        "sub-na2cl": {
            "e_hull": 0.012,
            "e_hull_interval": [0.0, 0.041],
            "formation_energy_interval": [-1.25, -1.15],
            "p_stable": 0.87,
            "raw_e_hull": 0.31,
            "raw_formation_energy_per_atom": -0.9,
        },
    }
    cands = [
        replace(c, calibration=CAL["name"], **extra.get(c.candidate_id, {})) if c.status == "ok" else c
        for c in r.candidates
    ]
    return replace(r, candidates=cands, calibration=CAL)


@pytest.fixture(scope="module")
def calibrated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    path = write_report(_calibrated(), tmp_path_factory.mktemp("cal"))
    return path, path.read_text(encoding="utf-8")


def test_calibrated_columns(calibrated: tuple[Path, str]) -> None:
    page = calibrated[1]
    ranked = page.split('id="ranked"')[1].split("</table>")[0]
    assert "P(stable)</th>" in ranked and "raw E<sub>hull</sub></th>" in ranked
    row2 = ranked[ranked.index('id="cand-2"') :].split("</tr>")[0]
    assert '0.012 <span class="pm">[0.000, 0.041]</span>' in row2
    assert '<td class="num" data-v="0.87">87 %</td>' in row2
    assert '<td class="num" data-v="0.31">0.310</td>' in row2  # the raw E_hull
    assert "[-1.250, -1.150]" in row2  # E_f with its interval
    assert "&gt; 99 %" in ranked[ranked.index('id="cand-1"') :].split("</tr>")[0]
    row3 = ranked[ranked.index('id="cand-3"') :].split("</tr>")[0]
    assert row3.count("—") >= 3  # no E_hull, no P(stable), no raw value


def test_calibration_in_header(calibrated: tuple[Path, str]) -> None:
    page = calibrated[1]
    header = page.split("<header>")[1].split("</header>")[0]
    assert "ensemble@0123abcd4567" in header and "812 compounds" in header
    assert "held-out MAE 0.121 → 0.043 eV/atom" in header and "cover 88 %" in header
    assert "raw energies" not in header
    assert "P(stable) ≥ 50 %" in page
    assert "Energy above hull of ranked candidates (90 % interval)" in page
    assert "raw (uncalibrated)" in page


def test_raw_energies_noted(report: tuple[Path, str]) -> None:
    page = report[1]
    header = page.split("<header>")[1].split("</header>")[0]
    assert "raw energies (no calibration)" in header
    ranked = page.split('id="ranked"')[1].split("</table>")[0]
    assert "P(stable)" not in ranked and "raw E<sub>hull</sub>" not in ranked


def test_calibrated_tables(calibrated: tuple[Path, str]) -> None:
    out = calibrated[0].parent
    with (out / "candidates.csv").open(encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    header = rows[0]
    by_id = {r[header.index("candidate_id")]: r for r in rows[1:]}
    na2cl = by_id["sub-na2cl"]
    assert na2cl[header.index("e_hull_low_90 (eV/atom)")] == "0.0"
    assert na2cl[header.index("e_hull_high_90 (eV/atom)")] == "0.041"
    assert na2cl[header.index("p_stable")] == "0.87"
    assert na2cl[header.index("raw_e_hull (eV/atom)")] == "0.31"
    assert na2cl[header.index("formation_energy_low_90 (eV/atom)")] == "-1.25"
    assert na2cl[header.index("calibration")] == CAL["name"]
    assert by_id["rand-nan"][header.index("e_hull_low_90 (eV/atom)")] == ""
    data = json.loads((out / "candidates.json").read_text(encoding="utf-8"))
    assert data["calibration"]["name"] == CAL["name"]
    cand = next(c for c in data["candidates"] if c["candidate_id"] == "sub-na2cl")
    assert cand["e_hull_interval"] == [0.0, 0.041] and cand["p_stable"] == 0.87
