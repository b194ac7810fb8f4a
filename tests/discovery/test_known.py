"""Known or new: compositions known from experiment, and the searched structures of known compounds that
join the competing phases of a chemical space."""

import pytest

from mattwin.discovery.known import PREDICTED, known_compositions, predicted_references


def test_known_compositions_name_their_source():
    known = known_compositions(measured=["Li7La3Zr2O12"])
    assert known["LiPO3"].startswith("experimental formation enthalpy")
    assert known["LiFePO4"].startswith("reference library")  # olivine, Materials Project via pymatgen
    assert known["Li7La3Zr2O12"] == "lab measurement"
    assert "LiFe2P3O10" not in known  # a hypothetical composition


def test_predicted_structures_of_known_compounds_join_the_demo_space():
    refs = predicted_references(["Li", "Fe", "P", "O"])
    formulas = {r.formula for r in refs}
    # LiPO3 is measured (exp_compounds) but has no structure in the reference library
    assert "LiPO3" in formulas
    assert all(r.name.endswith(f"({PREDICTED})") and "composition known" in r.source for r in refs)
    assert all(r.elements <= {"Li", "Fe", "P", "O"} for r in refs)


def test_measured_enthalpies_of_solids_from_the_tables():
    """exp_compounds first; FREED's ΔfG(T) gives ΔfH(298 K) within 5 meV/atom of exp_compounds where both
    list a compound; a species NIST-JANAF knows only as a gas (PO2) is neither measured nor a known
    compound; Li3PO4 (CRC Handbook) is."""
    from mattwin.discovery.known import _enthalpy_298, _rxn_network_data, measured_enthalpies

    m = measured_enthalpies()
    assert m["LiPO3"].source.startswith("pymatgen exp_compounds")
    assert m["Li4P2O7"].source.startswith("FREED")
    assert -2.75 < m["Li4P2O7"].value < -2.6
    freed = _rxn_network_data()
    for f in ("Fe2O3", "LiPO3", "P2O5", "Li2O"):
        assert _enthalpy_298(f, freed[f][1]) == pytest.approx(m[f].value, abs=0.005)
    assert "PO2" not in m and "PO2" not in known_compositions()
    kj_mol_per_ev = 1.602176634e-19 * 6.02214076e23 / 1000  # e N_A, both exact (SI 2019): 96.4853...
    assert m["Li3PO4"].value == pytest.approx(-2095.8 / kj_mol_per_ev / 8, rel=1e-9)
    assert "Li3PO4" in known_compositions()
