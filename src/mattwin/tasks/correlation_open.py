"""Open-shell (doublet and higher) multireference diagnostics for ``correlation_diagnostics``.

The reference is unrestricted Hartree-Fock (UHF) started from a superposition of atomic densities
(PySCF's ``atom`` guess), which keeps a transition-metal ion in its formal d^n configuration; the
default ``minao`` guess can land on a lower, broken-symmetry solution of an embedded cluster (the
metal 4s pulled toward the bare point-charge cations). What is computed and judged:

* spin contamination: the UHF <S²> against the exact S(S+1) (S = (multiplicity - 1)/2);
  Δ<S²> > 10 % of S(S+1) is the common rule for a contaminated reference (D. Young, *Computational
  Chemistry*, Wiley 2001, ch. 27) and flags ``caution``.
* UHF natural orbitals (the eigenvectors of the spin-summed UHF density): occupations between 0.02
  and 1.98 other than the 2S singly occupied ones select the active space of Pulay & Hamilton
  (J. Chem. Phys. 88, 4926 (1988), the UNO-CAS criterion); any such orbital flags ``caution``.
* correlated natural occupations: of the unrelaxed UMP2 one-particle density (frozen core) on the UHF
  reference; the 2S occupations nearest 1 are the singly occupied orbitals, and any other occupation
  between 0.1 and 1.9 means multiconfigurational character (Gordon, Schmidt, Chaban, Glaesemann,
  Stevens & Gonzalez, J. Chem. Phys. 110, 4199 (1999), who proposed MP2 natural occupations as a
  cheap diagnostic): ``multireference``; those between 0.02 and 0.1 from 0 or 2 join the active space.
* ``open_shell="uccsd"`` also runs frozen-core UCCSD on a restricted open-shell (ROHF) reference:
  the open-shell T1 of Jayatilaka & Lee (J. Chem. Phys. 98, 9734 (1993); the ROHF form Psi4's
  ccenergy computes): T1 = ½ sqrt([Σ_{d→v} (t_α + t_β)² + 2 Σ_{d→s} t_β² + 2 Σ_{s→v} t_α²] / N)
  over doubly occupied (d), singly occupied (s) and virtual (v) orbitals, N the correlated electrons;
  for a closed shell it is Lee & Taylor's T1. D1: the larger spectral norm of the α and β singles
  blocks, which for a closed shell is Janssen & Nielsen's D1 (a max-norm generalisation; the
  open-shell D1 has no single agreed form). Largest |T2| over the three spin blocks. The closed-shell
  limits (T1 0.02, D1 0.05, |T2| 0.15; twice T1 or T2 for ``multireference``) are applied to these
  forms, which reduce to the closed-shell ones. UCCSD is costly: about 20 iterations of ~1 min each
  for an FeO6 cluster in def2-SVP on one shared core, hence ``open_shell="ump2"`` (UHF, <S²>, UNO
  and UMP2 occupations only; seconds) for the escalation rung.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from pymatgen.core import Molecule

from mattwin.errors import ConvergenceError, EngineError

SPIN_CONTAMINATION = 0.1  # Δ<S²> / S(S+1) above this: a contaminated reference (Young 2001)
UNO_FRACTIONAL = 0.02  # UHF natural occupations within this of 0 or 2 are inactive (Pulay & Hamilton 1988)
OPEN_SHELL_LEVELS = ("uccsd", "ump2")
#: SCF energy tolerance (Eh) of the diagnostics' UHF/ROHF: occupations and <S²> are needed to ~1e-3; a
#: degenerate open shell (Fe2+ 5T2g) creeps at 1e-8..1e-9 for 100 DIIS cycles, reaches 1e-7 in ~10
DIAG_CONV_TOL = 1e-7


def _scf(kind: str, pmol: Any, mol: Molecule, s: Any, name: str) -> Any:
    """Converged UHF or ROHF from the atomic-density guess (to :data:`DIAG_CONV_TOL` at least;
    second-order retry, as run_scf)."""
    from pyscf import scf

    from mattwin.engines.pyscf_run import _point_charges, kernel_with_newton_retry, stage

    stage(f"{kind} {s.basis} on {name} ({pmol.nao} basis functions, 2S={pmol.spin})")
    mf = _point_charges((scf.UHF if kind == "UHF" else scf.ROHF)(pmol), mol)
    mf.init_guess, mf.conv_tol, mf.max_cycle = "atom", max(s.conv_tol, DIAG_CONV_TOL), s.max_cycle
    mf = kernel_with_newton_retry(mf, s.max_cycle)
    if not mf.converged:
        raise ConvergenceError(
            f"{name}: {kind}/{s.basis} did not converge (charge {pmol.charge}, 2S={pmol.spin}); check the "
            "charge and multiplicity"
        )
    return mf


def natural_occupations(pmol: Any, dm_a: np.ndarray, dm_b: np.ndarray) -> np.ndarray:
    """Occupations (0..2, descending) of the natural orbitals of the spin-summed AO density."""
    from scipy.linalg import eigh

    s = pmol.intor_symmetric("int1e_ovlp")
    occ = eigh(s @ (dm_a + dm_b) @ s, s, eigvals_only=True)
    return np.sort(np.clip(occ, 0.0, 2.0))[::-1]


def split_somos(occ: np.ndarray, n_unpaired: int) -> tuple[np.ndarray, np.ndarray]:
    """(the ``n_unpaired`` occupations nearest 1, the others), both descending."""
    idx = np.argsort(np.abs(occ - 1.0), kind="stable")
    somo = np.sort(occ[idx[:n_unpaired]])[::-1]
    rest = np.sort(occ[idx[n_unpaired:]])[::-1]
    return somo, rest


def open_shell_t1_d1(t1a: np.ndarray, t1b: np.ndarray, n_socc: int) -> tuple[float, float]:
    """Jayatilaka-Lee open-shell T1 and the max-norm D1 from UCCSD singles on an ROHF reference.

    ``t1a`` (n_occ_α, n_vir_α), ``t1b`` (n_occ_β, n_vir_β) in the common ROHF orbitals (frozen core
    removed): α occupied = doubly + singly occupied, β virtual = singly occupied + virtual."""
    nd = t1b.shape[0]  # doubly occupied, correlated
    dv = t1a[:nd, :] + t1b[:, n_socc:]  # doubly -> virtual, α + β
    ds = t1b[:, :n_socc]  # doubly -> singly (β)
    sv = t1a[nd:, :]  # singly -> virtual (α)
    n_el = t1a.shape[0] + t1b.shape[0]
    t1 = 0.5 * float(np.sqrt((np.sum(dv**2) + 2 * np.sum(ds**2) + 2 * np.sum(sv**2)) / n_el))
    d1 = max((float(np.linalg.norm(t, 2)) for t in (t1a, t1b) if t.size), default=0.0)
    return t1, d1


def open_shell_run(molecule: Molecule, s: Any, pmol: Any, nfc: int, name: str, level: str) -> dict[str, Any]:
    """UHF (<S²>, UNO), UMP2 natural occupations and, for ``level="uccsd"``, ROHF-UCCSD T1/D1/T2."""
    from pyscf import cc, mp

    from mattwin.engines.pyscf_run import stage
    from mattwin.tasks.correlation import converged_cc

    if level not in OPEN_SHELL_LEVELS:
        raise EngineError(f"{name}: open_shell = {level!r}; use one of {', '.join(OPEN_SHELL_LEVELS)}")
    uhf = _scf("UHF", pmol, molecule, s, name)
    s2 = float(uhf.spin_square()[0])
    uno = natural_occupations(pmol, *uhf.make_rdm1())
    stage(f"UMP2 natural occupations/{s.basis} on {name}")
    pt = mp.UMP2(uhf, frozen=nfc or None)
    pt.kernel()
    occ = natural_occupations(pmol, *pt.make_rdm1(ao_repr=True))
    out: dict[str, Any] = {"s2": s2, "uno": uno, "occ": occ, "e_corr": float(pt.e_corr), "t1": None}
    out.update(d1=None, t2=None, method="UHF/UMP2")
    if level == "uccsd":
        rohf = _scf("ROHF", pmol, molecule, s, name)
        mycc = converged_cc(cc.UCCSD(rohf, frozen=nfc or None), "UCCSD", s.basis, name)
        t1, d1 = open_shell_t1_d1(mycc.t1[0], mycc.t1[1], int(pmol.spin))
        t2 = max(float(np.max(np.abs(x))) if x.size else 0.0 for x in mycc.t2)
        out.update(t1=t1, d1=d1, t2=t2, e_corr=float(mycc.e_corr), method="UHF/UMP2 + ROHF-UCCSD")
    return out


def judge_open_shell(
    t1: float | None,
    d1: float | None,
    t2: float | None,
    occ: np.ndarray,
    uno: np.ndarray,
    s2: float,
    n_unpaired: int,
) -> tuple[str, list[int] | None, str]:
    """Verdict, active space (electrons, orbitals) and advice for an open-shell molecule (see the
    module docstring for the rules and their sources); ``occ``: correlated natural occupations."""
    from mattwin.tasks.correlation import D1_LIMIT, STRONG_NO, T1_LIMIT, T2_LIMIT, WEAK_NO

    spin = n_unpaired / 2
    exact = spin * (spin + 1)
    somo, rest = split_somos(occ, n_unpaired)
    dev = np.minimum(rest, 2.0 - rest)
    strong = int(np.sum(dev > STRONG_NO) + np.sum(np.abs(somo - 1.0) > STRONG_NO))
    active_idx = np.flatnonzero(dev > WEAK_NO)
    active = [int(round(float(np.sum(rest[active_idx]) + np.sum(somo)))), len(active_idx) + n_unpaired]
    _, uno_rest = split_somos(uno, n_unpaired)
    n_uno = int(np.sum(np.minimum(uno_rest, 2.0 - uno_rest) > UNO_FRACTIONAL))
    flags = []
    if s2 - exact > SPIN_CONTAMINATION * exact:
        flags.append(f"UHF <S²> = {s2:.3f} vs S(S+1) = {exact:.3f} (over 10 % contamination)")
    if n_uno:
        flags.append(
            f"{n_uno} UHF natural orbital(s) besides the {n_unpaired} singly occupied between 0.02 and 1.98"
        )
    if t1 is not None and t1 > T1_LIMIT:
        flags.append(f"open-shell T1 = {t1:.3f} > {T1_LIMIT}")
    if d1 is not None and d1 > D1_LIMIT:
        flags.append(f"D1 = {d1:.3f} > {D1_LIMIT}")
    if t2 is not None and t2 > T2_LIMIT:
        flags.append(f"largest T2 amplitude {t2:.2f} > {T2_LIMIT}")
    if strong:
        flags.append(
            f"{strong} correlated natural orbital(s) more than {STRONG_NO} from 0, 2 or (the {n_unpaired} "
            "singly occupied) 1"
        )
    space = f"({active[0]}e,{active[1]}o)"
    if strong or (t2 is not None and t2 > 2 * T2_LIMIT) or (t1 is not None and t1 > 2 * T1_LIMIT):
        solver = "DMRG-CASSCF" if active[1] > 14 else "CASSCF (or DMRG-CASSCF)"
        return (
            "multireference",
            active,
            f"Single-reference methods cannot be trusted for this open shell ({'; '.join(flags)}): use "
            f"{solver} with an active space {space} from the natural orbitals with occupations away from 0 "
            "and 2.",
        )
    if flags:
        return (
            "caution",
            active,
            f"Mostly single-reference but the open-shell reference is imperfect ({'; '.join(flags)}): "
            f"check a key number with a multireference method in a {space} space.",
        )
    tt = ""
    if t1 is not None and d1 is not None and t2 is not None:
        tt = f"T1 = {t1:.3f}, D1 = {d1:.3f}, largest T2 {t2:.2f}, "
    return (
        "single-reference",
        None,
        f"Single-reference open shell: UHF <S²> = {s2:.3f} (exact {exact:.3f}), {tt}no UHF natural orbital "
        f"besides the {n_unpaired} singly occupied between 0.02 and 1.98, correlated occupations within 0.1 "
        "of 0, 1 (singly occupied) or 2. UCCSD(T) on this reference is the method of choice.",
    )
