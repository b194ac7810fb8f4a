"""Known or new: compositions known from experiment, and the computed structures of known compounds that
join a campaign's competing phases, so that a candidate is never "on the hull" merely because the known
phase of its own composition is missing from the reference library.

Sources of known compositions (each named where a candidate is reported as a known compound):
* pymatgen's ``analysis/compatibility/exp_compounds.json.gz`` (2,135 measured formation enthalpies,
  the MP2020 fitting set; pymatgen, MIT licence), read from the installed package;
* the FREED and NIST-JANAF compound tables of the ``reaction-network`` package
  (``rxn_network/data/{freed,nist}/compounds.json.gz``), when that package is installed;
* the shipped reference library (``references.json.gz``: Delta set, AFLOW prototypes of known compounds,
  Materials Project structures bundled with pymatgen);
* the lab's own measured materials in the store.

Species that NIST-JANAF lists only as gases (PO, PO2, P4O6 ...) are not known solids and are left
out. :func:`measured_enthalpies` gives the measured standard formation enthalpies (eV/atom) that the
calibrated hull uses as anchors of the known compositions (:mod:`mattwin.analysis.calibrated_hull`).
"""

from __future__ import annotations

import gzip
import json
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib.util import find_spec
from pathlib import Path

import numpy as np
from pymatgen.core import Composition, Structure

from mattwin.discovery.calibration_set import computed_compounds, experimental_formation_enthalpies
from mattwin.discovery.references import ReferencePhase, builtin_references
from mattwin.lab.units import to_canonical

#: the engine whose searched structures of known compounds ship (``scripts/build_calibration_set.py``)
SEARCH_ENGINE = "chgnet"
PREDICTED = "structure predicted by mattwin"


def _reduced(formula: str) -> str | None:
    try:
        return Composition(formula).reduced_formula
    except (ValueError, KeyError, TypeError):
        return None


#: uncertainty given to a FREED / NIST-JANAF enthalpy (the tables give none), eV/atom: the value
#: pymatgen's exp_compounds gives its unlisted uncertainties
TABLE_UNCERTAINTY = 0.02
#: measured standard formation enthalpies (kJ/mol, 298 K) of library compounds that none of the shipped
#: tables lists: formula -> (ΔfH°, source)
EXTRA_MEASURED: dict[str, tuple[float, str]] = {
    "Li3PO4": (-2095.8, "CRC Handbook of Chemistry and Physics, 96th ed. (Haynes, 2016)"),
}


@dataclass(frozen=True)
class MeasuredEnthalpy:
    """A measured standard formation enthalpy of a solid (eV/atom, 298 K) and where it is from."""

    formula: str
    value: float
    uncertainty: float
    source: str


def _rxn_network_base() -> Path | None:
    spec = find_spec("rxn_network")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))) / "data"


@lru_cache(maxsize=1)
def gas_only_species() -> frozenset[str]:
    """Reduced formulas that the NIST-JANAF index (shipped by reaction-network) lists only as gases."""
    base = _rxn_network_base()
    phases: dict[str, set[str]] = {}
    try:
        lines = (base / "nist" / "JANAF_index.txt").read_text(encoding="utf-8").splitlines() if base else []
    except OSError:
        lines = []
    for line in lines:
        cols = [c.strip() for c in line.split("|")]
        if len(cols) < 3 or not re.fullmatch(r"[A-Z][A-Za-z0-9]*", cols[0]):
            continue
        reduced = _reduced(cols[0])
        if reduced:
            phases.setdefault(reduced, set()).update(p.strip() for p in cols[2].split(","))
    return frozenset(f for f, p in phases.items() if p <= {"g"})


def _rxn_network_data() -> dict[str, tuple[str, dict[str, float]]]:
    """Reduced formula -> (table label, G(T) in eV per formula unit) from reaction-network's FREED and
    NIST-JANAF tables, solids only (gas-only species left out), if the package is installed."""
    base = _rxn_network_base()
    if base is None:
        return {}
    gases = gas_only_species()
    out: dict[str, tuple[str, dict[str, float]]] = {}
    for folder, label in (("freed", "FREED (reaction-network)"), ("nist", "NIST-JANAF (reaction-network)")):
        path = base / folder / "compounds.json.gz"
        try:
            with gzip.open(path, "rt", encoding="utf-8") as fh:
                data = json.load(fh)
        except (OSError, ValueError):
            continue
        for formula, table in (data if isinstance(data, dict) else {}).items():
            reduced = _reduced(str(formula).split("_")[0])
            if reduced and len(Composition(reduced).elements) > 1 and reduced not in gases:
                out.setdefault(reduced, (label, table if isinstance(table, dict) else {}))
    return out


