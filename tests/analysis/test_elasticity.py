"""Elastic-constant analysis: Voigt conventions, symmetry-aware fitting, VRH averages, Born criteria."""

from __future__ import annotations

import numpy as np
import pytest
from pymatgen.core import Lattice, Structure
from pymatgen.symmetry.analyzer import SpacegroupAnalyzer

from mattwin.analysis.elasticity import (
    born_stability,
    fit_stiffness,
    invariant_basis,
    needed_strain_directions,
    rotate_voigt,
    strain_to_voigt,
    tensor_to_voigt,
    voigt_to_strain,
    voigt_to_tensor,
    vrh_moduli,
)
from mattwin.errors import FitError


def _cubic(c11: float, c12: float, c44: float) -> np.ndarray:
    c = np.zeros((6, 6))
    c[:3, :3] = c12
    c[range(3), range(3)] = c11
    c[3, 3] = c[4, 4] = c[5, 5] = c44
    return c


def _rotations(s: Structure) -> list[np.ndarray]:
    return [op.rotation_matrix for op in SpacegroupAnalyzer(s).get_symmetry_operations(cartesian=True)]


CU = _cubic(168.4, 121.4, 75.4)  # Cu, Simmons & Wang (1971), GPa


def test_voigt_conventions_round_trip():
    eps = np.array([[0.01, 0.002, -0.003], [0.002, -0.02, 0.004], [-0.003, 0.004, 0.005]])
    e = strain_to_voigt(eps)
    assert e[3] == pytest.approx(0.008) and e[5] == pytest.approx(0.004)  # engineering shear
    assert np.allclose(voigt_to_strain(e), eps)
    assert np.allclose(tensor_to_voigt(voigt_to_tensor(CU)), CU)
    # sigma = C e in Voigt equals C_ijkl eps_kl in tensor form
    sigma = np.einsum("ijkl,kl->ij", voigt_to_tensor(CU), eps)
    assert np.allclose(CU @ e, [sigma[0, 0], sigma[1, 1], sigma[2, 2], sigma[1, 2], sigma[0, 2], sigma[0, 1]])


def test_invariant_subspace_sizes_follow_the_crystal_system():
    cubic = Structure.from_spacegroup("Fm-3m", Lattice.cubic(3.6), ["Cu"], [[0, 0, 0]])
    hexa = Structure.from_spacegroup("P6_3/mmc", Lattice.hexagonal(2.5, 4.1), ["Mg"], [[1 / 3, 2 / 3, 0.25]])
    tetra = Structure.from_spacegroup(
        "P4_2/mnm", Lattice.tetragonal(4.59, 2.96), ["Ti", "O"], [[0, 0, 0], [0.305, 0.305, 0]]
    )
    assert len(invariant_basis(_rotations(cubic))) == 3
    assert len(invariant_basis(_rotations(hexa))) == 5
    assert len(invariant_basis(_rotations(tetra))) == 6
    assert len(invariant_basis([np.eye(3)])) == 21
    assert needed_strain_directions(invariant_basis(_rotations(cubic))) == [0, 3]
    assert len(needed_strain_directions(invariant_basis([np.eye(3)]))) == 6


def test_cubic_fit_from_two_strain_directions_has_cubic_symmetry():
    rots = _rotations(Structure.from_spacegroup("Fm-3m", Lattice.cubic(3.6), ["Cu"], [[0, 0, 0]]))
    rng = np.random.default_rng(1)
    strains, stresses = [], []
    for d in (0, 3):
        for m in (-0.01, -0.005, 0.005, 0.01):
            e = np.zeros(6)
            e[d] = m
            strains.append(e)
            stresses.append(CU @ e + rng.normal(0, 0.01, 6))
    fit = fit_stiffness(strains, stresses, rots)
    c = np.asarray(fit.C_GPa)
    assert fit.n_independent == 3
    assert c[0, 0] == pytest.approx(c[1, 1]) == pytest.approx(c[2, 2])
    assert c[0, 1] == pytest.approx(c[1, 2]) == pytest.approx(c[0, 2])
    assert c[3, 3] == pytest.approx(c[5, 5])
    assert np.abs(c[:3, 3:]).max() < 1e-9
    std = np.asarray(fit.C_std_GPa)
    idx = ([0, 0, 3], [0, 1, 3])  # C11, C12, C44
    assert np.all((std[idx] > 0.1) & (std[idx] < 2.0))  # 0.01 GPa stress noise / 0.01 strain ~ 1 GPa
    assert np.all(np.abs(c - CU)[idx] < 4 * std[idx])
    # invariant under every rotation of the group
    for r in rots:
        assert np.allclose(rotate_voigt(c, r), c, atol=1e-8)


def test_too_few_strains_is_a_typed_error():
    with pytest.raises(FitError, match="determine only"):
        fit_stiffness([np.eye(6)[0]], [CU[0]], [])


def test_vrh_of_an_isotropic_solid_gives_its_lame_moduli():
    k, g = 160.0, 80.0
    iso = _cubic(k + 4 * g / 3, k - 2 * g / 3, g)
    m = vrh_moduli(iso)
    assert m.K_voigt_GPa == pytest.approx(k) and m.K_reuss_GPa == pytest.approx(k)
    assert m.G_voigt_GPa == pytest.approx(g) and m.G_reuss_GPa == pytest.approx(g)
    assert m.youngs_modulus_GPa == pytest.approx(9 * k * g / (3 * k + g))
    assert m.universal_anisotropy == pytest.approx(0.0, abs=1e-9)


def test_vrh_of_copper_matches_the_closed_cubic_formulas():
    m = vrh_moduli(CU)
    c11, c12, c44 = 168.4, 121.4, 75.4
    gv = (c11 - c12 + 3 * c44) / 5  # 54.64 GPa
    gr = 5 * (c11 - c12) * c44 / (4 * c44 + 3 * (c11 - c12))  # 40.03 GPa
    assert m.K_vrh_GPa == pytest.approx((c11 + 2 * c12) / 3)  # 137.07 GPa
    assert m.G_voigt_GPa == pytest.approx(gv) and m.G_reuss_GPa == pytest.approx(gr)
    assert m.G_vrh_GPa == pytest.approx(47.3, abs=0.05)  # Cu polycrystal, measured ~48 GPa


def test_born_criteria_name_the_violated_condition():
    assert born_stability(CU, "cubic").stable
    unstable = born_stability(_cubic(100.0, 120.0, 50.0), "cubic")  # C11 < C12: tetragonal shear unstable
    assert not unstable.stable
    assert "C11 - C12 > 0" in unstable.message
    assert unstable.eigenvalues_GPa[0] < 0
    soft_shear = born_stability(_cubic(200.0, 100.0, -5.0), "cubic")
    assert soft_shear.failed[0] == "C44 > 0"
    hexa = np.array(CU)
    hexa[0, 2] = hexa[2, 0] = hexa[1, 2] = hexa[2, 1] = 400.0  # 2 C13^2 > C33 (C11 + C12)
    res = born_stability(hexa, "hexagonal")
    assert "2 C13^2 < C33 (C11 + C12)" in res.failed and "positive definite" in res.message
