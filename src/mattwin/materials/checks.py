"""Checks that an input is physical before an engine sees it."""

from __future__ import annotations

import numpy as np
from pymatgen.core import Element, Molecule, Structure

from mattwin.errors import UnphysicalStructureError

#: Two atoms closer than this fraction of the sum of their covalent radii overlap.
OVERLAP_FRACTION = 0.5
#: Cells with less volume per atom than this (Å^3) are collapsed.
MIN_VOLUME_PER_ATOM = 2.0


def _radius(symbol: str) -> float:
    r = Element(symbol).atomic_radius_calculated or Element(symbol).atomic_radius
    return float(r) if r is not None else 1.0


def min_distance_ratio(structure: Structure) -> tuple[float, int, int]:
    """Smallest (distance / sum of atomic radii) over all pairs, with the two site indices."""
    if len(structure) < 2 and structure.lattice.volume > 0:
        d = min(structure.lattice.abc)
        r = 2 * _radius(structure[0].specie.symbol)
        return d / r, 0, 0
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


def _check_molecule(mol: Molecule, name: str) -> None:
    """Non-finite coordinates or overlapping atoms of a molecule (no cell to check)."""
    if not np.all(np.isfinite(mol.cart_coords)):
        raise UnphysicalStructureError(f"{name}: non-finite coordinates")
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


def check_physical(structure: Structure | Molecule, name: str = "structure") -> None:
    """Raise :class:`UnphysicalStructureError` naming ``name`` for overlapping atoms, collapsed
    cells or non-finite coordinates."""
    if len(structure) == 0:
        raise UnphysicalStructureError(f"{name}: has no atoms")
    if isinstance(structure, Molecule):
        _check_molecule(structure, name)
        return
    if not np.all(np.isfinite(structure.cart_coords)) or not np.all(np.isfinite(structure.lattice.matrix)):
        raise UnphysicalStructureError(f"{name}: non-finite coordinates or lattice")
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
