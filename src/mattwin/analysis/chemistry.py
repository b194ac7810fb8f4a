"""Chemistry classes and correction species of a composition (pure functions, no I/O).

Used by the calibration of formation energies (``analysis/calibration.py``) for its correction features
and to report residuals by chemistry, and by the judgement of stability for per-chemistry windows.

* :func:`chemistry_class`: "oxide", "TM oxide", "fluoride", "TM fluoride", "halide", "chalcogenide",
  "nitride", "hydride", "carbide", "boride", "pnictide", "silicide/germanide", "intermetallic",
  "element" -- by the most electronegative element (the anion), as chemists group compounds.
* :func:`correction_species`: the anion and U-metal species of the Materials Project 2020 scheme
  (Wang et al., Sci. Rep. 11, 15496 (2021)): oxide/peroxide/superoxide oxygen, F, Cl, Br, I, N, S,
  Se, Te, H (as hydride), Si, Sb, and the U metals V, Cr, Mn, Fe, Co, Ni, W, Mo in oxides and
  fluorides, each with the number of atoms it applies to.
"""

from __future__ import annotations

import numpy as np
from pymatgen.core import Composition, Element, Structure

#: anions of the MP2020 scheme (corrections per atom of the anion when it is the anion)
ANIONS = ("F", "Cl", "Br", "I", "N", "S", "Se", "Te", "H", "Si", "Sb")
#: metals that get a Hubbard U in Materials Project GGA+U calculations of oxides and fluorides
U_METALS = ("V", "Cr", "Mn", "Fe", "Co", "Ni", "W", "Mo")
#: the compound classes :func:`chemistry_class` names (an element alone is "element")
CLASSES = (
    "oxide",
    "TM oxide",
    "fluoride",
    "TM fluoride",
    "halide",
    "chalcogenide",
    "nitride",
    "hydride",
    "carbide",
    "boride",
    "pnictide",
    "silicide/germanide",
    "intermetallic",
)
#: every correction feature name, in a fixed order
FEATURES = ("oxide", "peroxide", "superoxide", *ANIONS, *(f"{m}(U)" for m in U_METALS))

_CLASS_OF_ANION = {
    "O": "oxide",
    "F": "fluoride",
    "Cl": "halide",
    "Br": "halide",
    "I": "halide",
    "S": "chalcogenide",
    "Se": "chalcogenide",
    "Te": "chalcogenide",
    "N": "nitride",
    "H": "hydride",
    "C": "carbide",
    "B": "boride",
    "P": "pnictide",
    "As": "pnictide",
    "Sb": "pnictide",
    "Si": "silicide/germanide",
    "Ge": "silicide/germanide",
}


def _comp(composition: Composition | str) -> Composition:
    return composition if isinstance(composition, Composition) else Composition(composition)


def anion(composition: Composition | str) -> str | None:
    """The most electronegative element of a compound (None for an element)."""
    comp = _comp(composition)
    if len(comp.elements) < 2:
        return None
    return max(comp.elements, key=lambda e: (e.X if e.X == e.X else 0.0, e.Z)).symbol


def is_transition_metal(symbol: str) -> bool:
    el = Element(symbol)
    return bool(el.is_transition_metal)


def chemistry_class(composition: Composition | str) -> str:
    """The chemistry a compound belongs to, by its anion (see the module docstring)."""
    comp = _comp(composition)
    a = anion(comp)
    if a is None:
        return "element"
    cls = _CLASS_OF_ANION.get(a)
    if cls is None:
        return "intermetallic"
    if cls in ("oxide", "fluoride") and any(is_transition_metal(e.symbol) for e in comp.elements):
        return f"TM {cls}"
    return cls


def oxide_type(composition: Composition | str, o_o_distance: float | None = None) -> str:
    """ "oxide", "peroxide" or "superoxide" from the charge balance of the other elements.

    With alkali/alkaline-earth cations only, the O count per cation charge tells the type (Li2O2:
    peroxide, KO2: superoxide); ``o_o_distance`` (Å, shortest O-O bond, if a structure is known)
    confirms it: below 1.35 Å superoxide, below 1.55 Å peroxide, as in pymatgen's oxide_type.
    """
    comp = _comp(composition)
    if "O" not in {e.symbol for e in comp.elements}:
        return "oxide"
    if o_o_distance is not None:
        if o_o_distance < 1.35:
            return "superoxide"
        if o_o_distance < 1.55:
            return "peroxide"
        return "oxide"
    fixed = {1: ("Li", "Na", "K", "Rb", "Cs"), 2: ("Be", "Mg", "Ca", "Sr", "Ba")}
    charge = 0.0
    for el, amt in comp.items():
        if el.symbol == "O":
            continue
        q = next((q for q, group in fixed.items() if el.symbol in group), None)
        if q is None:
            return "oxide"
        charge += q * amt
    ratio = charge / comp["O"]
    if abs(ratio - 1.0) < 1e-6:
        return "peroxide"
    if abs(ratio - 0.5) < 1e-6:
        return "superoxide"
    return "oxide"


