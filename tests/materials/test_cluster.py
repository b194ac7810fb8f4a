"""Cluster models cut from crystals: hydrogen-capped Si, point-charge embedded MgO."""

from __future__ import annotations

import numpy as np
import pytest
from pymatgen.core import Lattice, Molecule, Structure

from mattwin.engines.pyscf import PySCFEngine
from mattwin.errors import MaterialReadError
from mattwin.materials.cluster import cut_cluster
from mattwin.materials.molecules import molecule_formula, molecule_id


def test_silicon_cluster_is_neopentasilane_with_link_hydrogens(si_diamond):
    c = cut_cluster(si_diamond, center=0, radius=2.6)
    m = c.molecule
    # the central Si, its 4 neighbours (2.35 Å), and 3 link H on each neighbour: Si(SiH3)4
    assert molecule_formula(m) == "H12Si5" and m.charge == 0 and m.spin_multiplicity == 1
    si = [i for i, s in enumerate(m) if s.specie.symbol == "Si"]
    h = [i for i, s in enumerate(m) if s.specie.symbol == "H"]
    d = m.distance_matrix
    assert d[0, si[1:]] == pytest.approx(2.351, abs=0.002)
    assert d[np.ix_(h, si)].min(axis=1) == pytest.approx(1.42, abs=0.01)  # Si-H link bonds
    assert d[np.ix_(h, h)][~np.eye(len(h), dtype=bool)].min() > 2.0  # no clashing caps


def test_mgo_point_charges_bind_the_cluster_electrons():
    """A bare MgO6(10-) cluster has unbound electrons (positive HOMO); the Madelung field of the
    surrounding point charges binds them (negative HOMO), which is why ionic clusters need embedding."""
    mgo = Structure.from_spacegroup("Fm-3m", Lattice.cubic(4.21), ["Mg", "O"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    c = cut_cluster(mgo, center=0, radius=2.2, capping="point_charges", embed_cells=1)
    m = c.molecule
    pcs = np.asarray(m.properties["point_charges"])
    assert molecule_formula(m) == "MgO6" and m.charge == -10
    assert m.charge + pcs[:, 3].sum() == pytest.approx(0.0, abs=1e-4)  # neutral as a whole
    bare = Molecule(m.species, m.cart_coords, charge=-10)
    assert molecule_id(bare) != molecule_id(m)  # the embedding is part of the identity
    homo = {}
    for name, mol in (("embedded", m), ("bare", bare)):
        mf = PySCFEngine("hf/def2-svp").run(mol).objects["mf"]
        homo[name] = mf.mo_energy[mf.mol.nelectron // 2 - 1]
    assert homo["embedded"] < -0.3 and homo["bare"] > 1.0  # hartree
    # the Evjen block converges fast: one more shell of cells moves the potential by < 1 mEh
    c2 = cut_cluster(mgo, center=0, radius=2.2, capping="point_charges", embed_cells=2)
    mf2 = PySCFEngine("hf/def2-svp").run(c2.molecule).objects["mf"]
    assert mf2.mo_energy[mf2.mol.nelectron // 2 - 1] == pytest.approx(homo["embedded"], abs=1e-3)


def test_unknown_capping_and_missing_charges_are_named(si_diamond):
    with pytest.raises(MaterialReadError, match="unknown capping"):
        cut_cluster(si_diamond, capping="magic")
    with pytest.raises(MaterialReadError, match="oxidation states"):
        cut_cluster(si_diamond, capping="point_charges")
