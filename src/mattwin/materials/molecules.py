"""Molecules: read XYZ files (no cell) or SMILES (RDKit ETKDG embedding + MMFF94 clean-up) into a
pymatgen ``Molecule`` with its charge and spin multiplicity; identity hash and ASE interop.

A molecule is a material like a crystal: it enters the runtime as the ``structure`` of a
:class:`mattwin.runtime.jobs.Job`, is hashed by :func:`molecule_id` (species, positions in Å rounded,
charge, multiplicity) and stored by :meth:`mattwin.store.Store.put_material`.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np
from ase import Atoms
from pymatgen.core import Element, Molecule

from mattwin.errors import MaterialReadError
from mattwin.materials.identity import check_elements

_XYZ = {".xyz", ".extxyz"}


def _n_electrons(mol: Molecule, charge: int) -> int:
    return int(sum(Element(s.specie.symbol).Z for s in mol)) - charge


def _default_multiplicity(mol: Molecule, charge: int) -> int:
    return 1 if _n_electrons(mol, charge) % 2 == 0 else 2


def _check_charge_spin(mol: Molecule, charge: int, mult: int, name: str) -> None:
    """Raise :class:`MaterialReadError` unless ``charge`` and ``mult`` (2S+1) fit the electron count."""
    n = _n_electrons(mol, charge)
    if n < 1:
        raise MaterialReadError(
            f"{name}: charge {charge} leaves {n} electrons; give a charge below {n + charge}"
        )
    if mult < 1 or mult > n + 1:
        raise MaterialReadError(
            f"{name}: spin multiplicity {mult} is impossible with {n} electrons; "
            f"give 2S+1 between 1 and {n + 1}"
        )
    if (n + mult) % 2 == 0:
        parity, allowed = ("even", "odd (1, 3, ...)") if n % 2 == 0 else ("odd", "even (2, 4, ...)")
        raise MaterialReadError(
            f"{name}: charge {charge} and multiplicity {mult} do not fit: {n} electrons is {parity}, "
            f"so the multiplicity must be {allowed}; change --charge or --multiplicity"
        )


def with_charge_spin(
    mol: Molecule, charge: int = 0, spin_multiplicity: int | None = None, name: str | None = None
) -> Molecule:
    """A copy of ``mol`` with ``charge`` (e) and ``spin_multiplicity`` (2S+1; default: lowest).

    Raises :class:`MaterialReadError` naming ``name`` (default: the formula) when they do not fit
    the electron count (no electrons left, multiplicity below 1, above n+1 or of the wrong parity)."""
    label = name or molecule_formula(mol)
    check_elements(mol, label)
    mult = _default_multiplicity(mol, charge) if spin_multiplicity is None else int(spin_multiplicity)
    _check_charge_spin(mol, charge, mult, label)
    try:
        return Molecule(
            [s.specie.symbol for s in mol],
            mol.cart_coords,
            charge=charge,
            spin_multiplicity=mult,
            properties=dict(mol.properties) if mol.properties else None,
        )
    except ValueError as exc:
        raise MaterialReadError(f"{label}: {exc}") from exc


def canonical_molecule(mol: Molecule) -> Molecule:
    """A copy with plain elements, the same Cartesian positions (Å), charge and multiplicity."""
    return with_charge_spin(mol, int(mol.charge), int(mol.spin_multiplicity))


def molecule_id(mol: Molecule, decimals: int = 4) -> str:
    """A stable 16-hex-digit hash of species, Cartesian positions (Å, rounded to ``decimals``, in
    input order and orientation), charge, spin multiplicity and embedding point charges
    (``properties["point_charges"]``, if any)."""
    rows = [
        (site.specie.symbol, *[f"{x:.{decimals}f}" for x in np.round(site.coords, decimals) + 0.0])
        for site in mol
    ]
    payload: dict[str, object] = {
        "molecule": rows,
        "charge": int(mol.charge),
        "multiplicity": int(mol.spin_multiplicity),
    }
    pcs = (mol.properties or {}).get("point_charges")
    if pcs:  # an embedded cluster: the point charges are part of the input
        payload["point_charges"] = np.round(np.asarray(pcs, dtype=float), decimals).tolist()
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]


def molecule_to_atoms(mol: Molecule) -> Atoms:
    """Non-periodic ASE ``Atoms``; ``info["charge"]`` and ``info["spin_multiplicity"]`` carried along."""
    atoms = Atoms([s.specie.symbol for s in mol], positions=mol.cart_coords, pbc=False)
    atoms.info["charge"] = int(mol.charge)
    atoms.info["spin_multiplicity"] = int(mol.spin_multiplicity)
    return atoms


def molecule_from_atoms(
    atoms: Atoms, charge: int | None = None, spin_multiplicity: int | None = None, name: str | None = None
) -> Molecule:
    """A pymatgen ``Molecule`` of ASE ``Atoms`` (cell ignored); charge/multiplicity from arguments,
    else from ``atoms.info``, else neutral lowest-spin. ``name`` labels errors."""
    label = name or atoms.get_chemical_formula()
    q = _whole(charge if charge is not None else atoms.info.get("charge", 0), "charge", label)
    mult = spin_multiplicity if spin_multiplicity is not None else atoms.info.get("spin_multiplicity")
    mol = Molecule(atoms.get_chemical_symbols(), atoms.positions)
    return with_charge_spin(
        mol, q, None if mult is None else _whole(mult, "spin_multiplicity", label), name=label
    )


def _whole(value: Any, what: str, label: str) -> int:
    """``value`` as an int; :class:`MaterialReadError` for 1.5, inf, nan or text."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = float("nan")
    if not number.is_integer():
        raise MaterialReadError(f"{label}: {what}={value!r} is not a whole number; fix the XYZ comment line")
    return int(number)


