"""Cluster models cut from a crystal, so a crystal candidate can be checked with a correlated method
(the ``pyscf`` engine takes molecules and clusters only).

Two standard cappings:

* ``hydrogen`` (covalent crystals: Si, diamond, SiO2 ...): every bond from a cluster atom to an
  atom outside the cluster is cut and replaced by a hydrogen link atom along the bond, at the X-H
  bond length (sum of covalent radii; Si-H 1.42-1.48 Å, C-H 1.07-1.09 Å, O-H 0.94-0.97 Å). The
  cluster is neutral: Si(SiH3)4 for diamond Si.
* ``point_charges`` (ionic crystals: MgO, NaCl, oxides): the quantum cluster keeps its ions' formal
  charges (oxidation states from pymatgen's guess unless given) and the other ions of a block of
  (2n+1)^3 unit cells centred on the site become point charges (``Molecule.properties
  ["point_charges"]``, (m, 4): x, y, z in Å and charge in e), which the ``pyscf`` engine adds to the
  one-electron Hamiltonian. Evjen weights (1/2 on faces, 1/4 on edges, 1/8 on corners; Evjen,
  Phys. Rev. 39, 675 (1932)) keep the block neutral, so its Madelung potential converges quickly
  with n. No boundary pseudopotentials are placed (cations next to the cluster are bare point
  charges, which over-polarise the anions at its edge: use larger clusters for quantitative work).

Positions are Cartesian Å, centred on the chosen site.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from ase.data import atomic_numbers, covalent_radii
from pymatgen.core import Molecule, Structure

from mattwin.errors import MaterialReadError
from mattwin.materials.molecules import with_charge_spin

BOND_SCALE = 1.2  # two atoms are bonded when closer than 1.2 x the sum of their covalent radii


@dataclass(frozen=True)
class ClusterModel:
    """The cluster ``molecule`` (charge and multiplicity set; point charges in its properties),
    which crystal sites it holds (``site_indices``), how many link H atoms and point charges."""

    molecule: Molecule
    site_indices: list[int]
    n_link_hydrogens: int
    n_point_charges: int
    capping: str


def _rcov(symbol: str) -> float:
    return float(covalent_radii[atomic_numbers[symbol]])


def _sphere(structure: Structure, center: int, radius: float) -> list[tuple[str, np.ndarray, int, float]]:
    """(symbol, Cartesian position relative to the centre, site index, distance) within ``radius``."""
    c = structure[center].coords
    out = []
    for nb in structure.get_sites_in_sphere(c, radius, include_index=True):
        out.append((nb.specie.symbol, np.asarray(nb.coords) - c, int(nb.index), float(nb.nn_distance)))
    return sorted(out, key=lambda t: t[3])


def _hydrogen_caps(
    structure: Structure, cluster: list[tuple[str, np.ndarray, int, float]], center: int
) -> list[np.ndarray]:
    """Link-H positions (relative to the centre) on every bond leaving the cluster."""
    c0 = np.asarray(structure[center].coords)
    inside = np.array([p for _, p, _, _ in cluster])
    rmax = max(_rcov(e.symbol) for e in structure.composition.elements)
    caps = []
    for sym, pos, _, _ in cluster:
        for nb in structure.get_sites_in_sphere(c0 + pos, BOND_SCALE * (_rcov(sym) + rmax)):
            rel = np.asarray(nb.coords) - c0
            d = float(np.linalg.norm(rel - pos))
            if d < 1e-3 or d > BOND_SCALE * (_rcov(sym) + _rcov(nb.specie.symbol)):
                continue
            if np.min(np.linalg.norm(inside - rel, axis=1)) < 1e-3:
                continue
            caps.append(pos + (rel - pos) / d * (_rcov(sym) + _rcov("H")))
    return caps


def _oxidation_states(structure: Structure, charges: dict[str, float] | None) -> dict[str, float]:
    if charges:
        return {k: float(v) for k, v in charges.items()}
    guesses = structure.composition.oxi_state_guesses()
    if not guesses or all(v == 0 for v in guesses[0].values()):
        raise MaterialReadError(
            f"{structure.composition.reduced_formula}: no formal oxidation states found; give charges= "
            "for point-charge capping (or use hydrogen capping for a covalent crystal)"
        )
    return {k: float(v) for k, v in guesses[0].items()}


def _evjen_charges(
    structure: Structure, center: int, q: dict[str, float], n: int, qm_sites: set[int], radius: float
) -> np.ndarray:
    """(m, 4) point charges (x, y, z relative to the centre, Å; charge e) of the Evjen block of
    (2n+1)^3 cells around site ``center``, the cluster atoms (within ``radius``) left out."""
    half, tol = n + 0.5, 1e-6
    g0 = np.mod(structure.frac_coords - structure.frac_coords[center], 1.0)
    g0 = np.where(g0 > 0.5 + tol, g0 - 1.0, g0)  # each site's image nearest the centre, in [-0.5, 0.5]
    shifts = np.array(np.meshgrid(*[np.arange(-n - 1, n + 2)] * 3, indexing="ij")).reshape(3, -1).T
    charges = np.array([q[site.specie.symbol] for site in structure])
    rows = []
    for i, g in enumerate(g0):
        pts = g + shifts
        inside = np.all(np.abs(pts) <= half + tol, axis=1)
        for p in pts[inside]:
            w = np.prod(np.where(np.abs(np.abs(p) - half) < tol, 0.5, 1.0))
            cart = structure.lattice.get_cartesian_coords(p)
            if np.linalg.norm(cart) < radius + tol and i in qm_sites:
                continue  # this ion is in the quantum cluster
            rows.append([*cart, charges[i] * w])
    return np.array(rows)


def cut_cluster(
    structure: Structure,
    center: int = 0,
    radius: float = 2.6,
    capping: str = "hydrogen",
    embed_cells: int = 2,
    charges: dict[str, float] | None = None,
) -> ClusterModel:
    """The atoms within ``radius`` Å of site ``center`` as a capped cluster (see module docstring).

    ``capping``: ``hydrogen``, ``point_charges`` or ``none``; ``embed_cells``: the point charges fill
    a block of (2n+1)^3 cells centred on the site (Evjen weights on its faces); ``charges``: formal
    charges per element (default: pymatgen's guess)."""
    if capping not in ("hydrogen", "point_charges", "none"):
        raise MaterialReadError(f"unknown capping {capping!r}; use hydrogen, point_charges or none")
    cluster = _sphere(structure, center, radius)
    symbols = [s for s, _, _, _ in cluster]
    coords = [p for _, p, _, _ in cluster]
    props: dict[str, object] = {"source": structure.composition.reduced_formula, "center_site": center}
    n_h = n_pc = 0
    charge = 0
    if capping == "hydrogen":
        caps = _hydrogen_caps(structure, cluster, center)
        symbols += ["H"] * len(caps)
        coords += caps
        n_h = len(caps)
    elif capping == "point_charges":
        q = _oxidation_states(structure, charges)
        charge = int(round(sum(q[s] for s in symbols)))
        pcs = _evjen_charges(structure, center, q, embed_cells, {i for _, _, i, _ in cluster}, radius)
        props["point_charges"] = pcs.round(6).tolist()
        n_pc = len(pcs)
    mol = Molecule(symbols, np.array(coords), properties=props)
    return ClusterModel(
        molecule=with_charge_spin(mol, charge, None),
        site_indices=[i for _, _, i, _ in cluster],
        n_link_hydrogens=n_h,
        n_point_charges=n_pc,
        capping=capping,
    )
