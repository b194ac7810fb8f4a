"""Molecules: SMILES embedding, XYZ reading, identity with charge and spin, fragments, checks."""

from __future__ import annotations

import numpy as np
import pytest
from pymatgen.core import Molecule

from mattwin.errors import MaterialReadError, UnphysicalStructureError
from mattwin.materials import check_physical, material_id, to_atoms
from mattwin.materials.molecules import (
    fragments,
    molecule_formula,
    molecule_id,
    read_molecule,
    with_charge_spin,
    write_molecule,
)


def test_smiles_benzene_has_aromatic_bonds_of_1_39_A():
    bz = read_molecule("c1ccccc1")
    assert molecule_formula(bz) == "C6H6" and bz.charge == 0 and bz.spin_multiplicity == 1
    c = [i for i, s in enumerate(bz) if s.specie.symbol == "C"]
    d = bz.distance_matrix[np.ix_(c, c)]
    cc = np.sort(d[d > 0])[:12]  # six C-C bonds, each counted twice
    # MMFF94 aromatic C-C: experiment 1.397 Å (gas-phase benzene); tolerance 0.02 Å
    assert cc == pytest.approx(1.397, abs=0.02)


def test_smiles_charge_and_radical_multiplicity():
    nh4 = read_molecule("[NH4+]")
    assert nh4.charge == 1 and nh4.spin_multiplicity == 1
    methyl = read_molecule("[CH3]")
    assert methyl.spin_multiplicity == 2  # odd electron count: doublet by default


def test_xyz_round_trip_keeps_charge_spin_and_identity(tmp_path):
    o2 = with_charge_spin(Molecule(["O", "O"], [[0, 0, 0], [0, 0, 1.21]]), 0, 3)
    path = write_molecule(o2, tmp_path / "o2.xyz")
    back = read_molecule(path)
    assert back.spin_multiplicity == 3 and back.charge == 0
    assert material_id(back) == molecule_id(o2)
    # a different spin state is a different calculation input
    assert molecule_id(with_charge_spin(o2, 0, 1)) != molecule_id(o2)
    assert not to_atoms(back).pbc.any()


def test_bad_inputs_are_named(tmp_path):
    with pytest.raises(MaterialReadError, match="not a valid SMILES"):
        read_molecule("C1CC(")
    with pytest.raises(MaterialReadError, match="no such file"):
        read_molecule(tmp_path / "missing.xyz")
    with pytest.raises(MaterialReadError, match="multiplicity|spin"):
        read_molecule("O", spin_multiplicity=2)  # 10 electrons cannot be a doublet


def test_fragments_of_a_water_dimer():
    from ase.data import s22

    atoms = s22.create_s22_system("Water_dimer")
    dimer = Molecule(atoms.get_chemical_symbols(), atoms.positions)
    assert fragments(dimer) == [[0, 1, 2], [3, 4, 5]]


def test_overlapping_atoms_in_a_molecule_are_unphysical():
    bad = Molecule(["H", "H"], [[0, 0, 0], [0, 0, 0.1]])
    with pytest.raises(UnphysicalStructureError, match="overlapping atoms H0 and H1"):
        check_physical(bad, "h2")
    check_physical(Molecule(["H", "H"], [[0, 0, 0], [0, 0, 0.74]]), "h2")
