"""One quantum-rung calculation with its classical controls beside it, on mattwin's own SCF:

* ``sqd``: SQD from LUCJ samples (noiseless, and noisy on the device model), SQD from uniformly random
  samples (as many shots; and with the subspace capped at the LUCJ run's size), PySCF selected CI
  at the SQD subspace's shape, the LUCJ state's own energy, CCSD and CCSD(T) in the space,
  Hartree-Fock, and the exact reference (CASCI/FCI or DMRG).
* ``vqe``: UCCSD-VQE beside CCSD(T), Hartree-Fock and the exact reference.
* ``qpe-cost``: logical qubits and Toffoli/T gates of double-factorised QPE, beside the size of the
  classical problem (determinants of the space).

Variational check: an SQD, VQE or selected-CI energy below the exact reference by more than the
reference's noise (1e-6 Eh for FCI, 1e-4 Eh for DMRG) raises :class:`VariationalViolationError`.
Energies in hartree, errors in mEh, CPU times in s.
"""

from __future__ import annotations

import time
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from mattwin.engines.pyscf_run import Settings
from mattwin.errors import EngineError
from mattwin.quantum import EMULATION_NOTE
from mattwin.quantum.active import ActiveSpace, Reference, active_space, ccsd_in_space, exact_reference
from mattwin.quantum.guard import check

PACKAGES = ("pyscf", "ffsim", "qiskit", "qiskit-aer", "qiskit-addon-sqd", "pennylane", "pennylane-lightning")


class VariationalViolationError(EngineError):
    """A variational method's energy fell below the exact energy of its space: a bug or a broken input."""


def _versions(extra: tuple[str, ...] = ()) -> dict[str, str]:
    out = {}
    for p in PACKAGES + extra:
        try:
            out[p] = version(p)
        except PackageNotFoundError:
            out[p] = "not installed"
    return out


def _row(rung: str, energy: float | None, ref: Reference | None, cpu_s: float, **kw: Any) -> dict[str, Any]:
    err = None if energy is None or ref is None else round((energy - ref.energy) * 1000, 6)
    return {"rung": rung, "energy_hartree": energy, "error_mEh": err, "cpu_s": round(cpu_s, 3), **kw}


def _check_variational(label: str, energy: float, ref: Reference | None, name: str) -> None:
    if ref is not None and energy < ref.energy - ref.tolerance:
        raise VariationalViolationError(
            f"{name}: {label} energy {energy:.8f} Eh lies {1000 * (ref.energy - energy):.4f} mEh below the "
            f"{ref.solver} energy {ref.energy:.8f} Eh of the same space (tolerance "
            f"{1000 * ref.tolerance:g} mEh): not variational; report this as a bug"
        )


def _reference_row(ref: Reference | None) -> list[dict[str, Any]]:
    if ref is None:
        return []
    return [_row(ref.solver, ref.energy, ref, ref.cpu_s, reference=True)]


