"""De-duplication: same material in another setting is a duplicate; another polymorph is not."""

from __future__ import annotations

import numpy as np
import pytest
from pymatgen.core import Lattice, Structure
from pymatgen.core.operations import SymmOp

from mattwin.discovery.dedup import DuplicateFilter, deduplicate
from mattwin.discovery.generate import Candidate


def rocksalt(a: float = 5.64) -> Structure:
    """Conventional NaCl rocksalt cell (8 atoms), lattice constant ``a`` in Å."""
    return Structure.from_spacegroup("Fm-3m", Lattice.cubic(a), ["Na", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]])


def cscl_type(a: float = 3.4) -> Structure:
    """NaCl in the CsCl structure (2 atoms), lattice constant ``a`` in Å."""
    return Structure(Lattice.cubic(a), ["Na", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]])


def rutile() -> Structure:
    return Structure.from_spacegroup(
        "P4_2/mnm", Lattice.tetragonal(4.59, 2.96), ["Ti", "O"], [[0, 0, 0], [0.305, 0.305, 0]]
    )


def rotated_translated(s: Structure) -> Structure:
    """``s`` rotated by 37° about (1, 2, 3), shifted by (0.13, 0.29, 0.41) Å, sites reversed."""
    op = SymmOp.from_axis_angle_and_translation([1, 2, 3], 37.0)
    matrix = op.operate_multi(s.lattice.matrix)
    cart = op.operate_multi(s.cart_coords) + np.array([0.13, 0.29, 0.41])
    out = Structure(matrix, s.species, cart, coords_are_cartesian=True, to_unit_cell=True)
    return Structure.from_sites(list(reversed(out.sites)))


def test_supercell_is_a_duplicate() -> None:
    prim = rutile()
    sup = prim.copy()
    sup.make_supercell([2, 1, 2])
    assert len(sup) == 4 * len(prim)
    assert deduplicate([prim, sup]) == [prim]


def test_rotated_translated_copy_is_a_duplicate_and_first_is_kept() -> None:
    s = rutile()
    copy = rotated_translated(s)
    assert not np.allclose(copy.lattice.matrix, s.lattice.matrix)
    out = deduplicate([copy, s])
    assert len(out) == 1 and out[0] is copy


def test_rocksalt_and_cscl_type_nacl_are_different() -> None:
    rs, cs = rocksalt(), cscl_type()
    prim_rs = rs.get_primitive_structure()
    out = deduplicate([rs, cs, prim_rs, rotated_translated(cs)])
    assert out == [rs, cs]


def test_volume_and_small_displacements_do_not_matter_but_chemistry_does() -> None:
    s = rutile()
    strained = s.copy()
    strained.scale_lattice(s.volume * 1.15)
    strained.perturb(0.02, min_distance=0.0)
    other = s.copy()
    other.replace_species({"Ti": "Sn"})
    assert deduplicate([s, strained, other]) == [s, other]


def test_against_drops_matches_of_known_structures() -> None:
    rs, cs, ti = rocksalt(), cscl_type(), rutile()
    decorated = rs.copy()
    decorated.add_oxidation_state_by_element({"Na": 1, "Cl": -1})  # a reference may carry oxidation states
    assert deduplicate([cs, rs, ti], against=[decorated]) == [cs, ti]
    assert deduplicate([rs], against=[cs]) == [rs]


def test_candidates_in_candidates_out() -> None:
    a = Candidate(rocksalt(), "a", "user", 0.5)
    b = Candidate(rotated_translated(rocksalt()), "b", "user", 0.4)
    c = Candidate(cscl_type(), "c", "user", 0.3)
    out = deduplicate([a, b, c])
    assert out == [a, c] and all(isinstance(x, Candidate) for x in out)
    with pytest.raises(TypeError):
        deduplicate(["NaCl"])


def test_matcher_kwargs_override_defaults() -> None:
    s = rutile()
    moved = s.copy()
    moved.translate_sites([1], [0.04, -0.03, 0.02])  # move one O by ~0.2 Å
    assert len(deduplicate([s, moved])) == 1
    assert len(deduplicate([s, moved], stol=0.01)) == 2


def test_duplicate_filter_incremental() -> None:
    seen = DuplicateFilter([rocksalt()])
    assert not seen.add(rotated_translated(rocksalt()))
    assert seen.add(cscl_type())
    assert seen.is_duplicate(cscl_type(3.6))
