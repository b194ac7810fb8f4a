"""Evolutionary crystal-structure search for one composition (energies eV/atom, lengths Å).

A population of relaxed structures evolves by four operators, in the spirit of USPEX (Glass,
Oganov, Hansen, Comput. Phys. Commun. 175, 713 (2006)) and Deaven-Ho cut-and-splice:

- **heredity** (cut-and-splice): the part of parent A below a random fractional plane and the part
  of parent B above it, in the mean of their lattices; the composition is then repaired;
- **permutation**: swaps of unlike atoms;
- **lattice strain**: a random symmetric strain (standard deviation :data:`STRAIN_SD`);
- **mutation**: random displacements of every atom (:data:`RATTLE_SD` Å).

Each generation's children are relaxed in one call of a ``relax`` function (a batch: on the MLIP path
:func:`mlip_relaxer` sends them through the runtime, batched and cached in the store), and the
lowest-energy distinct structures survive. :class:`IonicPotential` is an analytic Born-Mayer plus
Coulomb (damped shifted force, Fennell & Gezelter, J. Chem. Phys. 124, 234104 (2006)) potential for
fast, honest tests of the search on ionic solids, with :func:`ase_relaxer` to relax with it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from pymatgen.core import Composition, Lattice, Structure

from mattwin.errors import CampaignError

__all__ = [
    "EvolutionResult",
    "IonicPotential",
    "ase_relaxer",
    "evolutionary_search",
    "mlip_relaxer",
    "random_structure",
]

#: standard deviation of the lattice-strain operator's strain components
STRAIN_SD = 0.12
#: standard deviation (Å) of the mutation operator's displacements
RATTLE_SD = 0.6
#: shortest interatomic distance (Å) accepted in a start or child structure
MIN_DISTANCE = 1.2
#: share of each later generation that is fresh structures when the search is given ``immigrants``
#: (USPEX's default random fraction, fracRand 0.2, as recalled from its manual: not tuned here)
IMMIGRANT_SHARE = 0.2

#: relax(structures) -> [(relaxed structure, energy per atom eV) or None if it failed], one per input
Relaxer = Callable[[list[Structure]], list[tuple[Structure, float] | None]]


@dataclass
class EvolutionResult:
    """The best structure found, its energy (eV/atom) and the search's record."""

    composition: str
    best: Structure
    best_energy_per_atom: float
    n_relaxations: int
    #: per generation: the best energy so far (eV/atom)
    history: list[float] = field(default_factory=list)
    #: relaxation index (1-based) at which the final best structure was first found
    found_at: int = 0
    population: list[tuple[Structure, float]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "composition": self.composition,
            "best_energy_per_atom_eV": self.best_energy_per_atom,
            "n_relaxations": self.n_relaxations,
            "found_at": self.found_at,
            "history_eV_per_atom": self.history,
            "best_structure": self.best.as_dict(),
        }


# ---------------------------------------------------------------------------- structures
def _too_close(structure: Structure, dmin: float = MIN_DISTANCE) -> bool:
    if len(structure) < 2:
        return False
    d = structure.distance_matrix
    np.fill_diagonal(d, np.inf)
    return bool(d.min() < dmin)


def random_structure(
    species: Sequence[str], rng: np.random.Generator, volume: float, max_tries: int = 200
) -> Structure:
    """A random P1 structure: random cell of ``volume`` Å^3 (angles 60-120°, axis ratios up to 2)
    and random positions at least :data:`MIN_DISTANCE` Å apart."""
    for _ in range(max_tries):
        abc = rng.uniform(1.0, 2.0, 3)
        angles = rng.uniform(60, 120, 3)
        try:
            lat = Lattice.from_parameters(*abc, *angles)
        except ValueError:
            continue
        if not np.isfinite(lat.volume) or lat.volume < 0.3 * float(np.prod(abc)):
            continue
        lat = lat.scale(volume)
        s = Structure(lat, list(species), rng.random((len(species), 3)))
        if not _too_close(s):
            return s
    raise CampaignError(
        f"no random start for {Composition(''.join(species)).reduced_formula}; raise the volume"
    )


