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


def test_bonding_that_contradicts_the_compounds_chemistry_is_named():
    """KO2 is a superoxide (O2- dimers, O-O 1.28 Å in the real structure) and NaOH a compound of
    protons (O-H 0.97 Å); the same compositions with isolated O or H on an anion site are other
    compounds. A hydride oxide (LaHO: H-) and a plain oxide ask for no such bond."""
    from pymatgen.core import Lattice, Structure

    from mattwin.analysis.chemistry import bonding_problem, carries_protons

    # KO2 as NaCl-type K+ O2- (the dimer along c), and the same cell with one O per site (fluorite)
    real = Structure(
        Lattice.tetragonal(4.03, 6.70), ["K", "O", "O"], [[0, 0, 0], [0, 0, 0.404], [0, 0, 0.596]]
    )
    assert bonding_problem("KO2", real) is None
    fluorite = Structure.from_spacegroup("Fm-3m", Lattice.cubic(6.3), ["K", "O"], [[0, 0, 0], [0.25] * 3])
    assert "superoxide" in (bonding_problem("KO2", fluorite) or "")
    # NaOH: O-H 0.97 Å in the cell; then H moved 2 Å away from every O
    naoh = Structure(Lattice.cubic(4.5), ["Na", "O", "H"], [[0, 0, 0], [0.5, 0.5, 0.5], [0.5, 0.5, 0.7156]])
    assert carries_protons("NaOH") and bonding_problem("NaOH", naoh) is None
    apart = Structure(Lattice.cubic(4.5), ["Na", "O", "H"], [[0, 0, 0], [0.5, 0.5, 0.5], [0.0, 0.5, 0.5]])
    assert "H+" in (bonding_problem("NaOH", apart) or "")
    assert not carries_protons("LaHO") and not carries_protons("LiH")
    mgo = Structure.from_spacegroup("Fm-3m", Lattice.cubic(4.21), ["Mg", "O"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    assert bonding_problem("MgO", mgo) is None
