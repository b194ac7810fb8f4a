"""Drift of the calibrated model from the lab (pure functions: no store, no I/O).

Every new formation-enthalpy measurement is compared with the calibrated prediction of the same
formula through its standardised residual

    z = (measured - predicted) / sqrt(σ_pred² + u²)        (dimensionless)

with σ_pred the prediction's conformally scaled σ and u the measurement's own 1σ uncertainty (both
eV/atom), and whether it falls inside the predicted interval (90 % unless told otherwise). Per
chemistry class (:func:`mattwin.analysis.chemistry.chemistry_class`), in time order, a two-sided
tabular CUSUM (Page 1954; Montgomery, *Introduction to Statistical Quality Control*, 6th ed., §9.1)
accumulates the residuals::

    S+_i = max(0, S+_{i-1} + z_i - k)        S-_i = max(0, S-_{i-1} - z_i - k)        S_0 = 0

and flags the chemistry at the first i with S+_i > h (the lab measures higher than the model) or
S-_i > h (lower). Defaults: reference value k = 0.5 (tuned to detect a shift of 1σ = 2k) and decision
interval h = 4. Montgomery's Table 9.3 gives the average run length (ARL, measurements until an
alarm) of the two-sided chart with k = 1/2, h = 4, for a shift of the mean of z by δ (in σ):

    δ      0     0.25   0.5    0.75   1.0    1.5    2.0    2.5    3.0    4.0
    ARL    168   74.2   26.6   13.3   8.38   4.75   3.34   2.62   2.19   1.71

so an in-control chemistry raises a false alarm about once in 168 measurements (about one chance in
four within 50), and a model that is off by 1.5σ is flagged after about five. With h = 5 the
in-control ARL is 465 and a 1.5σ shift takes 5.75 measurements.

A measurement whose residuals are shifted by more than the calibration's σ means the model has drifted
from the lab for that chemistry (or the lab from the literature): refit the calibration with the lab's
measurements in it (``mattwin calibrate``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from mattwin.analysis.chemistry import chemistry_class
from mattwin.errors import SettingsError

#: CUSUM reference value k (in units of σ of z): half the shift the chart is tuned to detect
REFERENCE_K = 0.5
#: CUSUM decision interval h (σ of z): two-sided in-control ARL 168 with k = 0.5 (Montgomery, Table 9.3)
DECISION_H = 4.0
#: a 1-D array of values: a sequence or an ndarray
Values = Sequence[float] | np.ndarray
#: what a flagged chemistry's direction says
HIGHER, LOWER = "measured higher", "measured lower"


@dataclass(frozen=True)
class Residual:
    """One measurement against its calibrated prediction. Energies in eV/atom; ``z`` dimensionless.

    ``sigma_eV_per_atom`` = sqrt(prediction σ² + measurement uncertainty²); ``inside``: the measured
    value lies in the predicted central interval ``[interval_low, interval_high]`` at ``level``;
    ``time``: the measurement's date when known (ISO), else when it reached the store; ``key``: an
    identifier of the measurement (the store's content key)."""

    formula: str
    chemistry: str
    measured_eV_per_atom: float
    uncertainty_eV_per_atom: float
    predicted_eV_per_atom: float
    prediction_sigma_eV_per_atom: float
    sigma_eV_per_atom: float
    z: float
    interval_low_eV_per_atom: float
    interval_high_eV_per_atom: float
    level: float
    inside: bool
    time: str | None = None
    source: str = ""
    key: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class CusumPath:
    """The tabular CUSUM of a sequence of z: S+ and S- after each point, and the first alarm."""

    s_plus: tuple[float, ...]
    s_minus: tuple[float, ...]
    first_alarm: int | None  # index of the first point with S+ > h or S- > h
    direction: str | None  # HIGHER (S+ crossed) or LOWER (S- crossed) at the first alarm


@dataclass(frozen=True)
class ChemistryDrift:
    """The drift monitor of one chemistry class over its measurements in time order.

    ``n``: measurements monitored; ``mean_z``, ``mean_residual_eV_per_atom``: mean of z and of
    measured - predicted; ``s_plus``, ``s_minus``: the CUSUM after the last measurement (σ of z);
    ``flagged``: an alarm was raised; ``direction``: "measured higher" / "measured lower" at the
    first alarm; ``first_alarm_index``: its position among this chemistry's measurements (0 = first),
    ``first_alarm_time`` and ``first_alarm_formula``: that measurement's time and formula;
    ``formulas``: every formula monitored, in time order; ``n_outside``: measured values outside
    their predicted interval; ``k``, ``h``: the chart's reference value and decision interval."""

    chemistry: str
    n: int
    mean_z: float
    mean_residual_eV_per_atom: float
    s_plus: float
    s_minus: float
    flagged: bool
    direction: str | None
    first_alarm_index: int | None
    first_alarm_time: str | None
    first_alarm_formula: str | None
    formulas: tuple[str, ...]
    n_outside: int
    k: float = REFERENCE_K
    h: float = DECISION_H

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["formulas"] = list(self.formulas)
        return d


def check_cusum_settings(k: float, h: float) -> None:
    """Raise :class:`SettingsError` unless k >= 0 and h > 0 (both finite, σ of z)."""
    if not (math.isfinite(k) and k >= 0):
        raise SettingsError(
            f"CUSUM reference value k = {k}: give a finite k >= 0 (k = 0.5 detects a 1σ shift)"
        )
    if not (math.isfinite(h) and h > 0):
        raise SettingsError(f"CUSUM decision interval h = {h}: give a finite h > 0 (4 or 5 are usual)")


def tabular_cusum(z: Values, k: float = REFERENCE_K, h: float = DECISION_H) -> CusumPath:
    """Two-sided tabular CUSUM of standardised values ``z`` (see the module docstring). The sums run
    on after an alarm (no reset), so the final S+ and S- say where the chart stands now."""
    check_cusum_settings(k, h)
    sp, sm = 0.0, 0.0
    s_plus, s_minus = [], []
    first: int | None = None
    direction: str | None = None
    for i, zi in enumerate(float(x) for x in np.asarray(z, dtype=float)):
        sp = max(0.0, sp + zi - k)
        sm = max(0.0, sm - zi - k)
        s_plus.append(sp)
        s_minus.append(sm)
        if first is None and (sp > h or sm > h):
            first, direction = i, HIGHER if sp > h else LOWER
    return CusumPath(tuple(s_plus), tuple(s_minus), first, direction)


def standardised_residuals(
    formulas: Sequence[str],
    measured: Values,
    uncertainty: Values,
    predicted: Values,
    prediction_sigma: Values,
    interval_low: Values,
    interval_high: Values,
    level: float = 0.9,
    times: Sequence[str | None] | None = None,
    sources: Sequence[str] | None = None,
    keys: Sequence[str] | None = None,
) -> list[Residual]:
    """One :class:`Residual` per measurement (all energies eV/atom; the interval is the prediction's
    central interval at ``level``, e.g. :class:`mattwin.analysis.calibration.Prediction` low/high)."""
    n = len(formulas)
    times = list(times) if times is not None else [None] * n
    sources = list(sources) if sources is not None else [""] * n
    keys = list(keys) if keys is not None else [""] * n
    out = []
    rows = zip(
        formulas, measured, uncertainty, predicted, prediction_sigma, interval_low, interval_high,
        times, sources, keys, strict=True,
    )  # fmt: skip
    for f, y, u, mu, sp, lo, hi, t, src, key in rows:
        sigma = math.hypot(float(sp), float(u))
        z = (float(y) - float(mu)) / max(sigma, 1e-9)
        out.append(
            Residual(
                formula=f,
                chemistry=chemistry_class(f),
                measured_eV_per_atom=float(y),
                uncertainty_eV_per_atom=float(u),
                predicted_eV_per_atom=float(mu),
                prediction_sigma_eV_per_atom=float(sp),
                sigma_eV_per_atom=sigma,
                z=z,
                interval_low_eV_per_atom=float(lo),
                interval_high_eV_per_atom=float(hi),
                level=level,
                inside=bool(float(lo) <= float(y) <= float(hi)),
                time=t,
                source=src,
                key=key,
            )
        )
    return out


def chemistry_drift(
    residuals: Sequence[Residual], k: float = REFERENCE_K, h: float = DECISION_H
) -> list[ChemistryDrift]:
    """The CUSUM monitor per chemistry class, over ``residuals`` in the order given (time order);
    chemistries in the order they first appear."""
    check_cusum_settings(k, h)
    groups: dict[str, list[Residual]] = {}
    for r in residuals:
        groups.setdefault(r.chemistry, []).append(r)
    out = []
    for chem, rs in groups.items():
        path = tabular_cusum([r.z for r in rs], k, h)
        alarm = rs[path.first_alarm] if path.first_alarm is not None else None
        out.append(
            ChemistryDrift(
                chemistry=chem,
                n=len(rs),
                mean_z=float(np.mean([r.z for r in rs])),
                mean_residual_eV_per_atom=float(
                    np.mean([r.measured_eV_per_atom - r.predicted_eV_per_atom for r in rs])
                ),
                s_plus=path.s_plus[-1],
                s_minus=path.s_minus[-1],
                flagged=path.first_alarm is not None,
                direction=path.direction,
                first_alarm_index=path.first_alarm,
                first_alarm_time=alarm.time if alarm else None,
                first_alarm_formula=alarm.formula if alarm else None,
                formulas=tuple(r.formula for r in rs),
                n_outside=sum(not r.inside for r in rs),
                k=k,
                h=h,
            )
        )
    return out
