"""Measured properties, their canonical units and unit conversion (pint).

Every property has one canonical unit, the unit of the field everywhere in mattwin:

=====================  ==========  ======================================================
property               unit        accepted (anything pint converts, plus)
=====================  ==========  ======================================================
formation_enthalpy     eV/atom     meV/atom; per formula unit: kJ/mol, kcal/mol, eV/fu, eV
lattice_parameter      Å           pm, nm, angstrom, A (read as Å, not ampere)
band_gap               eV          meV
bulk_modulus           GPa         Pa, MPa, kbar, Mbar
ionic_conductivity     S/cm        S/m, mS/cm, S cm^-1, S cm⁻¹
melting_point          K           degC, °C, degF (C and F read as degrees, not coulomb, farad)
=====================  ==========  ======================================================

Calorimetry reports formation enthalpies per mole of formula units (Fe2O3: −824.2 kJ/mol); per atom
that is −824.2 / 96.485 / 5 = −1.708 eV/atom, so a per-formula-unit value needs the formula's atom
count (``atoms_per_fu``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from mattwin.errors import MeasurementError


@dataclass(frozen=True)
class PropertySpec:
    """A measurable property: canonical name and unit, names people use for it, accepted units.

    ``check(value)`` returns why a value in the canonical unit is impossible, or None.
    ``unit_aliases``: whole unit strings read differently for this property ("A" is Å here).
    """

    name: str
    unit: str
    pint_unit: str
    aliases: tuple[str, ...]
    accepts: str
    fmt: str
    check: Callable[[float], str | None]
    per_formula_unit: bool = False
    unit_aliases: dict[str, str] = field(default_factory=dict)


def _above_zero(what: str, unit: str) -> Callable[[float], str | None]:
    return lambda v: None if v > 0 else f"impossible {what} {v:g} {unit} (must be > 0)"


def _enthalpy_check(v: float) -> str | None:
    if abs(v) > 10.0:
        return (
            f"impossible formation enthalpy {v:.3f} eV/atom (|ΔHf| > 10 eV/atom); "
            "check the unit (per atom or per formula unit?)"
        )
    return None


def _gap_check(v: float) -> str | None:
    return None if v >= 0 else f"impossible band gap {v:g} eV (must be >= 0)"


_ENERGY_ALIASES = {"ev": "eV", "mev": "meV", "ev/atom": "eV/atom", "mev/atom": "meV/atom"}

PROPERTIES: dict[str, PropertySpec] = {
    p.name: p
    for p in (
        PropertySpec(
            "formation_enthalpy",
            "eV/atom",
            "eV/atom",
            ("formation enthalpy", "enthalpy of formation", "δhf", "δfh", "δh_f", "dhf", "delta_hf", "hf"),
            "eV/atom, meV/atom, or per formula unit: kJ/mol, kcal/mol, eV/fu, eV",
            ".3f",
            _enthalpy_check,
            per_formula_unit=True,
            unit_aliases=_ENERGY_ALIASES | {"ev/fu": "eV/fu", "kj/mol": "kJ/mol", "kcal/mol": "kcal/mol"},
        ),
        PropertySpec(
            "lattice_parameter",
            "Å",
            "angstrom",
            ("lattice parameter", "lattice constant", "lattice_constant", "a0"),
            "Å (angstrom, A), pm, nm",
            ".4f",
            _above_zero("lattice parameter", "Å"),
            unit_aliases={"A": "angstrom", "Ang": "angstrom", "Angstrom": "angstrom", "Å": "angstrom"},
        ),
        PropertySpec(
            "band_gap",
            "eV",
            "eV",
            ("band gap", "bandgap", "gap", "eg", "e_g"),
            "eV, meV",
            ".3f",
            _gap_check,
            unit_aliases=_ENERGY_ALIASES,
        ),
        PropertySpec(
            "bulk_modulus",
            "GPa",
            "GPa",
            ("bulk modulus", "b0", "k0"),
            "GPa, MPa, Pa, kbar, Mbar",
            ".1f",
            _above_zero("bulk modulus", "GPa"),
            unit_aliases={"gpa": "GPa"},
        ),
        PropertySpec(
            "ionic_conductivity",
            "S/cm",
            "S/cm",
            ("ionic conductivity", "conductivity", "sigma", "σ"),
            "S/cm, mS/cm, S/m",
            ".3g",
            _above_zero("ionic conductivity", "S/cm"),
        ),
        PropertySpec(
            "melting_point",
            "K",
            "K",
            ("melting point", "melting temperature", "tm", "t_m", "mp"),
            "K, degC (°C), degF (°F)",
            ".1f",
            _above_zero("melting point", "K"),
            unit_aliases={"C": "degC", "F": "degF", "celsius": "degC", "kelvin": "K", "k": "K"},
        ),
    )
}


def _norm_name(name: str) -> str:
    return re.sub(r"[\s\-]+", "_", name.strip().lower().replace("°", "").replace("^o", ""))


_BY_ALIAS: dict[str, str] = {_norm_name(a): p.name for p in PROPERTIES.values() for a in (p.name, *p.aliases)}


def property_spec(name: str) -> PropertySpec:
    """The property named ``name`` (canonical name or alias, any case: "ΔHf", "Tm", "band gap").

    Raises :class:`MeasurementError` listing the known properties.
    """
    key = _BY_ALIAS.get(_norm_name(name))
    if key is None:
        raise MeasurementError(f"unknown property {name!r}; known: {', '.join(PROPERTIES)}")
    return PROPERTIES[key]


def field_unit(prop: str) -> str:
    """The canonical unit of a property (eV/atom, Å, eV, GPa, S/cm, K)."""
    return property_spec(prop).unit


def format_value(prop: str, value: float, uncertainty: float | None = None) -> str:
    """A value (canonical unit) as people read it: ``-1.708 ± 0.010 eV/atom``, ``5.4310 Å``."""
    spec = property_spec(prop)
    pm = f" ± {uncertainty:.2g}" if uncertainty is not None else ""
    return f"{value:{spec.fmt}}{pm} {spec.unit}"


# -- pint --------------------------------------------------------------------------------------
@lru_cache(maxsize=1)
def units() -> Any:
    """The unit registry: pint's defaults plus ``atom`` and ``formula_unit`` (``fu``) as counts of
    their own, so eV/atom and eV/fu are told apart (pint alone reads "fu" as femto-u)."""
    import pint

    ureg: Any = pint.UnitRegistry()
    ureg.define("atom = [atom]")
    ureg.define("formula_unit = [formula_unit] = fu")
    return ureg


_SUPERSCRIPTS = str.maketrans({"⁻": "-", "¹": "1", "²": "2", "³": "3", "·": "*", "º": "°", "−": "-"})


def normalise_unit(unit: str, spec: PropertySpec) -> str:
    """A unit string as pint reads it: "eV per f.u." -> "eV/fu", "S cm⁻¹" -> "S cm^-1"."""
    u = unit.strip().translate(_SUPERSCRIPTS)
    u = spec.unit_aliases.get(u, spec.unit_aliases.get(u.lower(), u))
    u = re.sub(r"\s+per\s+", "/", u)
    u = re.sub(r"f\.u\.?|formula[ _]unit", "fu", u)
    u = re.sub(r"(?<=[A-Za-zµμ])(-\d+)", r"^\1", u)  # cm-1 -> cm^-1
    return spec.unit_aliases.get(u, u)


def _quantity(value: float, unit: str, spec: PropertySpec) -> Any:
    ureg = units()
    if not unit.strip():
        raise MeasurementError(f"no unit for {spec.name} (use {spec.accepts})")
    try:
        return ureg.Quantity(value, ureg.parse_units(normalise_unit(unit, spec)))
    except Exception as exc:  # pint raises UndefinedUnitError, ValueError, TypeError, AttributeError
        raise MeasurementError(f"unknown unit {unit!r} for {spec.name} (use {spec.accepts})") from exc


def _per_atom(q: Any, spec: PropertySpec, unit: str, atoms_per_fu: float | None) -> Any:
    """An energy per formula unit (eV, eV/fu) or per mole of formula units (kJ/mol) as energy/atom."""
    ureg = units()
    dims = q.dimensionality
    energy = ureg.eV.dimensionality
    if dims == (ureg.eV / ureg.atom).dimensionality:
        return q
    if dims == (ureg.eV / ureg.mol).dimensionality:
        per_fu = q / ureg.avogadro_constant
    elif dims == (ureg.eV / ureg.fu).dimensionality:
        per_fu = q * ureg.fu
    elif dims == energy:
        per_fu = q
    else:
        return q  # the conversion below names the misfit
    if not atoms_per_fu:
        raise MeasurementError(f"{unit!r} is per formula unit: the formula's atom count is needed")
    return per_fu / (atoms_per_fu * ureg.atom)


_KINDS = {
    "an energy": "eV",
    "an energy per atom": "eV/atom",
    "an energy per formula unit": "eV/fu",
    "an energy per mole": "J/mol",
    "a length": "m",
    "a pressure": "Pa",
    "a temperature": "K",
    "a conductivity": "S/m",
    "a number without unit": "dimensionless",
}


def _kind(q: Any) -> str:
    """What a quantity measures, in words ("a length"), for error messages."""
    ureg = units()
    for words, unit in _KINDS.items():
        if q.dimensionality == ureg.parse_units(unit).dimensionality:
            return words
    return str(q.dimensionality)


def to_canonical(prop: str, value: float, unit: str, atoms_per_fu: float | None = None) -> float:
    """``value`` in ``unit`` converted to the property's canonical unit (see the module table).

    ``atoms_per_fu``: atoms in one formula unit (Fe2O3: 5), for formation enthalpies given per
    formula unit or per mole. Raises :class:`MeasurementError` for an unknown unit or one whose
    dimensionality does not fit the property.
    """
    spec = property_spec(prop)
    q = _quantity(value, unit, spec)
    if spec.per_formula_unit:
        q = _per_atom(q, spec, unit, atoms_per_fu)
    try:
        out = float(q.to(spec.pint_unit).magnitude)
    except Exception as exc:  # DimensionalityError, OffsetUnitCalculusError
        raise MeasurementError(
            f"unit {unit!r} is {_kind(q)}: it does not fit {spec.name} (use {spec.accepts})"
        ) from exc
    if not math.isfinite(out):
        raise MeasurementError(f"{value} {unit} is not a finite {spec.name}")
    return out


def uncertainty_to_canonical(prop: str, sigma: float, unit: str, atoms_per_fu: float | None = None) -> float:
    """An uncertainty (a difference, so °C and K steps are equal) in the canonical unit."""
    slope = to_canonical(prop, 1.0, unit, atoms_per_fu) - to_canonical(prop, 0.0, unit, atoms_per_fu)
    return abs(slope) * sigma
