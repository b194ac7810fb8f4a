"""Calibration of computed formation energies against experiment (pure functions: no store, no I/O).

A calibration maps an engine's raw formation energy ΔH_raw (eV/atom, from the engine's own elemental
reference energies) to a calibrated one with an uncertainty that is checked on held-out compounds:

1. **Corrections per anion / oxidation class and per U metal**, as the Materials Project 2020 scheme
   does (Wang et al., Sci. Rep. 11, 15496 (2021)): ΔH_exp - ΔH_raw = Σ_k c_k n_k / N, with n_k the
   atoms of correction species k (oxide, peroxide, superoxide O, F, Cl, ..., Fe(U) in oxides and
   fluorides; :mod:`mattwin.analysis.chemistry`) among the N atoms of the formula. Fitted by weighted
   Bayesian least squares (prior c_k ~ N(0, PRIOR_EV²), weights 1/(σ_exp² + σ_model²)), so every
   correction has a covariance and a species never seen in the data keeps its wide prior.
2. **A residual model**: a Gaussian process (Matérn 5/2, one length scale per feature) on
   composition descriptors (fraction-weighted mean, spread and range of electronegativity, Z, group,
   row, atomic radius, Mendeleev number) fitted to what the corrections leave, with each measurement's
   own uncertainty on the diagonal and a fitted white-noise term for the model's scatter.
3. **Conformal scaling** (split-conformal on normalised residuals, Angelopoulos & Bates 2021): the
   predictive σ = sqrt(x'Σx + σ_GP²) is scaled so that the held-out (grouped by chemical system)
   normalised residuals |y - ŷ|/σ reach the requested coverage; the empirical scores are kept so any
   level's interval can be formed.

Correlated draws of the corrections of several compositions (:meth:`Calibration.sample_corrections`)
carry the uncertainty into E_hull: compositions that share corrections and lie close in descriptor
space move together, so E_hull's interval is narrower than the formation energies' when the competing
phases share the error.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
from pymatgen.core import Composition, Element

from mattwin.analysis.chemistry import FEATURES, correction_species

#: prior standard deviation of a correction, eV per atom of the corrected species
PRIOR_EV = 1.5
#: shortest length scale of the residual GP, in standard deviations of a descriptor: shorter ones fit
#: the scatter of single compounds and do not carry over to other chemical systems (grouped CV)
LENGTH_MIN = 1.0
#: element properties behind the residual model's composition descriptors
_PROPS = ("X", "Z", "group", "row", "atomic_radius_calculated", "mendeleev_no")


@dataclass(frozen=True)
class CalibrationPoint:
    """One compound with a computed and a measured formation enthalpy (eV/atom)."""

    formula: str
    raw: float  # engine formation energy, eV/atom
    measured: float  # eV/atom
    uncertainty: float  # experimental, eV/atom
    source: str
    o_o_distance: float | None = None  # Å, shortest O-O distance of the computed structure
    spread: float | None = None  # ensemble spread of the raw formation energy, eV/atom

    @property
    def chemical_system(self) -> str:
        return "-".join(sorted(e.symbol for e in Composition(self.formula).elements))


def _element_props(symbol: str) -> list[float]:
    el = Element(symbol)
    out = []
    for p in _PROPS:
        v = getattr(el, p)
        v = float(v) if v is not None else float("nan")
        out.append(v)
    return out


def descriptors(formula: str) -> np.ndarray:
    """Composition descriptors: weighted mean, weighted std and range of each element property."""
    comp = Composition(formula).fractional_composition
    fr = np.array([comp[e] for e in comp.elements])
    props = np.array([_element_props(e.symbol) for e in comp.elements])  # (n_el, n_props)
    props = np.where(np.isfinite(props), props, np.nanmean(np.where(np.isfinite(props), props, np.nan), 0))
    props = np.nan_to_num(props, nan=0.0)
    mean = fr @ props
    std = np.sqrt(np.maximum(fr @ (props - mean) ** 2, 0.0))
    rng = props.max(0) - props.min(0)
    return np.concatenate([mean, std, rng])


def correction_features(formula: str, o_o_distance: float | None = None) -> np.ndarray:
    """n_k / N for every correction species k of :data:`mattwin.analysis.chemistry.FEATURES`."""
    comp = Composition(formula)
    n = comp.num_atoms
    species = correction_species(comp, o_o_distance)
    return np.array([species.get(k, 0.0) / n for k in FEATURES])


@dataclass(frozen=True)
class Prediction:
    """Calibrated formation energies (eV/atom) with σ and the interval at ``level``."""

    formation_energy: np.ndarray
    std: np.ndarray  # conformally scaled σ (eV/atom)
    low: np.ndarray
    high: np.ndarray
    level: float


@dataclass(frozen=True)
class Calibration:
    """A fitted, serialisable calibration of one engine (see the module docstring).

    ``version``: a hash of the fit's inputs and parameters (the same data give the same version).
    ``metrics``: held-out figures when they were measured (``heldout_mae_raw`` ...; eV/atom).
    """

    engine: str
    version: str
    created_at: str
    n_compounds: int
    fitted_on: dict[str, Any]
    coef: list[float]
    cov: list[list[float]]
    model_noise: float  # σ_model of the linear stage, eV/atom
    gp: dict[str, Any]
    scores: list[float]  # sorted held-out normalised residuals |y - ŷ| / σ
    metrics: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return f"{self.engine}@{self.version}"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Calibration:
        return cls(**d)

    def provenance(self) -> dict[str, Any]:
        """What a calibrated result says about its calibration."""
        return {
            "name": self.name,
            "engine": self.engine,
            "version": self.version,
            "created_at": self.created_at,
            "n_compounds": self.n_compounds,
            "fitted_on": self.fitted_on,
            **{k: v for k, v in self.metrics.items() if k.startswith(("heldout", "coverage"))},
        }

    # -- prediction -------------------------------------------------------------------------------
    def quantile(self, level: float) -> float:
        """The conformal multiplier of σ for a two-sided interval at ``level`` (e.g. 0.9)."""
        return conformal_quantile(np.asarray(self.scores), level)

    @property
    def scale(self) -> float:
        """σ multiplier that makes a normal draw match the conformal 90 % interval."""
        return self.quantile(0.9) / 1.6449

    def _linear(self, formulas: Sequence[str], oo: Sequence[float | None]) -> tuple[np.ndarray, np.ndarray]:
        x = np.array([correction_features(f, d) for f, d in zip(formulas, oo, strict=True)])
        return x @ np.asarray(self.coef), x @ np.asarray(self.cov) @ x.T

    def correction(
        self, formulas: Sequence[str], o_o_distances: Sequence[float | None] | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Mean correction (eV/atom) to add to raw formation energies, and its joint covariance
        (before conformal scaling). Elements get zero with zero variance."""
        oo = list(o_o_distances) if o_o_distances is not None else [None] * len(formulas)
        mean_lin, cov_lin = self._linear(formulas, oo)
        mean_gp, cov_gp = _gp_predict(self.gp, [descriptors(f) for f in formulas])
        mean = mean_lin + mean_gp
        cov = cov_lin + cov_gp
        is_el = np.array([len(Composition(f).elements) < 2 for f in formulas])
        mean[is_el] = 0.0
        cov[is_el, :] = 0.0
        cov[:, is_el] = 0.0
        return mean, cov

    def predict(
        self,
        formulas: Sequence[str],
        raw: Sequence[float],
        o_o_distances: Sequence[float | None] | None = None,
        spread: Sequence[float | None] | None = None,
        level: float = 0.9,
    ) -> Prediction:
        """Calibrated formation energies of ``formulas`` from their raw values (eV/atom)."""
        mean, cov = self.correction(formulas, o_o_distances)
        var = np.diag(cov) + _spread_var(spread, len(formulas))
        std = np.sqrt(np.maximum(var, 0.0)) * self.scale
        q = self.quantile(level) / self.scale
        fe = np.asarray(raw, dtype=float) + mean
        return Prediction(fe, std, fe - q * std, fe + q * std, level)

    def sample_corrections(
        self,
        formulas: Sequence[str],
        n: int,
        rng: np.random.Generator,
        o_o_distances: Sequence[float | None] | None = None,
        spread: Sequence[float | None] | None = None,
    ) -> np.ndarray:
        """``n`` joint draws (n, len(formulas)) of the corrections (eV/atom), conformally scaled."""
        mean, cov = self.correction(formulas, o_o_distances)
        cov = (cov + np.diag(_spread_var(spread, len(formulas)))) * self.scale**2
        w, v = np.linalg.eigh(0.5 * (cov + cov.T))
        root = v * np.sqrt(np.maximum(w, 0.0))
        return mean + rng.standard_normal((n, len(formulas))) @ root.T


