"""Measurements as data: file formats (CSV/JSON/YAML), units (pint) and validation.

No store and no engine here: :func:`read_measurements` returns :class:`Measurement` records in
canonical units (eV/atom, Å, eV, GPa, S/cm, K) and the bad rows with their reasons.
"""

from mattwin.lab.measurement import BadRow, Measurement, ReadResult, bad_rows_message
from mattwin.lab.read import read_measurements
from mattwin.lab.units import (
    PROPERTIES,
    PropertySpec,
    field_unit,
    format_value,
    property_spec,
    to_canonical,
    uncertainty_to_canonical,
)

__all__ = [
    "PROPERTIES",
    "BadRow",
    "Measurement",
    "PropertySpec",
    "ReadResult",
    "bad_rows_message",
    "field_unit",
    "format_value",
    "property_spec",
    "read_measurements",
    "to_canonical",
    "uncertainty_to_canonical",
]