def _repair(species: list[str], coords: np.ndarray, target: Sequence[str], rng: np.random.Generator) -> tuple:
    """Make the multiset of ``species`` equal ``target``: surplus atoms change to missing species."""
    want: dict[str, int] = {}
    for s in target:
        want[s] = want.get(s, 0) + 1
    have: dict[str, list[int]] = {}
    for i, s in enumerate(species):
        have.setdefault(s, []).append(i)
    surplus: list[int] = []
    for s, idx in have.items():
        extra = len(idx) - want.get(s, 0)
        if extra > 0:
            surplus += list(rng.choice(idx, extra, replace=False))
    missing = [s for s, n in want.items() for _ in range(n - len(have.get(s, [])))]
    rng.shuffle(missing)
    species = list(species)
    for i, s in zip(surplus, missing, strict=False):
        species[i] = s
    keep = [i for i in range(len(species)) if i not in set(surplus[len(missing) :])]
    species = [species[i] for i in keep]
    coords = coords[keep]
    for s in missing[len(surplus) :]:  # still short: add at random positions
        species.append(s)
        coords = np.vstack([coords, rng.random(3)])
    return species, coords


def heredity(a: Structure, b: Structure, rng: np.random.Generator) -> Structure:
    """Cut-and-splice: A's atoms below a random fractional plane, B's above (shifted at random)."""
    axis = int(rng.integers(3))
    cut = float(rng.uniform(0.3, 0.7))
    shift_b = rng.random(3)
    lat = Lattice((a.lattice.matrix + b.lattice.matrix) / 2)
    fa = a.frac_coords % 1.0
    fb = (b.frac_coords + shift_b) % 1.0
    take_a = fa[:, axis] < cut
    take_b = fb[:, axis] >= cut
    species = [str(s.specie) for s, t in zip(a, take_a, strict=True) if t]
    species += [str(s.specie) for s, t in zip(b, take_b, strict=True) if t]
    coords = np.vstack([fa[take_a], fb[take_b]])
    species, coords = _repair(species, coords, [str(s.specie) for s in a], rng)
    return Structure(lat, species, coords)


def permutation(a: Structure, rng: np.random.Generator) -> Structure:
    """Swap one to three pairs of unlike atoms."""
    s = a.copy()
    labels = [str(site.specie) for site in s]
    if len(set(labels)) < 2:
        return s
    for _ in range(int(rng.integers(1, 4))):
        i = int(rng.integers(len(s)))
        others = [j for j in range(len(s)) if labels[j] != labels[i]]
        j = int(rng.choice(others))
        labels[i], labels[j] = labels[j], labels[i]
    return Structure(s.lattice, labels, s.frac_coords)


def lattice_strain(a: Structure, rng: np.random.Generator) -> Structure:
    """(I + e) applied to the lattice, e symmetric with N(0, STRAIN_SD) components; volume kept."""
    e = rng.normal(0, STRAIN_SD, (3, 3))
    e = (e + e.T) / 2
    m = a.lattice.matrix @ (np.eye(3) + e)
    s = Structure(Lattice(m), a.species, a.frac_coords)
    s.scale_lattice(a.volume)
    return s


def mutation(a: Structure, rng: np.random.Generator) -> Structure:
    """Every atom displaced by N(0, RATTLE_SD) Å in each direction."""
    cart = a.cart_coords + rng.normal(0, RATTLE_SD, (len(a), 3))
    return Structure(a.lattice, a.species, cart, coords_are_cartesian=True)


# ---------------------------------------------------------------------------- the search
def _volume_guess(species: Sequence[str]) -> float:
    """Sum of atomic volumes from pymatgen's atomic radii times 2.5 (a loose start), Å^3."""
    from pymatgen.core import Element

    vol = 0.0
    for s in species:
        r = Element(s).atomic_radius or 1.5
        vol += 4 / 3 * math.pi * float(r) ** 3
    return 2.5 * vol