def _spread_var(spread: Sequence[float | None] | None, n: int) -> np.ndarray:
    if spread is None:
        return np.zeros(n)
    return np.array([0.0 if s is None else float(s) ** 2 for s in spread])


def conformal_quantile(scores: np.ndarray, level: float) -> float:
    """The ceil((n+1) level)/n empirical quantile of held-out normalised scores (split conformal)."""
    s = np.sort(np.asarray(scores, dtype=float))
    if len(s) == 0:
        return 1.6449 * level / 0.9
    k = min(len(s) - 1, max(0, math.ceil((len(s) + 1) * level) - 1))
    return float(s[k])


# -- fitting ----------------------------------------------------------------------------------------
def _fit_linear(
    x: np.ndarray, y: np.ndarray, unc: np.ndarray, iterations: int = 4
) -> tuple[np.ndarray, np.ndarray, float]:
    """Weighted Bayesian least squares with a N(0, PRIOR_EV²) prior; σ_model from the residual scatter."""
    noise = 0.05
    prior = np.eye(x.shape[1]) / PRIOR_EV**2
    coef: np.ndarray = np.zeros(x.shape[1])
    cov: np.ndarray = np.eye(x.shape[1]) * PRIOR_EV**2
    for _ in range(iterations):
        w = 1.0 / (unc**2 + noise**2)
        cov = np.linalg.inv(x.T @ (x * w[:, None]) + prior)
        coef = cov @ (x.T @ (w * y))
        resid = y - x @ coef
        noise = float(np.sqrt(max(np.mean(resid**2) - np.mean(unc**2), 1e-4)))
    return coef, cov, noise


