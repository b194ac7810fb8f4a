"""Batch acquisition over a discrete pool of candidates.

* **Target property** (a campaign that ranks by formation energy or E_hull): BoTorch's batch
  ``qLogNoisyExpectedImprovement`` (or ``qUpperConfidenceBound``) on the surrogate, the batch built
  greedily (each pick is added to ``X_pending`` before the next is chosen, as
  ``optimize_acqf_discrete`` does), multiplied by the probability that the candidate is feasible
  (stable within the threshold, and synthesizable where a score is known): log acquisition
  + log P(feasible), the constrained-EI rule of Gardner et al. (2014).
* **No target** (the demo): the batch that most reduces the expected entropy of the stable/unstable
  classification of all candidates. Measuring a batch B updates the formation-energy covariance to
  C' = C - C[:,B] (C[B,B] + R)^-1 C[B,:] whatever the outcome. With E_hull_j = a_j ΔH_f,j + ε_j
  (ε_j independent: the competing phases' own error), each candidate's E_hull mean then moves by a
  Gaussian of variance a_j² (C_jj - C'_jj) and its variance becomes a_j² C'_jj + Var(ε_j). The
  expected binary entropy after the measurement is integrated by Gauss-Hermite quadrature; the batch
  is grown greedily.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch
from botorch.acquisition import AcquisitionFunction, qUpperConfidenceBound
from botorch.acquisition.logei import qLogNoisyExpectedImprovement
from botorch.acquisition.multi_objective.logei import qLogNoisyExpectedHypervolumeImprovement
from botorch.acquisition.multi_objective.objective import WeightedMCMultiOutputObjective
from botorch.acquisition.objective import LinearMCObjective
from botorch.models import SingleTaskGP
from botorch.models.model import Model
from botorch.posteriors.gpytorch import GPyTorchPosterior
from botorch.sampling import SobolQMCNormalSampler
from gpytorch.distributions import MultitaskMultivariateNormal, MultivariateNormal
from scipy.stats import norm

_GH_X, _GH_W = np.polynomial.hermite.hermgauss(24)


def binary_entropy(p: np.ndarray) -> np.ndarray:
    """H(p) in bits."""
    p = np.clip(p, 1e-12, 1 - 1e-12)
    return np.asarray(-(p * np.log2(p) + (1 - p) * np.log2(1 - p)))


def p_stable(e_hull: np.ndarray, sigma: np.ndarray, threshold: float) -> np.ndarray:
    """P(E_hull <= threshold) for Gaussian E_hull (eV/atom)."""
    return np.asarray(norm.cdf((threshold - e_hull) / np.maximum(sigma, 1e-9)))


def _expected_entropy(
    e_hull: np.ndarray, shift_sd: np.ndarray, sigma_after: np.ndarray, thr: float
) -> np.ndarray:
    """E over the outcome of H(P(stable)) after a measurement, per candidate."""
    z = np.sqrt(2.0) * _GH_X[:, None]  # (k, 1)
    means = e_hull[None, :] + z * shift_sd[None, :]
    h = binary_entropy(p_stable(means, np.broadcast_to(sigma_after, means.shape), thr))
    return np.asarray((_GH_W[:, None] * h).sum(0) / np.sqrt(np.pi))


def stability_batch(
    e_hull: np.ndarray,
    cov: np.ndarray,
    rho: np.ndarray,
    noise: np.ndarray,
    threshold: float,
    q: int,
    allowed: Sequence[int] | None = None,
    floor: np.ndarray | None = None,
) -> list[tuple[int, float]]:
    """Greedy batch of ``q`` pool indices with the largest expected reduction of the classification
    entropy (bits, summed over candidates); each pick with its marginal gain.

    e_hull: (n,) posterior E_hull means, eV/atom; cov: (n, n) posterior formation-energy covariance;
    rho: (n,) slope of E_hull on ΔH_f; noise: (n,) σ of a measurement of each candidate, eV/atom;
    floor: (n,) the part of E_hull's σ that no formation-energy measurement removes (default 0)."""
    n = len(e_hull)
    floor2 = np.zeros(n) if floor is None else np.asarray(floor, float) ** 2
    allowed = list(range(n)) if allowed is None else list(allowed)
    sd_now = np.sqrt(rho**2 * np.maximum(np.diag(cov), 0.0) + floor2)
    h_now = binary_entropy(p_stable(e_hull, sd_now, threshold))
    picked: list[tuple[int, float]] = []
    c = cov.copy()
    base = 0.0  # entropy reduction of the picks so far
    var0 = np.diag(cov).copy()
    for _ in range(min(q, len(allowed))):
        best, best_gain, best_c = -1, -np.inf, c
        for i in allowed:
            if any(i == p for p, _ in picked):
                continue
            ci = c[:, i]
            c_new = c - np.outer(ci, ci) / (c[i, i] + noise[i] ** 2)
            var_after = np.maximum(np.diag(c_new), 1e-12)
            shift_sd = rho * np.sqrt(np.maximum(var0 - var_after, 0.0))
            after = np.sqrt(rho**2 * var_after + floor2)
            gain = float((h_now - _expected_entropy(e_hull, shift_sd, after, threshold)).sum())
            if gain > best_gain:
                best, best_gain, best_c = i, gain, c_new
        picked.append((best, best_gain - base))
        base, c = best_gain, best_c
    return picked


