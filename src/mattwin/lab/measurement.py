"""Measurement records: one measured value of one property of one material, with its provenance."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from pymatgen.core import Structure

from mattwin.errors import MeasurementError
from mattwin.lab.units import format_value


@dataclass(frozen=True, kw_only=True)
class Measurement:
    """One measured value, converted to the property's canonical unit.

    material: as given (a formula, a structure file path, or a stored material id);
    formula: its reduced formula; material_id: the identity hash when a structure was given
    (a file or a stored id), else None. value, uncertainty: in ``unit``, the canonical unit of the
    property (eV/atom, Å, eV, GPa, S/cm, K). temperature_K: the measurement temperature (K).
    method: how it was measured ("calorimetry", "XRD"); source: a DOI or a notebook id;
    date: ISO date (YYYY-MM-DD). given_value, given_unit: the value and unit as written in the file;
    file, row: where it was read (CSV: line number, header = row 1; JSON/YAML: position in the list).
    """

    material: str
    formula: str
    property: str
    value: float
    unit: str
    source: str
    given_value: float
    given_unit: str
    uncertainty: float | None = None
    temperature_K: float | None = None
    method: str = ""
    date: str | None = None
    material_id: str | None = None
    file: str = ""
    row: int = 0

    def content_key(self) -> str:
        """Content key (64 hex): the same measurement read twice, from any file, has the same key.

        Over material (identity hash, else reduced formula), property, value and unit (canonical),
        temperature, method, source and date; not over the uncertainty or where it was read.
        """
        payload = [
            self.material_id or self.formula,
            self.property,
            f"{self.value:.10g}",
            self.unit,
            None if self.temperature_K is None else f"{self.temperature_K:.6g}",
            self.method,
            self.source,
            self.date,
        ]
        return hashlib.sha256(json.dumps(payload).encode()).hexdigest()

    def display(self) -> str:
        """The value in the field's unit: ``-1.708 ± 0.010 eV/atom``."""
        return format_value(self.property, self.value, self.uncertainty)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: ``value``/``uncertainty`` in ``unit``; ``given_value`` in ``given_unit``."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Measurement:
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})


@dataclass(frozen=True)
class BadRow:
    """A row that was not read: where (file, row as in :class:`Measurement`) and why."""

    file: str
    row: int
    reason: str

    def __str__(self) -> str:
        return f"{self.file}, row {self.row}: {self.reason}"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class ReadResult:
    """What a measurement file holds: the good rows, the bad rows with their reasons, and the
    structures read for rows that name a structure file (material_id -> Structure)."""

    file: str
    measurements: list[Measurement]
    bad: list[BadRow]
    structures: dict[str, Structure] = field(default_factory=dict)

    def check(self) -> None:
        """Raise :class:`MeasurementError` naming every bad row (file, row, cause) if there is one."""
        if self.bad:
            raise MeasurementError(bad_rows_message(self.file, self.bad))


def bad_rows_message(file: str, bad: list[BadRow]) -> str:
    """One line per bad row, under a line that says nothing was stored and what to do."""
    head = (
        f"{file}: {len(bad)} bad row{'s' * (len(bad) != 1)}, nothing stored; "
        "fix them, or skip them with --skip-bad (skip_bad=True)"
    )
    return "\n".join([head, *(f"  {b}" for b in bad)])
