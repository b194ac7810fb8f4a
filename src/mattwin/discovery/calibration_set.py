"""The data behind a calibration: experimental formation enthalpies (read from the installed pymatgen),
mattwin's computed energies of those compounds (``mattwin/data/calibration_<engine>.json.gz``, built by
``scripts/build_calibration_set.py``) and the lab's own formation-enthalpy measurements.

The experimental set is ``pymatgen/analysis/compatibility/exp_compounds.json.gz``: 2,135 standard
formation enthalpies at 298 K (eV per formula unit, with uncertainties), the set the Materials Project
2020 corrections were fitted to (Wang et al., Sci. Rep. 11, 15496 (2021)); pymatgen is MIT-licensed.
It is read from the package, never copied.
"""

from __future__ import annotations

import gzip
import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from importlib.util import find_spec
from pathlib import Path
from typing import Any

import numpy as np
from pymatgen.core import Composition, Structure

from mattwin.analysis.calibration import CalibrationPoint
from mattwin.analysis.chemistry import bonding_problem, o_o_distance
from mattwin.analysis.mp2020 import mp2020_correction
from mattwin.engines.registry import get_engine, member_specs
from mattwin.errors import MattwinError

#: uncertainty (eV/atom) given to experimental values the set lists without one
DEFAULT_EXP_UNCERTAINTY = 0.02
#: engines with shipped calibration data: the default ensemble's members (GGA/GGA+U level) and two
#: r2SCAN-level models (their own scale: no MP2020; never mixed with the GGA ones on a hull)
CALIBRATED_ENGINES = (
    "chgnet",
    "sevenn:7net-0",
    "sevenn:7net-l3i5",
    "chgnet:r2scan",
    "sevenn:7net-mf-0@r2scan",
)
#: the ensemble of the two r2SCAN-level engines (an explicit spec: the plain "ensemble" stays the
#: default GGA-level one, ``mattwin.engines.ensemble.DEFAULT_MEMBERS``)
R2SCAN_ENSEMBLE = "ensemble:chgnet:r2scan,sevenn:7net-mf-0@r2scan"


@dataclass(frozen=True)
class ExperimentalEnthalpy:
    """A measured standard formation enthalpy: ``value`` and ``uncertainty`` in eV/atom."""

    formula: str  # reduced formula
    value: float  # eV/atom
    uncertainty: float  # eV/atom
    source: str
    n_atoms: int  # atoms in the reduced formula


def _exp_path() -> Path:
    spec = find_spec("pymatgen.analysis")
    base = Path(next(iter(spec.submodule_search_locations or [])))  # type: ignore[union-attr]
    return base / "compatibility" / "exp_compounds.json.gz"


@lru_cache(maxsize=1)
def experimental_formation_enthalpies() -> tuple[ExperimentalEnthalpy, ...]:
    """The MP2020 fitting set from the installed pymatgen, per atom (eV/atom), one per reduced formula."""
    path = _exp_path()
    try:
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            raw = json.load(fh)
    except (OSError, ValueError) as exc:
        raise MattwinError(
            f"{path}: pymatgen's experimental set is missing ({exc}); reinstall pymatgen"
        ) from exc
    out: dict[str, ExperimentalEnthalpy] = {}
    for d in raw:
        comp = Composition(d["formula"])
        n = comp.num_atoms
        unc = d.get("uncertainty")
        per_atom = (
            float(unc) / n if unc is not None and math.isfinite(float(unc)) else DEFAULT_EXP_UNCERTAINTY
        )
        reduced = comp.reduced_composition
        out.setdefault(
            reduced.reduced_formula,
            ExperimentalEnthalpy(
                formula=reduced.reduced_formula,
                value=float(d["exp energy"]) / n,
                uncertainty=max(per_atom, 1e-3),
                source=f"pymatgen exp_compounds.json.gz ({d.get('mpid') or d['formula']})",
                n_atoms=int(round(reduced.num_atoms)),
            ),
        )
    return tuple(out.values())


def data_file(engine: str) -> str:
    """Name of the shipped data file of a single engine spec (``:`` and ``@`` become ``_``)."""
    return f"calibration_{engine.replace(':', '_').replace('@', '_')}.json.gz"


def _canonical_spec(engine: str) -> str | None:
    """The shipped spec with the same engine signature as ``engine`` (``chgnet:0.3.0`` is ``chgnet``)."""
    key = get_engine(engine).key
    for spec in CALIBRATED_ENGINES:
        if spec == engine.strip() or get_engine(spec).key == key:
            return spec
    return None


@lru_cache(maxsize=8)
def computed_set(engine: str) -> dict[str, Any] | None:
    """The shipped computed energies of a single engine (None when none ship for it)."""
    spec = _canonical_spec(engine)
    if spec is None:
        return None
    path = resources.files("mattwin") / "data" / data_file(spec)
    try:
        with resources.as_file(path) as p, gzip.open(p, "rt", encoding="utf-8") as fh:
            data: dict[str, Any] = json.load(fh)
    except (OSError, ValueError):
        return None
    return data


def raw_formation_energy(formula: str, energy_per_atom: float, elements: dict[str, float]) -> float:
    """E/atom minus the composition-weighted elemental energies (eV/atom)."""
    comp = Composition(formula).fractional_composition
    return energy_per_atom - sum(comp[e] * elements[e.symbol] for e in comp.elements)


