"""Batched relaxation gives the answers of the one-by-one path, and survives bad members and OOM."""

from __future__ import annotations

import pytest
from pymatgen.analysis.structure_matcher import StructureMatcher
from pymatgen.core import Lattice, Structure

from mattwin.engines import get_engine
from mattwin.engines.emt import EMTEngine
from mattwin.errors import RelaxationDivergedError
from mattwin.tasks import relax
from mattwin.tasks.batch_relax import BatchStats, relax_batch


def _mixed() -> list[Structure]:
    """Rattled cells of 2 to 8 atoms, off their equilibrium volume (rock salt, diamond, fcc)."""
    out = []
    for _formula, sg, a, species, coords in [
        ("NaCl", "Fm-3m", 5.9, ["Na", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]]),
        ("MgO", "Fm-3m", 4.0, ["Mg", "O"], [[0, 0, 0], [0.5, 0.5, 0.5]]),
        ("Si", "Fd-3m", 5.6, ["Si"], [[0, 0, 0]]),
        ("Cu", "Fm-3m", 3.5, ["Cu"], [[0, 0, 0]]),
    ]:
        s = Structure.from_spacegroup(sg, Lattice.cubic(a), species, coords)
        s.perturb(0.08, min_distance=0.02)
        out.append(s)
    out.append(out[0].get_primitive_structure())
    return out


@pytest.mark.parametrize("spec", ["chgnet", "sevenn"])
def test_batched_equals_one_by_one(spec):
    engine = get_engine(spec)
    structures = _mixed()
    single = [relax(s, engine, max_steps=150) for s in structures]
    stats = BatchStats()
    batched = dict((i, r) for i, r, _ in relax_batch(structures, engine, max_steps=150, stats=stats))
    matcher = StructureMatcher()
    for i, one in enumerate(single):
        many = batched[i]
        assert abs(one.energy_per_atom_eV - many.energy_per_atom_eV) < 1e-3  # eV/atom
        assert one.converged == many.converged
        assert matcher.fit(one.final_structure, many.final_structure)
    assert stats.model_calls < sum(r.n_steps + 1 for r in single)  # fewer model calls than evaluations
    assert stats.evaluations == sum(r.n_steps + 1 for r in batched.values())


def test_finished_structures_leave_and_waiting_ones_enter():
    cu = Structure.from_spacegroup("Fm-3m", Lattice.cubic(3.59), ["Cu"], [[0, 0, 0]])  # at the EMT minimum
    far = Structure.from_spacegroup("Fm-3m", Lattice.cubic(3.9), ["Cu"], [[0, 0, 0]])
    # room for two 4-atom cells at a time: the slow one keeps its slot while the others pass through
    order = [i for i, _, _ in relax_batch([far, cu, cu, cu], get_engine("emt"), max_batch_atoms=8)]
    assert order == [1, 2, 3, 0]


def test_one_bad_member_does_not_stop_the_batch():
    good = Structure.from_spacegroup("Fm-3m", Lattice.cubic(3.7), ["Cu"], [[0, 0, 0]])
    dilute = Structure(Lattice.cubic(6.0), ["Cu", "Cu"], [[0, 0, 0], [0.5, 0.5, 0.5]])  # collapses > 3x
    out = {i: r for i, r, _ in relax_batch([good, dilute, good], get_engine("emt"), max_steps=2000)}
    assert isinstance(out[1], RelaxationDivergedError) and "volume changed" in str(out[1])
    assert out[0].converged and out[2].converged


class _SmallMemoryEMT(EMTEngine):
    """EMT that runs out of memory when asked for more than 2 structures at once."""

    calls: list[int] = []

    def evaluate_atoms(self, atoms_list):  # type: ignore[no-untyped-def]
        self.calls.append(len(atoms_list))
        if len(atoms_list) > 2:
            raise RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return super().evaluate_atoms(atoms_list)


def test_out_of_memory_splits_the_batch_and_retries():
    engine = _SmallMemoryEMT()
    cells = [
        Structure.from_spacegroup("Fm-3m", Lattice.cubic(a), ["Cu"], [[0, 0, 0]])
        for a in (3.5, 3.6, 3.7, 3.8)
    ]
    out = {i: r for i, r, _ in relax_batch(cells, engine)}
    assert all(r.converged for r in out.values())
    assert max(engine.calls) == 4 and 2 in engine.calls  # tried all four, then halves
    reference = relax(cells[0], EMTEngine())
    assert out[0].energy_eV == pytest.approx(reference.energy_eV, abs=1e-6)
