"""QM/MM-style embedding: ONIOM-style subtractive energies with a high-level region in a low-level
environment (Svensson, Humbel, Froese, Matsubara, Sieber, Morokuma, J. Phys. Chem. 100, 19357 (1996)).

    E(ONIOM) = E_low(whole system) + E_high(region) - E_low(region)

The region is a set of atoms (a defect and its shell, an adsorbate and the surface atoms under it).
Bonds cut at the region's border are capped with hydrogen link atoms placed on the cut bond,
``r_link = r_in + g (r_out - r_in)`` with ``g = (r_cov(in) + r_cov(H)) / (r_cov(in) + r_cov(out))``, so
the region is a closed-shell cluster the high-level method can treat; the force on a link atom is
shared between the two atoms of the cut bond by the chain rule ((1 - g) to the inner atom, g to the
outer one), so forces are exact derivatives of the ONIOM energy.

The whole system is periodic (a crystal, a slab) or a molecule in a box; the region is cut out with
minimum-image vectors, so it may straddle the cell boundary. The low level evaluates the region in
a large box (``vacuum`` Å of empty space around it), the high level as an isolated cluster.

Energies in eV, forces in eV/Å.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from ase import Atoms
from ase.calculators.calculator import Calculator, all_changes
from ase.data import covalent_radii
from ase.geometry import find_mic

from mattwin.errors import MattwinError


class EmbeddingError(MattwinError):
    """An embedding region is empty, the whole system, or cuts bonds that cannot be capped."""


@dataclass(frozen=True)
class Link:
    """A cut bond: ``inner`` is in the region, ``outer`` outside; the H link atom sits at
    ``r_inner + g (r_outer - r_inner)`` (positions of the whole system, minimum image)."""

    inner: int
    outer: int
    g: float


def bonded(atoms: Atoms, i: int, j: int, scale: float = 1.25) -> bool:
    """True when atoms ``i`` and ``j`` are closer than ``scale`` times their covalent radii sum."""
    d = atoms.get_distance(i, j, mic=bool(atoms.pbc.any()))
    z = atoms.numbers
    return bool(d < scale * (covalent_radii[z[i]] + covalent_radii[z[j]]))


def select_region(atoms: Atoms, center: int | Sequence[int], radius: float) -> list[int]:
    """Atoms within ``radius`` Å (minimum image) of any of the ``center`` atoms, centres included."""
    centres = [center] if isinstance(center, int) else list(center)
    n = len(atoms)
    if not centres or any(c < 0 or c >= n for c in centres):
        raise EmbeddingError(f"region centre {centres} is not an atom index of a {n}-atom system")
    mic = bool(atoms.pbc.any())
    chosen = set(centres)
    for c in centres:
        d = atoms.get_distances(c, list(range(n)), mic=mic)
        chosen.update(int(i) for i in np.flatnonzero(d <= radius))
    return sorted(chosen)


def find_links(atoms: Atoms, region: Sequence[int], scale: float = 1.25) -> list[Link]:
    """The bonds between ``region`` and the rest, each to be capped by a hydrogen atom.

    Bonds between two hydrogens or from a region hydrogen are not capped (hydrogen makes one bond:
    a cut there means the region was chosen badly) and raise :class:`EmbeddingError`.
    """
    inside = set(region)
    rcov_h = covalent_radii[1]
    links = []
    for i in region:
        for j in range(len(atoms)):
            if j in inside or not bonded(atoms, i, j, scale):
                continue
            if atoms.numbers[i] == 1:
                raise EmbeddingError(
                    f"the region boundary cuts the bond of hydrogen {i} to atom {j} "
                    f"({atoms[j].symbol}); grow the region so that it holds both"
                )
            zi, zj = atoms.numbers[i], atoms.numbers[j]
            g = (covalent_radii[zi] + rcov_h) / (covalent_radii[zi] + covalent_radii[zj])
            links.append(Link(int(i), int(j), float(g)))
    return links


def _whole(atoms: Atoms, region: Sequence[int]) -> np.ndarray:
    """Cartesian positions (Å) of the region atoms made whole across periodic boundaries: each atom
    is placed at the minimum image of its nearest already-placed atom, so a region wider than half
    the cell (a shell around a vacancy) stays in one piece."""
    pos = atoms.positions[list(region)]
    n = len(region)
    vec = np.empty((n, n, 3))  # vec[i, j]: minimum-image vector from region atom i to j
    for k in range(n):
        vec[k], _ = find_mic(pos - pos[k], atoms.cell, atoms.pbc)
    dist = np.linalg.norm(vec, axis=2)
    whole = np.empty((n, 3))
    whole[0] = pos[0]
    placed = np.zeros(n, dtype=bool)
    placed[0] = True
    for _ in range(n - 1):  # Prim's tree: grow along the shortest link to a placed atom
        d = np.where(placed[:, None] & ~placed[None, :], dist, np.inf)
        src, dst = np.unravel_index(np.argmin(d), d.shape)
        whole[dst] = whole[src] + vec[src, dst]
        placed[dst] = True
    return whole


def _unwrapped(atoms: Atoms, region: Sequence[int], links: Sequence[Link]) -> tuple[np.ndarray, np.ndarray]:
    """Cartesian positions (Å) of the region atoms (made whole) and of the link atoms."""
    pos = atoms.positions
    if not atoms.pbc.any():
        inner = pos[list(region)].copy()
        link_pos = [pos[k.inner] + k.g * (pos[k.outer] - pos[k.inner]) for k in links]
        return inner, np.array(link_pos).reshape(-1, 3)
    inner = _whole(atoms, region)
    index = {a: k for k, a in enumerate(region)}
    link_pos = []
    for link in links:
        d, _ = find_mic(pos[link.outer] - pos[link.inner], atoms.cell, atoms.pbc)
        link_pos.append(inner[index[link.inner]] + link.g * d)
    return inner, np.array(link_pos).reshape(-1, 3)


def cluster(atoms: Atoms, region: Sequence[int], links: Sequence[Link], vacuum: float | None = None) -> Atoms:
    """The capped region as ``Atoms``: region atoms first (in ``region`` order), then one H per link.

    With ``vacuum`` (Å) the cluster sits in a periodic box with that much space around it (for
    engines that need a cell); without, it is an isolated molecule (``pbc=False``, no cell).
    """
    inner, link_pos = _unwrapped(atoms, region, links)
    symbols = [atoms[i].symbol for i in region] + ["H"] * len(links)
    out = Atoms(symbols, positions=np.vstack([inner, link_pos]))
    if vacuum is not None:
        out.center(vacuum=vacuum)
        out.pbc = True
    return out


class ONIOMCalculator(Calculator):
    """ASE calculator of the subtractive ONIOM energy and its exact forces.

    ``high``: calculator of the region cluster (isolated molecule, e.g. a PySCF engine's);
    ``low``: calculator of the whole system and of the cluster in a box (an MLIP).
    ``results`` also hold the three parts: ``energy_low_system``, ``energy_high_region`` and
    ``energy_low_region`` (eV).
    """

    implemented_properties = ["energy", "free_energy", "forces"]

    def __init__(
        self,
        high: Calculator,
        low: Calculator,
        region: Sequence[int],
        links: Sequence[Link] | None = None,
        vacuum: float = 10.0,
    ) -> None:
        super().__init__()
        if not region:
            raise EmbeddingError("the high-level region is empty")
        self.high, self.low = high, low
        self.region = list(region)
        self.links = None if links is None else list(links)
        self.vacuum = vacuum

    def _part(self, calc: Calculator, atoms: Atoms) -> tuple[float, np.ndarray]:
        part = atoms.copy()
        part.calc = calc
        return float(part.get_potential_energy()), np.array(part.get_forces())

    def calculate(self, atoms=None, properties=None, system_changes=all_changes):  # type: ignore[no-untyped-def]
        super().calculate(atoms, properties, system_changes)
        system = self.atoms
        if len(self.region) >= len(system):
            raise EmbeddingError("the high-level region is the whole system; run the high level directly")
        if self.links is None:  # fixed at the first geometry, so the energy surface stays smooth
            self.links = find_links(system, self.region)
        links = self.links
        e_sys, f_sys = self._part(self.low, system)
        e_hi, f_hi = self._part(self.high, cluster(system, self.region, links))
        e_lo, f_lo = self._part(self.low, cluster(system, self.region, links, vacuum=self.vacuum))
        delta = f_hi - f_lo
        forces = f_sys.copy()
        n_in = len(self.region)
        forces[self.region] += delta[:n_in]
        for k, link in enumerate(links):
            forces[link.inner] += (1.0 - link.g) * delta[n_in + k]
            forces[link.outer] += link.g * delta[n_in + k]
        energy = e_sys + e_hi - e_lo
        self.results = {
            "energy": energy,
            "free_energy": energy,
            "forces": forces,
            "energy_low_system": e_sys,
            "energy_high_region": e_hi,
            "energy_low_region": e_lo,
            "n_links": len(links),
        }
