"""Reading and writing structure files: CIF, POSCAR/CONTCAR, extxyz (and anything ASE reads)."""

from __future__ import annotations

import warnings
from pathlib import Path

from pymatgen.core import Structure

from mattwin.errors import MaterialReadError
from mattwin.materials.identity import canonical, from_atoms

_CIF = {".cif", ".mcif"}


def _looks_poscar(path: Path) -> bool:
    name = path.name.upper()
    return name.startswith(("POSCAR", "CONTCAR")) or path.suffix.lower() in {".vasp", ".poscar"}


def _read_cif(path: Path) -> Structure:
    from pymatgen.io.cif import CifParser

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            parser = CifParser(path)
            structures = parser.parse_structures(primitive=False)
        except Exception as exc:  # pymatgen raises ValueError, KeyError, IndexError ... on bad CIFs
            raise MaterialReadError(f"{path}: malformed CIF ({exc or type(exc).__name__})") from exc
    if not structures:
        raise MaterialReadError(f"{path}: CIF holds no structure that can be built")
    return structures[0]


def _read_ase(path: Path, fmt: str | None) -> Structure:
    from ase.io import read

    try:
        atoms = read(path, format=fmt, index=-1)
        assert not isinstance(atoms, list)
    except Exception as exc:
        raise MaterialReadError(f"{path}: cannot read as {fmt or 'structure file'} ({exc})") from exc
    if atoms.cell.rank < 3:
        raise MaterialReadError(f"{path}: no periodic cell; a crystal structure needs three lattice vectors")
    return from_atoms(atoms)


def read_structure(path: str | Path) -> Structure:
    """Read one crystal structure (CIF, POSCAR/CONTCAR/.vasp, extxyz, or any format ASE reads).

    Returns a canonical pymatgen ``Structure`` (right-handed lattice, lengths in Å).
    Raises :class:`MaterialReadError` naming the file and the cause.
    """
    p = Path(path)
    if not p.is_file():
        raise MaterialReadError(f"{p}: no such file")
    if p.stat().st_size == 0:
        raise MaterialReadError(f"{p}: empty file")
    suffix = p.suffix.lower()
    if suffix in _CIF:
        structure = _read_cif(p)
    elif _looks_poscar(p):
        structure = _read_ase(p, "vasp")
    elif suffix in {".xyz", ".extxyz"}:
        structure = _read_ase(p, "extxyz")
    elif suffix == ".json":
        try:
            structure = Structure.from_file(p)
        except Exception as exc:
            raise MaterialReadError(f"{p}: not a pymatgen Structure JSON ({exc})") from exc
    else:
        structure = _read_ase(p, None)
    try:
        return canonical(structure)
    except ValueError as exc:
        raise MaterialReadError(f"{p}: {exc}") from exc


def write_structure(structure: Structure, path: str | Path) -> Path:
    """Write a structure; the format follows the suffix (.cif, .vasp/POSCAR, .xyz/.extxyz, .json)."""
    p = Path(path)
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