def _sqd(mf: Any, space: ActiveSpace, s: Settings, ref: Reference | None, name: str) -> dict[str, Any]:
    from mattwin.quantum import sqd

    cfg = sqd.SQDSettings(shots=s.shots, samples_per_batch=s.samples_per_batch, seed=s.seed)
    cc = ccsd_in_space(mf, space, name)
    t0 = time.process_time()
    op = sqd.lucj_operator(space, cc.t1, cc.t2)
    vec = sqd.lucj_state(space, op)
    e_lucj = sqd.state_energy(space, vec)
    bits = sqd.sample_noiseless(space, vec, cfg.shots, cfg.seed)
    t_prep = time.process_time() - t0
    lucj = sqd.diagonalize(space, bits, cfg, "LUCJ samples", name)
    _check_variational("SQD (LUCJ samples)", lucj.energy, ref, name)
    t0 = time.process_time()
    noisy_bits, noisy_info = sqd.sample_noisy(space, op, cfg.shots, cfg.seed)
    t_noisy = time.process_time() - t0
    rbits = sqd.uniform_samples(space, cfg.shots, cfg.seed)
    rand = sqd.diagonalize(space, rbits, cfg, "random", name)
    _check_variational("SQD (random samples)", rand.energy, ref, name)
    shape = (lucj.n_alpha_strings, lucj.n_beta_strings)
    rand_eq = sqd.diagonalize(space, rbits, cfg, "random, LUCJ size", name, max_dim=shape)
    _check_variational("SQD (random samples, LUCJ size)", rand_eq.energy, ref, name)
    sci = sqd.selected_ci(space, shape, name)
    _check_variational("selected CI", sci.energy, ref, name)
    cc_note = "" if cc.converged else "CCSD did not converge; amplitudes (and LUCJ) from the last iteration"

    def sampled(label: str, run: sqd.SampledRun, extra_cpu: float, **kw: Any) -> dict[str, Any]:
        return _row(
            label,
            run.energy,
            ref,
            run.cpu_s + extra_cpu,
            determinants=run.determinants,
            strings=[run.n_alpha_strings, run.n_beta_strings],
            shots=run.shots,
            unique_samples=run.unique_samples,
            **kw,
        )

    rows = [
        sampled("SQD, LUCJ samples (noiseless)", lucj, t_prep + cc.cpu_ccsd_s, headline=True),
    ]
    if noisy_bits is not None:
        noisy = sqd.diagonalize(space, noisy_bits, cfg, "noisy LUCJ samples", name)
        _check_variational("SQD (noisy LUCJ samples)", noisy.energy, ref, name)
        rows.append(sampled("SQD, LUCJ samples (noisy device model)", noisy, t_noisy + cc.cpu_ccsd_s))
    else:
        rows.append(
            _row("SQD, LUCJ samples (noisy device model)", None, ref, t_noisy, note=noisy_info["skipped"])
        )
    rows += [
        sampled("SQD, uniform random samples (control)", rand, 0.0),
        sampled("SQD, uniform random samples, LUCJ subspace size (control)", rand_eq, 0.0),
        _row(
            "selected CI, equal determinants (control)",
            sci.energy,
            ref,
            sci.cpu_s,
            determinants=sci.determinants,
            strings=[sci.n_alpha_strings, sci.n_beta_strings],
        ),
        _row("LUCJ state energy (no diagonalisation)", e_lucj, ref, t_prep, note=cc_note),
        _row("CCSD", cc.e_ccsd, ref, cc.cpu_ccsd_s, note=cc_note),
        _row("CCSD(T)", cc.e_ccsd_t, ref, cc.cpu_ccsd_s + cc.cpu_t_s, note=cc_note),
    ]
    return {
        "energy": lucj.energy,
        "rows": rows,
        "details": {
            "sqd": {
                "shots": cfg.shots,
                "samples_per_batch": cfg.samples_per_batch,
                "num_batches": cfg.num_batches,
                "max_iterations": cfg.max_iterations,
                "seed": cfg.seed,
            },
            "ansatz": "LUCJ (ffsim UCJOpSpinBalanced.from_t_amplitudes, 2 layers, square-lattice pairs)",
            "noise_model": {**sqd_noise(), **noisy_info},
        },
    }


def sqd_noise() -> dict[str, Any]:
    from mattwin.quantum.sqd import NOISE_MODEL

    return {"simulator": "qiskit-aer AerSimulator (per-shot trajectories)", **NOISE_MODEL}


def _vqe(mf: Any, space: ActiveSpace, ref: Reference | None, name: str) -> dict[str, Any]:
    from mattwin.quantum.vqe import run_vqe

    v = run_vqe(space, name)
    _check_variational("VQE (UCCSD)", v.energy, ref, name)
    cc = ccsd_in_space(mf, space, name)
    rows = [
        _row(
            "VQE, UCCSD (state vector, exact expectation)",
            v.energy,
            ref,
            v.cpu_s,
            parameters=v.n_parameters,
            iterations=v.iterations,
            converged=v.converged,
            headline=True,
        ),
        _row("CCSD(T)", cc.e_ccsd_t, ref, cc.cpu_ccsd_s + cc.cpu_t_s),
    ]
    details = {
        "ansatz": f"UCCSD (PennyLane qml.UCCSD, 1 repetition, {v.n_singles} singles, {v.n_doubles} doubles)",
        "simulator": "PennyLane lightning.qubit, adjoint gradients, no shot noise",
        "optimizer": "scipy BFGS from zero amplitudes, gtol 1e-6",
        "hf_energy_check_hartree": v.hf_energy,
    }
    return {"energy": v.energy, "rows": rows, "details": details}


def _qpe(space: ActiveSpace) -> dict[str, Any]:
    from mattwin.quantum.qpe import qpe_cost

    c = qpe_cost(space, "")
    note = (
        f"classical problem: {space.n_determinants:,} determinants; QPE needs {c.logical_qubits} logical "
        f"qubits and {c.toffoli_gates:.3g} Toffoli gates (target error {1000 * c.target_error_hartree} mEh)"
    )
    row = _row("QPE cost (double factorisation)", None, None, c.cpu_s, note=note, headline=True)
    return {"energy": None, "rows": [row], "resources": c.to_dict(), "details": {}}


