"""Reading and writing structure files: CIF, POSCAR/CONTCAR, extxyz (and anything ASE reads)."""

from __future__ import annotations

import os
import re
import warnings
from pathlib import Path

from pymatgen.core import Structure

from mattwin.errors import MaterialReadError, MattwinError, SettingsError
from mattwin.materials.checks import check_lattice, check_size, check_well_formed
from mattwin.materials.identity import canonical, from_atoms

_CIF = {".cif", ".mcif"}


def _looks_poscar(path: Path) -> bool:
    name = path.name.upper()
    return name.startswith(("POSCAR", "CONTCAR")) or path.suffix.lower() in {".vasp", ".poscar"}


def _text_format(path: Path) -> bool:
    """CIF, POSCAR, XYZ and JSON are text; other suffixes may be binary formats ASE reads."""
    suffix = path.suffix.lower()
    return suffix in _CIF | {".xyz", ".extxyz", ".json"} or _looks_poscar(path)


def check_input_file(path: Path, what: str = "structure file") -> None:
    """Raise :class:`MaterialReadError` naming ``path`` unless it is a readable, non-empty file:
    missing, a folder, under a file, unreadable, empty."""
    if path.is_dir():
        raise MaterialReadError(f"{path}: is a folder, not a {what}; give the file itself")
    if not path.is_file():
        above = next((q for q in path.parents if q.exists()), None)
        if above is not None and not above.is_dir():
            raise MaterialReadError(f"{path}: no such file ({above} is a file, not a folder)")
        raise MaterialReadError(f"{path}: no such file; check the path")
    try:
        with path.open("rb") as fh:
            head = fh.read(4096)
    except OSError as exc:
        raise MaterialReadError(f"{path}: cannot be read ({exc.strerror}); check its permissions") from exc
    if not head:
        raise MaterialReadError(f"{path}: empty file")
    if b"\0" in head and _text_format(path):
        raise MaterialReadError(f"{path}: a binary file, not a text {what}; check that it is the right file")


_PROPERTY = re.compile(r"[A-Za-z_][\w-]*:[SRIL]:(\d+)")
#: most columns one per-atom property of an extxyz file may have (forces: 3, a per-atom tensor: 9)
_MAX_PROPERTY_COLUMNS = 64


def check_xyz_frames(path: Path) -> None:
    """Refuse what would make ASE's XYZ reader loop or allocate without end: a frame header with more
    atoms than :data:`~mattwin.materials.checks.MAX_ATOMS` (:class:`CostLimitError`) or than the
    file has lines, a ``Properties=`` column count over 64 (:class:`MaterialReadError`)."""
    with path.open(encoding="utf-8", errors="replace") as fh:
        lines = fh.readlines()
    i = 0
    while i < len(lines) and lines[i].strip():
        try:
            n = int(lines[i])
        except ValueError:  # not a frame header (a VEC line, or garbage ASE will name)
            return
        check_size(n, str(path))
        if n < 0 or i + 2 + n > len(lines):
            raise MaterialReadError(
                f"{path}: line {i + 1} says {n} atoms but the file ends before them; "
                "the file is cut short or the count is wrong"
            )
        columns = [int(c) for c in _PROPERTY.findall(lines[i + 1])] if "Properties=" in lines[i + 1] else []
        if any(c > _MAX_PROPERTY_COLUMNS for c in columns):
            raise MaterialReadError(
                f"{path}: line {i + 2}: a Properties= column count over 64; fix the header"
            )
        i += 2 + n


def _read_cif(path: Path) -> Structure:
    from pymatgen.io.cif import CifParser

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            parser = CifParser(path)
            structures = parser.parse_structures(primitive=False)
        except Exception as exc:  # pymatgen raises ValueError, KeyError, IndexError ... on bad CIFs
            raise MaterialReadError(
                f"{path}: malformed CIF ({exc or type(exc).__name__}); fix or re-export the file"
            ) from exc
    if not structures:
        raise MaterialReadError(f"{path}: CIF holds no structure that can be built")
    return structures[0]


def _read_ase(path: Path, fmt: str | None) -> Structure:
    from ase.io import read

    try:
        atoms = read(path, format=fmt, index=-1)
        assert not isinstance(atoms, list)
    except Exception as exc:
        raise MaterialReadError(
            f"{path}: cannot read as {fmt or 'a structure file'} ({exc or type(exc).__name__}); "
            "give a CIF, POSCAR or extxyz file"
        ) from exc
    if atoms.cell.rank == 0:
        raise MaterialReadError(
            f"{path}: no periodic cell; a crystal needs three lattice vectors "
            "(a molecule? use `mattwin correlate`)"
        )
    check_lattice(atoms.cell.array, str(path))
    return from_atoms(atoms)


