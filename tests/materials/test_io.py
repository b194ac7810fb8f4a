"""Reading and writing structure files; clear errors for bad input."""

from __future__ import annotations

import numpy as np
import pytest
from pymatgen.core import Lattice, Structure

from mattwin.errors import MaterialReadError, UnphysicalStructureError
from mattwin.materials import check_physical, material_id, read_structure, write_structure


@pytest.mark.parametrize("name", ["nacl.cif", "POSCAR", "nacl.vasp", "nacl.extxyz", "nacl.json"])
def test_round_trip_keeps_lattice_and_composition(tmp_path, nacl, name):
    path = write_structure(nacl, tmp_path / name)
    back = read_structure(path)
    assert back.composition == nacl.composition
    assert back.lattice.abc == pytest.approx(nacl.lattice.abc, abs=1e-4)
    assert material_id(back) == material_id(nacl)


def test_malformed_cif_names_the_file(tmp_path):
    bad = tmp_path / "broken.cif"
    bad.write_text("data_broken\n_cell_length_a 5.0\n_cell_length_b\nloop_\n_atom_site_label\nNa1 0 0\n")
    with pytest.raises(MaterialReadError, match="broken.cif"):
        read_structure(bad)


def test_missing_and_empty_files(tmp_path):
    with pytest.raises(MaterialReadError, match="no such file"):
        read_structure(tmp_path / "nothing.cif")
    (tmp_path / "empty.cif").write_text("")
    with pytest.raises(MaterialReadError, match="empty"):
        read_structure(tmp_path / "empty.cif")


def test_xyz_without_cell_is_rejected(tmp_path):
    (tmp_path / "water.xyz").write_text("3\n\nO 0 0 0\nH 0.76 0.59 0\nH -0.76 0.59 0\n")
    with pytest.raises(MaterialReadError, match="no periodic cell"):
        read_structure(tmp_path / "water.xyz")


def test_left_handed_lattice_becomes_right_handed_with_same_positions(tmp_path, nacl):
    m = nacl.lattice.matrix.copy()
    left = Structure(Lattice(m[[1, 0, 2]]), nacl.species, nacl.frac_coords[:, [1, 0, 2]])
    assert np.linalg.det(left.lattice.matrix) < 0
    path = write_structure(left, tmp_path / "left.json")
    back = read_structure(path)
    assert np.linalg.det(back.lattice.matrix) > 0
    # same set of Cartesian positions, modulo the lattice
    d = back.lattice.get_all_distances(back.frac_coords, back.lattice.get_fractional_coords(left.cart_coords))
    assert np.all(d.min(axis=1) < 1e-6)


def test_overlapping_atoms_are_named():
    s = Structure(Lattice.cubic(5.0), ["Na", "Cl"], [[0, 0, 0], [0.02, 0, 0]])
    with pytest.raises(UnphysicalStructureError, match=r"cand-7: overlapping atoms Na0 and Cl1 at 0.10 Å"):
        check_physical(s, "cand-7")


def test_collapsed_cell_is_rejected():
    s = Structure(Lattice.cubic(1.0), ["Na"], [[0, 0, 0]])
    with pytest.raises(UnphysicalStructureError, match="collapsed cell"):
        check_physical(s, "tiny")


def test_material_id_ignores_site_order_but_not_displacements(nacl):
    shuffled = Structure(nacl.lattice, nacl.species[::-1], nacl.frac_coords[::-1])
    assert material_id(shuffled) == material_id(nacl)
    moved = nacl.copy()
    moved.translate_sites([0], [0.01, 0, 0])
    assert material_id(moved) != material_id(nacl)
