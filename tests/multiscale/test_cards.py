"""Material cards: Abaqus/CalculiX ordering of the 21 anisotropic constants, round trips."""

from __future__ import annotations

import json

import numpy as np
import pytest
import yaml

from mattwin.errors import PartModelError
from mattwin.multiscale.cards import (
    MaterialCard,
    abaqus_card,
    abaqus_constants,
    parse_abaqus_card,
    voigt_from_abaqus,
    write_cards,
)


def _triclinic() -> np.ndarray:
    rng = np.random.default_rng(3)
    a = rng.normal(0, 20, (6, 6))
    return a @ a.T + 150 * np.eye(6)  # symmetric positive definite, all 21 constants distinct


def test_abaqus_order_puts_shear_12_before_13_before_23():
    c = _triclinic()
    d = abaqus_constants(c)
    assert len(d) == 21
    # D1111 D1122 D2222 D1133 D2233 D3333 D1112 D2212 D3312 D1212 D1113 ... D2323 (Pa); Voigt 4=yz 5=xz 6=xy
    assert d[0] == pytest.approx(c[0, 0] * 1e9) and d[1] == pytest.approx(c[0, 1] * 1e9)
    assert d[3] == pytest.approx(c[0, 2] * 1e9)
    assert d[6] == pytest.approx(c[0, 5] * 1e9)  # D1112 = C16
    assert d[9] == pytest.approx(c[5, 5] * 1e9)  # D1212 = C66
    assert d[13] == pytest.approx(c[5, 4] * 1e9)  # D1213 = C65
    assert d[14] == pytest.approx(c[4, 4] * 1e9)  # D1313 = C55
    assert d[15] == pytest.approx(c[0, 3] * 1e9)  # D1123 = C14
    assert d[20] == pytest.approx(c[3, 3] * 1e9)  # D2323 = C44
    assert np.allclose(voigt_from_abaqus(d), c)


def test_abaqus_card_round_trips_with_density_conductivity_and_heat():
    card = MaterialCard(
        "Si chgnet", _triclinic().tolist(), 2329.0, [[150, 1, 2], [1, 140, 3], [2, 3, 130]], 705.0
    )
    text = abaqus_card(card)
    assert "*ELASTIC, TYPE=ANISO" in text and "*CONDUCTIVITY, TYPE=ANISO" in text
    lines = text.splitlines()
    start = lines.index("*ELASTIC, TYPE=ANISO")
    assert [len(lines[start + i].split(",")) for i in (1, 2, 3)] == [8, 8, 5]  # 8 constants per line
    back = parse_abaqus_card(text)
    assert back["name"] == "Si_chgnet"
    assert np.allclose(back["C_GPa"], card.C_GPa, rtol=1e-7)
    assert back["density_kg_m3"] == 2329.0 and back["specific_heat_J_kgK"] == 705.0
    assert np.allclose(back["conductivity_W_mK"], card.conductivity_W_mK)
    with pytest.raises(PartModelError, match="21 constants"):
        voigt_from_abaqus([1.0] * 20)


def test_json_and_yaml_cards_load_back(tmp_path):
    card = MaterialCard("Cu", _triclinic().tolist(), 8960.0, 400.0, 385.0, provenance={"engine": "emt"})
    paths = write_cards(card, tmp_path)
    assert [p.suffix for p in paths] == [".json", ".yaml", ".inp"]
    assert MaterialCard.from_dict(json.loads(paths[0].read_text())) == card
    assert MaterialCard.from_dict(yaml.safe_load(paths[1].read_text())) == card
    assert "*CONDUCTIVITY\n400" in paths[2].read_text()


def test_abaqus_card_writes_fit_round_off_as_zero():
    from mattwin.multiscale.cards import abaqus_constants

    c = np.diag([172.7, 172.7, 172.7, 90.0, 90.0, 90.0])
    c[:3, :3] += 115.6 * (1 - np.eye(3))
    c[0, 4] = c[4, 0] = 3e-14  # a cubic crystal's fitted C: zero up to round-off
    constants = abaqus_constants(c)
    assert constants.count(0.0) == 21 - 9  # 3 C11 + 3 C12 + 3 C44 remain
    assert max(constants) == pytest.approx(172.7e9)
