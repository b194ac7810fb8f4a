"""The learned proposer's descriptors of an unrelaxed structure: electrostatics, geometry against
ionic radii, bond valence and the height above a known hull, checked on rock salt and CsCl-type NaCl."""

from __future__ import annotations

import math

import pytest
from pymatgen.core import Lattice, Structure

from mattwin.discovery.proposer_features import (
    STRUCTURE_FEATURE_NAMES,
    KnownHull,
    element_energies,
    formation_energy,
    structure_features,
)


def _named(s: Structure) -> dict[str, float]:
    return dict(zip(STRUCTURE_FEATURE_NAMES, structure_features(s), strict=True))


def _rocksalt(a: float) -> Structure:
    return Structure.from_spacegroup("Fm-3m", Lattice.cubic(a), ["Na", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]])


def test_rock_salt_descriptors_are_its_physics() -> None:
    f = _named(_rocksalt(5.64))
    # Madelung: -1.7476 e^2 / (4 pi eps0 d) per ion pair, d = 2.82 A: -4.46 eV per atom
    assert f["ewald_per_atom"] == pytest.approx(-1.7476 * 14.3996 / 2.82 / 2, rel=0.01)
    assert f["ewald_per_q2"] == pytest.approx(f["ewald_per_atom"])  # |q| = 1
    assert f["cation_coordination"] == 6
    assert f["cation_anion_over_ionic_radii"] == pytest.approx(2.82 / (1.16 + 1.67), rel=0.02)  # Shannon
    assert f["bvs_deviation"] < 0.2  # Na+ bond valence sum within 20 % of 1 at the experimental lattice
    assert f["spacegroup"] == 225 and f["n_atoms"] == 8
    # squeezed by 15 %: ions too close, bond valences far too large, electrostatics stronger
    g = _named(_rocksalt(0.85 * 5.64))
    assert g["cation_anion_over_ionic_radii"] < 0.9 * f["cation_anion_over_ionic_radii"]
    assert g["bvs_deviation"] > 3 * f["bvs_deviation"] + 0.3
    assert g["ewald_per_atom"] < f["ewald_per_atom"]
    assert g["ionic_packing_fraction"] > f["ionic_packing_fraction"]


def test_cscl_type_has_eightfold_coordination_and_a_weaker_madelung_energy_per_bond_length() -> None:
    d = 2.82  # same Na-Cl distance as rock salt
    cscl = _named(Structure(Lattice.cubic(2 * d / math.sqrt(3)), ["Na", "Cl"], [[0, 0, 0], [0.5] * 3]))
    assert cscl["cation_coordination"] == 8 and cscl["spacegroup"] == 221
    # Madelung constant 1.7627 (CsCl) against 1.7476 (rock salt) at the same nearest-neighbour distance
    assert cscl["ewald_per_atom"] == pytest.approx(-1.7627 * 14.3996 / d / 2, rel=0.01)


def test_intermetallic_has_no_electrostatics() -> None:
    f = _named(Structure(Lattice.cubic(3.0), ["Cu", "Zn"], [[0, 0, 0], [0.5] * 3]))
    assert math.isnan(f["ewald_per_atom"]) and math.isnan(f["cation_coordination"])
    assert f["min_pair_over_atomic_radii"] > 0 and f["spacegroup"] == 221


def test_height_above_the_known_hull_leaves_out_a_source() -> None:
    hull = KnownHull([("NaCl", -2.0, "known NaCl"), ("NaCl3", -0.5, "campaign A")])
    assert hull.above("NaCl", -1.9) == pytest.approx(0.1)
    assert hull.above("NaCl3", -0.5) == pytest.approx(0.5)  # hull at NaCl3: 1/2 of NaCl's -2.0
    # without NaCl the hull at NaCl is 2/3 of the way from Na to NaCl3: -1/3 eV/atom
    assert hull.above("NaCl", -1.9, exclude="known NaCl") == pytest.approx(-1.9 + 1 / 3)
    assert hull.above("NaCl", -1.9, exclude=frozenset({"known NaCl", "campaign A"})) == pytest.approx(-1.9)
    assert math.isnan(hull.above("NaCl", math.nan))
    mu = element_energies("chgnet")
    assert mu is not None and element_energies("emt") is None
    assert formation_energy("NaCl", 0.5 * (mu["Na"] + mu["Cl"]) - 1.0, mu) == pytest.approx(-1.0)
