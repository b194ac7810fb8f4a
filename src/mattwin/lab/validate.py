"""One row of a measurement file -> a :class:`Measurement`, or the reason it is not one."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from pymatgen.core import Composition, Element, Structure

from mattwin.errors import MattwinError, MeasurementError
from mattwin.lab.measurement import Measurement
from mattwin.lab.units import property_spec, to_canonical, uncertainty_to_canonical

#: columns (keys) of a measurement file; other names people use map onto them
REQUIRED = ("material", "property", "value", "unit", "source")
OPTIONAL = ("uncertainty", "temperature_k", "method", "date")
COLUMN_ALIASES = {"formula": "material", "doi": "source", "reference": "source"}

#: a stored material id: 16 lowercase hex digits (:func:`mattwin.materials.identity.material_id`)
MATERIAL_ID = re.compile(r"[0-9a-f]{16}")
_STRUCTURE_SUFFIXES = {".cif", ".mcif", ".vasp", ".poscar", ".xyz", ".extxyz", ".json"}

#: stored material id -> its reduced formula, or None when the store has no such material
MaterialLookup = Callable[[str], str | None]


def column_name(name: str) -> str:
    """The canonical column of a header or key ("Temperature_K" -> "temperature_k")."""
    key = str(name).strip().lower().replace(" ", "_")
    return COLUMN_ALIASES.get(key, key)


@dataclass(frozen=True)
class Resolved:
    """A material as given, resolved: reduced formula, atoms per formula unit, identity hash, structure."""

    formula: str
    atoms_per_fu: float
    material_id: str | None = None
    structure: Structure | None = None


def parse_formula(text: str) -> Composition:
    """A formula as pymatgen reads it; :class:`MeasurementError` for an unreadable one or unknown elements."""
    try:
        comp = Composition(text)
    except Exception as exc:  # pymatgen: ValueError, KeyError on bad formulas
        raise MeasurementError(
            f"unreadable formula {text!r} ({exc}); element symbols are case-sensitive, e.g. Fe2O3"
        ) from exc
    unknown = [e.symbol for e in comp if not Element.is_valid_symbol(e.symbol)]
    if unknown:
        raise MeasurementError(f"unknown element {', '.join(unknown)} in formula {text!r}")
    if comp.num_atoms <= 0:
        raise MeasurementError(f"formula {text!r} has no atoms")
    return comp


def _looks_like_path(text: str) -> bool:
    p = Path(text)
    return (
        "/" in text
        or "\\" in text
        or p.suffix.lower() in _STRUCTURE_SUFFIXES
        or p.name.upper().startswith(("POSCAR", "CONTCAR"))
    )


class MaterialResolver:
    """Resolves the ``material`` of each row; reads each structure file once.

    Structure paths are relative to ``base_dir`` (the measurement file's folder); stored ids need
    ``lookup`` (a store); a formula is read as written, and its atoms make one formula unit.
    """

    def __init__(self, base_dir: Path, lookup: MaterialLookup | None = None) -> None:
        self.base_dir = base_dir
        self.lookup = lookup
        self._cache: dict[str, Resolved] = {}

    def __call__(self, text: str) -> Resolved:
        if text not in self._cache:
            self._cache[text] = self._resolve(text)
        return self._cache[text]

    def _resolve(self, text: str) -> Resolved:
        if MATERIAL_ID.fullmatch(text):
            formula = self.lookup(text) if self.lookup is not None else None
            if formula is None:
                where = "the store" if self.lookup is not None else "this call (no store given)"
                raise MeasurementError(f"material id {text!r} is not in {where}; add the structure first")
            return Resolved(formula, Composition(formula).num_atoms, text)
        if _looks_like_path(text):
            from mattwin.materials.identity import material_id
            from mattwin.materials.io import read_structure

            path = Path(text) if Path(text).is_absolute() else self.base_dir / text
            try:
                s = read_structure(path)
            except MattwinError as exc:
                raise MeasurementError(f"material {text!r}: {exc}") from exc
            comp = s.composition.reduced_composition
            return Resolved(comp.reduced_formula, comp.num_atoms, material_id(s), s)
        comp = parse_formula(text)
        return Resolved(comp.reduced_formula, comp.num_atoms)


def _number(raw: Any, what: str) -> float:
    if isinstance(raw, bool):
        raise MeasurementError(f"{what} {raw!r} is not a number")
    if isinstance(raw, int | float):
        x = float(raw)
    else:
        text = str(raw).strip().replace("−", "-")
        try:
            x = float(text)
        except ValueError:
            raise MeasurementError(f"{what} {raw!r} is not a number") from None
    if not math.isfinite(x):
        raise MeasurementError(f"{what} {raw!r} is not a finite number")
    return x


def _text(row: Mapping[str, Any], key: str) -> str | None:
    raw = row.get(key)
    if raw is None:
        return None
    text = str(raw).strip()
    return text or None


def _iso_date(raw: Any) -> str | None:
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    if isinstance(raw, datetime):
        return raw.date().isoformat()
    if isinstance(raw, date):
        return raw.isoformat()
    text = str(raw).strip()
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        raise MeasurementError(f"date {raw!r} is not an ISO date (YYYY-MM-DD)")
    try:
        return date.fromisoformat(text).isoformat()
    except ValueError as exc:
        raise MeasurementError(f"date {raw!r}: {exc}") from None


def measurement_from_row(
    row: Mapping[str, Any], file: str, row_number: int, resolve: MaterialResolver
) -> Measurement:
    """Validate one row (keys: canonical column names) and convert it to canonical units.

    Raises :class:`MeasurementError` with the cause (no file or row: the caller adds them).
    """
    unknown = sorted(k for k in row if k not in REQUIRED + OPTIONAL)
    if unknown:
        raise MeasurementError(f"unknown field {', '.join(unknown)}; known: {', '.join(REQUIRED + OPTIONAL)}")
    given = {k: _text(row, k) for k in REQUIRED}
    missing = [k for k, v in given.items() if v is None]
    if missing:
        hint = " (source: a DOI or notebook id)" if "source" in missing else ""
        raise MeasurementError(f"no {', '.join(missing)}{hint}")
    material, prop, unit, source = (str(given[k]) for k in ("material", "property", "unit", "source"))
    spec = property_spec(prop)
    value = _number(row["value"], "value")
    where = resolve(material)
    canonical = to_canonical(spec.name, value, unit, where.atoms_per_fu)
    problem = spec.check(canonical)
    if problem:
        raise MeasurementError(problem)
    sigma = None
    if _text(row, "uncertainty") is not None:
        raw_sigma = _number(row["uncertainty"], "uncertainty")
        if raw_sigma < 0:
            raise MeasurementError(f"negative uncertainty {raw_sigma:g} {unit}")
        sigma = uncertainty_to_canonical(spec.name, raw_sigma, unit, where.atoms_per_fu)
    temperature = None
    if _text(row, "temperature_k") is not None:
        temperature = _number(row["temperature_k"], "temperature_K")
        if temperature <= 0:
            raise MeasurementError(f"impossible temperature {temperature:g} K (must be > 0)")
    return Measurement(
        material=material,
        formula=where.formula,
        material_id=where.material_id,
        property=spec.name,
        value=canonical,
        unit=spec.unit,
        uncertainty=sigma,
        temperature_K=temperature,
        method=_text(row, "method") or "",
        source=source,
        date=_iso_date(row.get("date")),
        given_value=value,
        given_unit=unit,
        file=file,
        row=row_number,
    )