def evolutionary_search(
    composition: Composition | str,
    relax: Relaxer,
    *,
    formula_units: int = 2,
    population: int = 8,
    generations: int = 6,
    seed: int = 0,
    starts: Sequence[Structure] = (),
    stop_energy: float | None = None,
    fill_random: bool = True,
    immigrants: Callable[[int], Sequence[Structure]] | None = None,
    immigrant_share: float = IMMIGRANT_SHARE,
) -> EvolutionResult:
    """Search the lowest-energy structure of ``composition`` with ``formula_units`` per cell.

    Generation 0 is ``starts`` (e.g. substitution or PyXtal candidates) topped up with random P1
    structures (:func:`random_structure`) to ``population`` (unless ``fill_random`` is False).
    Each later generation makes ``population`` children from tournament-selected parents: 40 %
    heredity, 20 % permutation, 20 % lattice strain, 20 % mutation; children with atoms closer
    than :data:`MIN_DISTANCE` Å are remade.
    After relaxing, the ``population`` lowest-energy distinct structures (pymatgen StructureMatcher)
    survive. Stops early when the best energy reaches ``stop_energy`` (eV/atom). Deterministic for a
    seed and a deterministic ``relax`` (and ``immigrants``).

    With ``immigrants`` (a function giving up to n new structures, e.g. symmetric PyXtal random ones),
    ``immigrant_share`` of each later generation are fresh structures from it instead of children, as
    USPEX's random fraction keeps a population diverse; the rest are bred as above.
    """
    from mattwin.discovery.dedup import DuplicateFilter

    comp = Composition(composition).reduced_composition
    if formula_units < 1 or population < 2 or generations < 0:
        raise CampaignError(
            f"evolutionary search of {comp.reduced_formula}: formula_units, population (>= 2) and "
            "generations must be positive"
        )
    species = [el.symbol for el, n in comp.items() for _ in range(round(n) * formula_units)]
    rng = np.random.default_rng(seed)
    volume = _volume_guess(species)
    n_relax = 0
    best: tuple[Structure, float] | None = None
    found_at = 0
    history: list[float] = []
    pool: list[tuple[Structure, float]] = []

    def evaluate(children: list[Structure]) -> None:
        nonlocal n_relax, best, found_at
        results = relax(children)
        for r in results:
            n_relax += 1
            if r is None or not math.isfinite(r[1]):
                continue
            pool.append(r)
            if best is None or r[1] < best[1] - 1e-6:
                best, found_at = r, n_relax

    gen0 = [s.copy() for s in starts][:population]
    while len(gen0) < (population if fill_random or not gen0 else 0):
        gen0.append(random_structure(species, rng, volume))
    evaluate(gen0)
    survivors = _select(pool, population, DuplicateFilter)
    history.append(best[1] if best else math.inf)
    for _ in range(generations):
        if best is not None and stop_energy is not None and best[1] <= stop_energy:
            break
        if len(survivors) < 2:
            survivors += [(random_structure(species, rng, volume), math.inf)]
        children: list[Structure] = []
        if immigrants is not None:
            want = max(1, round(immigrant_share * population))
            children += [c.copy() for c in immigrants(want)][:want]
        while len(children) < population:
            a = _tournament(survivors, rng)
            r = rng.random()
            if r < 0.4:
                b = _tournament(survivors, rng)
                child = heredity(a, b, rng)
            elif r < 0.6:
                child = permutation(a, rng)
            elif r < 0.8:
                child = lattice_strain(a, rng)
            else:
                child = mutation(a, rng)
            if not _too_close(child) and sorted(str(s.specie) for s in child) == sorted(species):
                children.append(child)
        evaluate(children)
        survivors = _select(pool, population, DuplicateFilter)
        history.append(best[1] if best else math.inf)
    if best is None:
        raise CampaignError(f"evolutionary search of {comp.reduced_formula}: every relaxation failed")
    return EvolutionResult(comp.reduced_formula, best[0], best[1], n_relax, history, found_at, survivors)


def _select(pool: list[tuple[Structure, float]], n: int, dedup: Any) -> list[tuple[Structure, float]]:
    seen = dedup()
    out = []
    for s, e in sorted(pool, key=lambda t: t[1]):
        if seen.add(s):
            out.append((s, e))
        if len(out) >= n:
            break
    return out


def _tournament(survivors: list[tuple[Structure, float]], rng: np.random.Generator) -> Structure:
    i, j = rng.integers(len(survivors), size=2)
    return survivors[min(int(i), int(j))][0]  # survivors are sorted by energy


# ---------------------------------------------------------------------------- relaxers
from ase.calculators.calculator import Calculator, all_changes  # noqa: E402


