"""Evolutionary structure search: rock-salt NaCl from random starts and from wrong structures, with an
analytic Born-Mayer + Coulomb potential (forces and stress checked against finite differences)."""

from __future__ import annotations

import numpy as np
import pytest
from pymatgen.analysis.structure_matcher import StructureMatcher
from pymatgen.core import Lattice, Structure
from pymatgen.io.ase import AseAtomsAdaptor

from mattwin.discovery.evolution import (
    IonicPotential,
    ase_relaxer,
    evolutionary_search,
    heredity,
    lattice_strain,
    permutation,
)
from mattwin.errors import CampaignError


def _rocksalt(a: float = 5.64) -> Structure:
    return Structure.from_spacegroup("Fm-3m", Lattice.cubic(a), ["Na", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]])


@pytest.fixture(scope="module")
def relax():
    return ase_relaxer(IonicPotential.nacl, fmax=0.03, max_steps=300)


@pytest.fixture(scope="module")
def rocksalt_energy(relax) -> float:
    ((s, e),) = relax([_rocksalt(5.5)])
    assert s.lattice.a == pytest.approx(5.64, rel=0.01)  # conventional cell: the fitted a = 5.64 Å
    return e


def test_potential_forces_stress_and_polymorph_order(relax, rocksalt_energy) -> None:
    atoms = AseAtomsAdaptor.get_atoms(_rocksalt(5.5))
    atoms.rattle(0.05, seed=1)
    atoms.calc = IonicPotential.nacl()
    e0, f, s = atoms.get_potential_energy(), atoms.get_forces(), atoms.get_stress(voigt=False)
    moved = atoms.copy()
    moved.calc = IonicPotential.nacl()
    moved.positions[0, 0] += 1e-4
    assert -(moved.get_potential_energy() - e0) / 1e-4 == pytest.approx(f[0, 0], rel=1e-2, abs=1e-4)
    strained = atoms.copy()
    strained.calc = IonicPotential.nacl()
    strained.set_cell(atoms.cell[:] @ np.diag([1 + 1e-4, 1, 1]), scale_atoms=True)
    fd = (strained.get_potential_energy() - e0) / 1e-4 / atoms.get_volume()
    assert fd == pytest.approx(s[0, 0], rel=1e-2, abs=1e-5)
    cscl = Structure(Lattice.cubic(3.3), ["Na", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    ((_, e_cscl),) = relax([cscl])
    assert e_cscl > rocksalt_energy + 0.05  # rock salt is the ground state of this model by ~0.1 eV/atom


def test_operators_keep_composition() -> None:
    rng = np.random.default_rng(0)
    a = _rocksalt()
    b = a.copy()
    b.perturb(0.3)
    for child in (heredity(a, b, rng), permutation(a, rng), lattice_strain(a, rng)):
        assert child.composition == a.composition
    assert lattice_strain(a, rng).volume == pytest.approx(a.volume)


def test_finds_rocksalt_from_random_start(relax, rocksalt_energy) -> None:
    res = evolutionary_search("NaCl", relax, formula_units=2, population=6, generations=2, seed=0)
    assert StructureMatcher().fit(res.best, _rocksalt())
    assert res.best_energy_per_atom == pytest.approx(rocksalt_energy, abs=2e-3)
    assert res.n_relaxations == 18 and len(res.history) == 3
    assert res.history == sorted(res.history, reverse=True)


def test_operators_reach_rocksalt_from_wrong_structures(relax, rocksalt_energy) -> None:
    """No random start: CsCl-type and zincblende stay in their (symmetric) minima when relaxed, so
    rock salt must come from heredity, permutation, strain or mutation children."""
    cscl = Structure(Lattice.cubic(3.3), ["Na", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    cscl.make_supercell([2, 2, 1])
    zb = Structure.from_spacegroup("F-43m", Lattice.cubic(6.0), ["Na", "Cl"], [[0, 0, 0], [0.25, 0.25, 0.25]])
    starts = [cscl, zb]
    res = evolutionary_search(
        "NaCl",
        relax,
        formula_units=4,
        population=4,
        generations=6,
        seed=1,
        starts=starts,
        stop_energy=rocksalt_energy + 1e-3,
        fill_random=False,
    )
    assert res.history[0] > rocksalt_energy + 0.02  # generation 0 (the relaxed starts) lacked it
    assert StructureMatcher().fit(res.best, _rocksalt())
    assert res.best_energy_per_atom == pytest.approx(rocksalt_energy, abs=2e-3)


def test_immigrants_take_their_share_of_each_generation(relax, rocksalt_energy) -> None:
    """With a source of fresh structures, a fifth of each later generation comes from it (1 of 5)
    and the rest is bred; a rock-salt immigrant is found by a search that started without it."""
    cscl = Structure(Lattice.cubic(3.3), ["Na", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    cscl.make_supercell([2, 1, 1])
    asked: list[int] = []

    def immigrants(n: int) -> list[Structure]:
        asked.append(n)
        return [_rocksalt(5.3).get_primitive_structure() * (2, 1, 1)][:n]

    seen: list[list[Structure]] = []

    def counting(structures: list[Structure]):
        seen.append(structures)
        return relax(structures)

    res = evolutionary_search(
        "NaCl",
        counting,
        formula_units=2,
        population=5,
        generations=2,
        seed=3,
        starts=[cscl],
        fill_random=False,
        immigrants=immigrants,
    )
    assert asked == [1, 1] and [len(g) for g in seen] == [1, 5, 5]
    assert StructureMatcher().fit(seen[1][0], _rocksalt())  # the immigrant leads its generation
    assert StructureMatcher().fit(res.best, _rocksalt())
    assert res.best_energy_per_atom == pytest.approx(rocksalt_energy, abs=2e-3)


def test_bad_input() -> None:
    with pytest.raises(CampaignError, match="population"):
        evolutionary_search("NaCl", lambda s: [None] * len(s), population=1)
    with pytest.raises(CampaignError, match="every relaxation failed"):
        evolutionary_search("NaCl", lambda s: [None] * len(s), population=2, generations=1)