@dataclass(frozen=True)
class ComputedCompound:
    """One compound of the shipped set for one engine (or the ensemble's mean over its members).

    ``usable``: False when the structure is a predicted one and either the engine finds it unstable
    against its elements (raw formation energy > 0: a compound that is known to form but comes out
    endothermic means the search missed its structure, e.g. CaC2 put on a fluorite lattice), or its
    bonding contradicts the compound's chemistry (``bonding``, from
    :func:`mattwin.analysis.chemistry.bonding_problem`: a superoxide KO2 searched into fluorite
    without O-O bonds, NaOH without O-H bonds). Such a structure is no evidence about the engine's
    energies and is left out of calibrations and competing phases. The rules use only the composition
    and the computed structure, never the measured value.
    """

    formula: str
    raw: float  # eV/atom
    o_o_distance: float | None
    spread: float | None  # ensemble spread, eV/atom
    structure: dict[str, Any]  # relaxed pymatgen Structure dict
    structure_source: str
    converged: bool
    bonding: str | None = None  # why the structure's bonding is not the compound's, or None

    @property
    def usable(self) -> bool:
        if self.structure_source.startswith("reference library"):
            return True
        return self.raw <= 0.0 and self.bonding is None


def _single(engine: str) -> dict[str, ComputedCompound]:
    data = computed_set(engine)
    if data is None:
        return {}
    els = data["element_energy_per_atom_eV"]
    correct = get_engine(engine).mp_energies == "uncorrected"
    out = {}
    for row in data["compounds"]:
        s = Structure.from_dict(row["structure"])
        shift = (mp2020_correction(s, row["energy_per_atom_eV"]) or 0.0) if correct else 0.0
        out[row["formula"]] = ComputedCompound(
            formula=row["formula"],
            raw=raw_formation_energy(row["formula"], row["energy_per_atom_eV"], els) + shift,
            o_o_distance=o_o_distance(s),
            spread=None,
            structure=row["structure"],
            structure_source=row["structure_source"],
            converged=bool(row.get("converged", True)),
            bonding=bonding_problem(row["formula"], s),
        )
    return out


@lru_cache(maxsize=8)
def computed_compounds(engine: str) -> dict[str, ComputedCompound]:
    """formula -> computed compound for ``engine``; an ensemble averages its members over the compounds
    every member has (spread: their sample standard deviation). Empty when no data ship for it."""
    specs = member_specs(engine)
    if len(specs) == 1:
        return _single(specs[0])
    members = [_single(s) for s in specs]
    if not all(members):
        return {}
    common = sorted(set.intersection(*(set(m) for m in members)))
    out = {}
    for f in common:
        vals = np.array([m[f].raw for m in members])
        first = members[0][f]
        out[f] = ComputedCompound(
            formula=f,
            raw=float(vals.mean()),
            o_o_distance=first.o_o_distance,
            spread=float(vals.std(ddof=1)),
            structure=first.structure,
            structure_source=first.structure_source,
            converged=all(m[f].converged for m in members),
            bonding=first.bonding,
        )
    return out


def calibration_points(
    engine: str, lab: Iterable[ExperimentalEnthalpy] = (), include_reference_set: bool = True
) -> list[CalibrationPoint]:
    """(computed, measured) pairs for ``engine``: the shipped compounds with pymatgen's experimental
    values, and the lab's formation enthalpies of compounds that have a computed energy. Where the lab
    measured a compound of the set, its value replaces the literature one (the lab is the twin's
    reality); a lab value of a compound with no computed energy is left out (see
    :func:`missing_computations`)."""
    computed = computed_compounds(engine)
    measured: dict[str, ExperimentalEnthalpy] = {}
    if include_reference_set:
        measured.update({e.formula: e for e in experimental_formation_enthalpies()})
    measured.update({e.formula: e for e in lab})
    return [
        CalibrationPoint(
            formula=f,
            raw=c.raw,
            measured=measured[f].value,
            uncertainty=measured[f].uncertainty,
            source=measured[f].source,
            o_o_distance=c.o_o_distance,
            spread=c.spread,
        )
        for f, c in sorted(computed.items())
        if f in measured and c.usable
    ]


def missing_computations(engine: str, formulas: Sequence[str]) -> list[str]:
    """Formulas among ``formulas`` that have no computed energy for ``engine``."""
    computed = computed_compounds(engine)
    return [f for f in formulas if Composition(f).reduced_formula not in computed]


def mp2020_formation_energy(engine: str) -> dict[str, float]:
    """Formation energies (eV/atom) of the shipped compounds after pymatgen's
    ``MaterialsProject2020Compatibility`` corrections (GGA/GGA+U mixing scheme, U metals in oxides and
    fluorides treated as GGA+U, POTCAR check off): what MP would report for the engine's energies.
    Compounds the scheme rejects are left out."""
    per_member = []
    for spec in member_specs(engine):
        data = computed_set(spec)
        if data is None:
            return {}
        els = data["element_energy_per_atom_eV"]
        out: dict[str, float] = {}
        for row in data["compounds"]:
            s = Structure.from_dict(row["structure"])
            corr = mp2020_correction(s, row["energy_per_atom_eV"])
            if corr is not None:
                out[row["formula"]] = (
                    raw_formation_energy(row["formula"], row["energy_per_atom_eV"], els) + corr
                )
        per_member.append(out)
    common = set.intersection(*(set(m) for m in per_member))
    return {f: float(np.mean([m[f] for m in per_member])) for f in sorted(common)}
