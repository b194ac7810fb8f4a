"""Thermodynamic judgement: a metastability window per chemistry, and the free energy at a synthesis
temperature.

**Windows.** Sun et al., "The thermodynamic scale of inorganic crystalline metastability", Sci. Adv. 2,
e1600225 (2016), measured the DFT energy above the hull of the metastable compounds in the ICSD
(29,902 compounds): median 15 meV/atom, 90th percentile 67 meV/atom over all chemistries. They also
show the distribution per anion chemistry (their Fig. 3), but those per-class figures could not be
read from any source available to this build, so every class uses the all-chemistry 90th percentile,
67 meV/atom, and says so in its ``source``; a per-class value goes into :data:`WINDOWS` once it is
checked against the paper. A candidate "within the window" is no more metastable than 90 % of the
metastable compounds that were made.

**Finite temperature.** Bartel et al., Nat. Commun. 9, 4168 (2018): the SISSO descriptor
G^δ(T) = (-2.48e-4 ln V - 8.94e-5 m/V) T + 0.181 ln T - 0.882 eV/atom (V: volume per atom in Å^3,
m: the reduced mass of Eq. 6 in amu), through pymatgen's ``GibbsComputedStructureEntry`` (MIT licence),
gives ΔG_f(T) = ΔH_f + G^δ(T) - Σ x_i G_i(T) with the elements' G_i(T) (FactSage, shipped by pymatgen)
and gases from the NIST-JANAF tables pymatgen ships (``nist_gas_gf.json``). The descriptor holds
from 300 to 2000 K; its error is about 50 meV/atom (Bartel et al.).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pymatgen.analysis.phase_diagram import PDEntry, PhaseDiagram
from pymatgen.core import Composition, Structure
from pymatgen.entries.computed_entries import G_GASES, GibbsComputedStructureEntry

from mattwin.analysis.chemistry import CLASSES, chemistry_class
from mattwin.errors import SettingsError

SUN_2016 = "Sun et al., Sci. Adv. 2, e1600225 (2016)"
SUN_MEDIAN_EV = 0.015
SUN_P90_EV = 0.067
_FALLBACK = f"{SUN_2016}: 90th percentile of E_hull over all chemistries (the per-class figure is not used)"
#: chemistry class -> (window eV/atom, source)
WINDOWS: dict[str, tuple[float, str]] = {
    c: (SUN_P90_EV, _FALLBACK)
    for c in (*CLASSES, "element")
}
T_MIN, T_MAX = 300.0, 2000.0


def metastability_window(composition: Composition | str) -> dict[str, Any]:
    """{chemistry, window_eV_atom, source} for a composition's chemistry class."""
    cls = chemistry_class(composition)
    window, source = WINDOWS.get(cls, (SUN_P90_EV, _FALLBACK))
    return {"chemistry": cls, "window_eV_atom": window, "source": source}


def check_temperature(temperature_K: float, what: str = "synthesis temperature") -> float:
    t = float(temperature_K)
    if not T_MIN <= t <= T_MAX:
        raise SettingsError(
            f"{what} {temperature_K!r} K: the Gibbs descriptor (Bartel et al. 2018) holds from "
            f"{T_MIN:g} to {T_MAX:g} K; give a temperature in that range"
        )
    return t


@dataclass(frozen=True)
class SolidPhase:
    """A solid for the finite-temperature hull: formation enthalpy (eV/atom, 0 K, calibrated) and a
    structure (its volume per atom enters the descriptor)."""

    key: str
    structure: Structure
    formation_enthalpy_per_atom: float


def gibbs_formation_energy(
    structure: Structure, formation_enthalpy_per_atom: float, temperature_K: float
) -> float:
    """ΔG_f(T) in eV/atom of a solid (elements: 0)."""
    t = check_temperature(temperature_K)
    if structure.composition.is_element:
        return 0.0
    e = GibbsComputedStructureEntry(structure, formation_enthalpy_per_atom, temp=t)
    return float(e.energy) / structure.composition.num_atoms


def _gases(elements: set[str], t: float) -> list[PDEntry]:
    import numpy as np

    out = []
    for formula, table in G_GASES.items():
        try:
            comp = Composition(formula)
        except ValueError:
            continue
        if not {e.symbol for e in comp.elements} <= elements or comp.is_element:
            continue
        temps = [float(k) for k in table]
        g = float(np.interp(t, temps, [float(v) for v in table.values()]))  # eV per formula unit
        out.append(PDEntry(comp, g, name=f"{comp.reduced_formula}(g)"))
    return out


def gibbs_hull(phases: Sequence[SolidPhase], temperature_K: float) -> dict[str, dict[str, float]]:
    """Per phase key: ``dGf_eV_atom`` (ΔG_f at T) and ``e_hull_eV_atom`` (above the hull of every
    phase's ΔG_f(T), the elements at 0 and the tabulated gases of the chemical space). A phase with an
    element the descriptor has no G_i(T) for is left out (no key)."""
    t = check_temperature(temperature_K)
    elements = {e.symbol for p in phases for e in p.structure.composition.elements}
    entries: list[PDEntry] = [PDEntry(Composition(el), 0.0, name=el) for el in sorted(elements)]
    by_key: dict[str, PDEntry] = {}
    for p in phases:
        comp = p.structure.composition
        try:
            g = gibbs_formation_energy(p.structure, p.formation_enthalpy_per_atom, t)
        except KeyError:  # an element without tabulated G_i(T) (Pm, actinides...): left out, no value
            continue
        e = PDEntry(comp, g * comp.num_atoms, name=p.key)
        by_key[p.key] = e
        entries.append(e)
    entries += _gases(elements, t)
    pd = PhaseDiagram(entries)
    return {
        k: {
            "dGf_eV_atom": e.energy / e.composition.num_atoms,
            "e_hull_eV_atom": float(pd.get_e_above_hull(e) or 0.0),
        }
        for k, e in by_key.items()
    }
