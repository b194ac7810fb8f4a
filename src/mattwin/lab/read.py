"""Measurement files: CSV, JSON and YAML, one measurement per row.

Columns (CSV header, or keys of each JSON/YAML entry); names are case-insensitive:

``material``     a formula (Fe2O3), a structure file path (relative to this file), or a stored
                 material id (16 hex digits); ``formula`` is read as ``material``
``property``     formation_enthalpy, lattice_parameter, band_gap, bulk_modulus, ionic_conductivity,
                 melting_point, or an alias ("ΔHf", "formation enthalpy", "Tm", "band gap")
``value``        the number, in ``unit``
``unit``         its unit (kJ/mol, kcal/mol, eV/fu, eV/atom, pm, Å, °C, kbar, S/m, ...)
``source``       a DOI or a notebook id (``doi`` and ``reference`` are read as ``source``)
``uncertainty``  optional, in ``unit``
``temperature_K`` optional, K
``method``       optional ("calorimetry", "XRD", "UV-vis", "EIS")
``date``         optional, YYYY-MM-DD

CSV: lines starting with ``#`` are comments; a row's number is its line number (the header is
row 1, as a spreadsheet numbers it). JSON/YAML: a list of entries, or ``{"measurements": [...]}``;
a row's number is the entry's position in the list, from 1.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from mattwin.errors import MeasurementError
from mattwin.lab.measurement import BadRow, Measurement, ReadResult
from mattwin.lab.validate import (
    OPTIONAL,
    REQUIRED,
    MaterialLookup,
    MaterialResolver,
    column_name,
    measurement_from_row,
)

FORMATS = {".csv": "CSV", ".json": "JSON", ".yaml": "YAML", ".yml": "YAML"}

Rows = list[tuple[int, dict[str, Any] | None]]  # (row number, fields), None: not a mapping


def _text(path: Path) -> str:
    if not path.is_file():
        raise MeasurementError(f"{path}: no such file")
    try:
        return path.read_text(encoding="utf-8-sig")  # a BOM, as spreadsheets write it, is dropped
    except UnicodeDecodeError as exc:
        raise MeasurementError(f"{path}: not a UTF-8 text file ({exc.reason} at byte {exc.start})") from exc


def _csv_rows(path: Path, text: str) -> Rows:
    lines = ["\n" if ln.lstrip().startswith("#") else ln for ln in text.splitlines(keepends=True)]
    reader = csv.reader(lines, strict=True)
    header: list[str] | None = None
    rows: Rows = []
    try:
        for fields in reader:
            if not any(f.strip() for f in fields):
                continue
            if header is None:
                header = [column_name(f) for f in fields]
                missing = [c for c in REQUIRED if c not in header]
                unknown = [f for f, c in zip(fields, header, strict=True) if c not in REQUIRED + OPTIONAL]
                if missing or unknown:
                    raise MeasurementError(
                        f"{path}: {_column_problem(missing, unknown)} in the header (row {reader.line_num})"
                    )
                continue
            if len(fields) > len(header):
                rows.append((reader.line_num, {"": f"{len(fields)} fields, the header has {len(header)}"}))
                continue
            values = [f.strip() for f in fields] + [""] * (len(header) - len(fields))
            rows.append((reader.line_num, {c: v for c, v in zip(header, values, strict=True) if v}))
    except csv.Error as exc:
        raise MeasurementError(f"{path}: not valid CSV, row {reader.line_num} ({exc})") from exc
    if header is None:
        raise MeasurementError(f"{path}: empty CSV file (no header, no rows)")
    return rows


def _column_problem(missing: list[str], unknown: list[str]) -> str:
    parts = []
    if missing:
        parts.append(f"missing required column {', '.join(missing)}")
    if unknown:
        parts.append(f"unknown column {', '.join(unknown)} (known: {', '.join(REQUIRED + OPTIONAL)})")
    return "; ".join(parts)


def _entries(path: Path, data: Any, fmt: str) -> Rows:
    if isinstance(data, dict) and "measurements" in data:
        data = data["measurements"]
    if not isinstance(data, list):
        raise MeasurementError(
            f"{path}: a {fmt} measurement file is a list of entries or {{measurements: [...]}}"
        )
    return [
        (i, {column_name(k): v for k, v in entry.items()} if isinstance(entry, dict) else None)
        for i, entry in enumerate(data, start=1)
    ]


def _json_rows(path: Path, text: str) -> Rows:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise MeasurementError(
            f"{path}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from exc
    return _entries(path, data, "JSON")


def _yaml_rows(path: Path, text: str) -> Rows:
    import yaml

    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise MeasurementError(f"{path}: not valid YAML ({' '.join(str(exc).split())})") from exc
    return _entries(path, data, "YAML")


def _rows(path: Path) -> Rows:
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise MeasurementError(f"{path}: unknown measurement file type; use {', '.join(FORMATS)}")
    text = _text(path)
    if not text.strip():
        raise MeasurementError(f"{path}: empty file")
    rows = {"CSV": _csv_rows, "JSON": _json_rows, "YAML": _yaml_rows}[fmt](path, text)
    if not rows:
        raise MeasurementError(f"{path}: no measurements (a header or an empty list only)")
    return rows


def _validated(path: Path, rows: Rows, resolve: MaterialResolver) -> Iterator[Measurement | BadRow]:
    for number, row in rows:
        if row is None:
            yield BadRow(str(path), number, "entry is not a mapping of column names to values")
        elif "" in row:
            yield BadRow(str(path), number, str(row[""]))
        else:
            try:
                yield measurement_from_row(row, str(path), number, resolve)
            except MeasurementError as exc:
                yield BadRow(str(path), number, str(exc))


def read_measurements(path: str | Path, lookup: MaterialLookup | None = None) -> ReadResult:
    """Read and validate a measurement file (CSV, JSON, YAML; see the module docstring).

    Returns the good rows as :class:`Measurement` records (canonical units) and the bad rows with
    their reasons; the caller decides whether a bad row sinks the file (:meth:`ReadResult.check`).
    ``lookup`` resolves stored material ids (id -> reduced formula, or None).
    Raises :class:`MeasurementError` when the file itself cannot be read: missing, not UTF-8,
    bad CSV/JSON/YAML, a missing required column, an unknown extension, no rows.
    """
    p = Path(path)
    rows = _rows(p)
    resolve = MaterialResolver(p.parent, lookup)
    good: list[Measurement] = []
    bad: list[BadRow] = []
    for item in _validated(p, rows, resolve):
        if isinstance(item, BadRow):
            bad.append(item)
        else:
            good.append(item)
    structures = {m.material_id: s for m in good if m.material_id and (s := resolve(m.material).structure)}
    return ReadResult(str(p), good, bad, structures)
