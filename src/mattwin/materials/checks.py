"""Checks that an input is physical before an engine sees it."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from pymatgen.core import Element, Molecule, Structure

from mattwin.errors import CostLimitError, UnphysicalStructureError

#: Two atoms closer than this fraction of the sum of their covalent radii overlap.
OVERLAP_FRACTION = 0.5
#: Cells with less volume per atom than this (Å^3) are collapsed.
MIN_VOLUME_PER_ATOM = 2.0
#: Longest lattice vector accepted (Å): a longer one is a unit or scale-factor slip, and the engines'
#: neighbour searches over such a cell exhaust memory.
MAX_LATTICE_LENGTH = 1000.0
#: Most atoms in one structure or molecule (the engines' neighbour lists grow past memory beyond).
MAX_ATOMS = 10_000
#: Above this many atoms the overlap check searches neighbours instead of building all pair distances.
_DENSE_PAIRS_MAX_ATOMS = 1000
#: |det| / (a b c) below this: the lattice vectors are coplanar (or one is zero).
_COPLANAR = 1e-6


def _radius(symbol: str) -> float:
    r = Element(symbol).atomic_radius_calculated or Element(symbol).atomic_radius
    return float(r) if r is not None else 1.0


def lattice_problem(matrix: ArrayLike, max_length: float | None = MAX_LATTICE_LENGTH) -> str | None:
    """What is wrong with a 3x3 lattice (rows are the vectors, Å), or None: non-finite entries,
    coplanar or zero vectors, a vector longer than ``max_length`` (None: no limit)."""
    m = np.asarray(matrix, dtype=float)
    if m.shape != (3, 3):
        return f"lattice of shape {m.shape}, not three 3D vectors"
    if not np.all(np.isfinite(m)):
        return "non-finite lattice vectors (nan or inf)"
    lengths = np.linalg.norm(m, axis=1)
    volume = abs(float(np.linalg.det(m)))
    if not volume > _COPLANAR * float(np.prod(lengths)):
        return f"degenerate cell: the lattice vectors are coplanar or zero (volume {volume:.3g} Å^3)"
    if max_length is not None and lengths.max() > max_length:
        return f"lattice vector of {lengths.max():.4g} Å (longer than {max_length:g} Å)"
    return None


def check_lattice(matrix: ArrayLike, name: str = "structure") -> None:
    """Raise :class:`UnphysicalStructureError` naming ``name`` for what :func:`lattice_problem` finds."""
    problem = lattice_problem(matrix)
    if problem:
        raise UnphysicalStructureError(f"{name}: {problem}; check the lattice vectors and their units (Å)")


def check_size(n_atoms: int, name: str = "structure") -> None:
    """Raise :class:`CostLimitError` for more than :data:`MAX_ATOMS` atoms."""
    if n_atoms > MAX_ATOMS:
        raise CostLimitError(
            f"{name}: {n_atoms} atoms, more than the {MAX_ATOMS} mattwin takes in one structure; "
            "use a smaller cell"
        )


def check_well_formed(structure: Structure | Molecule, name: str = "structure") -> None:
    """What every structure must pass to be used at all: at least one atom, at most
    :data:`MAX_ATOMS`, finite coordinates and (crystals) a sound lattice. Typed errors name ``name``."""
    if len(structure) == 0:
        raise UnphysicalStructureError(f"{name}: has no atoms")
    check_size(len(structure), name)
    if not isinstance(structure, Molecule):
        check_lattice(structure.lattice.matrix, name)
    if not np.all(np.isfinite(structure.cart_coords)):
        raise UnphysicalStructureError(f"{name}: non-finite coordinates (nan or inf); fix the coordinates")


def _dense_min_ratio(structure: Structure) -> tuple[float, int, int]:
    dm = structure.distance_matrix.copy()
    np.fill_diagonal(dm, np.inf)
    radii = np.array([_radius(site.specie.symbol) for site in structure])
    ratio = dm / (radii[:, None] + radii[None, :])
    i, j = np.unravel_index(int(np.argmin(ratio)), ratio.shape)
    # periodic images of the same atom
    self_ratio = min(structure.lattice.abc) / (2 * radii.max())
    if self_ratio < ratio[i, j]:
        return float(self_ratio), int(i), int(i)
    return float(ratio[i, j]), int(i), int(j)


def _sparse_min_ratio(
    structure: Structure, radii: np.ndarray | None = None, below: float = 1.0
) -> tuple[float, int, int]:
    """Like :func:`_dense_min_ratio` without the n x n matrices: only pairs closer than ``below`` times
    the sum of the two largest radii are searched (``below`` when there is none). ``radii``: one per
    site (default: the atomic radii of :func:`_radius`)."""
    if radii is None:
        radii = np.array([_radius(site.specie.symbol) for site in structure])
    centres, neighbours, _images, dist = structure.get_neighbor_list(r=2 * below * float(radii.max()))
    if len(dist) == 0:
        return below, 0, 0
    ratio = dist / (radii[centres] + radii[neighbours])
    k = int(np.argmin(ratio))
    return float(ratio[k]), int(centres[k]), int(neighbours[k])


def min_distance_ratio(structure: Structure) -> tuple[float, int, int]:
    """Smallest (distance / sum of atomic radii) over all pairs, with the two site indices (the same
    index twice for an atom and its own periodic image). Above 1000 atoms only ratios below 1 are
    searched; 1.0 is returned when there is none."""
    if len(structure) < 2 and structure.lattice.volume > 0:
        d = min(structure.lattice.abc)
        r = 2 * _radius(structure[0].specie.symbol)
        return d / r, 0, 0
    if len(structure) > _DENSE_PAIRS_MAX_ATOMS:
        return _sparse_min_ratio(structure)
    return _dense_min_ratio(structure)


def _check_molecule(mol: Molecule, name: str) -> None:
    """Overlapping atoms of a molecule (no cell to check)."""
    if len(mol) < 2:
        return
    dm = mol.distance_matrix.copy()
    np.fill_diagonal(dm, np.inf)
    radii = np.array([_radius(site.specie.symbol) for site in mol])
    ratio = dm / (radii[:, None] + radii[None, :])
    i, j = np.unravel_index(int(np.argmin(ratio)), ratio.shape)
    if ratio[i, j] < OVERLAP_FRACTION:
        raise UnphysicalStructureError(
            f"{name}: overlapping atoms {mol[i].specie}{i} and {mol[j].specie}{j} at {dm[i, j]:.2f} Å "
            f"(< {OVERLAP_FRACTION:.0%} of the sum of their atomic radii); fix the coordinates"
        )


#: After a relaxation, two atoms closer than this fraction of the sum of their covalent radii (Cordero
#: et al., Dalton Trans. 2008, 2832) mean the optimiser left an unphysical structure: the shortest real
#: bonds, triple bonds such as N≡N or C≡O, are at 0.77-0.80 of that sum.
RELAXED_BOND_FRACTION = 0.65


def relaxed_structure_problem(structure: Structure) -> str | None:
    """Why a relaxed crystal is not a physical structure (atoms pushed into each other, a collapsed
    cell), or None. Stricter than :func:`check_physical`, which judges inputs with atomic radii."""
    from pymatgen.analysis.molecule_structure_comparator import CovalentRadius

    vpa = structure.volume / len(structure)
    if vpa < MIN_VOLUME_PER_ATOM:
        return f"collapsed cell, {vpa:.2f} Å^3 per atom"
    r = np.array([float(CovalentRadius.radius.get(site.specie.symbol, 1.5)) for site in structure])
    ratio, i, j = _sparse_min_ratio(structure, r, RELAXED_BOND_FRACTION)
    if ratio >= RELAXED_BOND_FRACTION:
        return None
    bond = r[i] + r[j]
    return (
        f"atoms {structure[i].specie}-{structure[j].specie} at {ratio * bond:.2f} Å, {ratio:.0%} of their "
        f"covalent radii sum ({bond:.2f} Å; real bonds are >= 77 %)"
    )


def check_physical(structure: Structure | Molecule, name: str = "structure") -> None:
    """Raise :class:`UnphysicalStructureError` naming ``name`` for overlapping atoms, collapsed or
    degenerate cells, overlong lattice vectors or non-finite coordinates, and
    :class:`~mattwin.errors.CostLimitError` for more than :data:`MAX_ATOMS` atoms."""
    check_well_formed(structure, name)
    if isinstance(structure, Molecule):
        _check_molecule(structure, name)
        return
    vpa = structure.volume / len(structure)
    if vpa < MIN_VOLUME_PER_ATOM:
        raise UnphysicalStructureError(
            f"{name}: collapsed cell, {vpa:.2f} Å^3 per atom (< {MIN_VOLUME_PER_ATOM}); check the lattice"
        )
    ratio, i, j = min_distance_ratio(structure)
    if ratio < OVERLAP_FRACTION:
        si, sj = structure[i], structure[j]
        dist = structure.get_distance(i, j) if i != j else min(structure.lattice.abc)
        raise UnphysicalStructureError(
            f"{name}: overlapping atoms {si.specie}{i} and {sj.specie}{j} at {dist:.2f} Å "
            f"(< {OVERLAP_FRACTION:.0%} of the sum of their atomic radii); fix the coordinates"
        )
