"""Campaign definitions from TOML: read what is there, refuse what is wrong with a clear message."""

from __future__ import annotations

import pytest

from mattwin.discovery.config import CampaignConfig
from mattwin.errors import CampaignError


def test_demo_campaign_file_reads(tmp_path):
    cfg = CampaignConfig.from_toml("examples/demo.toml")
    assert cfg.elements == ("Li", "Fe", "P", "O") and cfg.engine == "chgnet"
    assert cfg.max_atoms == 28 and cfg.compositions == ("LiFePO4",)


def test_flat_keys_sections_and_overrides(tmp_path):
    p = tmp_path / "c.toml"
    p.write_text('elements = ["Na", "Cl"]\n[screen]\nengine = "sevenn:7net-0"\nfmax = 0.02\n')
    cfg = CampaignConfig.from_toml(p).replace(budget=7, seed=None)
    assert cfg.engine == "sevenn:7net-0" and cfg.fmax == 0.02 and cfg.budget == 7 and cfg.seed == 0


def test_the_id_ignores_the_name_but_not_the_physics():
    a = CampaignConfig(elements=("Na", "Cl"), name="a")
    assert a.campaign_id == CampaignConfig(elements=("Cl", "Na"), name="b").campaign_id
    assert a.campaign_id != a.replace(fmax=0.01).campaign_id
    assert a.generation_id == a.replace(fmax=0.01).generation_id  # same candidates, other relaxation


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('elements = ["Na"]\nbudgett = 3\n', "unknown keys budgett"),
        ("[campaign]\nname = 'x'\n", "no 'elements'"),
        ('elements = ["Na"]\ntargets = ["colour:max"]\n', "target 'colour:max'"),
        ('elements = ["Na"\n', "cannot read campaign file"),
        ('elements = ["Na"]\nbudget = 0\n', "must be positive"),
    ],
)
def test_bad_campaign_files_name_the_problem(tmp_path, text, message):
    p = tmp_path / "bad.toml"
    p.write_text(text)
    with pytest.raises(CampaignError, match=message):
        CampaignConfig.from_toml(p)
