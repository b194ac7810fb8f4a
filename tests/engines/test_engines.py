"""Engines: signatures, element coverage, stress consistent with the energy, ensembles."""

from __future__ import annotations

import numpy as np
import pytest
from ase import units
from pymatgen.core import Lattice, Structure

from mattwin.engines import get_engine, member_specs
from mattwin.errors import EngineError


def test_signature_names_package_version_and_model():
    sig = get_engine("chgnet").signature
    assert sig["package"] == "chgnet" and sig["model"] == "0.3.0" and sig["version"]
    assert get_engine("sevenn:7net-l3i5").signature["model"] == "7net-l3i5"
    assert get_engine("chgnet").key != get_engine("chgnet:0.2.0").key


def test_unknown_engine_and_model_are_clear():
    with pytest.raises(EngineError, match="unknown engine 'mace'"):
        get_engine("mace")
    with pytest.raises(EngineError, match="not bundled offline"):
        get_engine("sevenn:7net-omat")


def test_unsupported_element_reason_names_engine_and_element():
    og = Structure(Lattice.cubic(5.0), ["Og"], [[0, 0, 0]])
    reason = get_engine("sevenn").supports(og)
    assert reason is not None and "Og" in reason and "7net-0" in reason
    assert get_engine("emt").supports(Structure(Lattice.cubic(5.43), ["Si"], [[0, 0, 0]])) is not None
    assert get_engine("chgnet").supports(og) is not None


@pytest.mark.parametrize("spec", ["chgnet", "sevenn:7net-0", "sevenn:7net-l3i5"])
def test_mlips_support_the_common_elements(spec, nacl, si_diamond):
    engine = get_engine(spec)
    assert {"H", "Li", "O", "Si", "Fe", "Cu", "Zr"} <= engine.supported_elements()
    assert engine.supports(nacl) is None and engine.supports(si_diamond) is None


@pytest.mark.parametrize("spec", ["chgnet", "sevenn"])
def test_stress_is_the_strain_derivative_of_the_energy_even_for_left_handed_input(spec):
    """sigma_ii = (1/V) dE/d(eps_ii): checked by finite differences on a strained, left-handed cell
    (a left-handed lattice flips the sign of CHGNet's stress unless mattwin canonicalises it)."""
    si = Structure.from_spacegroup(
        "Fd-3m", Lattice.cubic(5.60), ["Si"], [[0, 0, 0]]
    ).get_primitive_structure()
    m = si.lattice.matrix
    left = Structure(Lattice(m[[1, 0, 2]]), si.species, si.frac_coords[:, [1, 0, 2]])
    engine = get_engine(spec)
    ev = engine.evaluate([left])[0]
    h = 1e-3
    es = []
    for sign in (1, -1):
        strained = left.copy()
        strained.apply_strain([sign * h, 0, 0])
        es.append(engine.evaluate([strained])[0].energy)
    numeric = (es[0] - es[1]) / (2 * h) / left.volume
    assert ev.stress[0] == pytest.approx(numeric, abs=2e-4)  # eV/Å^3
    assert ev.stress[0] / units.GPa > 0.5  # expanded Si (a = 5.60 Å) is under tension


def test_chgnet_batch_equals_single(si_diamond, nacl):
    engine = get_engine("chgnet")
    batch = engine.evaluate([si_diamond, nacl])
    single = [engine.evaluate([s])[0] for s in (si_diamond, nacl)]
    for b, s in zip(batch, single, strict=True):
        assert b.energy == pytest.approx(s.energy, abs=1e-4)
        assert np.allclose(b.forces, s.forces, atol=1e-4)


def test_ensemble_gives_mean_and_spread(si_diamond):
    ens = get_engine("ensemble:chgnet,sevenn:7net-0")
    assert member_specs("ensemble:chgnet,sevenn:7net-0") == ["chgnet", "sevenn:7net-0"]
    ev = ens.evaluate([si_diamond])[0]
    a, b = (get_engine(s).evaluate([si_diamond])[0].energy for s in ("chgnet", "sevenn:7net-0"))
    assert ev.energy == pytest.approx((a + b) / 2, abs=1e-5)
    assert ev.extras["energy_std"] == pytest.approx(abs(a - b) / np.sqrt(2), abs=1e-5)
    assert ev.extras["energy_std"] > 0


def test_chgnet_batched_evaluation_matches_its_ase_calculator(nacl, si_diamond):
    """mattwin's batched CHGNet path (first-order autograd) gives the calculator's numbers."""
    from mattwin.materials import to_atoms

    engine = get_engine("chgnet")
    rattled = nacl.copy()
    rattled.perturb(0.1)
    for s, ev in zip([rattled, si_diamond], engine.evaluate([rattled, si_diamond]), strict=True):
        atoms = to_atoms(s)
        atoms.calc = engine.calculator()
        assert ev.energy == pytest.approx(atoms.get_potential_energy(), abs=1e-4)
        assert np.allclose(ev.forces, atoms.get_forces(), atol=1e-3)
        assert np.allclose(ev.stress, atoms.get_stress(), atol=1e-5)
    assert np.abs(engine.evaluate([rattled])[0].forces).max() > 0.05  # the check is not on zeros


@pytest.mark.parametrize("model", ["7net-0", "7net-l3i5", "7net-mf-0@r2scan"])
def test_sevenn_batched_evaluation_matches_its_ase_calculator(model, nacl, si_diamond):
    """One model call for several graphs of different sizes gives what SevenNetCalculator gives
    for each alone (float32 model: energies to 1e-4 eV, forces 1e-4 eV/Å, stress 1e-5 eV/Å^3)."""
    from mattwin.materials.identity import to_atoms

    rattled = si_diamond.copy()
    rattled.perturb(0.05, min_distance=0.02)
    structures = [nacl, rattled, si_diamond * (2, 1, 1)]
    engine = get_engine(f"sevenn:{model}")
    batched = engine.evaluate(structures)
    calc = engine.calculator()
    for s, ev in zip(structures, batched, strict=True):
        atoms = to_atoms(s)
        atoms.calc = calc
        assert ev.energy == pytest.approx(atoms.get_potential_energy(), abs=1e-4)
        np.testing.assert_allclose(ev.forces, atoms.get_forces(), atol=1e-4)
        np.testing.assert_allclose(ev.stress, atoms.get_stress(), atol=1e-5)
        assert ev.forces.shape == (len(s), 3)
