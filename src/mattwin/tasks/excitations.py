"""Vertical electronic excitations of a molecule: TDDFT or TDA (any functional of the engine; with a
HF engine: TDHF/CIS) and EOM-EE-CCSD (small molecules); energies, oscillator strengths (length
gauge; TDDFT/TDA/TDHF), dominant orbital transitions and a Gaussian-broadened absorption spectrum.

EOM-CCSD oscillator strengths are not computed: PySCF has no EOM-EE transition moments, so EOM-CCSD
states carry ``oscillator_strength = None`` and no spectrum.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from pymatgen.core import Molecule

from mattwin.analysis.spectra import gaussian_spectrum, molar_absorptivity, wavelength_nm
from mattwin.engines.base import Engine
from mattwin.engines.pyscf import HARTREE_EV
from mattwin.engines.pyscf_run import build_mole, check_memory, n_frozen, run_scf, stage
from mattwin.errors import ConvergenceError, EngineError
from mattwin.tasks.correlation import _name, _pyscf
from mattwin.tasks.results import TaskResult

TASK_VERSION = 1
METHODS = ("tddft", "tda", "eom-ccsd")


@dataclass(frozen=True)
class ExcitationsResult(TaskResult):
    """states: one dict per excited state (lowest first): ``energy_eV``, ``wavelength_nm``,
    ``oscillator_strength`` (None for EOM-CCSD), ``character`` ("HOMO -> LUMO (97%)"),
    ``transitions`` [{from, to, weight}], ``spin``. spectrum: ``energy_eV`` grid,
    ``intensity_per_eV`` (oscillator strength per eV, Gaussian FWHM ``fwhm_eV``) and
    ``epsilon_L_mol_cm`` (molar absorptivity); empty without oscillator strengths."""

    method: str
    level: str
    n_states: int
    ground_state_energy_hartree: float
    states: list[dict[str, Any]]
    fwhm_eV: float
    spectrum: dict[str, list[float]] = field(default_factory=dict)


def _label(i: int, nocc: int) -> str:
    k = i - (nocc - 1) if i < nocc else i - nocc
    base = "HOMO" if i < nocc else "LUMO"
    return base if k == 0 else f"{base}{k:+d}"


def transitions(
    amplitudes: np.ndarray, nocc: int, offset: int = 0, cutoff: float = 0.1
) -> list[dict[str, Any]]:
    """Orbital pairs with weight |x_ia|^2 / sum |x|^2 above ``cutoff`` (largest first); ``amplitudes``
    (n_occ_active, n_vir); ``offset``: frozen occupied orbitals before the first active one."""
    w = np.abs(amplitudes) ** 2
    w = w / w.sum()
    order = np.argsort(w.ravel())[::-1]
    out: list[dict[str, Any]] = []
    for flat in order:
        if w.ravel()[flat] < cutoff and out:
            break
        i, a = np.unravel_index(int(flat), w.shape)
        occ_i = int(i) + offset
        out.append(
            {
                "from": _label(occ_i, nocc),
                "to": _label(nocc + int(a), nocc),
                "weight": round(float(w[i, a]), 4),
            }
        )
    return out


def _state(e_ha: float, f: float | None, trans: list[dict[str, Any]], spin: str) -> dict[str, Any]:
    e_ev = e_ha * HARTREE_EV
    char = ", ".join(f"{t['from']} -> {t['to']} ({t['weight']:.0%})" for t in trans[:3])
    return {
        "energy_eV": round(e_ev, 6),
        "wavelength_nm": round(float(wavelength_nm(e_ev)), 3),
        "oscillator_strength": None if f is None else round(float(f), 6),
        "character": char,
        "transitions": trans,
        "spin": spin,
    }


def _tddft(mf: Any, method: str, n_states: int, triplets: bool, name: str) -> list[dict[str, Any]]:
    td = mf.TDA() if method == "tda" else mf.TDDFT()
    td.nstates = n_states
    td.singlet = not triplets
    stage(f"{method.upper()} {n_states} states on {name}")
    td.kernel()
    conv = np.atleast_1d(td.converged)
    if not np.all(conv):
        raise ConvergenceError(
            f"{name}: {method.upper()} did not converge for {int(np.sum(~conv))} of {n_states} states"
        )
    fs = td.oscillator_strength(gauge="length") if not triplets else np.zeros(len(td.e))
    nocc = int(mf.mol.nelectron // 2)
    return [
        _state(float(e), float(f), transitions(np.asarray(xy[0]), nocc), "triplet" if triplets else "singlet")
        for e, f, xy in zip(td.e, fs, td.xy, strict=True)
    ]


def _eom(mf: Any, nfc: int, n_states: int, triplets: bool, name: str) -> list[dict[str, Any]]:
    from pyscf import cc
    from pyscf.cc import eom_rccsd

    stage(f"CCSD on {name}")
    mycc = cc.CCSD(mf, frozen=nfc or None)
    mycc.kernel()
    if not mycc.converged:
        raise ConvergenceError(f"{name}: CCSD did not converge; EOM-CCSD needs a converged ground state")
    stage(f"EOM-CCSD {n_states} states on {name}")
    eom = (eom_rccsd.EOMEETriplet if triplets else eom_rccsd.EOMEESinglet)(mycc)
    es, vs = eom.kernel(nroots=n_states)
    if not np.all(np.atleast_1d(eom.converged)):
        raise ConvergenceError(f"{name}: EOM-CCSD did not converge for all {n_states} states")
    nocc = int(mf.mol.nelectron // 2)
    out = []
    for e, v in zip(np.atleast_1d(es), vs if n_states > 1 else [vs], strict=True):
        r1, _ = eom.vector_to_amplitudes(v)
        out.append(
            _state(
                float(e),
                None,
                transitions(np.asarray(r1), nocc, offset=nfc),
                "triplet" if triplets else "singlet",
            )
        )
    return out


def excited_states(
    molecule: Molecule,
    engine: Engine,
    method: str = "tddft",
    n_states: int = 10,
    triplets: bool = False,
    fwhm_eV: float = 0.3,
    name: str = "",
) -> ExcitationsResult:
    """Lowest ``n_states`` vertical excitations of a closed-shell ``molecule`` (eV) with ``method``
    (tddft, tda: the engine's functional and basis; eom-ccsd: the engine's basis, RHF reference)."""
    eng = _pyscf(engine)
    nm = _name(molecule, name)
    method = method.lower()
    if method not in METHODS:
        raise EngineError(f"{nm}: unknown excitation method {method!r}; use {', '.join(METHODS)}")
    if (
        len(eng.bases) > 1
        or eng.settings.method not in ("hf",)
        and not eng.settings.is_dft
        and method != "eom-ccsd"
    ):
        raise EngineError(
            f"{nm}: {method} needs a HF or DFT engine in one basis, e.g. pyscf:cam-b3lyp/def2-svp"
        )
    s = eng.settings
    if method == "eom-ccsd":
        s = replace(s, method="ccsd", dispersion=None, density_fit=False, active=None)
    pmol = build_mole(molecule, s.basis, (), s.max_memory_mb)
    if pmol.spin != 0:
        raise EngineError(f"{nm}: excited states are computed for closed-shell (singlet) ground states only")
    nfc = n_frozen(pmol, s)
    check_memory(s, pmol, nfc, nm)
    mf = run_scf(pmol, molecule, replace(s, method="hf") if method == "eom-ccsd" else s, nm)
    if method == "eom-ccsd":
        states = _eom(mf, nfc, n_states, triplets, nm)
    else:
        states = _tddft(mf, method, n_states, triplets, nm)
    spectrum: dict[str, list[float]] = {}
    if method != "eom-ccsd" and not triplets:
        grid, inten = gaussian_spectrum(
            [st["energy_eV"] for st in states],
            [st["oscillator_strength"] for st in states],
            fwhm_eV,
            n_points=400,
        )
        spectrum = {
            "energy_eV": grid.round(5).tolist(),
            "intensity_per_eV": inten.round(8).tolist(),
            "epsilon_L_mol_cm": molar_absorptivity(inten).round(3).tolist(),
        }
    return ExcitationsResult(
        method=method,
        level=eng.model if method != "eom-ccsd" else f"eom-ccsd/{s.basis};fc={int(s.frozen_core)}",
        n_states=len(states),
        ground_state_energy_hartree=float(mf.e_tot),
        states=states,
        fwhm_eV=fwhm_eV,
        spectrum=spectrum,
    )


TASKS = {"excited_states": (excited_states, ExcitationsResult, TASK_VERSION)}
