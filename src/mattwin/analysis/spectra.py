"""Broadened absorption spectra from stick spectra (pure functions).

Each excitation i (energy E_i in eV, oscillator strength f_i) becomes a Gaussian of full width at
half maximum ``fwhm_eV`` with area f_i; the spectrum is in units of oscillator strength per eV.
Molar absorptivity follows ε(E) [L mol^-1 cm^-1] = 28700 × Σ f_i g_i(E) [1/eV], from the standard
relation f = 4.32e-9 ∫ε dν̃ (ν̃ in cm^-1) and 1 eV = 8065.54 cm^-1.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

#: molar absorptivity per unit oscillator strength per eV of band density, L mol^-1 cm^-1 eV
EPSILON_PER_F_EV = 2.8700e4
#: hc in eV nm
HC_EV_NM = 1239.841984


def gaussian_spectrum(
    energies_eV: Sequence[float],
    strengths: Sequence[float],
    fwhm_eV: float = 0.3,
    grid_eV: Sequence[float] | None = None,
    n_points: int = 600,
) -> tuple[np.ndarray, np.ndarray]:
    """(grid (n,) eV, intensity (n,) f/eV) of Gaussians of FWHM ``fwhm_eV`` and area f_i.

    The default grid spans from 1 eV below the lowest to 1 eV above the highest excitation."""
    e = np.asarray(energies_eV, dtype=float)
    f = np.asarray(strengths, dtype=float)
    if e.shape != f.shape:
        raise ValueError(f"{len(e)} energies but {len(f)} oscillator strengths")
    if fwhm_eV <= 0:
        raise ValueError(f"broadening must be positive, got {fwhm_eV} eV")
    if grid_eV is None:
        lo = max(0.0, float(e.min()) - 1.0) if len(e) else 0.0
        hi = float(e.max()) + 1.0 if len(e) else 10.0
        grid = np.linspace(lo, hi, n_points)
    else:
        grid = np.asarray(grid_eV, dtype=float)
    sigma = fwhm_eV / (2.0 * np.sqrt(2.0 * np.log(2.0)))
    g = np.exp(-0.5 * ((grid[:, None] - e[None, :]) / sigma) ** 2) / (sigma * np.sqrt(2 * np.pi))
    return grid, g @ f


def molar_absorptivity(intensity_per_eV: np.ndarray) -> np.ndarray:
    """ε in L mol^-1 cm^-1 of a spectrum in oscillator strength per eV."""
    return EPSILON_PER_F_EV * np.asarray(intensity_per_eV)


def wavelength_nm(energy_eV: float | np.ndarray) -> float | np.ndarray:
    """Photon wavelength (nm) of an energy (eV)."""
    return HC_EV_NM / np.asarray(energy_eV) if np.ndim(energy_eV) else HC_EV_NM / float(energy_eV)  # type: ignore[arg-type]
