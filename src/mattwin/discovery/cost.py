"""What a calculation costs: seconds per rung as a function of the work it does, learned from the
store's timings.

For each task and engine family the cost is ``t = c * w^b`` seconds, ``w`` the task's work measure
(:func:`work`): atoms for a relaxation, supercell atoms times displaced atoms for phonons, atoms times
strained cells for elastic constants, atoms times steps for MD, atoms cubed times k-points for periodic
DFT, the cluster's electrons for CCSD diagnostics on a cluster model (at a fixed basis the basis size
follows them; an open-shell cluster's scaled by :data:`OPEN_SHELL_WORK` for its level). ``log c`` and
``b`` are fitted by Bayesian linear regression in log space to the finished
calculations of that task in the store (their ``wall_time_s``), with a prior centred on :data:`PRIORS`
(``log c`` σ = 1.5, ``b`` σ = 0.3) and the residual scatter of log t fixed at 0.5: with no data the
prior decides; with a few dozen timings the data do.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from pymatgen.core import Molecule, Structure
from sqlalchemy import select

from mattwin.store import schema
from mattwin.store.store import Store

#: prior (c seconds, b) per task: t = c * work^b (CPU seconds on one core of a 2-core machine, CHGNet;
#: from the relaxation, phonon and elastic timings of this project's benchmarks, rounded)
PRIORS: dict[str, tuple[float, float]] = {
    "relax": (0.3, 1.0),
    "phonons": (0.01, 1.0),
    "elastic_tensor": (0.2, 1.0),
    "md": (0.002, 1.0),
    # periodic DFT (PySCF PBC), w = atoms^3 x k-points: NaCl primitive cell, PBE/gth-dzvp, 2x2x2 k, an
    # 80 Hartree grid: 87 s for w = 64; LDA/gth-szv at Gamma, 40 Hartree: 7 s for w = 8 (c ~ 1 s)
    "band_gap": (1.0, 1.0),
    # CCSD/def2-SVP diagnostics of the embedded [CuO2]3- cluster (48 electrons, 59 basis functions):
    # 12 s here; b = 4 between the SCF's N^4 and the CCSD's N^6 at these small sizes
    "correlation_diagnostics": (2.3e-6, 4.0),
}
#: an open-shell molecule's correlation_diagnostics work, per electron, relative to the closed-shell
#: CCSD's (t ~ w^4 under the prior): ``ump2`` (UHF, <S²>, UHF natural orbitals, UMP2 occupations) took
#: 16-18 s for the embedded [FeO6]10-/9- and [NiO6]10- clusters (83-86 electrons, ~115 def2-SVP
#: functions) here, w = 0.62 x electrons; ``uccsd`` (the same plus ROHF-UCCSD) 70-150 s per UCCSD
#: iteration for [FeO6]10- (load-dependent; not run to convergence, ~20 iterations assumed), w = 2.1 x
#: electrons (~35 min)
OPEN_SHELL_WORK = {"ump2": 0.62, "uccsd": 2.1}
_SIGMA_LOGC, _SIGMA_B, _NOISE = 1.5, 0.3, 0.5


def work(task: str, structure: Structure | Molecule, params: dict[str, Any] | None = None) -> float:
    """The work measure of ``task`` on ``structure`` with ``params`` (see the module docstring)."""
    p = params or {}
    n = len(structure)
    if task == "correlation_diagnostics":
        n_el = float(sum(site.specie.Z for site in structure) - int(getattr(structure, "charge", 0)))
        if int(getattr(structure, "spin_multiplicity", 1) or 1) == 1:
            return n_el
        return n_el * OPEN_SHELL_WORK[str(p.get("open_shell", "uccsd"))]
    if task == "phonons":
        from mattwin.tasks.phonons import supercell_for

        assert isinstance(structure, Structure)
        mult = p.get("supercell") or supercell_for(structure, float(p.get("min_length", 10.0)))
        return float(n * int(np.prod(mult)) * n)
    if task == "elastic_tensor":
        return float(n * 6 * len(p.get("strains", (1, 2, 3, 4))))
    if task == "md":
        return float(n * int(p.get("steps", 1000)))
    if task == "band_gap":
        k = int(p.get("k", 2))
        return float(n**3 * k**3)
    return float(n)


@dataclass(frozen=True)
class CostModel:
    """``seconds(task, work)``: posterior mean of t = c * w^b per task (engine family folded in)."""

    fits: dict[str, tuple[float, float, int]]  # task -> (log c, b, n timings)

    def seconds(self, task: str, w: float) -> float:
        logc, b, _ = self.fits.get(task, (*_prior(task), 0))
        return float(math.exp(logc + b * math.log(max(w, 1.0)) + _NOISE**2 / 2))

    def n_timings(self, task: str) -> int:
        return self.fits.get(task, (0.0, 0.0, 0))[2]


def _prior(task: str) -> tuple[float, float]:
    c, b = PRIORS.get(task, (1.0, 1.0))
    return math.log(c), b


def fit_cost(task: str, works: Sequence[float], seconds: Sequence[float]) -> tuple[float, float]:
    """Posterior mean (log c, b) of log t = log c + b log w from timings, with the prior of :data:`PRIORS`."""
    m0 = np.array(_prior(task))
    p0 = np.diag([1 / _SIGMA_LOGC**2, 1 / _SIGMA_B**2])
    if not works:
        return float(m0[0]), float(m0[1])
    x = np.column_stack([np.ones(len(works)), np.log(np.maximum(works, 1.0))])
    y = np.log(np.maximum(seconds, 1e-3))
    prec = p0 + x.T @ x / _NOISE**2
    mean = np.linalg.solve(prec, p0 @ m0 + x.T @ y / _NOISE**2)
    return float(mean[0]), float(mean[1])


def learn_costs(store: Store, tasks: Sequence[str]) -> CostModel:
    """Fit each task's cost to its finished calculations in ``store`` (work from the stored material
    and parameters)."""
    import json

    calc, mat = schema.calculations, schema.materials
    fits: dict[str, tuple[float, float, int]] = {}
    for task in tasks:
        q = (
            select(calc.c.params, calc.c.wall_time_s, mat.c.structure)
            .join(mat, mat.c.id == calc.c.material_id)
            .where((calc.c.task == task) & (calc.c.status == "done") & calc.c.wall_time_s.is_not(None))
            .order_by(calc.c.id.desc())
            .limit(200)
        )
        with store.engine.connect() as conn:
            rows = list(conn.execute(q))
        works, secs = [], []
        for params, t, s in rows:
            try:
                d = json.loads(s)
                mat_ = Molecule.from_dict(d) if "lattice" not in d else Structure.from_dict(d)
                works.append(work(task, mat_, json.loads(params)))
                secs.append(float(t))
            except (ValueError, KeyError, TypeError):
                continue
        logc, b = fit_cost(task, works, secs)
        fits[task] = (logc, b, len(works))
    return CostModel(fits)