class IonicPotential(Calculator):  # type: ignore[misc]
    """Born-Mayer repulsion A exp(-r/rho) between unlike ions plus Coulomb (damped shifted force,
    alpha 0.2 /Å, cutoff ``cutoff`` Å) between formal charges; an ASE calculator (eV, eV/Å, eV/Å^3).

    ``charges``: element -> formal charge (e); ``pairs``: (element, element) -> (A eV, rho Å).
    :meth:`nacl` has rho = 0.317 Å and A fitted so that rock salt has a = 5.64 Å (A ~ 1.2 keV).
    """

    implemented_properties = ["energy", "free_energy", "forces", "stress"]
    _k = 14.399645  # e^2 / (4 pi eps0), eV Å

    def __init__(
        self,
        charges: Mapping[str, float],
        pairs: Mapping[tuple[str, str], tuple[float, float]],
        cutoff: float = 10.0,
        alpha: float = 0.2,
    ) -> None:
        super().__init__()
        self.charges = dict(charges)
        self.pairs = {tuple(sorted(k)): v for k, v in pairs.items()}
        self.cutoff, self.alpha = cutoff, alpha

    @classmethod
    def nacl(cls) -> IonicPotential:
        return cls({"Na": 1.0, "Cl": -1.0}, {("Na", "Cl"): (1222.0, 0.317)})

    def calculate(self, atoms: Any = None, properties: Any = None, system_changes: Any = all_changes) -> None:
        super().calculate(atoms, properties, system_changes)
        self._compute(self.atoms)

    def _compute(self, atoms: Any) -> None:
        from ase.neighborlist import neighbor_list
        from scipy.special import erfc

        i, j, d, vec = neighbor_list("ijdD", atoms, self.cutoff)
        sym = atoms.get_chemical_symbols()
        q = np.array([self.charges[s] for s in sym])
        kinds = sorted(set(sym) | {e for pair in self.pairs for e in pair})
        code = np.array([kinds.index(s) for s in sym])
        n = len(kinds)
        amp_t, rho_t = np.zeros((n, n)), np.ones((n, n))
        for (x, y), (amp, r0) in self.pairs.items():
            a, b = kinds.index(x), kinds.index(y)
            amp_t[a, b] = amp_t[b, a] = amp
            rho_t[a, b] = rho_t[b, a] = r0
        a_par, rho = amp_t[code[i], code[j]], rho_t[code[i], code[j]]
        al, rc, k = self.alpha, self.cutoff, self._k
        qq = k * q[i] * q[j]
        shift = math.erfc(al * rc) / rc**2 + 2 * al / math.sqrt(math.pi) * math.exp(-(al**2) * rc**2) / rc
        e_c = qq * (erfc(al * d) / d - math.erfc(al * rc) / rc + shift * (d - rc))
        de_c = qq * (-erfc(al * d) / d**2 - 2 * al / math.sqrt(math.pi) * np.exp(-(al**2) * d**2) / d + shift)
        e_r = a_par * np.exp(-d / rho)
        de_r = -e_r / rho
        de = de_c + de_r
        self_e = -(math.erfc(al * rc) / (2 * rc) + al / math.sqrt(math.pi)) * k * float((q**2).sum())
        energy = 0.5 * float((e_c + e_r).sum()) + self_e
        fvec = (de / d)[:, None] * vec  # force on i from j (attractive when de > 0)
        forces = np.zeros((len(atoms), 3))
        np.add.at(forces, i, fvec)
        vol = atoms.get_volume()
        stress = 0.5 * np.einsum("p,pa,pb->ab", de / d, vec, vec) / vol
        voigt = np.array([stress[0, 0], stress[1, 1], stress[2, 2], stress[1, 2], stress[0, 2], stress[0, 1]])
        self.results = {"energy": energy, "free_energy": energy, "forces": forces, "stress": voigt}


def ase_relaxer(make_calc: Callable[[], Any], fmax: float = 0.02, max_steps: int = 400) -> Relaxer:
    """Relax one structure after the other with an ASE calculator (cell and positions, FIRE on a
    UnitCellFilter); for analytic potentials. A relaxation that raises gives None."""
    from ase.filters import UnitCellFilter
    from ase.optimize import FIRE
    from pymatgen.io.ase import AseAtomsAdaptor

    def relax(structures: list[Structure]) -> list[tuple[Structure, float] | None]:
        out: list[tuple[Structure, float] | None] = []
        for s in structures:
            atoms = AseAtomsAdaptor.get_atoms(s)
            atoms.calc = make_calc()
            try:
                FIRE(UnitCellFilter(atoms), logfile=None).run(fmax=fmax, steps=max_steps)
                e = float(atoms.get_potential_energy()) / len(atoms)
                out.append((AseAtomsAdaptor.get_structure(atoms), e) if math.isfinite(e) else None)
            except Exception:  # noqa: BLE001 - one bad child never sinks the search
                out.append(None)
        return out

    return relax


def mlip_relaxer(
    engine: str, store: Any, fmax: float = 0.05, max_steps: int = 300, execution: Any = None
) -> Relaxer:
    """Relax a generation through the runtime (batched MLIP relaxation, cached in ``store``, resumable)."""
    from mattwin.runtime.execute import execute
    from mattwin.runtime.jobs import Job

    params = {"fmax": fmax, "max_steps": max_steps, "relax_cell": True}

    def relax(structures: list[Structure]) -> list[tuple[Structure, float] | None]:
        jobs = [Job("relax", s, engine, params, label=f"evolution {i}") for i, s in enumerate(structures)]
        out: list[tuple[Structure, float] | None] = []
        for o in execute(jobs, store, execution):
            if o.ok and o.result:
                out.append(
                    (Structure.from_dict(o.result["structure"]), float(o.result["energy_per_atom_eV"]))
                )
            else:
                out.append(None)
        return out

    return relax
