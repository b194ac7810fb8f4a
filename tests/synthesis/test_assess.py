"""The synthesis verdict end to end with CHGNet (``mattwin stability`` on cubic BaTiO3: relaxed with
the reference phases, judged, phonons, routes with its calibrated energy), the settings, and bad input
(exit 2, one ``error:`` line)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pymatgen.core import Lattice, Structure
from typer.testing import CliRunner

from mattwin.cli.main import app
from mattwin.discovery.config import CampaignConfig
from mattwin.discovery.results import RankedCandidate
from mattwin.errors import CampaignError, SettingsError
from mattwin.synthesis import SynthesisSettings, verdict

SYNTH_FIELDS = (
    "known_compound",
    "synthesizability",
    "synthesizability_interval",
    "dynamically_stable",
    "phonons",
    "routes",
    "metastability_window",
    "gibbs",
    "verdict",
)


def _cubic_batio3_cif(tmp_path: Path) -> Path:
    s = Structure(
        Lattice.cubic(4.0),
        ["Ba", "Ti", "O", "O", "O"],
        [[0, 0, 0], [0.5, 0.5, 0.5], [0.5, 0.5, 0], [0.5, 0, 0.5], [0, 0.5, 0.5]],
    )
    path = tmp_path / "BaTiO3.cif"
    s.to(filename=str(path))
    return path


def test_stability_of_cubic_batio3_unlikely_with_a_downhill_carbonate_route(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Cubic BaTiO3 (CHGNet): a known composition, but the cubic cell has the ferroelectric soft mode,
    so the verdict is "unlikely: imaginary phonon"; its routes use the candidate's own calibrated
    energy, and BaCO3 + TiO2 -> BaTiO3 + CO2 is downhill at 1000 K."""
    res = CliRunner().invoke(
        app, ["stability", str(_cubic_batio3_cif(tmp_path)), "--db", str(tmp_path / "t.db"), "--json"]
    )
    assert res.exit_code == 0, res.output
    (row,) = json.loads(res.stdout)
    assert all(k in row for k in SYNTH_FIELDS)
    assert row["known_compound"]
    assert row["dynamically_stable"] is False
    assert row["phonons"]["min_frequency_THz"] < -2.0 and row["phonons"]["qpoint"]
    assert row["verdict"].startswith("unlikely: imaginary phonon")
    assert row["metastability_window"]["chemistry"] == "TM oxide"
    assert row["gibbs"]["temperature_K"] == 1000.0 and row["gibbs"]["dGf_eV_atom"] < -2.0
    assert 1 <= len(row["routes"]) <= 3
    assert all(r["dG_eV_atom"] < 0 and r["temperature_K"] == 1000.0 for r in row["routes"])
    carb = [r for r in row["routes"] if sorted(r["precursors"]) == ["BaCO3", "TiO2"]]
    assert carb and carb[0]["dG_eV_atom"] < 0 and "CO2" in carb[0]["reaction"]
    assert 0.0 <= row["synthesizability"] <= 1.0


def _cand(**kw) -> RankedCandidate:  # type: ignore[no-untyped-def]
    base = dict(rank=1, candidate_id="x", formula="LiFePO4", origin="o", status="ok", n_atoms=28)
    return RankedCandidate(**{**base, **kw})  # type: ignore[arg-type]


def test_verdict_lines() -> None:
    window = {"chemistry": "TM oxide", "window_eV_atom": 0.067, "source": "Sun"}
    new = _cand(
        e_hull=0.024,
        e_hull_interval=[0.009, 0.039],
        metastability_window=window,
        synthesizability=0.71,
        synthesizability_interval=[0.5, 0.9],
        dynamically_stable=True,
    )
    line = verdict(new)
    assert line.startswith("new; 24 ± 15 meV/atom above hull (within the TM oxide window of 67 meV/atom)")
    assert "dynamically stable" in line and "synthesizability 0.71" in line
    far = _cand(e_hull=0.2, e_hull_interval=[0.15, 0.25], metastability_window=window)
    assert verdict(far).startswith("unlikely: 200 meV/atom above hull, beyond the TM oxide window")
    soft = _cand(e_hull=0.0, dynamically_stable=False, phonons={"mode": "imaginary mode -1.20 THz at X"})
    assert verdict(soft).startswith("unlikely: imaginary phonon -1.20 THz at X")
    out = _cand(e_hull=0.0, synthesizability=None, synthesizability_interval=[0.0, 1.0])
    assert "outside the model's domain" in verdict(out)
    assert verdict(_cand(status="failed", error="boom")).startswith("not judged: failed")
    known = _cand(
        e_hull=0.019, known_compound="reference library", thermo_note="19 meV/atom above the known X"
    )
    assert verdict(known).startswith(
        "known compound (reference library); 19 meV/atom above hull; 19 meV/atom above"
    )


@pytest.mark.parametrize(
    ("kw", "match"),
    [
        ({"temperature_K": 100.0}, "300 to 2000 K"),
        ({"phonons_top": -1}, "phonons_top"),
        ({"routes_top": 1.5}, "routes_top"),
        ({"phonon_tolerance_THz": 9.0}, "phonon tolerance"),
    ],
)
def test_bad_settings(kw, match) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(SettingsError, match=match):
        SynthesisSettings(**kw)


def test_synthesize_section_of_a_campaign_file_and_the_campaign_id(tmp_path) -> None:  # type: ignore[no-untyped-def]
    base = '[campaign]\nelements = ["Li", "O"]\n'
    (tmp_path / "a.toml").write_text(base)
    (tmp_path / "b.toml").write_text(base + "[synthesize]\ntemperature_K = 1200\nphonons_top = 1\n")
    a, b = CampaignConfig.from_toml(tmp_path / "a.toml"), CampaignConfig.from_toml(tmp_path / "b.toml")
    assert b.temperature_K == 1200 and b.phonons_top == 1
    assert a.campaign_id == b.campaign_id  # post-processing: the same stored relaxations
    (tmp_path / "c.toml").write_text(base + "[synthesize]\ntemperature_K = 3000\n")
    with pytest.raises(CampaignError, match="temperature_K"):
        CampaignConfig.from_toml(tmp_path / "c.toml")
    (tmp_path / "d.toml").write_text(base + '[synthesize]\nphonons_top = "all"\n')
    with pytest.raises(CampaignError, match="phonons_top"):
        CampaignConfig.from_toml(tmp_path / "d.toml")
    (tmp_path / "e.toml").write_text(base + "[synthesize]\nphonon_top = 3\n")  # a typo
    with pytest.raises(CampaignError, match="unknown keys phonon_top"):
        CampaignConfig.from_toml(tmp_path / "e.toml")


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--temperature", "5000"], "temperature_K = 5000"),
        (["--temperature", "abc"], "--temperature"),
        (["--phonons-top", "-2"], "phonons_top = -2"),
        (["--routes-top", "1000"], "routes_top = 1000"),
    ],
)
def test_stability_bad_synthesis_options_exit_2(tmp_path, args, needle) -> None:  # type: ignore[no-untyped-def]
    res = CliRunner().invoke(
        app, ["stability", str(_cubic_batio3_cif(tmp_path)), "--db", str(tmp_path / "t.db"), *args]
    )
    assert res.exit_code == 2, res.output
    assert "Traceback" not in res.output
    assert needle in res.stderr
