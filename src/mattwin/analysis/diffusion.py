"""Transport and thermal analysis of MD trajectories: pure functions on arrays.

Shapes and units: positions (n_frames, n_atoms, 3) Å; cells (n_frames, 3, 3) Å (rows are lattice
vectors) or one (3, 3) cell; times in ps; diffusivities in Å^2/ps internally and cm^2/s in the
results (1 Å^2/ps = 1e-4 cm^2/s); temperatures K; energies eV.

- :func:`unwrap` undoes periodic wrapping frame to frame (minimum image in fractional coordinates,
  with each frame's own cell, so NPT cells work); it needs frames close enough that no atom moves
  half a cell between two of them.
- :func:`msd` is the all-origins mean-squared displacement (FFT algorithm of Calandrini et al.,
  J. Chem. Phys. 2011 / nMOLDYN), exact for every lag.
- :func:`diffusion_coefficient` fits MSD = 2 d D t + c in a window and estimates the statistical
  error by block averaging (the trajectory cut into independent blocks, D fitted in each).
- :func:`arrhenius` fits ln D = ln D0 - Ea / (kB T), weighted by the errors, and extrapolates.
- :func:`nernst_einstein` turns a tracer D into an ionic conductivity in S/cm.
- :func:`rdf`, :func:`thermal_expansion`, :func:`melting_estimate`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

KB_EV = 8.617333262e-5  # Boltzmann constant, eV/K
KB_J = 1.380649e-23  # J/K
E_CHARGE = 1.602176634e-19  # C
A2PS_TO_CM2S = 1e-4  # 1 Å^2/ps = 1e-16 cm^2 / 1e-12 s


def _cells(cells: np.ndarray, n_frames: int) -> np.ndarray:
    c = np.asarray(cells, dtype=float)
    return np.broadcast_to(c, (n_frames, 3, 3)) if c.ndim == 2 else c


def unwrap(positions: np.ndarray, cells: np.ndarray) -> np.ndarray:
    """Continuous Cartesian trajectories (n_frames, n_atoms, 3) Å from (possibly) wrapped ones.

    Each frame-to-frame step is taken as the minimum image of the fractional displacement and
    converted with the later frame's cell; already continuous input comes back unchanged.
    """
    pos = np.asarray(positions, dtype=float)
    h = _cells(cells, len(pos))
    frac = np.einsum("fij,fjk->fik", pos, np.linalg.inv(h))
    dfrac = np.diff(frac, axis=0)
    dfrac -= np.round(dfrac)
    steps = np.einsum("fij,fjk->fik", dfrac, h[1:])
    out = np.empty_like(pos)
    out[0] = pos[0]
    out[1:] = pos[0] + np.cumsum(steps, axis=0)
    return out


def remove_drift(unwrapped: np.ndarray, masses: np.ndarray) -> np.ndarray:
    """Positions relative to the centre of mass of all atoms (removes a drifting frame), Å."""
    m = np.asarray(masses, dtype=float)[None, :, None]
    com = (unwrapped * m).sum(axis=1, keepdims=True) / m.sum()
    return np.asarray(unwrapped - (com - com[:1]))


def msd(unwrapped: np.ndarray) -> np.ndarray:
    """All-origins MSD (n_frames,) Å^2 averaged over atoms and origins; ``msd[k]`` is at lag k frames.

    FFT algorithm: MSD(k) = S1(k) - 2 S2(k), S2 from the autocorrelation of r(t); O(n log n) per atom.
    """
    r = np.asarray(unwrapped, dtype=float)
    n = r.shape[0]
    if n < 2:
        raise ValueError("msd needs at least two frames")
    d = np.square(r).sum(axis=2)  # (n, atoms)
    d_ext = np.vstack([d, np.zeros((1, d.shape[1]))])
    q = 2.0 * d.sum(axis=0)
    s1 = np.empty((n, d.shape[1]))
    for k in range(n):
        q = q - d_ext[k - 1] - d_ext[n - k]
        s1[k] = q / (n - k)
    f = np.fft.rfft(r, n=2 * n, axis=0)
    acf = np.fft.irfft(f * f.conj(), axis=0)[:n].sum(axis=2)  # (n, atoms)
    s2 = acf / (n - np.arange(n))[:, None]
    return np.asarray((s1 - 2.0 * s2).mean(axis=1))


def msd_by_species(unwrapped: np.ndarray, symbols: Sequence[str]) -> dict[str, np.ndarray]:
    """:func:`msd` of each element separately: symbol -> (n_frames,) Å^2."""
    sym = np.asarray(symbols)
    return {s: msd(unwrapped[:, sym == s]) for s in dict.fromkeys(symbols)}


@dataclass(frozen=True)
class DiffusionFit:
    """D from the slope of the MSD: ``D_cm2_s`` ± ``D_err_cm2_s``, the quadrature sum of the
    block-averaging standard error ``D_stat_err_cm2_s`` and the window error ``D_window_err_cm2_s``
    (change of D when the fit window slides by half its width: large when the MSD is not yet a
    straight line, e.g. the coherent vibrations of a small crystal).

    fit_window_ps: the lag times fitted; block_D_cm2_s: D of each independent block.
    """

    D_cm2_s: float
    D_err_cm2_s: float
    D_stat_err_cm2_s: float
    D_window_err_cm2_s: float
    fit_window_ps: tuple[float, float]
    n_blocks: int
    block_D_cm2_s: list[float]
    n_atoms: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _slope_D(msd_curve: np.ndarray, dt_ps: float, i0: int, i1: int, dim: int) -> float:
    t = np.arange(i0, i1 + 1) * dt_ps
    slope = np.polyfit(t, msd_curve[i0 : i1 + 1], 1)[0]
    return float(slope / (2.0 * dim))


def diffusion_coefficient(
    unwrapped: np.ndarray,
    dt_ps: float,
    fit_start: float = 0.2,
    fit_end: float = 0.6,
    n_blocks: int = 5,
    dim: int = 3,
) -> DiffusionFit:
    """Tracer diffusion coefficient of the atoms in ``unwrapped`` (n_frames, n_atoms, 3) Å.

    dt_ps: time between frames. The trajectory is cut into ``n_blocks`` contiguous blocks; the
    MSD (all origins) is fitted linearly over lags from ``fit_start`` to ``fit_end`` of the block
    length (skipping the ballistic start and the rise to the vibrational plateau, which would inflate
D, and the noisy long lags), in each block and over the whole
    trajectory (same lags, more origins). D is the whole-trajectory value; its error combines the
    standard error of the block values (blocks long compared with the velocity correlation time are
    independent; the whole-trajectory value is at least as precise as their mean) with the change
    of D when the window slides by half its width (nonlinearity of the MSD in the window).
    """
    if not 0 <= fit_start < fit_end <= 1:
        raise ValueError(f"fit window [{fit_start}, {fit_end}] must satisfy 0 <= start < end <= 1")
    n = unwrapped.shape[0]
    n_blocks = max(int(n_blocks), 1)
    if n < 8 * n_blocks:
        raise ValueError(f"{n} frames are too few for {n_blocks} blocks (need at least {8 * n_blocks})")
    size = n // n_blocks
    i0 = max(1, int(round(fit_start * (size - 1))))
    i1 = max(i0 + 1, int(round(fit_end * (size - 1))))
    curve = msd(unwrapped)
    d_all = _slope_D(curve, dt_ps, i0, i1, dim)
    shift = max(1, (i1 - i0) // 2)
    d_shifted = _slope_D(curve, dt_ps, i0 + shift, i1 + shift, dim)
    blocks = [
        _slope_D(msd(unwrapped[b * size : (b + 1) * size]), dt_ps, i0, i1, dim) for b in range(n_blocks)
    ]
    stat = float(np.std(blocks, ddof=1) / math.sqrt(n_blocks)) if n_blocks > 1 else float("nan")
    window = abs(d_shifted - d_all)
    return DiffusionFit(
        D_cm2_s=d_all * A2PS_TO_CM2S,
        D_err_cm2_s=math.hypot(stat, window) * A2PS_TO_CM2S,
        D_stat_err_cm2_s=stat * A2PS_TO_CM2S,
        D_window_err_cm2_s=window * A2PS_TO_CM2S,
        fit_window_ps=(i0 * dt_ps, i1 * dt_ps),
        n_blocks=n_blocks,
        block_D_cm2_s=[b * A2PS_TO_CM2S for b in blocks],
        n_atoms=int(unwrapped.shape[1]),
    )


@dataclass(frozen=True)
class ArrheniusFit:
    """D(T) = D0 exp(-Ea / kB T). Ea and its 1-sigma error in eV; D at ``T_extrapolated_K`` with a
    1-sigma interval (log-normal: [D / f, D * f], f = ``D_extrapolated_factor``)."""

    Ea_eV: float
    Ea_err_eV: float
    D0_cm2_s: float
    T_extrapolated_K: float
    D_extrapolated_cm2_s: float
    D_extrapolated_factor: float
    temperatures_K: list[float]
    D_cm2_s: list[float]
    D_err_cm2_s: list[float]
    reduced_chi2: float | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def arrhenius(
    temperatures_K: Sequence[float],
    D_cm2_s: Sequence[float],
    D_err_cm2_s: Sequence[float] | None = None,
    T_extrapolate_K: float = 300.0,
) -> ArrheniusFit:
    """Weighted fit of ln D against 1/T (weights 1/sigma_lnD^2, sigma_lnD = D_err / D).

    The parameter covariance is that of the given errors, scaled up by the reduced chi^2 when the
    points scatter more than their errors say (never scaled down). Needs positive D at >= 2 T.
    """
    T = np.asarray(temperatures_K, dtype=float)
    D = np.asarray(D_cm2_s, dtype=float)
    if len(T) < 2 or len(T) != len(D):
        raise ValueError("arrhenius needs D at two or more temperatures")
    if np.any(D <= 0) or np.any(T <= 0):
        raise ValueError(f"arrhenius needs positive D and T; got D={D.tolist()} at T={T.tolist()}")
    err = np.asarray(D_err_cm2_s, dtype=float) if D_err_cm2_s is not None else 0.1 * D
    sig = np.where(np.isfinite(err) & (err > 0), err / D, 0.1)
    x, y, w = 1.0 / T, np.log(D), 1.0 / sig**2
    A = np.vstack([np.ones_like(x), x]).T
    cov = np.linalg.inv(A.T @ (A * w[:, None]))
    a, b = cov @ (A.T @ (w * y))
    dof = len(T) - 2
    chi2 = float(np.sum(w * (y - a - b * x) ** 2) / dof) if dof > 0 else None
    if chi2 is not None and chi2 > 1:
        cov = cov * chi2
    x0 = 1.0 / T_extrapolate_K
    var_y0 = cov[0, 0] + 2 * x0 * cov[0, 1] + x0**2 * cov[1, 1]
    return ArrheniusFit(
        Ea_eV=float(-b * KB_EV),
        Ea_err_eV=float(math.sqrt(cov[1, 1]) * KB_EV),
        D0_cm2_s=float(math.exp(a)),
        T_extrapolated_K=float(T_extrapolate_K),
        D_extrapolated_cm2_s=float(math.exp(a + b * x0)),
        D_extrapolated_factor=float(math.exp(math.sqrt(var_y0))),
        temperatures_K=T.tolist(),
        D_cm2_s=D.tolist(),
        D_err_cm2_s=err.tolist(),
        reduced_chi2=chi2,
    )


def nernst_einstein(
    D_cm2_s: float,
    n_carriers: int,
    volume_A3: float,
    temperature_K: float,
    charge: int = 1,
    haven_ratio: float = 1.0,
) -> float:
    """Ionic conductivity sigma = n (z e)^2 D / (H_R kB T) in S/cm.

    n_carriers mobile ions of charge ``charge`` (units of e) in ``volume_A3`` Å^3; D the tracer
    diffusivity (cm^2/s); ``haven_ratio`` H_R = D_tracer / D_sigma (1: uncorrelated hops).
    """
    n_per_cm3 = n_carriers / (volume_A3 * 1e-24)
    q = charge * E_CHARGE
    return float(n_per_cm3 * q * q * D_cm2_s / (haven_ratio * KB_J * temperature_K))


def rdf(
    positions: np.ndarray,
    cells: np.ndarray,
    symbols: Sequence[str],
    pair: tuple[str, str] | None = None,
    r_max: float = 6.0,
    n_bins: int = 120,
) -> tuple[np.ndarray, np.ndarray]:
    """Radial distribution function g(r) averaged over frames: (bin centres Å, g) each (n_bins,).

    ``pair`` (A, B) counts B neighbours around A atoms (None: all atoms). Periodic images are
    counted by ASE's neighbour list, so ``r_max`` may exceed half the cell; g -> 1 in a liquid.
    """
    from ase import Atoms
    from ase.neighborlist import neighbor_list

    pos = np.asarray(positions, dtype=float)
    h = _cells(cells, len(pos))
    sym = np.asarray(symbols)
    a_mask = np.ones(len(sym), bool) if pair is None else sym == pair[0]
    b_mask = np.ones(len(sym), bool) if pair is None else sym == pair[1]
    n_a, n_b = int(a_mask.sum()), int(b_mask.sum())
    if n_a == 0 or n_b == 0:
        raise ValueError(f"rdf: no atoms of pair {pair} among {sorted(set(symbols))}")
    edges = np.linspace(0.0, r_max, n_bins + 1)
    hist = np.zeros(n_bins)
    density = 0.0
    for p, c in zip(pos, h, strict=True):
        atoms = Atoms(numbers=np.ones(len(sym), int), positions=p, cell=c, pbc=True)
        i, j, d = neighbor_list("ijd", atoms, r_max)
        keep = a_mask[i] & b_mask[j]
        hist += np.histogram(d[keep], bins=edges)[0]
        density += n_b / abs(np.linalg.det(c))
    shell = 4.0 / 3.0 * np.pi * (edges[1:] ** 3 - edges[:-1] ** 3)
    g = hist / (n_a * shell * density)  # density summed over frames = frames x mean density
    return 0.5 * (edges[1:] + edges[:-1]), g


@dataclass(frozen=True)
class ThermalExpansion:
    """Volumetric expansion alpha_V = (1/V) dV/dT at ``T_ref_K`` (1/K) from a line through V(T);
    linear alpha_L = alpha_V / 3 (cubic or isotropic solids)."""

    alpha_V_per_K: float
    alpha_V_err_per_K: float
    alpha_L_per_K: float
    V_ref_A3: float
    T_ref_K: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def thermal_expansion(
    temperatures_K: Sequence[float], volumes_A3: Sequence[float], T_ref_K: float | None = None
) -> ThermalExpansion:
    """Thermal expansion from mean NPT volumes (Å^3) at two or more temperatures (K)."""
    T, V = np.asarray(temperatures_K, float), np.asarray(volumes_A3, float)
    if len(T) < 2:
        raise ValueError("thermal expansion needs volumes at two or more temperatures")
    T_ref = float(T.min()) if T_ref_K is None else float(T_ref_K)
    if len(T) > 2:
        (slope, icpt), cov = np.polyfit(T, V, 1, cov=True)
        slope_err = float(math.sqrt(cov[0, 0]))
    else:
        slope, icpt = np.polyfit(T, V, 1)
        slope_err = float("nan")
    v_ref = float(icpt + slope * T_ref)
    return ThermalExpansion(
        alpha_V_per_K=float(slope / v_ref),
        alpha_V_err_per_K=slope_err / v_ref,
        alpha_L_per_K=float(slope / v_ref / 3.0),
        V_ref_A3=v_ref,
        T_ref_K=T_ref,
    )


#: a liquid's D (liquid metals ~1e-5 cm^2/s near melting) vs a solid's (~0 in a defect-free cell)
LIQUID_D_THRESHOLD_CM2_S = 1e-6


@dataclass(frozen=True)
class MeltingEstimate:
    """Heat-until-melt: the highest temperature that stayed solid and the lowest that melted (K);
    ``T_melt_K`` is their midpoint (None when no bracket was found), ``energy_jump_eV_per_atom``
    the rise of the total energy across it (latent heat plus heat capacity over the interval)."""

    T_melt_K: float | None
    T_solid_K: float | None
    T_liquid_K: float | None
    energy_jump_eV_per_atom: float | None
    liquid: list[bool]
    caveat: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def melting_estimate(
    temperatures_K: Sequence[float],
    D_cm2_s: Sequence[float],
    energies_eV_per_atom: Sequence[float] | None = None,
    liquid_threshold_cm2_s: float = LIQUID_D_THRESHOLD_CM2_S,
) -> MeltingEstimate:
    """Bracket the melting point from runs of a heated crystal at several temperatures.

    A run is liquid when its D (give the slowest species' D for a compound: a superionic solid's
    mobile ions diffuse too) exceeds ``liquid_threshold_cm2_s``; ``liquid`` lists the verdicts in
    order of increasing temperature. A perfect
    periodic crystal superheats before it melts, so the bracket is an upper bound on T_m (often
    by 10-30 %); two-phase coexistence runs remove that bias.
    """
    order = np.argsort(np.asarray(temperatures_K, float))
    T = np.asarray(temperatures_K, float)[order]
    D = np.asarray(D_cm2_s, float)[order]
    liquid = (D > liquid_threshold_cm2_s).tolist()
    caveat = "heat-until-melt of a defect-free periodic cell superheats: an upper bound on T_m"
    t_solid = t_liquid = jump = None
    for k in range(len(T)):
        if liquid[k] and all(liquid[k:]):
            t_liquid = float(T[k])
            if k > 0:
                t_solid = float(T[k - 1])
                if energies_eV_per_atom is not None:
                    e = np.asarray(energies_eV_per_atom, float)[order]
                    jump = float(e[k] - e[k - 1])
            break
    t_melt = None if t_solid is None or t_liquid is None else 0.5 * (t_solid + t_liquid)
    return MeltingEstimate(t_melt, t_solid, t_liquid, jump, [bool(x) for x in liquid], caveat)
