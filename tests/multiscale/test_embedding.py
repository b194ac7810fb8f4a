"""ONIOM embedding: exact when both levels agree, forces are derivatives of the energy (link atoms
included), and a region that straddles a periodic boundary is cut out whole."""

from __future__ import annotations

import numpy as np
import pytest
from ase.build import bulk, molecule
from ase.calculators.emt import EMT
from ase.calculators.lj import LennardJones

from mattwin.multiscale.embedding import (
    EmbeddingError,
    ONIOMCalculator,
    cluster,
    find_links,
    select_region,
)


def _butane():
    atoms = molecule("trans-butane")
    atoms.center(vacuum=6.0)
    atoms.pbc = True
    atoms.rattle(0.02, seed=1)
    return atoms


def _heavy(atoms, k):
    return [i for i, z in enumerate(atoms.numbers) if z == 6][k]


def test_links_cap_the_cut_carbon_bonds():
    atoms = _butane()
    c0, c1 = _heavy(atoms, 0), _heavy(atoms, 1)
    region = [c0, c1] + [
        i
        for i in range(len(atoms))
        if atoms.numbers[i] == 1 and min(atoms.get_distance(i, c0), atoms.get_distance(i, c1)) < 1.2
    ]
    links = find_links(atoms, region)
    # C1-C2 and C3-C4 ... only the bonds leaving the region: each carbon has one neighbour outside
    assert len(links) == 1
    (link,) = links
    assert atoms.numbers[link.outer] == 6
    cap = cluster(atoms, region, links)
    d_ch = np.linalg.norm(cap.positions[-1] - atoms.positions[link.inner])
    assert 1.0 < d_ch < 1.2  # a C-H bond length, Å


def test_same_level_gives_the_low_level_exactly():
    atoms = _butane()
    region = select_region(atoms, _heavy(atoms, 0), 1.6)
    atoms.calc = ONIOMCalculator(EMT(), EMT(), region)
    e = atoms.get_potential_energy()
    f = atoms.get_forces()
    ref = atoms.copy()
    ref.calc = EMT()
    assert e == pytest.approx(ref.get_potential_energy(), abs=1e-9)
    assert np.allclose(f, ref.get_forces(), atol=1e-9)


def test_forces_are_derivatives_of_the_oniom_energy():
    atoms = _butane()
    region = select_region(atoms, _heavy(atoms, 1), 1.6)
    calc = ONIOMCalculator(EMT(), LennardJones(sigma=2.0, epsilon=0.05, rc=6.0), region)
    atoms.calc = calc
    forces = atoms.get_forces()
    assert calc.results["n_links"] >= 1
    h = 1e-4
    for i in [region[0], calc.links[0].outer, len(atoms) - 1]:
        for c in range(3):
            plus, minus = atoms.copy(), atoms.copy()
            plus.positions[i, c] += h
            minus.positions[i, c] -= h
            plus.calc = minus.calc = ONIOMCalculator(calc.high, calc.low, region, calc.links)
            fd = -(plus.get_potential_energy() - minus.get_potential_energy()) / (2 * h)
            assert forces[i, c] == pytest.approx(fd, abs=2e-4)


def test_region_across_the_periodic_boundary_is_whole():
    cu = bulk("Cu", "fcc", a=3.61, cubic=True).repeat(3)
    region = select_region(cu, 0, 2.6)  # atom 0 sits at the corner: its neighbours wrap around
    assert len(region) == 13  # the atom and its 12 nearest neighbours (fcc)
    lo = LennardJones(sigma=2.3, epsilon=0.4, rc=5.0)
    e1 = ONIOMCalculator(EMT(), lo, region, links=[]).get_potential_energy(cu)
    shifted = cu.copy()
    shifted.translate([1.0, 0.7, 0.3])
    shifted.wrap()
    e2 = ONIOMCalculator(EMT(), lo, region, links=[]).get_potential_energy(shifted)
    assert e1 == pytest.approx(e2, abs=1e-6)
    cap = cluster(cu, region, [])
    assert np.linalg.norm(cap.positions - cap.positions[0], axis=1).max() < 2.6


def test_region_errors_name_the_cause():
    atoms = _butane()
    with pytest.raises(EmbeddingError, match="not an atom index"):
        select_region(atoms, 99, 2.0)
    h = next(i for i, z in enumerate(atoms.numbers) if z == 1)
    with pytest.raises(EmbeddingError, match="hydrogen"):
        find_links(atoms, [h])


