"""Cost guard of the quantum rung: what a state vector, an SQD subspace, a VQE run or a QPE cost
estimate will need, checked before anything runs. A calculation that will not fit raises a typed error
with the estimate (:class:`~mattwin.errors.MemoryLimitError` for memory,
:class:`~mattwin.errors.CostLimitError` for absurd qubit counts or run times).
"""

from __future__ import annotations

from dataclasses import dataclass
from math import comb

from mattwin.errors import CostLimitError, MemoryLimitError

#: VQE on the state-vector simulator: beyond this many qubits one adjoint gradient takes minutes
VQE_MAX_QUBITS = 20
#: SQD: an LUCJ state vector is a CI vector of the space; beyond this many qubits refuse outright
SQD_MAX_QUBITS = 80
#: QPE resource counts factorise an (norb^4) integral tensor
QPE_MAX_ORBITALS = 200
#: noisy (qiskit-aer, per-shot trajectories) sampling: amplitude updates per second measured here
AER_AMP_OPS_PER_S = 1.0e9
#: a noisy sampling run longer than this (s, estimated) is cut to fewer shots
NOISY_BUDGET_S = 120.0
NOISY_MIN_SHOTS = 500
#: SQD subspace: Davidson vectors and sigma intermediates, in CI vectors (8 bytes per determinant)
SUBSPACE_VECTORS = 16


@dataclass(frozen=True)
class Plan:
    """What a method will need: ``memory_MB`` at the largest step and a line saying why."""

    memory_MB: float
    detail: str


def _available_mb() -> float:
    import psutil

    return float(psutil.virtual_memory().available / 1e6)


def sqd_plan(norb: int, nelec: tuple[int, int], samples_per_batch: int) -> Plan:
    """LUCJ state vector (complex, 4 live copies) and the largest SQD subspace: at most
    min(C(norb, n), 2 x samples_per_batch) strings per spin (samples plus carried-over strings)."""
    na = comb(norb, nelec[0])
    nb = comb(norb, nelec[1])
    vec = 4 * 16 * na * nb / 1e6
    sub_a, sub_b = min(na, 2 * samples_per_batch), min(nb, 2 * samples_per_batch)
    sub = SUBSPACE_VECTORS * 8 * sub_a * sub_b / 1e6
    return Plan(
        max(vec, sub),
        f"LUCJ state vector {na * nb:,} amplitudes ({vec:,.0f} MB), SQD subspace up to "
        f"{sub_a:,} x {sub_b:,} determinants ({sub:,.0f} MB)",
    )


def vqe_plan(n_qubits: int) -> Plan:
    """State vector of 2^n amplitudes (complex) with the adjoint method's three copies."""
    mb = 3 * 16 * 2.0**n_qubits / 1e6
    return Plan(mb, f"state vector of 2^{n_qubits} amplitudes, adjoint gradients ({mb:,.0f} MB)")


def qpe_plan(norb: int) -> Plan:
    mb = 3 * 8 * float(norb) ** 4 / 1e6
    return Plan(mb, f"two-electron tensor and its factors, {norb}^4 entries ({mb:,.0f} MB)")


def check(method: str, norb: int, nelec: tuple[int, int], name: str, samples_per_batch: int = 300) -> Plan:
    """The plan of ``method`` (sqd, vqe, qpe-cost) on the space; raise before running when it will not
    fit in the memory available now, or the qubit count is beyond what the emulator can do."""
    n_qubits = 2 * norb
    label = f"{method}({sum(nelec)},{norb})"
    limits = {"sqd": SQD_MAX_QUBITS, "vqe": VQE_MAX_QUBITS, "qpe-cost": 2 * QPE_MAX_ORBITALS}
    if n_qubits > limits[method]:
        raise CostLimitError(
            f"{name}: {label} needs {n_qubits} qubits; the {method} emulator here stops at "
            f"{limits[method]} qubits ({limits[method] // 2} orbitals); choose a smaller active space"
        )
    if method == "sqd":
        plan = sqd_plan(norb, nelec, samples_per_batch)
    elif method == "vqe":
        plan = vqe_plan(n_qubits)
    else:
        plan = qpe_plan(norb)
    avail = _available_mb()
    if plan.memory_MB > 0.8 * avail:
        raise MemoryLimitError(
            f"{name}: {label} needs about {plan.memory_MB:,.0f} MB ({plan.detail}) but "
            f"{avail:,.0f} MB are available; choose a smaller active space"
        )
    return plan


def noisy_shots(shots: int, n_ops: int, n_qubits: int) -> tuple[int, float]:
    """Shots the noisy sampler can afford within :data:`NOISY_BUDGET_S` (0 when not even
    :data:`NOISY_MIN_SHOTS`), and the estimated seconds of the full ``shots``."""
    per_shot = n_ops * 2.0**n_qubits / AER_AMP_OPS_PER_S
    est = shots * per_shot
    if est <= NOISY_BUDGET_S:
        return shots, est
    fit = int(NOISY_BUDGET_S / per_shot)
    return (fit if fit >= NOISY_MIN_SHOTS else 0), est
