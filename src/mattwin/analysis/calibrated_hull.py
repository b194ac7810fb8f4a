"""Calibrated stability: formation energies and E_hull from calibrated energies, with intervals and the
probability of lying within a stability threshold (pure functions; energies in eV/atom).

The calibration's correction of each composition is drawn jointly (:meth:`Calibration.sample_corrections`,
which includes the correction parameters' covariance, the residual model's posterior and the conformal
scaling), each phase also gets its ensemble spread as independent noise, and E_hull is recomputed for
every draw (:func:`mattwin.analysis.hull.e_above_hull_samples`). The point values are those of the mean
calibrated energies; intervals are the central quantiles of the draws. Polymorphs share their
composition's correction, so their energy difference is the engine's own.

**Measured anchors.** Where a composition's standard formation enthalpy has been measured
(``anchors``: formula -> (ΔH_f, σ), eV/atom), the calibration is not needed to predict it: the
correction of that composition is set so that its lowest computed phase lies at the measured value,
drawn with the measurement's σ (independent of the other compositions). This is an experimental hull
for the known compounds, with the engine's own polymorph differences above each, so that a calibration
that extrapolates badly to a well-measured compound cannot move the competing phases of a campaign.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from pymatgen.analysis.phase_diagram import PhaseDiagram

from mattwin.analysis.calibration import Calibration
from mattwin.analysis.hull import PhaseEnergy, Stability, e_above_hull_samples, stability

#: draws of the calibrated energies behind each interval and probability
N_SAMPLES = 512


@dataclass(frozen=True)
class CalibratedStability:
    """Stability of one phase: calibrated point values, intervals at ``level`` and P(E_hull <= threshold)."""

    point: Stability
    raw_formation_energy_per_atom: float
    raw_e_hull: float
    formation_energy_interval: tuple[float, float]
    e_hull_interval: tuple[float, float]
    p_stable: float
    formation_energy_std: float
    e_hull_std: float


def _fractions(phases: Sequence[PhaseEnergy]) -> tuple[list[str], np.ndarray]:
    elements = sorted({e.symbol for p in phases for e in p.composition.elements})
    x = np.array([[p.composition.get_atomic_fraction(e) for e in elements] for p in phases])
    return elements, x


def calibrated_stability(
    phases: Sequence[PhaseEnergy],
    calibration: Calibration | None,
    threshold: float,
    spreads: Mapping[str, float] | None = None,
    level: float = 0.9,
    n_samples: int = N_SAMPLES,
    seed: int = 0,
    anchors: Mapping[str, tuple[float, float]] | None = None,
) -> tuple[PhaseDiagram, dict[str, CalibratedStability]]:
    """Stability of every phase from its raw energy per atom, calibrated by ``calibration``.

    ``phases``: raw energies (a single engine, or an ensemble's member mean); ``spreads``: key -> the
    ensemble's spread of that phase's energy (eV/atom), added as independent noise. Without a
    calibration the raw energies are used and only the spread makes the intervals (zero width for one
    engine). Returns the phase diagram of the calibrated point energies (for plots) and per phase key
    its :class:`CalibratedStability`. ``anchors``: reduced formula -> (measured ΔH_f, σ) in eV/atom
    (see the module docstring); used only with a calibration.
    """
    phases = list(phases)
    _, raw = stability(phases)
    formulas = sorted({p.composition.reduced_formula for p in phases})
    col = {f: i for i, f in enumerate(formulas)}
    idx = np.array([col[p.composition.reduced_formula] for p in phases])
    e_raw = np.array([p.energy_per_atom for p in phases])
    rng = np.random.default_rng(seed)
    if calibration is not None:
        mean, _ = calibration.correction(formulas)
        draws = calibration.sample_corrections(formulas, n_samples, rng)[:, idx]
        shift = mean[idx]
    else:
        draws = np.zeros((n_samples, len(phases)))
        shift = np.zeros(len(phases))
    if calibration is not None and anchors:
        ef_raw = np.array([raw[p.key].formation_energy_per_atom for p in phases])
        shift, draws = _anchored(phases, ef_raw, shift, draws, anchors, seed)
    sd = np.array([(spreads or {}).get(p.key, 0.0) or 0.0 for p in phases])
    samples = e_raw + draws + rng.standard_normal((n_samples, len(phases))) * sd
    corrected = [
        PhaseEnergy(p.key, p.name, p.composition, float(e + d), p.kind)
        for p, e, d in zip(phases, e_raw, shift, strict=True)
    ]
    pd, point = stability(corrected)
    _, x = _fractions(phases)
    eh = e_above_hull_samples(x, samples)
    elemental = x.max(1) > 1 - 1e-9
    mu_idx = [np.flatnonzero(elemental & (x[:, k] > 0.5)) for k in range(x.shape[1])]
    mu = np.stack([samples[:, ids].min(1) for ids in mu_idx], axis=1)  # (S, n_el)
    ef = samples - mu @ x.T
    lo, hi = 0.5 - level / 2, 0.5 + level / 2
    out = {}
    for j, p in enumerate(phases):
        out[p.key] = CalibratedStability(
            point=point[p.key],
            raw_formation_energy_per_atom=raw[p.key].formation_energy_per_atom,
            raw_e_hull=raw[p.key].e_hull,
            formation_energy_interval=(float(np.quantile(ef[:, j], lo)), float(np.quantile(ef[:, j], hi))),
            e_hull_interval=(float(np.quantile(eh[:, j], lo)), float(np.quantile(eh[:, j], hi))),
            p_stable=float(np.mean(eh[:, j] <= threshold + 1e-9)),
            formation_energy_std=float(ef[:, j].std()),
            e_hull_std=float(eh[:, j].std()),
        )
    return pd, out


def _anchored(
    phases: Sequence[PhaseEnergy],
    ef_raw: np.ndarray,
    shift: np.ndarray,
    draws: np.ndarray,
    anchors: Mapping[str, tuple[float, float]],
    seed: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Corrections of the measured compositions replaced: the lowest raw phase of each (``ef_raw``: raw
    formation energies, eV/atom) lies at its measured ΔH_f; draws are the measured value ± its σ (one
    draw per composition, shared by its polymorphs)."""
    shift, draws = shift.copy(), draws.copy()
    rng = np.random.default_rng(seed + 1)  # the calibration's own draws stay as they were
    formulas = np.array([p.composition.reduced_formula for p in phases])
    for formula in sorted(set(formulas) & set(anchors)):
        ids = np.flatnonzero(formulas == formula)
        if len(phases[int(ids[0])].composition.elements) < 2:
            continue
        value, sigma = anchors[formula]
        c = float(value) - float(ef_raw[ids].min())
        shift[ids] = c
        noise = np.asarray(rng.standard_normal(draws.shape[0]), dtype=float)
        draws[:, ids] = (c + noise * float(sigma))[:, None]
    return shift, draws
