"""Relaxations reach known lattice constants; blow-ups stop with a clear error."""

from __future__ import annotations

import numpy as np
import pytest
from ase.calculators.calculator import Calculator, all_changes
from pymatgen.core import Lattice, Structure
from pymatgen.symmetry.analyzer import SpacegroupAnalyzer

from mattwin.engines import get_engine
from mattwin.engines.emt import EMTEngine
from mattwin.errors import RelaxationDivergedError
from mattwin.tasks import relax, static


def _conventional_a(structure: Structure) -> float:
    return SpacegroupAnalyzer(structure).get_conventional_standard_structure().lattice.a


@pytest.mark.parametrize("spec", ["chgnet", "sevenn"])
def test_si_diamond_relaxes_to_experimental_lattice_constant(spec):
    start = Structure.from_spacegroup(
        "Fd-3m", Lattice.cubic(5.70), ["Si"], [[0, 0, 0]]
    ).get_primitive_structure()
    res = relax(start, get_engine(spec))
    assert res.converged
    assert _conventional_a(res.final_structure) == pytest.approx(5.43, rel=0.015)
    assert res.final_volume_A3 < res.initial_volume_A3


def test_emt_copper_relaxes_to_its_own_minimum(cu_fcc):
    res = relax(cu_fcc, get_engine("emt"))
    # ASE's EMT puts the fcc Cu minimum at a = 3.59 Å
    assert _conventional_a(res.final_structure) == pytest.approx(3.59, abs=0.01)
    # FrechetCellFilter's criterion: |stress| * volume / n_atoms < fmax, i.e. < 0.7 GPa for this 1-atom cell
    assert max(abs(x) for x in res.stress_GPa) < 0.05 / res.final_volume_A3 * 160.2177 + 1e-6


def test_static_reports_per_atom_energy(si_diamond):
    res = static(si_diamond, get_engine("chgnet"))
    assert res.n_atoms == 8
    assert res.energy_per_atom_eV == pytest.approx(res.energy_eV / 8)
    assert -5.6 < res.energy_per_atom_eV < -5.1  # MP-compatible PBE energy of Si is -5.42 eV/atom
    assert res.max_force_eV_A < 1e-3  # every atom of ideal diamond is at an inversion centre


class _NaNCalculator(Calculator):
    implemented_properties = ["energy", "forces", "stress", "free_energy"]

    def calculate(self, atoms=None, properties=None, system_changes=all_changes):  # type: ignore[no-untyped-def]
        super().calculate(atoms, properties, system_changes)
        n = len(self.atoms)
        self.results = {
            "energy": float("nan"),
            "free_energy": float("nan"),
            "forces": np.full((n, 3), np.nan),
            "stress": np.zeros(6),
        }


class _NaNEngine(EMTEngine):
    name = "nan"

    def calculator(self) -> Calculator:
        return _NaNCalculator()


def test_nan_energies_stop_the_relaxation_with_a_clear_error(cu_fcc):
    with pytest.raises(RelaxationDivergedError, match="Cu: nan .*NaN"):
        relax(cu_fcc, _NaNEngine())


def test_exploding_cell_is_caught():
    """bcc Cu at a = 6.0 Å (five times too dilute): EMT pulls the cell together, the volume shrinks
    by more than the allowed factor of 3 and the watchdog stops the run instead of trusting it."""
    s = Structure(Lattice.cubic(6.0), ["Cu", "Cu"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    with pytest.raises(RelaxationDivergedError, match="volume changed by a factor"):
        relax(s, get_engine("emt"), max_steps=2000)