def target_batch(
    model: SingleTaskGP,
    x_pool: torch.Tensor,
    x_observed: torch.Tensor | None,
    q: int,
    maximize: bool,
    log_feasible: np.ndarray,
    allowed: Sequence[int],
    kind: str = "qlognei",
    beta: float = 2.0,
) -> list[tuple[int, float]]:
    """Greedy batch of ``q`` pool indices maximising log acquisition + log P(feasible); each with its
    value (log qNEI in log eV/atom, or qUCB in eV/atom plus the log feasibility)."""
    objective = LinearMCObjective(torch.tensor([1.0 if maximize else -1.0], dtype=torch.float64))
    sampler = SobolQMCNormalSampler(sample_shape=torch.Size([128]), seed=0)
    baseline = x_observed if x_observed is not None and len(x_observed) else x_pool

    def acquisition(pending: torch.Tensor | None) -> AcquisitionFunction:
        if kind == "qucb":
            return qUpperConfidenceBound(
                model, beta=beta, sampler=sampler, objective=objective, X_pending=pending
            )
        return qLogNoisyExpectedImprovement(
            model,
            X_baseline=baseline,
            sampler=sampler,
            objective=objective,
            X_pending=pending,
            prune_baseline=False,
            cache_root=False,
        )

    return _greedy_batch(acquisition, x_pool, q, log_feasible, allowed)


def _greedy_batch(
    acquisition: Callable[[torch.Tensor | None], AcquisitionFunction],
    x_pool: torch.Tensor,
    q: int,
    log_feasible: np.ndarray,
    allowed: Sequence[int],
) -> list[tuple[int, float]]:
    """Greedy batch over the ``allowed`` pool rows: each pick maximises the acquisition (built by
    ``acquisition(X_pending)`` with the picks so far pending) + log P(feasible); each with its score."""
    picked: list[tuple[int, float]] = []
    remaining = list(allowed)
    for _ in range(min(q, len(remaining))):
        pending = x_pool[[i for i, _ in picked]] if picked else None
        acq = acquisition(pending)
        with torch.no_grad():
            vals = acq(x_pool[remaining].unsqueeze(1)).numpy().astype(float)
        score = vals + log_feasible[remaining]
        j = int(np.argmax(score))
        picked.append((remaining[j], float(score[j])))
        remaining.pop(j)
    return picked


