"""Has the twin drifted from the lab? The lab's formation enthalpies against the calibrated model.

:func:`check_drift` takes the formation-enthalpy measurements in the store, predicts each with the
engine's calibration (raw formation energy from the shipped computed set,
:func:`mattwin.discovery.calibration_set.computed_compounds`) and runs the per-chemistry CUSUM of
:mod:`mattwin.analysis.drift` on the standardised residuals, in the order the measurements reached
the store.

Which calibration a measurement is compared with: the newest one whose fit did **not** include it,
since a fit that has seen a measurement predicts it too well to test it. Calibrations record how many
lab measurements they used (``fitted_on['n_lab_used']``) and when they were fitted (``created_at``):

* the calibration is the newest stored one of the engine (or the one given);
* if it used no lab measurement, every measurement is monitored against it;
* if it did, the measurements that reached the store before it was fitted are in it: they are not
  monitored (``n_fitted``), and the chart restarts with the measurements that came after, as a
  CUSUM restarts after a correction. So ``mattwin calibrate`` clears a flag, and a drift that the
  refit did not absorb is flagged again by the next measurements;
* with no stored calibration, one is fitted on the reference set only (no lab points; what
  ``fit_engine_calibration`` stores for a store without measurements, same version) and kept in
  memory, not stored: checking changes nothing in the store.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

from pymatgen.core import Composition

from mattwin.analysis.calibration import Calibration, fit_calibration
from mattwin.analysis.drift import (
    DECISION_H,
    REFERENCE_K,
    ChemistryDrift,
    Residual,
    check_cusum_settings,
    chemistry_drift,
    standardised_residuals,
)
from mattwin.discovery.calibrate import REFERENCE_SET, engine_label
from mattwin.discovery.calibration_set import DEFAULT_EXP_UNCERTAINTY, calibration_points, computed_compounds
from mattwin.errors import CalibrationError, SettingsError
from mattwin.lab import Measurement
from mattwin.store.calibrations import load_calibration
from mattwin.store.measurements import arrival_times
from mattwin.store.store import Store


@dataclass(frozen=True)
class NotPredictable:
    """A lab formation enthalpy (eV/atom) the model cannot predict yet, and why."""

    formula: str
    measured_eV_per_atom: float
    source: str
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "formula": self.formula,
            "measured_eV_per_atom": self.measured_eV_per_atom,
            "source": self.source,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class DriftReport:
    """The lab against the model: per measurement (``residuals``, eV/atom and z, in time order) and per
    chemistry (``chemistries``: the CUSUM monitor). ``calibration``: the name of the fit compared with
    (None when none could be had, then ``note`` says why); ``baseline``: how it was chosen;
    ``n_fitted``: measurements already in that fit, not monitored; ``level``: of the intervals."""

    engine: str
    calibration: str | None
    calibration_created_at: str | None
    baseline: str
    n_lab_used: int
    residuals: list[Residual]
    chemistries: list[ChemistryDrift]
    not_predictable: list[NotPredictable]
    n_fitted: int
    k: float
    h: float
    level: float
    note: str | None = None
    fitted_keys: frozenset[str] = field(default_factory=frozenset)

    @property
    def flagged(self) -> list[ChemistryDrift]:
        return [c for c in self.chemistries if c.flagged]

    def to_dict(self) -> dict[str, Any]:
        return {
            "engine": self.engine,
            "calibration": self.calibration,
            "calibration_created_at": self.calibration_created_at,
            "baseline": self.baseline,
            "calibration_n_lab_used": self.n_lab_used,
            "cusum_k_sigma": self.k,
            "cusum_h_sigma": self.h,
            "interval_level": self.level,
            "n_monitored": len(self.residuals),
            "n_fitted": self.n_fitted,
            "flagged": [c.chemistry for c in self.flagged],
            "chemistries": [c.to_dict() for c in self.chemistries],
            "measurements": [r.to_dict() for r in self.residuals],
            "not_predictable": [p.to_dict() for p in self.not_predictable],
            "note": self.note,
        }


@lru_cache(maxsize=4)
def reference_calibration(engine: str) -> Calibration:
    """``engine``'s calibration fitted on the shipped set and the reference experimental set only (no
    lab measurements), in memory; cached per process."""
    points = calibration_points(engine, ())
    fitted_on = {
        "reference_set": REFERENCE_SET,
        "computed_set": f"mattwin/data (scripts/build_calibration_set.py), engine {engine}",
        "n_reference_compounds": len(points),
        "n_lab_measurements": 0,
        "n_lab_used": 0,
    }
    return fit_calibration(points, engine_label(engine), fitted_on)


def _choose(engine: str, store: Store, calibration: Calibration | str | None) -> tuple[Calibration, str]:
    if isinstance(calibration, Calibration):
        cal, how = calibration, "the calibration given"
    elif isinstance(calibration, str):
        found = load_calibration(store, calibration)
        if found is None:
            raise CalibrationError(
                f"calibration {calibration!r}: not in the store; run `mattwin calibrate --engine {engine}`"
            )
        cal, how = found, "the calibration given"
    else:
        newest = load_calibration(store, engine_label(engine))
        if newest is not None:
            cal, how = newest, "the newest stored calibration of the engine"
        else:
            cal, how = reference_calibration(engine), "none stored: fitted now on the reference set only"
    if cal.engine != engine_label(engine):
        raise CalibrationError(f"calibration {cal.name} is for engine {cal.engine}, not {engine}")
    return cal, how


def _fitted_before(cal: Calibration, added: datetime | None) -> bool:
    """Whether a measurement that reached the store at ``added`` is in ``cal``'s fit: it arrived before
    the fit was made. ``created_at`` is stamped, in whole seconds, when the fit ends, after the lab's
    measurements were read, so everything before the end of that second counts as fitted (a
    measurement stored during the last second of a fit is taken as in it)."""
    if int(cal.fitted_on.get("n_lab_used", 0) or 0) == 0 or added is None:
        return False
    try:
        fitted = datetime.fromisoformat(cal.created_at)
    except ValueError:  # no fit time recorded: treat every measurement as new to it
        return False
    fitted = fitted if fitted.tzinfo else fitted.replace(tzinfo=UTC)
    return added < fitted + timedelta(seconds=1)


def _empty(
    engine: str, bad: list[NotPredictable], note: str, k: float, h: float, level: float
) -> DriftReport:
    return DriftReport(engine, None, None, "-", 0, [], [], bad, 0, k, h, level, note=note)


def _split(
    ms: list[Measurement], computed: dict[str, Any], engine: str
) -> tuple[list[tuple[str, Measurement, str]], list[NotPredictable]]:
    """(reduced formula, measurement, content key) of the predictable measurements; the others."""
    good, bad = [], []
    for m in ms:
        formula = Composition(m.formula).reduced_formula
        if formula in computed:
            good.append((formula, m, m.content_key()))
        else:
            why = f"no computed formation energy of {formula} with {engine} (not in the shipped set)"
            bad.append(NotPredictable(formula, m.value, m.source, why))
    return good, bad


def check_drift(
    engine: str,
    store: Store,
    calibration: Calibration | str | None = None,
    k: float = REFERENCE_K,
    h: float = DECISION_H,
    level: float = 0.9,
) -> DriftReport:
    """The store's formation-enthalpy measurements against ``engine``'s calibration (see the module
    docstring for which one): residuals (eV/atom), z, inside the ``level`` interval or not, and the
    CUSUM (reference value ``k``, decision interval ``h``, in σ of z) per chemistry."""
    check_cusum_settings(k, h)
    if not 0 < level < 1:
        raise SettingsError(f"interval level {level}: give a fraction between 0 and 1 (0.9 for 90 %)")
    if isinstance(calibration, str):
        _choose(engine, store, calibration)  # an unknown or foreign calibration is an error, data or not
    ms = store.measurements(property="formation_enthalpy")
    if not ms:
        return _empty(engine, [], "no formation-enthalpy measurement in the store", k, h, level)
    computed = computed_compounds(engine)
    if not computed:
        why = (
            f"no computed formation energies ship for engine {engine} "
            "(mattwin/data/calibration_<engine>.json.gz; build them with scripts/build_calibration_set.py)"
        )
        return _empty(
            engine, [NotPredictable(m.formula, m.value, m.source, why) for m in ms], why, k, h, level
        )
    predictable, bad = _split(ms, computed, engine)
    if not predictable and calibration is None and load_calibration(store, engine_label(engine)) is None:
        why = f"none of the {len(ms)} formation enthalpies has a computed energy with {engine}"
        return _empty(engine, bad, why, k, h, level)  # no calibration needs fitting for nothing
    cal, how = _choose(engine, store, calibration)
    added = arrival_times(store, "formation_enthalpy")
    fitted = {key for _, _, key in predictable if _fitted_before(cal, added.get(key))}
    monitored = [p for p in predictable if p[2] not in fitted]
    residuals = _residuals(cal, computed, monitored, added, level)
    return DriftReport(
        engine=engine,
        calibration=cal.name,
        calibration_created_at=cal.created_at,
        baseline=how,
        n_lab_used=int(cal.fitted_on.get("n_lab_used", 0) or 0),
        residuals=residuals,
        chemistries=chemistry_drift(residuals, k, h),
        not_predictable=bad,
        n_fitted=len(fitted),
        k=k,
        h=h,
        level=level,
        fitted_keys=frozenset(fitted),
    )


def _residuals(
    cal: Calibration,
    computed: dict[str, Any],
    monitored: list[tuple[str, Measurement, str]],
    added: dict[str, datetime],
    level: float,
) -> list[Residual]:
    if not monitored:
        return []
    formulas = [f for f, _, _ in monitored]
    comps = [computed[f] for f in formulas]
    pred = cal.predict(
        formulas,
        [c.raw for c in comps],
        [c.o_o_distance for c in comps],
        [c.spread for c in comps],
        level=level,
    )
    ms = [m for _, m, _ in monitored]
    keys = [key for _, _, key in monitored]
    at = [added.get(key) for key in keys]
    return standardised_residuals(
        formulas,
        [m.value for m in ms],
        [m.uncertainty if m.uncertainty else DEFAULT_EXP_UNCERTAINTY for m in ms],
        pred.formation_energy,
        pred.std,
        pred.low,
        pred.high,
        level,
        times=[
            m.date or (t.isoformat(timespec="seconds") if t else None) for m, t in zip(ms, at, strict=True)
        ],
        sources=[m.source for m in ms],
        keys=keys,
    )
