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
"""

from __future__ import annotations

import gzip
import json
from functools import lru_cache
from importlib.util import find_spec
from pathlib import Path

from pymatgen.core import Composition, Structure

from mattwin.discovery.calibration_set import computed_compounds, experimental_formation_enthalpies
from mattwin.discovery.references import ReferencePhase, builtin_references

#: the engine whose searched structures of known compounds ship (``scripts/build_calibration_set.py``)
SEARCH_ENGINE = "chgnet"
PREDICTED = "structure predicted by mattwin"


def _reduced(formula: str) -> str | None:
    try:
        return Composition(formula).reduced_formula
    except (ValueError, KeyError, TypeError):
        return None


def _rxn_network_tables() -> dict[str, str]:
    """Reduced formula -> "FREED" / "NIST-JANAF" from reaction-network's data, if it is installed."""
    spec = find_spec("rxn_network")
    if spec is None or not spec.submodule_search_locations:
        return {}
    base = Path(next(iter(spec.submodule_search_locations))) / "data"
    out: dict[str, str] = {}
    for folder, label in (("freed", "FREED (reaction-network)"), ("nist", "NIST-JANAF (reaction-network)")):
        path = base / folder / "compounds.json.gz"
        try:
            with gzip.open(path, "rt", encoding="utf-8") as fh:
                data = json.load(fh)
        except (OSError, ValueError):
            continue
        for formula in data if isinstance(data, dict) else []:
            reduced = _reduced(str(formula).split("_")[0])
            if reduced and len(Composition(reduced).elements) > 1:
                out.setdefault(reduced, label)
    return out


@lru_cache(maxsize=1)
def _shipped_known() -> dict[str, str]:
    """Reduced formula -> the first source that lists it (experimental tables, then the library)."""
    out: dict[str, str] = {}
    for e in experimental_formation_enthalpies():
        out.setdefault(e.formula, "experimental formation enthalpy (pymatgen exp_compounds.json.gz)")
    for formula, label in _rxn_network_tables().items():
        out.setdefault(formula, label)
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