class PoolPosterior(Model):  # type: ignore[misc]
    """Independent Gaussian posteriors of ``m`` objectives over a discrete pool, as a BoTorch model
    whose input is a candidate's pool index (one column). Each objective has its own surrogate with its
    own inputs (its prior mean and σ are columns of them), so the objectives cannot share one
    ``ModelListGP``; their posteriors over the pool are exact and are all an acquisition needs."""

    def __init__(self, means: Sequence[np.ndarray], covs: Sequence[np.ndarray]) -> None:
        super().__init__()
        self._mu = torch.tensor(np.stack([np.asarray(m, float) for m in means], -1), dtype=torch.float64)
        self._cov = [torch.tensor(np.asarray(c, float), dtype=torch.float64) for c in covs]

    @property
    def num_outputs(self) -> int:
        return int(self._mu.shape[-1])

    @property
    def batch_shape(self) -> torch.Size:
        return torch.Size([])

    def posterior(  # type: ignore[override]
        self,
        X: torch.Tensor,
        output_indices: list[int] | None = None,
        observation_noise: bool = False,
        posterior_transform: Any = None,
        **kwargs: Any,
    ) -> GPyTorchPosterior:
        idx = X[..., 0].round().long()
        q = idx.shape[-1]
        mvns = []
        for k, c in enumerate(self._cov):
            mean = self._mu[..., k][idx]
            cov = c[idx.unsqueeze(-1), idx.unsqueeze(-2)]
            jitter = 1e-9 * (1.0 + torch.diagonal(c).mean())
            mvns.append(MultivariateNormal(mean, cov + jitter * torch.eye(q, dtype=torch.float64)))
        post = GPyTorchPosterior(MultitaskMultivariateNormal.from_independent_mvns(mvns))
        return posterior_transform(post) if posterior_transform is not None else post


def pareto_batch(
    means: Sequence[np.ndarray],
    covs: Sequence[np.ndarray],
    maximize: Sequence[bool],
    observed: Sequence[int],
    q: int,
    log_feasible: np.ndarray,
    allowed: Sequence[int],
    samples: int = 128,
) -> list[tuple[int, float]]:
    """Greedy batch of ``q`` pool indices maximising BoTorch's ``qLogNoisyExpectedHypervolumeImprovement``
    over the objectives (posterior ``means`` (n,) and ``covs`` (n, n) per objective, ``maximize`` per
    objective) + log P(feasible); each pick with its value (log hypervolume improvement, in the log of
    the objectives' units multiplied, plus the log feasibility). The reference point is the worst
    posterior mean over the pool minus 10 % of the means' range in each objective; the baseline (the
    noisy incumbent front) is the ``observed`` candidates (the reference point when none is)."""
    sign = np.array([1.0 if m else -1.0 for m in maximize])
    y = np.stack([np.asarray(m, float) for m in means], -1) * sign
    span = np.maximum(y.max(0) - y.min(0), 1e-9)
    ref = y.min(0) - 0.1 * span
    n = len(means[0])
    # with nothing measured the baseline is the reference point itself (a virtual pool member n, known
    # exactly), so the first batch is scored by its expected hypervolume above the reference point
    virt_means = [np.append(np.asarray(m, float), r * s) for m, r, s in zip(means, ref, sign, strict=True)]
    virt_covs = []
    for c in covs:
        padded = np.zeros((n + 1, n + 1))
        padded[:n, :n] = c
        virt_covs.append(padded)
    model = PoolPosterior(virt_means, virt_covs)
    objective = WeightedMCMultiOutputObjective(torch.tensor(sign, dtype=torch.float64))
    x_pool = torch.arange(n + 1, dtype=torch.float64).unsqueeze(-1)
    baseline = x_pool[list(observed)] if len(observed) else x_pool[[n]]

    def acquisition(pending: torch.Tensor | None) -> AcquisitionFunction:
        return qLogNoisyExpectedHypervolumeImprovement(
            model,
            ref_point=ref.tolist(),
            X_baseline=baseline,
            sampler=SobolQMCNormalSampler(sample_shape=torch.Size([samples]), seed=0),
            objective=objective,
            X_pending=pending,
            prune_baseline=False,
            cache_root=False,
        )

    return _greedy_batch(acquisition, x_pool, q, log_feasible, allowed)


def non_dominated(y: np.ndarray) -> np.ndarray:
    """Mask of the rows of ``y`` (n, m; every column maximised) that no other row dominates."""
    y = np.asarray(y, float)
    ge = np.all(y[None, :, :] >= y[:, None, :], axis=-1)  # ge[i, j]: j at least as good as i everywhere
    gt = np.any(y[None, :, :] > y[:, None, :], axis=-1)
    return np.asarray(~np.any(ge & gt, axis=1))
