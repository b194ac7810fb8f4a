"""The shipped library of competing phases and the import of user references (no MLIP calls)."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
from pymatgen.core import Lattice, Structure
from pymatgen.symmetry.analyzer import SpacegroupAnalyzer

from mattwin.discovery.references import (
    ReferencePhase,
    builtin_references,
    load_reference_files,
)
from mattwin.errors import MaterialReadError
from mattwin.materials import check_physical


def _by_name(phases: list[ReferencePhase], name: str) -> ReferencePhase:
    matches = [p for p in phases if p.name == name]
    assert len(matches) == 1, f"{name!r}: {len(matches)} entries"
    return matches[0]


def _conventional_a(phase: ReferencePhase) -> float:
    conv = SpacegroupAnalyzer(phase.structure, symprec=0.1).get_conventional_standard_structure()
    return float(conv.lattice.a)


def _space_group(phase: ReferencePhase) -> str:
    return SpacegroupAnalyzer(phase.structure, symprec=0.1).get_space_group_symbol()


@pytest.fixture(scope="module")
def library() -> list[ReferencePhase]:
    return builtin_references()


@pytest.fixture(scope="module")
def lifepo() -> list[ReferencePhase]:
    return builtin_references(["Li", "Fe", "P", "O"])


def test_li_fe_p_o_library_has_elements_and_known_compounds(lifepo):
    elements = {p.formula for p in lifepo if len(p.elements) == 1}
    assert {"Li", "Fe", "P", "O2"} <= elements
    formulas = {p.formula for p in lifepo}
    expected = {
        "Li2O", "Li2O2", "FeO", "Fe2O3", "Fe3O4", "LiFePO4", "FePO4",
        "Li3Fe2(PO4)3", "LiFeO2", "Fe2P", "FeP", "Li3P",
    }  # fmt: skip
    assert expected <= formulas, expected - formulas
    assert all(p.elements <= {"Li", "Fe", "P", "O"} for p in lifepo)
    # LiFeO2 is the metastable layered polymorph: the entry must say so
    assert "metastable" in _by_name(lifepo, "LiFeO2 layered (alpha-NaFeO2 type)").polymorph_note
    assert "Li removed" in _by_name(lifepo, "FePO4 heterosite").source


def test_every_entry_has_a_source_and_a_unique_name(library):
    assert len(library) > 150
    assert all(p.source.strip() for p in library)
    names = [p.name for p in library]
    assert len(names) == len(set(names))
    delta = [p for p in library if p.source.startswith("Delta test set")]
    assert len(delta) == 71


def test_subset_filter_na_cl(library):
    phases = builtin_references(["Na", "Cl"])
    assert {p.formula for p in phases} == {"Na", "Cl2", "NaCl"}
    assert builtin_references([]) == []
    # the filter keeps exactly the library entries whose elements are a subset
    assert len(phases) == sum(1 for p in library if p.elements <= {"Na", "Cl"})


def test_returned_structures_are_copies():
    first = builtin_references(["Na", "Cl"])
    first[0].structure.scale_lattice(2 * first[0].structure.volume)
    again = builtin_references(["Na", "Cl"])
    assert again[0].structure.volume == pytest.approx(first[0].structure.volume / 2)


def test_olivine_lifepo4_is_pnma_with_28_atoms(lifepo):
    olivine = _by_name(lifepo, "LiFePO4 olivine (triphylite)")
    assert len(olivine.structure) == 28
    assert _space_group(olivine) == "Pnma"


def test_li3po4_polymorphs_in_their_measured_cells(lifepo):
    """gamma- (Pnma, 32 atoms) and beta-Li3PO4 (Pmn2_1, 16 atoms) rebuilt from their published asymmetric
    units: the X-ray densities of the papers (2.445 and 2.472 g/cm3) and PO4 tetrahedra of 1.53-1.55 Å."""
    for name, sg, n, density in (
        ("Li3PO4 gamma (Pnma)", "Pnma", 32, 2.445),
        ("Li3PO4 beta (Pmn2_1)", "Pmn2_1", 16, 2.472),
    ):
        s = _by_name(lifepo, name).structure
        assert len(s) == n and _space_group(_by_name(lifepo, name)) == sg
        assert float(s.density) == pytest.approx(density, abs=0.005)
        for site in s:
            if site.specie.symbol == "P":
                bonds = sorted(nb.nn_distance for nb in s.get_neighbors(site, 1.9))
                assert len(bonds) == 4 and 1.52 < bonds[0] and bonds[-1] < 1.56


def test_rock_salts_and_corundum(library):
    nacl = _by_name(library, "NaCl rock salt")
    assert _space_group(nacl) == "Fm-3m"
    assert _conventional_a(nacl) == pytest.approx(5.64, rel=0.03)
    mgo = _by_name(library, "MgO rock salt (periclase)")
    assert _space_group(mgo) == "Fm-3m"
    assert _conventional_a(mgo) == pytest.approx(4.21, rel=0.03)
    fe2o3 = _by_name(library, "Fe2O3 corundum (hematite)")
    assert _space_group(fe2o3) == "R-3c"
    assert "Fe for Al" in fe2o3.source


def test_all_library_structures_are_physical_small_and_right_handed(library):
    for phase in library:
        check_physical(phase.structure, phase.name)
        assert np.linalg.det(phase.structure.lattice.matrix) > 0, phase.name
        assert phase.structure.is_ordered, phase.name
        assert len(phase.structure) <= 64, phase.name


def test_dict_round_trip(library):
    phase = _by_name(library, "Fe3O4 spinel (magnetite)")
    back = ReferencePhase.from_dict(json.loads(json.dumps(phase.to_dict())))
    assert back.name == phase.name and back.source == phase.source and back.formula == "Fe3O4"
    assert back.polymorph_note == phase.polymorph_note
    assert np.allclose(back.structure.lattice.matrix, phase.structure.lattice.matrix)


# --- user references ------------------------------------------------------------------------------


def _rock_salt(a: float, cation: str, anion: str) -> Structure:
    return Structure.from_spacegroup("Fm-3m", Lattice.cubic(a), [cation, anion], [[0, 0, 0], [0.5, 0.5, 0.5]])


def test_cif_folder_import(tmp_path):
    _rock_salt(5.64, "Na", "Cl").to(filename=str(tmp_path / "nacl.cif"))
    _rock_salt(4.21, "Mg", "O").to(filename=str(tmp_path / "mgo.cif"))
    phases = load_reference_files(tmp_path)
    assert sorted(p.formula for p in phases) == ["MgO", "NaCl"]
    for p in phases:
        assert p.source.startswith("user: ") and str(tmp_path) in p.source
        assert p.relax_cell
        assert np.linalg.det(p.structure.lattice.matrix) > 0


def test_mp_json_export_keeps_material_id(tmp_path):
    nacl = _rock_salt(5.64, "Na", "Cl").get_primitive_structure()
    export = tmp_path / "mp_export.json"
    export.write_text(json.dumps([{"material_id": "mp-22862", "structure": nacl.as_dict()}]))
    (phase,) = load_reference_files(export)
    assert phase.formula == "NaCl"
    assert "mp-22862" in phase.source and "Materials Project" in phase.source
    assert "mp_export.json" in phase.source
    # the {"data": [...]} wrapper of the MP API and a ComputedStructureEntry-like document
    wrapped = tmp_path / "wrapped.json"
    wrapped.write_text(
        json.dumps({"data": [{"entry_id": "mp-1265", "energy": -12.0, "structure": nacl.as_dict()}]})
    )
    (entry,) = load_reference_files(wrapped)
    assert "mp-1265" in entry.source


def test_malformed_cif_error_names_the_file(tmp_path):
    bad = tmp_path / "broken.cif"
    bad.write_text("data_broken\n_cell_length_a 5.0\n_cell_length_b\nloop_\n_atom_site_label\nNa1 0 0\n")
    with pytest.raises(MaterialReadError, match="broken.cif"):
        load_reference_files(bad)
    # a folder whose only file is bad raises one error naming it
    with pytest.raises(MaterialReadError, match="broken.cif"):
        load_reference_files(tmp_path)
    # next to a good file, the bad one is skipped with a warning naming it
    _rock_salt(5.64, "Na", "Cl").to(filename=str(tmp_path / "nacl.cif"))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        phases = load_reference_files(tmp_path)
    assert [p.formula for p in phases] == ["NaCl"]
    assert any("broken.cif" in str(w.message) for w in caught)


def test_json_without_structures_is_rejected(tmp_path):
    bad = tmp_path / "export.json"
    bad.write_text(json.dumps([{"material_id": "mp-1", "formula_pretty": "NaCl"}]))
    with pytest.raises(MaterialReadError, match="export.json"):
        load_reference_files(bad)
    with pytest.raises(MaterialReadError, match="no such file"):
        load_reference_files(tmp_path / "missing")


def test_every_element_an_engine_covers_has_a_ground_state_reference():
    """A ceria catalyst or a Nd-Fe-B magnet can be judged: lanthanides, actinides, Ra, Fr and At
    have elemental reference phases too (measured structures, cited; Fr and At predicted, said so)."""
    from mattwin.engines.registry import get_engine

    elemental = {next(iter(r.elements)): r for r in builtin_references() if len(r.elements) == 1}
    covered = get_engine("chgnet").supported_elements()
    assert sorted(covered - set(elemental)) == []
    ce = elemental["Ce"]
    assert ce.structure.lattice.volume / len(ce.structure) == pytest.approx(5.161**3 / 4, rel=1e-3)
    assert "Spedding" in ce.source
    nd = [r for r in builtin_references(["Nd"]) if r.formula == "Nd"][0]
    assert len(nd.structure) == 4  # double-hexagonal close packed (ABAC)
    assert "never measured" in elemental["At"].polymorph_note
