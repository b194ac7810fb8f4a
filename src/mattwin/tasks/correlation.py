"""Electron correlation: the total energy of a molecule at a correlated level (``electronic_energy``)
and the diagnostics that say whether single-reference methods can be trusted
(``correlation_diagnostics``: T1, D1, largest T2 amplitude, natural-orbital occupations, a verdict in
plain words and the active space to use otherwise).

Thresholds: T1 > 0.02 (Lee & Taylor, Int. J. Quantum Chem. Symp. 23, 199 (1989)) and D1 > 0.05
(Janssen & Nielsen, Chem. Phys. Lett. 290, 423 (1998)) flag non-dynamic correlation in closed-shell
CCSD; natural-orbital occupations between 0.02 and 1.98 mark strongly correlated orbitals, and any
between 0.1 and 1.9 mean a multireference treatment is needed (Gordon et al., J. Chem. Phys. 110,
4199 (1999)). Open-shell molecules (multiplicity > 1) get the UHF-based diagnostics of
:mod:`mattwin.tasks.correlation_open` (spin contamination, UHF natural orbitals, UMP2 natural
occupations and, unless ``open_shell="ump2"``, the ROHF-UCCSD open-shell T1/D1/T2).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from pymatgen.core import Molecule

from mattwin.engines.base import Engine
from mattwin.engines.pyscf import HARTREE_EV, PySCFEngine
from mattwin.engines.pyscf_run import build_mole, n_frozen, run_scf
from mattwin.errors import ConvergenceError, EngineError
from mattwin.materials.molecules import molecule_formula
from mattwin.tasks.results import TaskResult

TASK_VERSION = 2  # 2: open-shell molecules run (UHF/UMP2/UCCSD diagnostics) instead of failing
T1_LIMIT = 0.02
D1_LIMIT = 0.05
T2_LIMIT = 0.15
WEAK_NO = 0.02  # occupations within this of 0 or 2 are uncorrelated
STRONG_NO = 0.1  # occupations further than this from 0 or 2 are strongly correlated


def _pyscf(engine: Engine) -> PySCFEngine:
    if not isinstance(engine, PySCFEngine):
        raise EngineError(
            f"{engine.label}: quantum-chemistry tasks need the pyscf engine (pyscf:METHOD/BASIS)"
        )
    return engine


def _name(mol: Molecule, name: str) -> str:
    return name or molecule_formula(mol)


@dataclass(frozen=True)
class ElectronicEnergyResult(TaskResult):
    """Total energy of a molecule. energy_eV and energy_hartree: the method's total energy;
    scf_energy_hartree: HF/DFT reference; components_hartree: correlation pieces (e_mp2_corr,
    e_ccsd_corr, e_t, e_corr_cbs, e_disp ...); info: basis size, frozen core, diagnostics."""

    method: str
    basis: list[str]
    energy_eV: float
    energy_hartree: float
    scf_energy_hartree: float
    components_hartree: dict[str, float]
    n_atoms: int
    charge: int
    spin_multiplicity: int
    info: dict[str, Any] = field(default_factory=dict)


def electronic_energy(molecule: Molecule, engine: Engine, name: str = "") -> ElectronicEnergyResult:
    """Energy of ``molecule`` at the engine's level (e.g. ``pyscf:ccsd(t)/cc-pvdz``, or a
    ``cbs(X,Y)`` basis pair for a two-point extrapolated correlation energy)."""
    eng = _pyscf(engine)
    res = eng.run(molecule, _name(molecule, name))
    info = {k: v for k, v in res.info.items() if isinstance(v, (int, float, str, list))}
    return ElectronicEnergyResult(
        method=eng.model,
        basis=list(eng.bases),
        energy_eV=res.e_total * HARTREE_EV,
        energy_hartree=res.e_total,
        scf_energy_hartree=res.e_scf,
        components_hartree=dict(res.components),
        n_atoms=len(molecule),
        charge=int(molecule.charge),
        spin_multiplicity=int(molecule.spin_multiplicity),
        info=info,
    )


@dataclass(frozen=True)
class DiagnosticsResult(TaskResult):
    """T1, D1 and largest |T2| of a CCSD in ``basis``; natural_occupations: CCSD natural-orbital
    occupations (0..2) of the orbitals nearest the Fermi level (highest occupied first), with
    ``noon_labels`` ("HOMO-1", "LUMO+2" ...); verdict: ``single-reference`` / ``caution`` /
    ``multireference``; active_space: suggested (electrons, orbitals) or None; advice: plain words.

    Open shells (``spin_multiplicity`` > 1): ``method`` says what ran (``UHF/UMP2`` or ``UHF/UMP2 +
    ROHF-UCCSD``; T1/D1/T2 are None without UCCSD), natural_occupations are UMP2's, ``s2_uhf`` the UHF
    <S²> beside ``s2_exact`` = S(S+1), ``uno_occupations`` the UHF natural-orbital occupations at the
    same frontier; ``ccsd_correlation_hartree`` is then the UCCSD (or UMP2) correlation energy."""

    basis: str
    t1_diagnostic: float | None
    d1_diagnostic: float | None
    max_t2_amplitude: float | None
    natural_occupations: list[float]
    noon_labels: list[str]
    verdict: str
    active_space: list[int] | None
    advice: str
    ccsd_correlation_hartree: float
    method: str = "RHF/CCSD"
    spin_multiplicity: int = 1
    s2_uhf: float | None = None
    s2_exact: float | None = None
    uno_occupations: list[float] = field(default_factory=list)


def _frontier(occ: np.ndarray, nocc_total: int, width: int = 8) -> tuple[list[float], list[str]]:
    """Occupations of ``width`` orbitals each side of the Fermi level, with HOMO/LUMO labels."""
    lo = max(0, nocc_total - width)
    hi = min(len(occ), nocc_total + width)
    labels = []
    for i in range(lo, hi):
        k = i - (nocc_total - 1) if i < nocc_total else i - nocc_total
        base = "HOMO" if i < nocc_total else "LUMO"
        labels.append(base if k == 0 else f"{base}{k:+d}")
    return [round(float(x), 5) for x in occ[lo:hi]], labels


def judge(t1: float, d1: float, t2: float, occ: np.ndarray) -> tuple[str, list[int] | None, str]:
    """Verdict, suggested active space and advice from the diagnostics and natural occupations
    (spin-summed, 0..2, any order)."""
    dev = np.minimum(occ, 2.0 - occ)
    strong = int(np.sum(dev > STRONG_NO))
    active_idx = np.flatnonzero(dev > WEAK_NO)
    active = [int(round(float(np.sum(occ[active_idx])))), len(active_idx)] if len(active_idx) else None
    flags = []
    if t1 > T1_LIMIT:
        flags.append(f"T1 = {t1:.3f} > {T1_LIMIT}")
    if d1 > D1_LIMIT:
        flags.append(f"D1 = {d1:.3f} > {D1_LIMIT}")
    if t2 > T2_LIMIT:
        flags.append(f"largest T2 amplitude {t2:.2f} > {T2_LIMIT}")
    if strong:
        flags.append(f"{strong} natural orbital(s) with occupation between {STRONG_NO} and {2 - STRONG_NO}")
    if strong or t2 > 2 * T2_LIMIT or t1 > 2 * T1_LIMIT:
        solver = "DMRG-CASSCF" if active and active[1] > 14 else "CASSCF (or DMRG-CASSCF)"
        space = f"({active[0]}e,{active[1]}o)" if active else "of the partly occupied orbitals"
        return (
            "multireference",
            active,
            (
                f"Single-reference methods cannot be trusted here ({'; '.join(flags)}): "
                f"CCSD(T) may be off by many kcal/mol. Use {solver} with an active space {space} "
                "built from the natural orbitals with occupations away from 0 and 2."
            ),
        )
    if flags:
        return (
            "caution",
            active,
            (
                f"Mostly single-reference but with noticeable static correlation ({'; '.join(flags)}): "
                "CCSD(T) should hold to a few kcal/mol; check a key number with a multireference method"
                + (f" in a ({active[0]}e,{active[1]}o) space." if active else ".")
            ),
        )
    return (
        "single-reference",
        None,
        (
            f"Single-reference methods can be trusted: T1 = {t1:.3f}, D1 = {d1:.3f}, largest T2 {t2:.2f}, "
            "all natural occupations within 0.1 of 0 or 2. CCSD(T) is the method of choice."
        ),
    )


def correlation_diagnostics(
    molecule: Molecule, engine: Engine, name: str = "", open_shell: str = "uccsd"
) -> DiagnosticsResult:
    """CCSD in the engine's basis (RHF reference, frozen core as in the engine): T1/D1/T2
    diagnostics and CCSD natural-orbital occupations, judged in plain words. An open-shell molecule
    gets the UHF-based diagnostics of :mod:`mattwin.tasks.correlation_open` (``open_shell``:
    ``uccsd`` with the ROHF-UCCSD T1/D1/T2, or ``ump2``, the cheaper check without them)."""
    from dataclasses import replace

    from pyscf import cc

    from mattwin.engines.pyscf_run import _t1_d1, check_memory

    eng = _pyscf(engine)
    nm = _name(molecule, name)
    s = replace(eng.settings, method="ccsd", dispersion=None, active=None, basis=eng.bases[-1])
    pmol = build_mole(molecule, s.basis, (), s.max_memory_mb)
    nfc = n_frozen(pmol, s)
    check_memory(s, pmol, nfc, nm)
    if pmol.spin != 0:
        return _open_shell(molecule, s, pmol, nfc, nm, open_shell)
    mf = run_scf(pmol, molecule, replace(s, method="hf"), nm)
    mycc = converged_cc(cc.CCSD(mf, frozen=nfc or None), "CCSD", s.basis, nm)
    diag = _t1_d1(mycc)
    t1, d1, t2 = diag["t1_diagnostic"], diag["d1_diagnostic"], diag["max_t2_amplitude"]
    dm1 = mycc.make_rdm1()  # MO basis, correlated + frozen orbitals
    occ = np.sort(np.linalg.eigvalsh(dm1))[::-1]
    return _result(s.basis, t1, d1, t2, occ, pmol.nelectron // 2, judge(t1, d1, t2, occ), float(mycc.e_corr))


def converged_cc(mycc: Any, kind: str, basis: str, name: str) -> Any:
    """``mycc`` (a PySCF CCSD or UCCSD, named by ``kind``) with its amplitudes solved; that they do not
    converge is itself the diagnosis, raised as :class:`ConvergenceError` saying so."""
    from mattwin.engines.pyscf_run import stage

    stage(f"{kind} diagnostics/{basis} on {name}")
    mycc.kernel()
    if not mycc.converged:
        raise ConvergenceError(
            f"{name}: {kind}/{basis} did not converge in {mycc.max_cycle} iterations; this itself signals "
            "strong static correlation: use CASSCF/DMRG"
        )
    return mycc


def _result(
    basis: str,
    t1: float | None,
    d1: float | None,
    t2: float | None,
    occ: np.ndarray,
    n_occ: int,
    judged: tuple[str, list[int] | None, str],
    e_corr: float,
    **open_shell: Any,
) -> DiagnosticsResult:
    """The result of the diagnostics, the natural occupations ``occ`` (at the frontier of the ``n_occ``
    occupied orbitals), the verdict (verdict, active space, advice) and the open-shell fields."""
    noons, labels = _frontier(occ, n_occ)
    verdict, active, advice = judged
    return DiagnosticsResult(
        basis=basis,
        t1_diagnostic=t1,
        d1_diagnostic=d1,
        max_t2_amplitude=t2,
        natural_occupations=noons,
        noon_labels=labels,
        verdict=verdict,
        active_space=active,
        advice=advice,
        ccsd_correlation_hartree=e_corr,
        **open_shell,
    )


def _open_shell(molecule: Molecule, s: Any, pmol: Any, nfc: int, nm: str, level: str) -> DiagnosticsResult:
    from mattwin.tasks.correlation_open import judge_open_shell, open_shell_run

    r = open_shell_run(molecule, s, pmol, nfc, nm, level)
    n_unpaired = int(pmol.spin)
    judged = judge_open_shell(r["t1"], r["d1"], r["t2"], r["occ"], r["uno"], r["s2"], n_unpaired)
    n_alpha = int(pmol.nelec[0])
    spin = n_unpaired / 2
    return _result(
        s.basis,
        r["t1"],
        r["d1"],
        r["t2"],
        r["occ"],
        n_alpha,
        judged,
        r["e_corr"],
        method=r["method"],
        spin_multiplicity=n_unpaired + 1,
        s2_uhf=round(r["s2"], 5),
        s2_exact=spin * (spin + 1),
        uno_occupations=_frontier(r["uno"], n_alpha)[0],
    )


TASKS = {
    "electronic_energy": (electronic_energy, ElectronicEnergyResult, TASK_VERSION),
    "correlation_diagnostics": (correlation_diagnostics, DiagnosticsResult, TASK_VERSION),
}