def _rxn_network_tables() -> dict[str, str]:
    """Reduced formula -> "FREED" / "NIST-JANAF" from reaction-network's data (solids), if installed."""
    return {f: label for f, (label, _) in _rxn_network_data().items()}


def _enthalpy_298(formula: str, table: dict[str, float]) -> float | None:
    """ΔfH(298 K) in eV/atom from a table of ΔfG(T) (eV per formula unit): H = G - T dG/dT, with G(T)
    a quadratic through 300, 400 and 500 K (agrees with the measured enthalpies of exp_compounds to
    3 meV/atom for Fe2O3, LiPO3 and P2O5)."""
    try:
        t = np.array([300.0, 400.0, 500.0])
        g = np.array([float(table[str(int(x))]) for x in t])
    except (KeyError, TypeError, ValueError):
        return None
    p = np.polyfit(t, g, 2)
    h = float(np.polyval(p, 298.15) - 298.15 * np.polyval(np.polyder(p), 298.15))
    return h / Composition(formula).num_atoms


@lru_cache(maxsize=1)
def measured_enthalpies() -> dict[str, MeasuredEnthalpy]:
    """Reduced formula -> measured standard formation enthalpy of the solid, from pymatgen's
    exp_compounds (with its uncertainty), then FREED and NIST-JANAF (ΔfH(298 K) from their ΔfG(T),
    ± :data:`TABLE_UNCERTAINTY`), then :data:`EXTRA_MEASURED`."""
    out: dict[str, MeasuredEnthalpy] = {}
    for e in experimental_formation_enthalpies():
        if len(Composition(e.formula).elements) > 1:
            out.setdefault(e.formula, MeasuredEnthalpy(e.formula, e.value, e.uncertainty, e.source))
    for formula, (label, table) in _rxn_network_data().items():
        h = _enthalpy_298(formula, table)
        if h is not None and formula not in out:
            out[formula] = MeasuredEnthalpy(
                formula, h, TABLE_UNCERTAINTY, f"{label}: ΔfH(298 K) from its ΔfG(T)"
            )
    for formula, (kj, source) in EXTRA_MEASURED.items():
        h = to_canonical("formation_enthalpy", kj, "kJ/mol", Composition(formula).num_atoms)
        out.setdefault(formula, MeasuredEnthalpy(formula, h, TABLE_UNCERTAINTY, source))
    return out


@lru_cache(maxsize=1)
def _shipped_known() -> dict[str, str]:
    """Reduced formula -> the first source that lists it (experimental tables, then the library)."""
    out: dict[str, str] = {}
    for e in experimental_formation_enthalpies():
        out.setdefault(e.formula, "experimental formation enthalpy (pymatgen exp_compounds.json.gz)")
    for formula, label in _rxn_network_tables().items():
        out.setdefault(formula, label)
    for formula, (_, source) in EXTRA_MEASURED.items():
        out.setdefault(formula, f"measured formation enthalpy ({source})")
    for r in builtin_references():
        if len(r.elements) > 1:
            out.setdefault(r.formula, f"reference library: {r.name} ({r.source})")
    return out


def known_compositions(measured: list[str] | tuple[str, ...] = ()) -> dict[str, str]:
    """Reduced formula -> source, for every composition known from experiment or the shipped library,
    plus ``measured`` (formulas the lab measured: source "lab measurement")."""
    out = dict(_shipped_known())
    for f in measured:
        reduced = _reduced(f)
        if reduced:
            out.setdefault(reduced, "lab measurement")
    return out


def predicted_references(elements: list[str] | tuple[str, ...]) -> list[ReferencePhase]:
    """Competing phases from the shipped structure search: the best structure found (CHGNet) for each
    known compound inside ``elements`` whose structure is not in the reference library, labelled
    "structure predicted by mattwin". They are starting points, relaxed by each campaign's engine."""
    allowed = set(elements)
    out = []
    for formula, c in sorted(computed_compounds(SEARCH_ENGINE).items()):
        if not c.structure_source.startswith(PREDICTED) or not c.usable:
            continue
        if not {e.symbol for e in Composition(formula).elements} <= allowed:
            continue
        out.append(
            ReferencePhase(
                name=f"{formula} ({PREDICTED})",
                structure=Structure.from_dict(c.structure),
                source=f"{c.structure_source}; composition known from experiment",
                polymorph_note="predicted structure: the measured polymorph may differ",
            )
        )
    return out