def _standardise(d: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    mu = d.mean(0)
    sd = d.std(0)
    sd = np.where(sd > 1e-12, sd, 1.0)
    return (d - mu) / sd, mu, sd


def _gp_fit(
    d: np.ndarray, r: np.ndarray, unc: np.ndarray, theta: list[float] | None = None
) -> dict[str, Any]:
    """Fit the residual GP; with ``theta`` (log hyperparameters) fixed, no optimisation."""
    from sklearn.gaussian_process import GaussianProcessRegressor
    from sklearn.gaussian_process.kernels import ConstantKernel, Matern, WhiteKernel

    z, mu, sd = _standardise(d)
    kernel = ConstantKernel(0.01, (1e-5, 1.0)) * Matern(
        length_scale=np.ones(z.shape[1]) * 3.0, length_scale_bounds=(LENGTH_MIN, 1e3), nu=2.5
    ) + WhiteKernel(1e-3, (1e-6, 0.1))
    if theta is not None:
        kernel = kernel.clone_with_theta(np.asarray(theta))
    gp = GaussianProcessRegressor(
        kernel=kernel, alpha=unc**2, optimizer="fmin_l_bfgs_b" if theta is None else None, random_state=0
    )
    with _one_thread():
        gp.fit(z, r)
    return {
        "x": z.tolist(),
        "y": r.tolist(),
        "alpha": (unc**2).tolist(),
        "mu": mu.tolist(),
        "sd": sd.tolist(),
        "theta": gp.kernel_.theta.tolist(),
        "kernel": str(gp.kernel_),
    }


_GP_CACHE: dict[str, Any] = {}


def _gp_model(gp: dict[str, Any]) -> Any:
    """The sklearn GP behind a serialised fit (rebuilt once per process, exactly: no optimisation)."""
    key = hashlib.sha256(json.dumps([gp["theta"], gp["x"], gp["y"], gp["alpha"]]).encode()).hexdigest()
    if key not in _GP_CACHE:
        from sklearn.gaussian_process import GaussianProcessRegressor
        from sklearn.gaussian_process.kernels import ConstantKernel, Matern, WhiteKernel

        n = len(gp["mu"])
        kernel = ConstantKernel(0.01) * Matern(length_scale=np.ones(n), nu=2.5) + WhiteKernel(1e-3)
        kernel = kernel.clone_with_theta(np.asarray(gp["theta"]))
        model = GaussianProcessRegressor(kernel=kernel, alpha=np.asarray(gp["alpha"]), optimizer=None)
        with _one_thread():
            model.fit(np.asarray(gp["x"]), np.asarray(gp["y"]))
        _GP_CACHE[key] = model
    return _GP_CACHE[key]


def _gp_predict(gp: dict[str, Any], d: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Mean and joint covariance (white noise included on the diagonal) of the residual GP."""
    if not d:
        return np.zeros(0), np.zeros((0, 0))
    model = _gp_model(gp)
    z = (np.asarray(d) - np.asarray(gp["mu"])) / np.asarray(gp["sd"])
    with _one_thread():
        mean, cov = model.predict(z, return_cov=True)
    return np.asarray(mean), np.asarray(cov)


def _one_thread() -> Any:
    """BLAS on one thread: the matrices are small (< 2000), and on a busy 2-core machine a second
    OpenBLAS thread spinning for a core makes each Cholesky factorisation 100x slower."""
    from threadpoolctl import threadpool_limits

    return threadpool_limits(1)


def _design(points: Sequence[CalibrationPoint]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    x = np.array([correction_features(p.formula, p.o_o_distance) for p in points])
    y = np.array([p.measured - p.raw for p in points])
    unc = np.array([math.hypot(p.uncertainty, p.spread or 0.0) for p in points])
    d = np.array([descriptors(p.formula) for p in points])
    return x, y, unc, d


def _fit_parts(
    points: Sequence[CalibrationPoint], theta: list[float] | None = None
) -> tuple[np.ndarray, np.ndarray, float, dict[str, Any]]:
    x, y, unc, d = _design(points)
    coef, cov, noise = _fit_linear(x, y, unc)
    gp = _gp_fit(d, y - x @ coef, unc, theta)
    return coef, cov, noise, gp


def _partial(engine: str, coef: np.ndarray, cov: np.ndarray, noise: float, gp: dict[str, Any]) -> Calibration:
    return Calibration(engine, "", "", 0, {}, coef.tolist(), cov.tolist(), noise, gp, [])


def group_folds(points: Sequence[CalibrationPoint], k: int, seed: int = 0) -> list[np.ndarray]:
    """``k`` folds of indices with every chemical system in exactly one fold (grouped CV)."""
    systems = sorted({p.chemical_system for p in points})
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(systems))
    fold_of = {systems[i]: j % k for j, i in enumerate(order)}
    idx = np.array([fold_of[p.chemical_system] for p in points])
    return [np.flatnonzero(idx == j) for j in range(k)]


def _normalised_scores(
    points: Sequence[CalibrationPoint], engine: str, theta: list[float], k: int, seed: int
) -> np.ndarray:
    """|y - ŷ| / σ of every point predicted by a fit on the other folds (hyperparameters fixed)."""
    scores = np.zeros(len(points))
    for test in group_folds(points, k, seed):
        train = [p for i, p in enumerate(points) if i not in set(test.tolist())]
        cal = _partial(engine, *_fit_parts(train, theta))
        sub = [points[i] for i in test]
        mean, cov = cal.correction([p.formula for p in sub], [p.o_o_distance for p in sub])
        sigma = np.sqrt(np.diag(cov) + np.array([(p.spread or 0.0) ** 2 for p in sub]))
        y = np.array([p.measured - p.raw for p in sub])
        scores[test] = np.abs(y - mean) / np.maximum(sigma, 1e-6)
    return scores


def calibration_version(points: Sequence[CalibrationPoint], engine: str, k: int = 5, seed: int = 0) -> str:
    """The version :func:`fit_calibration` gives these points (a hash of its inputs), without fitting."""
    payload = json.dumps(
        [engine, seed, k, [(p.formula, round(p.raw, 6), round(p.measured, 6), p.source) for p in points]]
    )
    return hashlib.sha256(payload.encode()).hexdigest()[:12]


def fit_calibration(
    points: Sequence[CalibrationPoint],
    engine: str,
    fitted_on: dict[str, Any] | None = None,
    k: int = 5,
    seed: int = 0,
) -> Calibration:
    """Fit corrections, residual GP and conformal scores on ``points`` (grouped ``k``-fold for the
    scores). Deterministic for the same points and seed."""
    pts = list(points)
    if len(pts) < 2 * k:
        raise ValueError(f"a calibration needs at least {2 * k} compounds, got {len(pts)}")
    coef, cov, noise, gp = _fit_parts(pts)
    scores = _normalised_scores(pts, engine, gp["theta"], k, seed)
    return Calibration(
        engine=engine,
        version=calibration_version(pts, engine, k, seed),
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        n_compounds=len(pts),
        fitted_on=fitted_on or {},
        coef=coef.tolist(),
        cov=cov.tolist(),
        model_noise=noise,
        gp=gp,
        scores=sorted(scores.tolist()),
    )


@dataclass(frozen=True)
class HeldOut:
    """Grouped cross-validation of a calibration: per point the raw and calibrated prediction, its
    unscaled σ and the conformal scores of the calibration (fitted without its fold) that predicted it."""

    formulas: list[str]
    classes: list[str]
    measured: np.ndarray
    raw: np.ndarray
    calibrated: np.ndarray
    sigma: np.ndarray  # unscaled predictive σ, eV/atom
    fold: np.ndarray  # index into ``fold_scores``
    fold_scores: list[np.ndarray]

    def half_width(self, level: float = 0.9) -> np.ndarray:
        """Half width (eV/atom) of each point's conformal interval at ``level``."""
        q = np.array([conformal_quantile(s, level) for s in self.fold_scores])
        return q[self.fold] * self.sigma

    def coverage(self, level: float = 0.9) -> float:
        """Fraction of held-out measured values inside their interval at ``level``."""
        return float(np.mean(np.abs(self.measured - self.calibrated) <= self.half_width(level)))

    def metrics(self) -> dict[str, float]:
        return {
            "heldout_mae_raw": float(np.mean(np.abs(self.raw - self.measured))),
            "heldout_mae_calibrated": float(np.mean(np.abs(self.calibrated - self.measured))),
            "coverage_90": self.coverage(0.9),
            "coverage_68": self.coverage(0.6827),
            "median_interval_90": float(np.median(self.half_width(0.9))),
        }


def cross_validate(points: Sequence[CalibrationPoint], engine: str, k: int = 5, seed: int = 0) -> HeldOut:
    """Outer grouped ``k``-fold: each fold is predicted by a calibration fitted (with its own inner
    grouped CV for the conformal scores) on the other folds only."""
    from mattwin.analysis.chemistry import chemistry_class

    pts = list(points)
    n = len(pts)
    cal_fe, sigma, fold = np.zeros(n), np.zeros(n), np.zeros(n, dtype=int)
    fold_scores = []
    for j, test in enumerate(group_folds(pts, k, seed + 1)):
        tset = set(test.tolist())
        cal = fit_calibration([p for i, p in enumerate(pts) if i not in tset], engine, k=k, seed=seed)
        sub = [pts[i] for i in test]
        pred = cal.predict(
            [p.formula for p in sub],
            [p.raw for p in sub],
            [p.o_o_distance for p in sub],
            [p.spread for p in sub],
        )
        cal_fe[test], sigma[test], fold[test] = pred.formation_energy, pred.std / cal.scale, j
        fold_scores.append(np.asarray(cal.scores))
    return HeldOut(
        formulas=[p.formula for p in pts],
        classes=[chemistry_class(p.formula) for p in pts],
        measured=np.array([p.measured for p in pts]),
        raw=np.array([p.raw for p in pts]),
        calibrated=cal_fe,
        sigma=sigma,
        fold=fold,
        fold_scores=fold_scores,
    )
