"""Transport analysis on inputs with known answers: random walks of known D, exact Arrhenius data,
a perfect fcc lattice for g(r), hand-computed Nernst–Einstein conductivity."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import constants

from mattwin.analysis import diffusion as dif


def _random_walk(d_a2_ps: float, dt_ps: float, n_frames: int, n_atoms: int, seed: int = 0) -> np.ndarray:
    """Brownian trajectories (n_frames, n_atoms, 3) Å whose D is ``d_a2_ps`` Å^2/ps exactly."""
    rng = np.random.default_rng(seed)
    steps = rng.normal(scale=np.sqrt(2 * d_a2_ps * dt_ps), size=(n_frames - 1, n_atoms, 3))
    start = rng.uniform(0, 10, size=(1, n_atoms, 3))
    return np.concatenate([start, start + np.cumsum(steps, axis=0)])


def test_fft_msd_equals_the_direct_average_over_origins():
    r = _random_walk(0.3, 0.01, 60, 5)
    brute = [np.mean(np.sum((r[k:] - r[: len(r) - k]) ** 2, axis=-1)) for k in range(len(r))]
    assert np.allclose(dif.msd(r), brute, atol=1e-9)


def test_unwrap_restores_trajectories_wrapped_into_a_triclinic_cell():
    cell = np.array([[6.0, 0.0, 0.0], [3.0, 5.2, 0.0], [1.0, 1.5, 7.0]])
    r = _random_walk(2.0, 0.05, 200, 8, seed=3)  # moves several cells over the run
    frac = r @ np.linalg.inv(cell)
    wrapped = (frac - np.floor(frac)) @ cell
    assert np.abs(wrapped - r).max() > 6.0  # wrapping really happened
    u = dif.unwrap(wrapped, cell)
    assert np.allclose(u - u[0], r - r[0], atol=1e-9)  # the same motion (frame 0 stays wrapped)


def test_diffusion_fit_recovers_a_known_D_within_its_error_bar():
    d_true = 0.5  # Å^2/ps = 5e-5 cm^2/s
    fit = dif.diffusion_coefficient(_random_walk(d_true, 0.02, 2000, 32, seed=1), 0.02, n_blocks=5)
    d_true_cm2 = d_true * 1e-4
    assert fit.D_err_cm2_s > 0 and fit.D_err_cm2_s < 0.1 * d_true_cm2  # a useful error bar
    assert abs(fit.D_cm2_s - d_true_cm2) < 3 * fit.D_err_cm2_s
    # over many independent walks the error bar covers the truth about as often as it should
    hits = 0
    for seed in range(20):
        f = dif.diffusion_coefficient(_random_walk(d_true, 0.02, 500, 16, seed=100 + seed), 0.02)
        hits += abs(f.D_cm2_s - d_true_cm2) < 2 * f.D_err_cm2_s
    assert hits >= 14  # 2 sigma of a 5-block error (t, 4 dof) covers ~88 %: 17.7 of 20 expected


def test_a_bounded_vibration_has_no_significant_diffusion():
    rng = np.random.default_rng(0)
    r = 5.0 + rng.normal(scale=0.1, size=(400, 16, 3))  # atoms rattling about lattice sites
    fit = dif.diffusion_coefficient(r, 0.02)
    assert abs(fit.D_cm2_s) < 3 * fit.D_err_cm2_s + 1e-9
    assert dif.msd(r)[1:].max() < 0.1  # bounded: 2 * 3 * 0.1^2 = 0.06 Å^2


def test_arrhenius_recovers_activation_energy_and_extrapolates():
    ea, d0 = 0.25, 1e-2
    temps = np.array([600.0, 800.0, 1000.0, 1200.0])
    d = d0 * np.exp(-ea / (dif.KB_EV * temps))
    fit = dif.arrhenius(temps, d, 0.05 * d)
    assert fit.Ea_eV == pytest.approx(ea, rel=1e-9)
    assert fit.D_extrapolated_cm2_s == pytest.approx(d0 * np.exp(-ea / (dif.KB_EV * 300)), rel=1e-9)
    assert 0 < fit.Ea_err_eV < 0.05 and fit.D_extrapolated_factor > 1
    noisy = d * np.exp(np.random.default_rng(0).normal(scale=0.1, size=4))
    nfit = dif.arrhenius(temps, noisy, 0.1 * noisy)
    assert abs(nfit.Ea_eV - ea) < 3 * nfit.Ea_err_eV
    with pytest.raises(ValueError, match="positive"):
        dif.arrhenius([600, 800], [1e-6, -1e-7])


def test_nernst_einstein_in_siemens_per_cm_matches_a_hand_calculation():
    n, vol_a3, d_cm2, temp = 20, 953.5, 1e-6, 300.0
    n_m3 = n / (vol_a3 * 1e-30)
    sigma_si = n_m3 * constants.e**2 * (d_cm2 * 1e-4) / (constants.k * temp)  # S/m
    assert dif.nernst_einstein(d_cm2, n, vol_a3, temp) == pytest.approx(sigma_si / 100, rel=1e-6)
    assert dif.nernst_einstein(d_cm2, n, vol_a3, temp, charge=2) == pytest.approx(
        4 * sigma_si / 100, rel=1e-6
    )


def test_rdf_of_fcc_copper_has_twelve_neighbours_at_a_over_root_two():
    from ase.build import bulk

    atoms = bulk("Cu", "fcc", a=3.61, cubic=True).repeat(2)
    r, g = dif.rdf(
        atoms.get_positions()[None], np.array(atoms.cell), atoms.get_chemical_symbols(), r_max=3.0, n_bins=300
    )
    first = r[np.argmax(g)]
    assert first == pytest.approx(3.61 / np.sqrt(2), abs=0.01)
    rho = len(atoms) / atoms.get_volume()
    dr = r[1] - r[0]
    coordination = np.sum(4 * np.pi * r**2 * g * rho * dr)  # up to 3.0 Å: the first shell only
    assert coordination == pytest.approx(12.0, rel=0.02)


def test_thermal_expansion_of_a_linear_volume():
    fit = dif.thermal_expansion([300, 500, 700], [100.0, 100.6, 101.2], T_ref_K=300)
    assert fit.alpha_V_per_K == pytest.approx(0.003 / 100.0)
    assert fit.alpha_L_per_K == pytest.approx(fit.alpha_V_per_K / 3)


def test_melting_bracket_from_diffusivities():
    est = dif.melting_estimate([1800, 1200, 1500, 900], [5e-5, 1e-9, 3e-5, -2e-9], [0.9, 0.5, 0.8, 0.4])
    assert (est.T_solid_K, est.T_liquid_K, est.T_melt_K) == (1200, 1500, 1350)
    assert est.energy_jump_eV_per_atom == pytest.approx(0.3)
    none = dif.melting_estimate([300, 600], [1e-9, 2e-9])
    assert none.T_melt_K is None and none.liquid == [False, False]