def test_vacancy_energy_converges_to_the_high_level_as_the_region_grows():
    """Cu vacancy formation energy: EMT (high) inside a Lennard-Jones crystal (low; Cu parameters of
    Halicioglu & Pound, Phys. Stat. Sol. A 30, 619 (1975)). LJ alone gives about 3.1 eV, EMT 1.25 eV;
    a region of the vacancy and its first four neighbour shells recovers EMT within 0.05 eV."""
    perf = bulk("Cu", "fcc", a=3.61, cubic=True).repeat(4)
    defect = perf.copy()
    del defect[0]

    def energy(atoms, calc):
        a = atoms.copy()
        a.calc = calc
        return a.get_potential_energy()

    def lj():
        return LennardJones(sigma=2.338, epsilon=0.409, rc=6.0, smooth=True)

    mu_emt = energy(bulk("Cu", "fcc", a=3.61), EMT())
    mu_lj = energy(bulk("Cu", "fcc", a=3.61), lj())
    e_emt = energy(defect, EMT()) - energy(perf, EMT()) + mu_emt
    e_lj = energy(defect, lj()) - energy(perf, lj()) + mu_lj
    errors = []
    for radius in (3.7, 4.5, 5.2):
        region = select_region(perf, 0, radius)
        e_p = ONIOMCalculator(EMT(), lj(), region, links=[]).get_potential_energy(perf)
        shell = [i - 1 for i in region if i]  # the same sites without the vacant one
        e_d = ONIOMCalculator(EMT(), lj(), shell, links=[]).get_potential_energy(defect)
        errors.append(abs(e_d - e_p + mu_emt - e_emt))
    assert 1.1 < e_emt < 1.4 and e_lj > 2.5
    assert errors[0] > errors[1] > errors[2]
    assert errors[-1] < 0.05


def test_shell_wider_than_half_the_cell_stays_whole():
    """The shell around a vacancy (no atom at its centre) spans 9 Å of a 10.8 Å cell: cut out with
    minimum images from one shell atom it would fall apart; it must equal the perfect crystal's shell."""
    perf = bulk("Cu", "fcc", a=3.61, cubic=True).repeat(3)
    defect = perf.copy()
    del defect[0]
    region = select_region(perf, 0, 4.5)
    full = cluster(perf, region, [])
    shell = cluster(defect, [i - 1 for i in region if i], [])
    shift = full.positions[1] - shell.positions[0]
    assert np.allclose(shell.positions + shift, full.positions[1:], atol=1e-8)


def test_pyscf_region_in_an_mlip_environment_has_consistent_forces():
    """ONIOM(HF/6-31G : CHGNet) for ethanol with the OH-CH2 end as the region: the cut C-C bond is
    capped (the region becomes methanol), the energy is the subtractive sum, and the analytic
    forces (PySCF gradients in Hartree/Bohr and CHGNet's, through the link atom) match central
    finite differences of the energy."""
    from mattwin.engines.registry import get_engine

    atoms = molecule("CH3CH2OH")
    atoms.center(vacuum=7.0)
    atoms.pbc = True
    o = next(i for i, s in enumerate(atoms.get_chemical_symbols()) if s == "O")
    c_o = min((i for i, z in enumerate(atoms.numbers) if z == 6), key=lambda i: atoms.get_distance(o, i))
    region = [i for i in range(len(atoms)) if min(atoms.get_distance(i, o), atoms.get_distance(i, c_o)) < 1.2]
    high = get_engine("pyscf:hf/6-31g").calculator()
    low = get_engine("chgnet").calculator()
    calc = ONIOMCalculator(high, low, region)
    atoms.calc = calc
    forces = atoms.get_forces()
    assert calc.results["n_links"] == 1
    assert calc.results["energy"] == pytest.approx(
        calc.results["energy_low_system"]
        + calc.results["energy_high_region"]
        - calc.results["energy_low_region"]
    )
    # HF/6-31G methanol is about -114.98 Hartree (-3128.7 eV); the cluster is methanol
    assert calc.results["energy_high_region"] == pytest.approx(-114.98 * 27.2114, abs=0.5)
    link = calc.links[0]
    h = 2e-3
    for i in (o, link.outer):
        plus, minus = atoms.copy(), atoms.copy()
        plus.positions[i, 0] += h
        minus.positions[i, 0] -= h
        plus.calc = ONIOMCalculator(high, low, region, calc.links)
        minus.calc = ONIOMCalculator(high, low, region, calc.links)
        fd = -(plus.get_potential_energy() - minus.get_potential_energy()) / (2 * h)
        assert forces[i, 0] == pytest.approx(fd, abs=0.005)  # CHGNet is float32: FD noise ~1 meV/Å