def correction_species(composition: Composition | str, o_o_distance: float | None = None) -> dict[str, float]:
    """Correction feature -> number of atoms it applies to, per formula of ``composition``.

    An anion feature counts the atoms of that element when it is the compound's most electronegative
    element (N in a nitride, not in a nitrate; H in a hydride only); oxygen counts under its oxide type
    wherever present (MP2020 corrects oxygen in every oxide, nitrates and sulfates included); a U metal
    counts its atoms in oxides and fluorides. Elements get no features.
    """
    comp = _comp(composition)
    out: dict[str, float] = {}
    if len(comp.elements) < 2:
        return out
    symbols = {e.symbol for e in comp.elements}
    a = anion(comp)
    if "O" in symbols:
        out[oxide_type(comp, o_o_distance)] = float(comp["O"])
    if a in ANIONS and a != "O":
        out[a] = float(comp[a])  # type: ignore[index]
    if a in ("O", "F"):
        for m in U_METALS:
            if m in symbols:
                out[f"{m}(U)"] = float(comp[m])
    return out


def o_o_distance(structure: Structure) -> float | None:
    """Shortest O-O distance (Å) of a structure with oxygen, else None."""
    idx = [i for i, s in enumerate(structure) if s.specie.symbol == "O"]
    if len(idx) < 2:
        return None
    dm = structure.distance_matrix[np.ix_(idx, idx)]
    np.fill_diagonal(dm, np.inf)
    return float(dm.min())


#: longest bond (Å) from a proton (H+) to the atom that carries it: O-H 0.97, N-H 1.01, F-H 0.92,
#: Cl-H 1.27, S-H 1.34, C-H 1.09 in molecules and crystals, with room for hydrogen bonding
_PROTON_BOND = {"O": 1.2, "N": 1.2, "F": 1.2, "Cl": 1.5, "S": 1.5, "C": 1.3}


def carries_protons(composition: Composition | str) -> bool:
    """Whether hydrogen is H+ (bonded to an anion, as in LiOH or NH4Cl) by the most likely charge
    balance, rather than hydride H- (LiH, LaHO)."""
    comp = _comp(composition)
    if "H" not in {e.symbol for e in comp.elements} or len(comp.elements) < 3:
        return False
    guesses = comp.oxi_state_guesses(max_sites=-50)
    return bool(guesses) and guesses[0].get("H", 0) > 0


def bonding_problem(composition: Composition | str, structure: Structure) -> str | None:
    """Why ``structure`` cannot be the compound ``composition`` names, judged from chemistry alone,
    or None: a peroxide or superoxide by charge balance (BaO2, KO2) needs O-O bonds, a compound of
    protons (NaOH) needs every H bonded to its anion. A structure search that put isolated O2- ions on
    a fluorite lattice, or H on an anion site, found a different compound."""
    comp = _comp(composition)
    expected = oxide_type(comp)
    if expected != "oxide" and oxide_type(comp, o_o_distance(structure)) != expected:
        return f"a {expected} by charge balance, but the structure has no O-O bond"
    if carries_protons(comp):
        ih = [i for i, site in enumerate(structure) if site.specie.symbol == "H"]
        ix = [i for i, site in enumerate(structure) if site.specie.symbol in _PROTON_BOND]
        if not ix:
            return "hydrogen is H+ by charge balance, but there is no atom to carry it"
        d = structure.distance_matrix[np.ix_(ih, ix)]
        cut = np.array([_PROTON_BOND[structure[i].specie.symbol] for i in ix])
        if not bool((d < cut[None, :]).any(axis=1).all()):
            return "hydrogen is H+ by charge balance, but an H atom has no bond to O, N, F, Cl, S or C"
    return None
