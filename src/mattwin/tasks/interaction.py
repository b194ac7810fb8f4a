"""Interaction energy of a dimer (or any complex of two fragments), counterpoise-corrected.

``interaction_energy`` takes the complex as one molecule and the fragment atom lists (found from
covalent bonding when not given). Schemes:

* ``single``: E_int = E_AB - E_A - E_B at the engine's level (its basis may be ``cbs(X,Y)``);
  with ``counterpoise`` (Boys & Bernardi, Mol. Phys. 19, 553 (1970)) every monomer is computed in the
  full dimer basis (ghost atoms), which removes the basis-set superposition error.
* ``composite``: MP2/CBS(X,Y) + [CCSD(T) - MP2] in the smaller basis X (the usual route to
  CCSD(T)/CBS quality for noncovalent complexes, e.g. Jurečka et al., PCCP 8, 1985 (2006) for S22).
  MP2/CBS uses density-fitted MP2 and HF in the larger basis; the CCSD(T)-MP2 difference comes from
  one CCSD(T) calculation (its MP2 is the first CC iteration), frozen core throughout.

All energies in kcal/mol (1 hartree = 627.5095 kcal/mol) and eV; negative = bound.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pymatgen.core import Molecule

from mattwin.engines.base import Engine
from mattwin.engines.pyscf import HARTREE_EV, PySCFEngine
from mattwin.engines.pyscf_run import QCResult
from mattwin.errors import EngineError
from mattwin.materials.molecules import fragments as find_fragments
from mattwin.materials.molecules import molecule_formula, with_charge_spin
from mattwin.tasks.correlation import _pyscf
from mattwin.tasks.results import TaskResult

TASK_VERSION = 1
HARTREE_KCAL = 627.5095


@dataclass(frozen=True)
class InteractionResult(TaskResult):
    """interaction_energy_kcal_mol / _eV: the scheme's best value (negative = bound);
    components_kcal_mol: each level's contribution (hf, mp2_corr_cbs, delta_ccsd(t) ...);
    fragments: atom indices of the two monomers; levels: what was computed, in order."""

    scheme: str
    counterpoise: bool
    interaction_energy_kcal_mol: float
    interaction_energy_eV: float
    components_kcal_mol: dict[str, float]
    fragments: list[list[int]]
    levels: list[str]
    n_atoms: int
    info: dict[str, Any] = field(default_factory=dict)


def split_fragments(dimer: Molecule, fragments: list[list[int]] | None, name: str) -> list[list[int]]:
    """The two fragments of ``dimer`` (given, or the covalently bonded pieces, merged down to two
    by size when there are more). Raises :class:`EngineError` when the input cannot be split."""
    frags = [list(map(int, f)) for f in fragments] if fragments else find_fragments(dimer)
    if len(frags) == 1:
        raise EngineError(f"{name}: the complex is one bonded piece; give the two fragments' atom indices")
    if not fragments and len(frags) > 2:  # e.g. a hydrate: the largest piece vs the rest
        frags.sort(key=len, reverse=True)
        frags = [frags[0], sorted(i for f in frags[1:] for i in f)]
    if len(frags) != 2 or sorted(i for f in frags for i in f) != list(range(len(dimer))):
        raise EngineError(f"{name}: fragments {frags} must be two lists that split all {len(dimer)} atoms")
    return sorted(frags, key=lambda f: f[0])


def _sub(dimer: Molecule, idx: list[int], counterpoise: bool, charge: int = 0) -> tuple[Molecule, list[int]]:
    """The monomer ``idx`` as its own molecule (no CP) or the full dimer with ghosts (CP)."""
    if counterpoise:
        ghosts = [i for i in range(len(dimer)) if i not in idx]
        return with_charge_spin(dimer, charge, 1), ghosts
    sub = Molecule([dimer[i].specie.symbol for i in idx], [dimer[i].coords for i in idx])
    return with_charge_spin(sub, charge, None), []


def _three(eng: PySCFEngine, dimer: Molecule, frags: list[list[int]], cp: bool, name: str) -> list[QCResult]:
    """Dimer, monomer A and monomer B at the level of ``eng`` (monomers neutral, lowest spin)."""
    out = [eng.run(dimer, f"{name} dimer")]
    for k, f in enumerate(frags):
        mol, ghosts = _sub(dimer, f, cp)
        out.append(eng.run(mol, f"{name} monomer {'AB'[k]}", ghost=ghosts))
    return out


def _delta(results: list[QCResult], key: str) -> float:
    """E_AB - E_A - E_B of one energy (``total``, ``scf`` or a component), hartree."""

    def get(r: QCResult) -> float:
        return r.e_total if key == "total" else r.e_scf if key == "scf" else r.components[key]

    return get(results[0]) - get(results[1]) - get(results[2])


def interaction_energy(
    dimer: Molecule,
    engine: Engine,
    fragments: list[list[int]] | None = None,
    scheme: str = "single",
    counterpoise: bool = True,
    cbs_bases: tuple[str, str] | list[str] = ("aug-cc-pvdz", "aug-cc-pvtz"),
    name: str = "",
) -> InteractionResult:
    """Interaction energy of the two fragments of ``dimer`` (kcal/mol); see the module docstring.
    ``engine``: the level for ``single``; for ``composite`` only its frozen-core setting is used."""
    eng = _pyscf(engine)
    nm = name or molecule_formula(dimer)
    frags = split_fragments(dimer, fragments, nm)
    if scheme == "single":
        res = _three(eng, dimer, frags, counterpoise, nm)
        comps = {
            "scf": _delta(res, "scf") * HARTREE_KCAL,
            "correlation": (_delta(res, "total") - _delta(res, "scf")) * HARTREE_KCAL,
        }
        total = _delta(res, "total") * HARTREE_KCAL
        levels = [eng.model]
    elif scheme == "composite":
        small, large = (b.lower() for b in cbs_bases)
        fc = f"fc={int(eng.settings.frozen_core)}"
        mp2 = PySCFEngine(f"mp2/cbs({small},{large});{fc};df=1")
        cct = PySCFEngine(f"ccsd(t)/{small};{fc};df=0")
        r_mp2 = _three(mp2, dimer, frags, counterpoise, nm)
        r_cc = _three(cct, dimer, frags, counterpoise, nm)
        hf = _delta(r_mp2, "scf")
        corr_cbs = _delta(r_mp2, "e_corr_cbs")
        d_cc = _delta(r_cc, "total") - _delta(r_cc, "scf") - _delta(r_cc, "e_mp2_corr")
        comps = {
            f"hf_{large}": hf * HARTREE_KCAL,
            "mp2_corr_cbs": corr_cbs * HARTREE_KCAL,
            f"mp2_corr_{small}": _delta(r_mp2, f"e_corr_{small}") * HARTREE_KCAL,
            f"mp2_corr_{large}": _delta(r_mp2, f"e_corr_{large}") * HARTREE_KCAL,
            f"delta_ccsd(t)-mp2_{small}": d_cc * HARTREE_KCAL,
            f"ccsd(t)_{small}": _delta(r_cc, "total") * HARTREE_KCAL,
        }
        total = (hf + corr_cbs + d_cc) * HARTREE_KCAL
        levels = [mp2.model, cct.model]
    else:
        raise EngineError(f"{nm}: unknown interaction scheme {scheme!r}; use single or composite")
    return InteractionResult(
        scheme=scheme,
        counterpoise=counterpoise,
        interaction_energy_kcal_mol=total,
        interaction_energy_eV=total / HARTREE_KCAL * HARTREE_EV,
        components_kcal_mol=comps,
        fragments=frags,
        levels=levels,
        n_atoms=len(dimer),
    )


TASKS = {"interaction_energy": (interaction_energy, InteractionResult, TASK_VERSION)}
