"""VQE with the UCCSD ansatz (PennyLane ``qml.UCCSD``, one repetition, all spin-conserving singles and
doubles from Hartree-Fock) on PennyLane's ``lightning.qubit`` state-vector simulator with adjoint
gradients, minimised by BFGS from zero amplitudes.

The qubit Hamiltonian is built from mattwin's active-space integrals (Jordan-Wigner, interleaved spin
orbitals 2p = alpha, 2p+1 = beta); PennyLane's own ``method="pyscf"`` path is not used because it
reruns the SCF. Energies are exact expectation values (no shot noise). Energies in hartree.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from mattwin.engines.pyscf_run import stage
from mattwin.quantum.active import ActiveSpace


@dataclass
class VQEResult:
    """Minimised energy (Eh), Hartree-Fock energy of the same qubit Hamiltonian (a check of the
    integrals), parameters, optimiser iterations, convergence and CPU time (s)."""

    energy: float
    hf_energy: float
    n_parameters: int
    n_singles: int
    n_doubles: int
    iterations: int
    evaluations: int
    converged: bool
    cpu_s: float


def qubit_hamiltonian(space: ActiveSpace) -> Any:
    """Jordan-Wigner qubit Hamiltonian (Eh) of the space, ``ecore`` included."""
    import pennylane as qml

    # fermionic_observable takes two[p,q,r,s] for a+_p a+_q a_r a_s / 2, i.e. (ps|qr)
    fo = qml.qchem.fermionic_observable(np.array([space.ecore]), space.h1, np.swapaxes(space.h2, 1, 3))
    coeffs, ops = qml.jordan_wigner(fo).terms()
    return qml.Hamiltonian(np.real(np.asarray(coeffs)), ops)


def run_vqe(space: ActiveSpace, name: str, gtol: float = 1e-6, max_iter: int = 200) -> VQEResult:
    """UCCSD-VQE of the space; progress on the CLI status line at each energy evaluation."""
    import pennylane as qml
    from pennylane import numpy as pnp
    from scipy.optimize import minimize

    n_el, nq = sum(space.nelec), space.n_qubits
    ham = qubit_hamiltonian(space)
    hf = qml.qchem.hf_state(n_el, nq)
    singles, doubles = qml.qchem.excitations(n_el, nq)
    s_wires, d_wires = qml.qchem.excitations_to_wires(singles, doubles)
    dev = qml.device("lightning.qubit", wires=nq)

    @qml.qnode(dev, diff_method="adjoint")
    def energy(w: Any) -> Any:
        qml.UCCSD(w, range(nq), s_wires, d_wires, hf, n_repeats=1)
        return qml.expval(ham)

    @qml.qnode(dev)
    def hf_energy() -> Any:
        qml.BasisState(hf, wires=range(nq))
        return qml.expval(ham)

    grad = qml.grad(energy)
    calls = [0]

    def fun(x: np.ndarray) -> tuple[float, np.ndarray]:
        calls[0] += 1
        w = pnp.array(x, requires_grad=True)
        e = float(energy(w))
        stage(f"VQE UCCSD ({nq} qubits, {len(x)} parameters) on {name}: step {calls[0]}, E = {e:.8f} Eh")
        return e, np.asarray(grad(w), dtype=float)

    t0 = time.process_time()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", np.exceptions.ComplexWarning)
        e_hf = float(hf_energy())
        n_par = len(singles) + len(doubles)
        if n_par == 0:  # a filled or empty space: Hartree-Fock is exact
            res_e, nit, ok = e_hf, 0, True
        else:
            res = minimize(
                fun, np.zeros(n_par), jac=True, method="BFGS", options={"gtol": gtol, "maxiter": max_iter}
            )
            res_e, nit, ok = float(res.fun), int(res.nit), bool(res.success)
    return VQEResult(
        energy=res_e,
        hf_energy=e_hf,
        n_parameters=n_par,
        n_singles=len(singles),
        n_doubles=len(doubles),
        iterations=nit,
        evaluations=calls[0],
        converged=ok,
        cpu_s=time.process_time() - t0,
    )
