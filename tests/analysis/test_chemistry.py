"""Chemistry classes and MP2020-style correction species."""

import pytest

from mattwin.analysis.chemistry import chemistry_class, correction_species, oxide_type


@pytest.mark.parametrize(
    ("formula", "cls"),
    [
        ("Fe2O3", "TM oxide"),
        ("MgO", "oxide"),
        ("NaCl", "halide"),
        ("FeF3", "TM fluoride"),
        ("LiF", "fluoride"),
        ("CaS", "chalcogenide"),
        ("GaN", "nitride"),
        ("LiH", "hydride"),
        ("Ni3Al", "intermetallic"),
        ("SiC", "carbide"),
        ("MgB2", "boride"),
        ("Fe", "element"),
    ],
)
def test_chemistry_class_by_anion(formula, cls):
    assert chemistry_class(formula) == cls


def test_oxide_types_from_charge_balance_and_bond_length():
    assert oxide_type("Li2O") == "oxide"
    assert oxide_type("Li2O2") == "peroxide"
    assert oxide_type("KO2") == "superoxide"
    assert oxide_type("BaO2", o_o_distance=1.49) == "peroxide"
    assert oxide_type("BaO2", o_o_distance=2.6) == "oxide"


def test_correction_species_count_the_atoms_they_apply_to():
    assert correction_species("Fe2O3") == {"oxide": 3.0, "Fe(U)": 2.0}
    assert correction_species("Li3N") == {"N": 1.0}
    # nitrogen in a nitrate is not a nitride anion; oxygen is corrected as an oxide
    assert correction_species("LiNO3") == {"oxide": 3.0}
    # Fe in a sulfide gets no U correction
    assert correction_species("FeS2") == {"S": 2.0}
    assert correction_species("Cu") == {}
