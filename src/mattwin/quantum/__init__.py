"""The quantum-algorithm rung of the electron-correlation ladder, emulated on the CPU: sample-based
quantum diagonalisation (SQD, :mod:`mattwin.quantum.sqd`), VQE (:mod:`mattwin.quantum.vqe`) and a
fault-tolerant QPE cost estimate (:mod:`mattwin.quantum.qpe`) on the ``pyscf`` engine's active
spaces, each with its classical controls (:mod:`mattwin.quantum.rung`).

Every algorithm takes mattwin's own active-space integrals (:class:`~mattwin.quantum.active.ActiveSpace`,
from the engine's converged SCF); no library reruns the SCF. Energies in hartree inside the package.
Nothing here claims a quantum speed-up: every result says it was emulated on a classical simulator.
"""

from __future__ import annotations

EMULATION_NOTE = "emulated on a classical simulator; no quantum speed-up is claimed"
QUANTUM_METHODS = ("sqd", "vqe", "qpe-cost")