def _read_json(path: Path) -> Structure:
    try:
        return Structure.from_file(path)
    except Exception as exc:  # json, KeyError, TypeError ... on a dict that is not a Structure
        raise MaterialReadError(f"{path}: not a pymatgen Structure JSON ({exc})") from exc


def _read_any(path: Path) -> Structure:
    suffix = path.suffix.lower()
    if suffix in _CIF:
        return _read_cif(path)
    if _looks_poscar(path):
        return _read_ase(path, "vasp")
    if suffix in {".xyz", ".extxyz"}:
        check_xyz_frames(path)
        return _read_ase(path, "extxyz")
    if suffix == ".json":
        return _read_json(path)
    return _read_ase(path, None)


def read_structure(path: str | Path) -> Structure:
    """Read one crystal structure (CIF, POSCAR/CONTCAR/.vasp, extxyz, or any format ASE reads).

    Returns a canonical pymatgen ``Structure`` (right-handed lattice, lengths in Å) with finite
    coordinates, a sound lattice and at most :data:`~mattwin.materials.checks.MAX_ATOMS` atoms.
    Raises a :class:`~mattwin.errors.MattwinError` naming the file and the cause:
    :class:`MaterialReadError` (missing, empty, malformed, disordered sites),
    :class:`~mattwin.errors.UnphysicalStructureError` (degenerate cell, nan coordinates),
    :class:`~mattwin.errors.CostLimitError` (too many atoms). Overlapping atoms and collapsed
    cells are left to :func:`~mattwin.materials.checks.check_physical`.
    """
    p = Path(path)
    check_input_file(p)
    structure = _read_any(p)
    try:
        out = canonical(structure)
    except MattwinError as exc:
        raise type(exc)(f"{p}: {exc}") from exc
    check_well_formed(out, str(p))
    return out


def check_writable(path: str | Path, folder: bool = False) -> None:
    """Raise :class:`~mattwin.errors.SettingsError` naming ``path`` unless a file (or, with
    ``folder``, a folder) can be written there: not a folder where a file goes (or the reverse),
    not under a file, where this process may write. Creates nothing."""
    p = Path(path)
    what = "folder" if folder else "file"
    if p.exists():
        if p.is_dir() != folder:
            raise SettingsError(f"{p}: is a {'file' if folder else 'folder'}; give a {what} path to write to")
        if not os.access(p, os.W_OK):
            raise SettingsError(f"{p}: no permission to write it; give another {what}")
        return
    above = next((q for q in p.parents if q.exists()), Path("."))
    if not above.is_dir():
        raise SettingsError(f"{p}: cannot write here ({above} is a file, not a folder)")
    if not os.access(above, os.W_OK):
        raise SettingsError(f"{p}: no permission to write in {above}; give another {what}")


def _check_output_format(p: Path) -> None:
    if p.suffix.lower() not in {".cif", ".xyz", ".extxyz", ".json"} and not _looks_poscar(p):
        raise MaterialReadError(f"{p}: unknown output format; use .cif, .vasp, .extxyz or .json")


def check_structure_output(path: str | Path) -> None:
    """Raise before a long calculation when its structure could not be written to ``path``
    (unknown format, or :func:`check_writable` refuses it)."""
    _check_output_format(Path(path))
    check_writable(path)


def write_structure(structure: Structure, path: str | Path) -> Path:
    """Write a structure; the format follows the suffix (.cif, .vasp/POSCAR, .xyz/.extxyz, .json)."""
    p = Path(path)
    check_structure_output(p)
    p.parent.mkdir(parents=True, exist_ok=True)
    suffix = p.suffix.lower()
    if suffix == ".cif":
        from pymatgen.io.cif import CifWriter

        CifWriter(structure, symprec=None).write_file(p)
    elif _looks_poscar(p):
        structure.to(filename=str(p), fmt="poscar")
    elif suffix in {".xyz", ".extxyz"}:
        from ase.io import write

        from mattwin.materials.identity import to_atoms

        write(p, to_atoms(structure), format="extxyz")
    elif suffix == ".json":
        structure.to(filename=str(p))
    else:
        raise MaterialReadError(f"{p}: unknown output format; use .cif, .vasp, .extxyz or .json")
    return p
