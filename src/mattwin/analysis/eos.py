"""Third-order Birch–Murnaghan equation of state: fit E(V) with the uncertainty of the fit.

    E(V) = E0 + 9 V0 B0 / 16 * { [x - 1]^3 B' + [x - 1]^2 [6 - 4 x] },   x = (V0 / V)^(2/3)

(F. Birch, Phys. Rev. 71, 809 (1947)). Volumes in Å^3, energies in eV, B0 in eV/Å^3 inside the fit
and GPa in the result; B' is dimensionless. Pure functions: no files, no store.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from ase import units
from scipy.optimize import OptimizeWarning, curve_fit

from mattwin.errors import FitError


class EOSFitError(FitError):
    """The energies cannot be fitted (too few points, no minimum inside or near the volume range)."""


def birch_murnaghan(v: np.ndarray | float, e0: float, v0: float, b0: float, bp: float) -> np.ndarray:
    """E(V) in eV of the third-order Birch–Murnaghan EOS; ``v``, ``v0`` in Å^3, ``b0`` in eV/Å^3."""
    x = (v0 / np.asarray(v, dtype=float)) ** (2.0 / 3.0)
    return e0 + 9.0 * v0 * b0 / 16.0 * ((x - 1.0) ** 3 * bp + (x - 1.0) ** 2 * (6.0 - 4.0 * x))


def birch_murnaghan_pressure(v: np.ndarray | float, v0: float, b0: float, bp: float) -> np.ndarray:
    """P(V) = -dE/dV of the Birch–Murnaghan EOS, in the unit of ``b0``."""
    r = v0 / np.asarray(v, dtype=float)
    return 1.5 * b0 * (r ** (7 / 3) - r ** (5 / 3)) * (1.0 + 0.75 * (bp - 4.0) * (r ** (2 / 3) - 1.0))


@dataclass(frozen=True)
class EOSFit:
    """A Birch–Murnaghan fit. v0_A3: equilibrium volume (Å^3, per cell of the input); e0_eV: minimum
    energy (eV per cell); b0_GPa: bulk modulus; bp: its pressure derivative; ``*_std``: one standard
    deviation from the covariance of the least-squares fit; rms_residual_eV: root-mean-square
    deviation of the energies from the fit (eV per cell); in_range: V0 lies inside the sampled volumes."""

    v0_A3: float
    e0_eV: float
    b0_GPa: float
    bp: float
    v0_std_A3: float
    b0_std_GPa: float
    bp_std: float
    rms_residual_eV: float
    in_range: bool

    def energy(self, v: np.ndarray | float) -> np.ndarray:
        """The fitted E(V) in eV at volumes ``v`` (Å^3)."""
        return birch_murnaghan(v, self.e0_eV, self.v0_A3, self.b0_GPa * units.GPa, self.bp)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _initial_guess(v: np.ndarray, e: np.ndarray) -> tuple[float, float, float, float]:
    """E0, V0, B0 (eV/Å^3), B' from a parabola in V (B0 = V0 E''(V0))."""
    c2, c1, c0 = np.polyfit(v, e, 2)
    if c2 <= 0:
        raise EOSFitError("energies have no minimum in the sampled volumes (E(V) is not convex)")
    v0 = -c1 / (2 * c2)
    if not v.min() * 0.7 < v0 < v.max() * 1.3:
        raise EOSFitError(
            f"the parabola minimum {v0:.3f} Å^3 is far outside the sampled volumes "
            f"[{v.min():.3f}, {v.max():.3f}]; centre the volume range on the minimum"
        )
    return float(np.polyval([c2, c1, c0], v0)), float(v0), float(2 * c2 * v0), 4.0


def fit_birch_murnaghan(volumes: Sequence[float], energies: Sequence[float]) -> EOSFit:
    """Least-squares Birch–Murnaghan fit of ``energies`` (eV) at ``volumes`` (Å^3); at least 5 points.

    Raises :class:`EOSFitError` when the data have no minimum or the fit does not converge."""
    v = np.asarray(volumes, dtype=float)
    e = np.asarray(energies, dtype=float)
    if v.shape != e.shape or v.ndim != 1 or len(v) < 5:
        raise EOSFitError(f"need at least 5 (volume, energy) pairs of equal length, got {len(v)}, {len(e)}")
    if not (np.all(np.isfinite(v)) and np.all(np.isfinite(e))):
        raise EOSFitError("non-finite volume or energy")
    p0 = _initial_guess(v, e)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", OptimizeWarning)
        try:
            popt, pcov = curve_fit(birch_murnaghan, v, e, p0=p0, maxfev=20000)
        except RuntimeError as exc:
            raise EOSFitError(f"Birch–Murnaghan fit did not converge: {exc}") from exc
    e0, v0, b0, bp = (float(x) for x in popt)
    if not (np.all(np.isfinite(popt)) and b0 > 0 and v0 > 0):
        raise EOSFitError(f"unphysical Birch–Murnaghan fit: V0={v0:.4g} Å^3, B0={b0 / units.GPa:.4g} GPa")
    std = np.sqrt(np.clip(np.diag(pcov), 0, None)) if np.all(np.isfinite(pcov)) else np.full(4, np.nan)
    resid = e - birch_murnaghan(v, *popt)
    return EOSFit(
        v0_A3=v0,
        e0_eV=e0,
        b0_GPa=b0 / units.GPa,
        bp=bp,
        v0_std_A3=float(std[1]),
        b0_std_GPa=float(std[2] / units.GPa),
        bp_std=float(std[3]),
        rms_residual_eV=float(np.sqrt(np.mean(resid**2))),
        in_range=bool(v.min() <= v0 <= v.max()),
    )


def delta_gauge(
    v0a: float, b0a: float, bpa: float, v0b: float, b0b: float, bpb: float, span: float = 0.06
) -> float:
    """The Delta gauge (meV/atom) between two per-atom Birch–Murnaghan curves over V0b(1 ± span)
    (Lejaeghere et al., Crit. Rev. Solid State 39, 1 (2014)); volumes Å^3/atom, B0 in GPa."""
    v = np.linspace(v0b * (1 - span), v0b * (1 + span), 2001)
    ea = birch_murnaghan(v, 0.0, v0a, b0a * units.GPa, bpa)
    eb = birch_murnaghan(v, 0.0, v0b, b0b * units.GPa, bpb)
    d = (ea - ea.mean()) - (eb - eb.mean())  # the gauge minimises over a constant shift
    return float(np.sqrt(np.trapezoid(d**2, v) / (v[-1] - v[0])) * 1000.0)