def molecule_from_smiles(
    smiles: str, charge: int | None = None, spin_multiplicity: int | None = None, seed: int = 0xF00D
) -> Molecule:
    """3D geometry of a SMILES string: RDKit adds hydrogens, embeds with ETKDG (``seed``) and
    optimises with MMFF94 (UFF when MMFF lacks parameters). Charge defaults to the SMILES formal charge."""
    from rdkit import Chem, RDLogger
    from rdkit.Chem import AllChem as _AllChem

    AllChem: Any = _AllChem  # RDKit's stubs miss most of AllChem
    RDLogger.DisableLog("rdApp.*")  # type: ignore[attr-defined]
    rd = Chem.MolFromSmiles(smiles)
    if rd is None:
        raise MaterialReadError(f"{smiles!r}: not a valid SMILES string (RDKit cannot parse it)")
    rd = Chem.AddHs(rd)
    params = AllChem.ETKDGv3()
    params.randomSeed = seed
    if AllChem.EmbedMolecule(rd, params) != 0:
        raise MaterialReadError(f"{smiles!r}: RDKit ETKDG could not embed a 3D geometry")
    if AllChem.MMFFHasAllMoleculeParams(rd):
        AllChem.MMFFOptimizeMolecule(rd, maxIters=2000)
    else:
        AllChem.UFFOptimizeMolecule(rd, maxIters=2000)
    pos = rd.GetConformer().GetPositions()
    symbols = [a.GetSymbol() for a in rd.GetAtoms()]
    q = Chem.GetFormalCharge(rd) if charge is None else charge
    return with_charge_spin(Molecule(symbols, pos), int(q), spin_multiplicity, name=repr(smiles))


def _read_xyz(path: Path) -> Molecule:
    from ase.io import read

    from mattwin.materials.io import check_xyz_frames

    check_xyz_frames(path)
    try:
        atoms = read(path, index=-1, format="extxyz")
    except Exception:
        try:
            atoms = read(path, index=-1, format="xyz")
        except KeyError as exc:
            raise MaterialReadError(f"{path}: unknown element symbol {exc}; fix the XYZ file") from exc
        except Exception as exc:
            raise MaterialReadError(f"{path}: cannot read as XYZ ({exc}); fix the XYZ file") from exc
    if not isinstance(atoms, Atoms) or len(atoms) == 0:
        raise MaterialReadError(f"{path}: XYZ file holds no atoms")
    return molecule_from_atoms(atoms, name=str(path))


def looks_like_smiles(text: str) -> bool:
    """True for a string that is not a file name and reads as a SMILES string."""
    return Path(text).suffix.lower() not in _XYZ and " " not in text.strip() and not Path(text).exists()


def read_molecule(
    source: str | Path, charge: int | None = None, spin_multiplicity: int | None = None
) -> Molecule:
    """A molecule from an XYZ file (Å; extended-XYZ ``charge=``/``spin_multiplicity=`` are read) or
    from a SMILES string. ``charge`` (e) and ``spin_multiplicity`` (2S+1) override what the input says.

    Raises :class:`MaterialReadError` naming the input and the cause (missing file, bad SMILES,
    charge and multiplicity that do not fit the electron count)."""
    from mattwin.materials.io import check_input_file

    text = str(source)
    p = Path(text)
    if p.exists() or p.suffix.lower() in _XYZ or "/" in text:
        check_input_file(p, "molecule file")
        if p.suffix.lower() not in _XYZ:
            raise MaterialReadError(
                f"{p}: a molecule file must be .xyz (or give a SMILES string); "
                "crystals (CIF, POSCAR) go to `mattwin energy`, `relax`, ..."
            )
        mol = _read_xyz(p)
    else:
        return molecule_from_smiles(text, charge, spin_multiplicity)
    q = int(mol.charge) if charge is None else charge
    mult = (
        spin_multiplicity
        if spin_multiplicity is not None
        else (int(mol.spin_multiplicity) if charge is None else None)
    )
    return with_charge_spin(mol, q, mult, name=str(p))


def write_molecule(mol: Molecule, path: str | Path) -> Path:
    """Write ``mol`` as extended XYZ (charge and multiplicity in the comment line)."""
    from ase.io import write

    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    write(p, molecule_to_atoms(mol), format="extxyz")
    return p


def fragments(mol: Molecule, scale: float = 1.2) -> list[list[int]]:
    """Covalently bonded fragments of ``mol`` (atom index lists, sorted by first index): two atoms
    are bonded when closer than ``scale`` times the sum of their covalent radii."""
    from ase.data import covalent_radii
    from scipy.sparse.csgraph import connected_components

    z = [Element(s.specie.symbol).Z for s in mol]
    r = np.array([covalent_radii[i] for i in z])
    d = mol.distance_matrix
    bonded = d < scale * (r[:, None] + r[None, :])
    n, labels = connected_components(bonded, directed=False)
    groups = [list(np.flatnonzero(labels == k).astype(int).tolist()) for k in range(n)]
    return sorted(groups, key=lambda g: g[0])


def molecule_formula(mol: Molecule) -> str:
    """Hill formula without spaces: CH2O, C6H6, H2O."""
    return str(mol.composition.hill_formula).replace(" ", "")
