"""Sample-based quantum diagonalisation (SQD) and its sampled-configuration controls.

* Circuit: the local unitary cluster Jastrow (LUCJ) ansatz built from CCSD amplitudes of the active
  space (ffsim ``UCJOpSpinBalanced.from_t_amplitudes``, two layers, square-lattice interaction pairs:
  same-spin neighbours and opposite-spin on-site), on the Hartree-Fock state.
* Sampling: noiseless (ffsim samples the exact state vector) or noisy (the circuit transpiled to
  CX/RZ/SX/X and run shot by shot on qiskit-aer with a simple device noise model:
  :data:`NOISE_MODEL`), or uniformly random bitstrings (the control: what configuration recovery and
  diagonalisation alone give).
* Diagonalisation: qiskit-addon-sqd's configuration recovery and subspace diagonalisation
  (``diagonalize_fermionic_hamiltonian``) on mattwin's integrals.
* Controls at equal size: SQD from the random samples with the subspace capped at the LUCJ run's
  string counts, and PySCF's selected CI (heat-bath-like selection on |H_ij c_j|) whose selection
  cutoff is bisected so its determinant space matches the SQD subspace as closely as it can from below.

Bitstrings: ``[b_(N-1) ... b_0 a_(N-1) ... a_0]`` (beta left, alpha right), the convention of both
ffsim and qiskit-addon-sqd. Energies in hartree; CPU times in s (``time.process_time``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from mattwin.engines.pyscf_run import stage
from mattwin.quantum.active import ActiveSpace
from mattwin.quantum.guard import noisy_shots

#: the noisy sampler's device model: depolarising errors after gates, symmetric readout flips
NOISE_MODEL = {
    "two_qubit_depolarizing": 5e-3,
    "one_qubit_depolarizing": 5e-4,
    "readout_flip": 1.5e-2,
    "basis_gates": ["cx", "rz", "sx", "x"],
}


@dataclass(frozen=True)
class SQDSettings:
    """Shots drawn per sampler, subsampled batch size and count, configuration-recovery iterations."""

    shots: int = 10_000
    samples_per_batch: int = 300
    num_batches: int = 3
    max_iterations: int = 5
    seed: int = 0


@dataclass
class SampledRun:
    """One SQD run: energy (Eh), subspace (alpha strings, beta strings), samples, CPU time (s)."""

    energy: float
    n_alpha_strings: int
    n_beta_strings: int
    shots: int
    unique_samples: int
    cpu_s: float
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def determinants(self) -> int:
        return self.n_alpha_strings * self.n_beta_strings


def lucj_operator(space: ActiveSpace, t1: np.ndarray, t2: np.ndarray) -> Any:
    """Two-layer spin-balanced LUCJ operator from CCSD amplitudes (square-lattice pairs)."""
    import ffsim

    n = space.norb
    pairs = ([(p, p + 1) for p in range(n - 1)], [(p, p) for p in range(n)])
    return ffsim.UCJOpSpinBalanced.from_t_amplitudes(t2, t1=t1, n_reps=2, interaction_pairs=pairs)


def lucj_state(space: ActiveSpace, op: Any) -> np.ndarray:
    """The LUCJ state vector (ffsim's fixed-particle-number CI vector) on Hartree-Fock."""
    import ffsim

    vec = ffsim.hartree_fock_state(space.norb, space.nelec)
    return np.asarray(ffsim.apply_unitary(vec, op, norb=space.norb, nelec=space.nelec))


def state_energy(space: ActiveSpace, vec: np.ndarray) -> float:
    """<psi|H|psi> (Eh) of a normalised CI vector (the LUCJ energy before any diagonalisation)."""
    import ffsim

    ham = ffsim.MolecularHamiltonian(space.h1, space.h2, space.ecore)
    lin = ffsim.linear_operator(ham, norb=space.norb, nelec=space.nelec)
    return float(np.vdot(vec, lin @ vec).real)


def sample_noiseless(space: ActiveSpace, vec: np.ndarray, shots: int, seed: int) -> np.ndarray:
    """(shots, 2 norb) bool bitstrings drawn from |psi|^2 (an ideal, noiseless device)."""
    import ffsim

    return np.asarray(
        ffsim.sample_state_vector(
            vec,
            norb=space.norb,
            nelec=space.nelec,
            shots=shots,
            seed=seed,
            bitstring_type=ffsim.BitstringType.BIT_ARRAY,
        )
    )


def lucj_circuit(space: ActiveSpace, op: Any) -> Any:
    """The measured LUCJ circuit transpiled to the noise model's basis gates (ffsim's pre-init passes
    merge the orbital rotations first)."""
    import ffsim
    from qiskit import QuantumCircuit, QuantumRegister
    from qiskit.transpiler import generate_preset_pass_manager

    q = QuantumRegister(space.n_qubits)
    circ = QuantumCircuit(q)
    circ.append(ffsim.qiskit.PrepareHartreeFockJW(space.norb, space.nelec), q)
    circ.append(ffsim.qiskit.UCJOpSpinBalancedJW(op), q)
    circ.measure_all()
    pm = generate_preset_pass_manager(optimization_level=1, basis_gates=NOISE_MODEL["basis_gates"])
    pm.pre_init = ffsim.qiskit.PRE_INIT
    return pm.run(circ)


def _noise_model() -> Any:
    from qiskit_aer.noise import NoiseModel, ReadoutError, depolarizing_error

    nm = NoiseModel()
    nm.add_all_qubit_quantum_error(depolarizing_error(NOISE_MODEL["two_qubit_depolarizing"], 2), ["cx"])
    nm.add_all_qubit_quantum_error(depolarizing_error(NOISE_MODEL["one_qubit_depolarizing"], 1), ["sx", "x"])
    p = float(NOISE_MODEL["readout_flip"])  # type: ignore[arg-type]
    nm.add_all_qubit_readout_error(ReadoutError([[1 - p, p], [p, 1 - p]]))
    return nm


def sample_noisy(space: ActiveSpace, op: Any, shots: int, seed: int) -> tuple[Any | None, dict[str, Any]]:
    """Bitstrings (a qiskit ``BitArray``) from qiskit-aer with :data:`NOISE_MODEL`, and what was run
    (gate counts, shots actually drawn: fewer when the full count would exceed the time budget; None
    and the reason when not even the minimum fits)."""
    from qiskit.primitives import BitArray
    from qiskit_aer import AerSimulator

    circ = lucj_circuit(space, op)
    ops = {k: int(v) for k, v in circ.count_ops().items()}
    n_ops = sum(v for k, v in ops.items() if k not in ("measure", "barrier"))
    use, est = noisy_shots(shots, n_ops, space.n_qubits)
    info: dict[str, Any] = {"gate_counts": ops, "depth": int(circ.depth()), "estimated_full_s": round(est, 1)}
    if use == 0:
        info["skipped"] = (
            f"{space.n_qubits} qubits x {n_ops} gates: noisy trajectories for even {min(shots, 500)} "
            f"shots would take over the time budget (~{est:.0f} s for {shots})"
        )
        return None, info
    stage(f"noisy sampling: {use} shots of a {space.n_qubits}-qubit LUCJ circuit ({ops.get('cx', 0)} CX)")
    sim = AerSimulator(noise_model=_noise_model(), seed_simulator=seed)
    counts = sim.run(circ, shots=use).result().get_counts()
    info["shots"] = use
    return BitArray.from_counts(counts), info


def diagonalize(
    space: ActiveSpace,
    bits: Any,
    cfg: SQDSettings,
    label: str,
    name: str,
    max_dim: tuple[int, int] | None = None,
) -> SampledRun:
    """Configuration recovery + subspace diagonalisation of ``bits`` (bool array or ``BitArray``);
    ``max_dim``: at most this many (alpha, beta) strings in the subspace."""
    from qiskit_addon_sqd.fermion import diagonalize_fermionic_hamiltonian

    n_iter = [0]

    def progress(results: list[Any]) -> None:
        n_iter[0] += 1
        e = min(r.energy for r in results) + space.ecore
        stage(f"SQD ({label}) on {name}: iteration {n_iter[0]}/{cfg.max_iterations}, E = {e:.6f} Eh")

    arr = np.asarray(bits.to_bool_array() if hasattr(bits, "to_bool_array") else bits, dtype=bool)
    t0 = time.process_time()
    res = diagonalize_fermionic_hamiltonian(
        space.h1,
        space.h2,
        arr,
        samples_per_batch=cfg.samples_per_batch,
        norb=space.norb,
        nelec=space.nelec,
        num_batches=cfg.num_batches,
        max_iterations=cfg.max_iterations,
        callback=progress,
        seed=cfg.seed,
        max_dim=max_dim,
    )
    na, nb = res.sci_state.amplitudes.shape
    return SampledRun(
        energy=float(res.energy) + space.ecore,
        n_alpha_strings=int(na),
        n_beta_strings=int(nb),
        shots=len(arr),
        unique_samples=len(np.unique(arr, axis=0)),
        cpu_s=time.process_time() - t0,
        extra={"iterations": n_iter[0]},
    )


def uniform_samples(space: ActiveSpace, shots: int, seed: int) -> np.ndarray:
    """(shots, 2 norb) uniformly random bitstrings (the control sampler)."""
    from qiskit_addon_sqd.counts import generate_bit_array_uniform

    return np.asarray(generate_bit_array_uniform(shots, space.n_qubits, rand_seed=seed).to_bool_array())


def _sci(space: ActiveSpace, cutoff: float) -> tuple[float, Any]:
    from pyscf.fci import selected_ci as sci

    solver = sci.SCI()
    solver.select_cutoff = cutoff
    solver.ci_coeff_cutoff = min(cutoff, 1e-3)
    solver.conv_tol = 1e-10
    e, civec = solver.kernel(space.h1, space.h2, space.norb, space.nelec, ecore=space.ecore)
    return float(e), civec


def selected_ci(space: ActiveSpace, shape: tuple[int, int], name: str, tries: int = 10) -> SampledRun:
    """Selected CI with the SQD subspace's shape (``shape`` = alpha strings, beta strings): PySCF's SCI
    (selection on |H_ij c_j|) with its cutoff bisected (1e-8..1 Eh, log scale) to the smallest space
    with at least as many strings per spin, whose most important strings (largest summed weight
    |c|^2) are then kept to exactly ``shape`` and the Hamiltonian diagonalised in their product
    space. When even the smallest cutoff gives fewer strings, that SCI space is used as it is."""
    from pyscf.fci import selected_ci as sci

    t0 = time.process_time()
    lo, hi = -8.0, 0.0  # log10 of the selection cutoff: smaller cutoff -> more determinants
    pick: tuple[float, Any] | None = None
    largest: tuple[float, Any] | None = None
    for i in range(tries):
        mid = (lo + hi) / 2
        stage(f"selected CI on {name}: cutoff 1e{mid:.2f} Eh (try {i + 1}/{tries}, target {shape})")
        e, civec = _sci(space, 10.0**mid)
        na, nb = (len(s) for s in civec._strs)
        if largest is None or na * nb > np.prod([len(s) for s in largest[1]._strs]):
            largest = (e, civec)
        if na >= shape[0] and nb >= shape[1]:
            pick = (e, civec)
            lo = mid
        else:
            hi = mid
        if (na, nb) == shape:
            break
    if pick is None:
        assert largest is not None
        e, civec = largest
        na, nb = (len(s) for s in civec._strs)
        return SampledRun(e, na, nb, 0, 0, time.process_time() - t0, {"target": list(shape)})
    e, civec = pick
    strs_a, strs_b = (np.asarray(s) for s in civec._strs)
    c = np.asarray(civec).reshape(len(strs_a), len(strs_b))
    keep_a = np.sort(strs_a[np.argsort(-(c**2).sum(axis=1))[: shape[0]]])
    keep_b = np.sort(strs_b[np.argsort(-(c**2).sum(axis=0))[: shape[1]]])
    e_fix, _ = sci.kernel_fixed_space(
        sci.SCI(), space.h1, space.h2, space.norb, space.nelec, (keep_a, keep_b), ecore=space.ecore
    )
    run = SampledRun(float(e_fix), len(keep_a), len(keep_b), 0, 0, time.process_time() - t0)
    run.extra = {"target": list(shape), "selected_from": [len(strs_a), len(strs_b)]}
    return run
