"""Identity of a material: a canonical form, a stable hash, and ASE interop at the engine boundary."""

from __future__ import annotations

import hashlib
import json

import numpy as np
from ase import Atoms
from pymatgen.core import Element, Molecule, Structure
from pymatgen.io.ase import AseAtomsAdaptor

from mattwin.errors import MaterialReadError, UnphysicalStructureError
from mattwin.materials.checks import lattice_problem


def check_elements(sites: Structure | Molecule, name: str) -> None:
    """Raise :class:`MaterialReadError` naming ``name`` for a site that is not a chemical element
    (a dummy ``X``, a ghost, an unknown symbol)."""
    for i, site in enumerate(sites):
        if site.is_ordered and not Element.is_valid_symbol(site.specie.symbol):
            raise MaterialReadError(
                f"{name}: site {i} is {site.specie.symbol!r}, not a chemical element; give element symbols"
            )


def _first_disordered_site(structure: Structure) -> str:
    for i, site in enumerate(structure):
        if not site.is_ordered:
            return f"{i} ({site.species})"
    return "?"


def canonical(structure: Structure) -> Structure:
    """A copy with a right-handed lattice, plain elements (no oxidation states) and fractional
    coordinates wrapped to [0, 1).

    A left-handed lattice (negative determinant) flips the sign of the stress that several MLIPs
    return, which makes cell relaxations run uphill; so every structure entering mattwin is
    turned right-handed here by negating all three lattice vectors and the fractional
    coordinates, which leaves every Cartesian position and the periodic lattice unchanged.
    A pymatgen ``Molecule`` is returned as a plain copy (:mod:`mattwin.materials.molecules`).

    Raises :class:`MaterialReadError` for partially occupied sites and
    :class:`UnphysicalStructureError` for a non-finite or degenerate (coplanar) lattice.
    """
    if isinstance(structure, Molecule):
        from mattwin.materials.molecules import canonical_molecule

        return canonical_molecule(structure)  # type: ignore[return-value]
    formula = structure.composition.reduced_formula
    if not structure.is_ordered:
        raise MaterialReadError(
            f"{formula}: disordered site {_first_disordered_site(structure)}; order it first, "
            "e.g. with pymatgen's OrderDisorderedStructureTransformation"
        )
    check_elements(structure, formula)
    matrix = np.array(structure.lattice.matrix)
    problem = lattice_problem(matrix, max_length=None)
    if problem:
        raise UnphysicalStructureError(f"{formula}: {problem}; check the lattice vectors")
    frac = np.array(structure.frac_coords)
    if np.linalg.det(matrix) < 0:
        matrix, frac = -matrix, -frac
    # identity is the structure, not a decoration: oxidation states are dropped
    species = [Element(site.specie.symbol) for site in structure]
    props = {k: v for k, v in structure.site_properties.items() if k in ("magmom", "selective_dynamics")}
    out = Structure(matrix, species, np.mod(frac, 1.0), site_properties=props or None)
    return out


def material_id(structure: Structure | Molecule, decimals: int = 3) -> str:
    """A stable 16-hex-digit hash of species, cell (Å) and positions rounded to ``decimals``.

    Two structures with the same id are the same calculation input; the looser "same material"
    test (symmetry-equivalent settings, small displacements) is
    :func:`mattwin.discovery.dedup.deduplicate`. Molecules: :func:`mattwin.materials.molecules.molecule_id`.
    """
    if isinstance(structure, Molecule):
        from mattwin.materials.molecules import molecule_id

        return molecule_id(structure)
    s = canonical(structure)
    frac = np.mod(np.round(s.frac_coords, decimals), 1.0)
    frac = np.where(np.isclose(frac, 1.0, atol=10.0**-decimals), 0.0, frac)
    rows = sorted(
        (str(site.specie), *[f"{x:.{decimals}f}" for x in f]) for site, f in zip(s, frac, strict=True)
    )
    payload = {
        "lattice": [[f"{x:.{decimals}f}" for x in row] for row in s.lattice.matrix],
        "sites": rows,
    }
    digest = hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()
    return digest[:16]


def to_atoms(structure: Structure | Molecule) -> Atoms:
    """ASE ``Atoms`` of a structure (periodic in 3D); of a ``Molecule``: non-periodic, no cell."""
    if isinstance(structure, Molecule):
        from mattwin.materials.molecules import molecule_to_atoms

        return molecule_to_atoms(structure)
    atoms = AseAtomsAdaptor.get_atoms(canonical(structure))
    atoms.pbc = True
    return atoms


def from_atoms(atoms: Atoms) -> Structure:
    """A canonical pymatgen ``Structure`` of ASE ``Atoms`` (calculator and constraints dropped);
    :class:`UnphysicalStructureError` for a non-finite or degenerate cell."""
    problem = lattice_problem(atoms.cell.array, max_length=None)
    if problem:
        raise UnphysicalStructureError(
            f"{atoms.get_chemical_formula()}: {problem}; check the lattice vectors"
        )
    plain = Atoms(atoms.get_chemical_symbols(), positions=atoms.positions, cell=atoms.cell, pbc=True)
    return canonical(AseAtomsAdaptor.get_structure(plain))
