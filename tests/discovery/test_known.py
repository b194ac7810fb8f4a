"""Known or new: compositions known from experiment, and the searched structures of known compounds that
join the competing phases of a chemical space."""

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
