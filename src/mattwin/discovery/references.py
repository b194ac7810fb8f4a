"""Competing phases for convex hulls: the shipped reference library and user-supplied references.

The shipped library (``mattwin/data/references.json.gz``, built by ``scripts/build_references.py``)
holds element ground states from the Delta test set and experimentally known compounds from the
AFLOW prototype library and Materials Project structures shipped with pymatgen; every entry records
its source. Users add their own references as structure files (CIF, POSCAR, extxyz, ...) or as a
Materials Project JSON export. Structures are canonical pymatgen ``Structure`` objects (right-handed
lattice, lengths in Å); they are starting points to be relaxed by an engine, not final geometries.
"""

from __future__ import annotations

import gzip
import json
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, replace
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from pymatgen.core import Structure

from mattwin.errors import MaterialReadError, MattwinError
from mattwin.materials import canonical, check_physical, read_structure

#: File name of the shipped library inside the ``mattwin.data`` package folder.
LIBRARY_FILE = "references.json.gz"


@dataclass(frozen=True)
class ReferencePhase:
    """One competing phase: a starting structure (Å) and where it comes from.

    ``relax_cell`` is True for crystals (relax cell and positions) and False only for a molecule in a
    box (relax positions only). ``polymorph_note`` says when the structure is not the stable form at
    ambient conditions (metastable, high-temperature, simplified model), else "".
    """

    name: str
    structure: Structure
    source: str
    relax_cell: bool = True
    polymorph_note: str = ""

    def __repr__(self) -> str:
        n = len(self.structure)
        return f"ReferencePhase({self.name!r}, {self.formula}, {n} atoms, source={self.source!r})"

    @property
    def formula(self) -> str:
        """Reduced formula, e.g. ``"Fe2O3"``."""
        return self.structure.composition.reduced_formula

    @property
    def elements(self) -> frozenset[str]:
        """Element symbols of the phase."""
        return frozenset(el.symbol for el in self.structure.composition.elements)

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form (the structure as a pymatgen dict), the format of the shipped library."""
        return {
            "name": self.name,
            "formula": self.formula,
            "structure": self.structure.as_dict(),
            "source": self.source,
            "relax_cell": self.relax_cell,
            "polymorph_note": self.polymorph_note,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ReferencePhase:
        """Inverse of :meth:`to_dict`; ``formula`` is recomputed from the structure, not read."""
        structure = d["structure"]
        if not isinstance(structure, Structure):
            structure = Structure.from_dict(structure)
        return cls(
            name=str(d["name"]),
            structure=canonical(structure),
            source=str(d["source"]),
            relax_cell=bool(d.get("relax_cell", True)),
            polymorph_note=str(d.get("polymorph_note", "") or ""),
        )


@lru_cache(maxsize=1)
def _library() -> tuple[ReferencePhase, ...]:
    path = resources.files("mattwin") / "data" / LIBRARY_FILE
    try:
        with resources.as_file(path) as p, gzip.open(p, "rt", encoding="utf-8") as fh:
            raw = json.load(fh)
    except (OSError, ValueError) as exc:
        raise MattwinError(
            f"{path}: the shipped reference library is missing or unreadable ({exc}); "
            "rebuild it with `python scripts/build_references.py`"
        ) from exc
    return tuple(ReferencePhase.from_dict(d) for d in raw)


def builtin_references(elements: Iterable[str] | None = None) -> list[ReferencePhase]:
    """The shipped library; when ``elements`` is given, only phases whose elements are a subset of them.

    The file is read once per process; every call returns fresh copies of the structures, so callers
    may modify them.
    """
    phases = _library()
    if elements is not None:
        allowed = frozenset(str(e).strip() for e in elements)
        phases = tuple(p for p in phases if p.elements <= allowed)
    return [replace(p, structure=p.structure.copy()) for p in phases]


# ---------------------------------------------------------------------------------------------------
# user references


def _documents(payload: Any) -> list[Any]:
    """The list of documents in an MP-style JSON payload (list, {"data": [...]}, or one document)."""
    if isinstance(payload, dict) and isinstance(payload.get("data"), list):
        return list(payload["data"])
    if isinstance(payload, list):
        return payload
    return [payload]


def _material_id(doc: dict[str, Any]) -> str | None:
    data = doc.get("data")
    for holder in (doc, data if isinstance(data, dict) else {}):
        for key in ("material_id", "task_id", "entry_id"):
            value = holder.get(key)
            if value:
                return str(value)
    return None


def _structure_of(doc: Any) -> Structure:
    """The structure of one document: a pymatgen Structure dict, or a dict holding one under "structure"
    (MP summary documents, ComputedStructureEntry)."""
    if isinstance(doc, dict) and "structure" in doc:
        doc = doc["structure"]
    if not isinstance(doc, dict) or "lattice" not in doc or "sites" not in doc:
        raise ValueError("no pymatgen structure (expected a 'structure' with 'lattice' and 'sites')")
    return Structure.from_dict(doc)


def _read_json(path: Path) -> list[ReferencePhase]:
    try:
        payload = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise MaterialReadError(f"{path}: not readable JSON ({exc})") from exc
    docs = _documents(payload)
    if not docs:
        raise MaterialReadError(f"{path}: the JSON export holds no documents")
    phases = []
    for k, doc in enumerate(docs):
        try:
            structure = canonical(_structure_of(doc))
        except Exception as exc:  # pymatgen raises KeyError, TypeError, ValueError ... on bad dicts
            raise MaterialReadError(f"{path}: document {k}: {exc or type(exc).__name__}") from exc
        mid = _material_id(doc) if isinstance(doc, dict) else None
        formula = (doc.get("formula_pretty") if isinstance(doc, dict) else None) or (
            structure.composition.reduced_formula
        )
        if mid:
            name, source = f"{formula} {mid}", f"Materials Project {mid} (user export {path})"
        else:
            name, source = f"{formula} ({path.name} #{k})", f"user: {path}"
        check_physical(structure, f"{path} ({name})")
        phases.append(ReferencePhase(name=name, structure=structure, source=source))
    return phases


def _read_file(path: Path) -> list[ReferencePhase]:
    if path.suffix.lower() == ".json":
        return _read_json(path)
    structure = read_structure(path)
    check_physical(structure, str(path))
    name = f"{structure.composition.reduced_formula} ({path.name})"
    return [ReferencePhase(name=name, structure=structure, source=f"user: {path}")]


def load_reference_files(path: str | Path) -> list[ReferencePhase]:
    """User references from a folder of structure files, one structure file, or a Materials Project export.

    Structure files are anything :func:`mattwin.materials.read_structure` reads (CIF, POSCAR/CONTCAR,
    extxyz, ...). A ``.json`` file is a pymatgen Structure, or an MP export: a list of documents each
    with a ``"structure"`` (pymatgen dict) and optionally ``"material_id"`` and ``"formula_pretty"``,
    ComputedStructureEntry dicts, or the ``{"data": [...]}`` wrapper of the MP API. Sources read
    ``"user: <file>"`` or ``"Materials Project <material_id> (user export <file>)"``.

    A single file raises :class:`MaterialReadError` naming the file and the cause when unreadable (and
    :class:`~mattwin.errors.UnphysicalStructureError` for overlapping atoms or a collapsed cell). In a
    folder (not recursive; hidden files skipped) bad files are skipped with a warning naming them,
    unless no file could be read, which raises one error listing them all.
    """
    p = Path(path)
    if p.is_file():
        return _read_file(p)
    if not p.is_dir():
        raise MaterialReadError(f"{p}: no such file or folder")
    files = sorted(f for f in p.iterdir() if f.is_file() and not f.name.startswith("."))
    if not files:
        raise MaterialReadError(f"{p}: the folder holds no structure files")
    phases: list[ReferencePhase] = []
    errors: list[str] = []
    for f in files:
        try:
            phases.extend(_read_file(f))
        except MattwinError as exc:
            errors.append(str(exc))
    if not phases:
        raise MaterialReadError(f"{p}: no reference could be read:\n  " + "\n  ".join(errors))
    if errors:
        warnings.warn(
            f"{p}: skipped {len(errors)} unreadable file(s):\n  " + "\n  ".join(errors), stacklevel=2
        )
    return phases