def verdict(rows: list[dict[str, Any]], method: str) -> str:
    """Plain words: how the headline quantum rung compares with its classical controls."""
    head = next(r for r in rows if r.get("headline"))
    if method == "qpe-cost" or head["error_mEh"] is None:
        return "A resource estimate only: no energy is computed and no quantum advantage is shown."
    better = [
        r
        for r in rows
        if ("control" in r["rung"] or r["rung"] == "CCSD(T)")
        and r["error_mEh"] is not None
        and 0.0 <= r["error_mEh"] < head["error_mEh"]
    ]
    words = f"{head['rung']}: {head['error_mEh']:.3f} mEh above the exact energy"
    words += (
        "; no classical control here is closer"
        if not better
        else "; the quantum rung loses to: "
        + "; ".join(f"{r['rung']} {r['error_mEh']:+.3f} mEh" for r in better)
    )
    worse = [
        r
        for r in rows
        if "control" in r["rung"] and r["error_mEh"] is not None and r["error_mEh"] > head["error_mEh"]
    ]
    if worse:
        words += "; it beats: " + "; ".join(f"{r['rung']} {r['error_mEh']:+.3f} mEh" for r in worse)
    below = [r for r in rows if r["rung"].startswith("CCSD") and (r["error_mEh"] or 0.0) < -1.0]
    if below:
        words += "; " + ", ".join(
            f"{r['rung']} lies {-r['error_mEh']:.1f} mEh below the exact energy (not variational: "
            "unreliable here)"
            for r in below
        )
    return words + "."


def run_rung(mf: Any, s: Settings, name: str) -> dict[str, Any]:
    """The rung ``s.method`` (sqd, vqe, qpe-cost) on the active space ``s.active`` of the converged
    SCF ``mf``: energy (None for qpe-cost), rows of rungs and controls, reference, provenance."""
    if s.active is None:
        raise EngineError(f"{name}: {s.method} needs an active space, e.g. {s.method}(6,6)")
    space = active_space(mf, s.active, name)
    plan = check(s.method, space.norb, space.nelec, name, s.samples_per_batch)
    ref = None if s.method == "qpe-cost" else exact_reference(space, s.bond_dim, name)
    if s.method == "sqd":
        out = _sqd(mf, space, s, ref, name)
    elif s.method == "vqe":
        out = _vqe(mf, space, ref, name)
    else:
        out = _qpe(space)
    rows = out["rows"] + _reference_row(ref)
    rows.append(_row("Hartree-Fock", space.e_scf, ref, 0.0))
    extra = ("block2",) if ref is not None and ref.kind == "dmrg" else ()
    return {
        "energy": out["energy"],
        "space": space,
        "reference": None if ref is None else {"solver": ref.solver, "energy_hartree": ref.energy},
        "rows": rows,
        "resources": out.get("resources"),
        "verdict": verdict(rows, s.method),
        "provenance": {
            "statement": EMULATION_NOTE,
            "versions": _versions(extra),
            "memory_estimate": plan.detail,
            "variational_tolerance_mEh": None if ref is None else 1000 * ref.tolerance,
            **out["details"],
        },
    }


def precheck(mol: Any, s: Settings, name: str) -> None:
    """Refuse before any SCF: an active space that does not fit the molecule and basis, or a method
    whose state vector or subspace will not fit in memory (typed errors with the estimate)."""
    from math import comb

    from mattwin.engines.pyscf_run import build_mole
    from mattwin.quantum.active import check_active

    if s.active is None:
        raise EngineError(f"{name}: {s.method} needs an active space, e.g. {s.method}(6,6)")
    pmol = build_mole(mol, s.basis, (), s.max_memory_mb)
    check_active(int(pmol.nelectron), int(pmol.nao), int(pmol.spin), s.active, name)
    ne, no = s.active
    check(s.method, no, (ne // 2, ne // 2), name, s.samples_per_batch)
    if s.method == "sqd" and comb(no, ne // 2) ** 2 > 5_000_000 and no > 40:
        raise EngineError(
            f"{name}: sqd({ne},{no}) has no exact reference here (FCI beyond 5e6 determinants, DMRG "
            "beyond 40 orbitals), so its variational check cannot be made; choose a smaller space"
        )
