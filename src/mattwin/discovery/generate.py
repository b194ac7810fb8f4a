"""The Propose step: candidate crystal structures in a chemical space (lengths in Å, volumes in Å^3).

:func:`propose_candidates` is the full generator that ``mattwin discover`` and ``mattwin generate``
use (version :data:`GENERATOR_VERSION`): compositions with every common oxidation state and mixed
valence (:mod:`mattwin.discovery.compositions`), orbit-resolved and partial ionic substitution
(:func:`orbit_substitution_candidates`), PyXtal random structures for compositions no prototype
fits, and an optional learned proposer (:mod:`mattwin.discovery.proposer`) that reorders.
:func:`generate_candidates` is the earlier substitution-only generator, kept as a baseline.

SMACT screening gives charge-neutral compositions (:func:`charge_balanced_compositions`); ionic
substitution (Hautier et al., Inorg. Chem. 50, 656 (2011)) puts their ions into known structures
(:func:`substitution_candidates`, :func:`prototype_library`); PyXtal gives symmetric random
structures (:func:`random_candidates`). :func:`generate_candidates` combines them, drops duplicates
and known phases and spreads a budget over the formulas. Everything is deterministic for a seed.
"""

from __future__ import annotations

import contextlib
import functools
import gzip
import heapq
import importlib.util
import io
import itertools
import math
import warnings
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import orjson
from pymatgen.analysis.structure_prediction.substitution_probability import SubstitutionProbability
from pymatgen.core import Composition, Element, Species, Structure

from mattwin.discovery.config import GENERATOR_VERSION
from mattwin.discovery.dedup import DuplicateFilter
from mattwin.errors import CampaignError, MattwinError
from mattwin.materials import canonical, check_physical, material_id

__all__ = [
    "GENERATOR_VERSION",
    "Candidate",
    "allocate",
    "charge_balanced_compositions",
    "generate_candidates",
    "orbit_substitution_candidates",
    "propose_candidates",
    "prototype_library",
    "random_candidates",
    "space_group_prior",
    "library_space_groups",
    "substitution_candidates",
]

#: ICSD-2024 oxidation states seen in at least 10 % of an element's compounds ("medium" commonality).
OX_COMMONALITY = "medium"
#: PyXtal volume factor (1.0 = its estimate from atomic radii; random cells come out ~20 % loose).
PYXTAL_FACTOR = 1.0


@dataclass(frozen=True)
class Candidate:
    """A proposed structure (canonical, Å) with its provenance and ranking score.

    ``method`` is "substitution", "random" or "user"; ``score`` is the substitution probability
    (0..1) and 0 for random structures.
    """

    structure: Structure
    origin: str
    method: str
    score: float
    #: (element, states of its sites in ``structure``), from the composition step; () if not assigned
    ox: tuple[tuple[str, tuple[int, ...]], ...] = ()
    #: the cheap rungs' score before the learned proposer reordered (None: not reordered)
    prior: float | None = None

    @property
    def oxidation_states(self) -> dict[str, list[int]]:
        """Element -> oxidation states assigned to its sites (sorted), e.g. {"Fe": [2, 3, 3], ...}."""
        return {el: list(qs) for el, qs in self.ox}

    @property
    def mixed_valence(self) -> list[str]:
        return sorted(el for el, qs in self.ox if len(set(qs)) > 1)

    def to_dict(self) -> dict[str, Any]:
        """The JSON of ``mattwin generate``: formula, oxidation states, method, origin, score, size."""
        return {
            "candidate_id": self.candidate_id,
            "formula": self.formula,
            "oxidation_states": self.oxidation_states,
            "mixed_valence": self.mixed_valence,
            "method": self.method,
            "origin": self.origin,
            "score": self.score,
            "prior_score": self.prior if self.prior is not None else self.score,
            "n_atoms": self.n_atoms,
        }

    @property
    def formula(self) -> str:
        return self.structure.composition.reduced_formula

    @property
    def candidate_id(self) -> str:
        return material_id(self.structure)

    @property
    def n_atoms(self) -> int:
        return len(self.structure)


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Silence warnings and stray prints of pymatgen, SMACT and PyXtal."""
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        yield


def _validate_symbols(symbols: Sequence[str]) -> list[str]:
    bad = [s for s in symbols if not (isinstance(s, str) and Element.is_valid_symbol(s))]
    if bad:
        raise CampaignError(
            f"unknown element symbol(s) {', '.join(map(repr, bad))}; use symbols such as 'Li', 'O'"
        )
    return list(dict.fromkeys(symbols))


def _parse_composition(composition: Composition | str) -> Composition:
    if isinstance(composition, Composition):
        return composition
    try:
        return Composition(composition)
    except (ValueError, KeyError) as exc:
        raise CampaignError(
            f"cannot read composition {composition!r}: {exc}; write it like 'LiFePO4'"
        ) from exc


def _requested(compositions: Sequence[Composition | str], symbols: list[str]) -> list[Composition]:
    """The user-named compositions, parsed and checked to lie inside the chemical space."""
    requested = []
    for text in compositions:
        comp = _parse_composition(text)
        _validate_symbols([e.symbol for e in comp.elements])
        outside = sorted({e.symbol for e in comp.elements} - set(symbols))
        if outside:
            raise CampaignError(
                f"composition {text!r} has {', '.join(outside)} outside the chemical space {symbols}"
            )
        requested.append(comp)
    return requested


# ---------------------------------------------------------------------------- compositions (SMACT)
@functools.lru_cache(maxsize=1)
def _icsd24() -> tuple[dict[str, list[int]], dict[tuple[str, int], float]]:
    """Common oxidation states per element and each state's share of the element's ICSD entries."""
    from smact.utils.oxidation import ICSD24OxStatesFilter

    filt = ICSD24OxStatesFilter()
    common: dict[str, list[int]] = {}
    for row in filt.filter(consensus=3, commonality=OX_COMMONALITY).itertuples():
        common[str(row.element)] = [int(x) for x in str(row.oxidation_state).split()]
    df = filt.ox_states_df
    totals = df.groupby("element")["results_count"].sum()
    share = {
        (str(r.element), int(r.oxidation_state)): float(r.results_count) / max(float(totals[r.element]), 1.0)
        for r in df.itertuples()
    }
    return common, share


@functools.lru_cache(maxsize=256)
def _pauling(symbol: str) -> float | None:
    from smact import Element as SmactElement

    return SmactElement(symbol).pauling_eneg


def _neutral_ratios(ox: Sequence[int], max_coef: int, max_sum: int) -> Iterator[tuple[int, ...]]:
    """Coprime coefficient tuples (each 1..``max_coef``, sum <= ``max_sum``) with zero total charge.

    Same result as ``smact.neutral_ratios`` plus the sum bound, but pruned: the last
    coefficient is solved for, and branches that can no longer reach neutrality are cut.
    """
    k = len(ox)
    lo = [sum(min(q, q * max_coef) for q in ox[i:]) for i in range(k + 1)]
    hi = [sum(max(q, q * max_coef) for q in ox[i:]) for i in range(k + 1)]

    def rec(i: int, charge: int, total: int, coefs: tuple[int, ...]) -> Iterator[tuple[int, ...]]:
        if i == k - 1:
            c, rest = divmod(-charge, ox[i])
            if rest == 0 and 1 <= c <= min(max_coef, max_sum - total) and math.gcd(*coefs, c) == 1:
                yield (*coefs, c)
            return
        for c in range(1, min(max_coef, max_sum - total - (k - i - 1)) + 1):
            q = charge + c * ox[i]
            if lo[i + 1] <= -q <= hi[i + 1]:
                yield from rec(i + 1, q, total + c, (*coefs, c))

    return rec(0, 0, 0, ())


def charge_balanced_compositions(
    elements: Sequence[str], max_atoms: int, max_stoich: int = 8, max_elements: int | None = None
) -> list[tuple[Composition, dict[str, int]]]:
    """Charge-neutral, electronegativity-ordered compositions of every subset of 2+ ``elements``.

    SMACT screening with the common ICSD-2024 oxidation states (seen in >= 10 % of an element's
    ICSD compounds): charge neutrality and ``smact.screening.pauling_test``; stoichiometric
    coefficients up to ``max_stoich``, at most ``max_atoms`` atoms per formula unit and at most
    ``max_elements`` elements (default: all). Each reduced composition comes once, with its most
    common oxidation-state assignment. Sorted by atoms per formula unit, then by how common the
    oxidation states are.
    """
    from smact.screening import pauling_test

    symbols = _validate_symbols(elements)
    common, share = _icsd24()
    best: dict[tuple[tuple[str, ...], tuple[int, ...]], tuple[float, dict[str, int]]] = {}
    with _quiet():
        for k in range(2, min(len(symbols), max_elements or len(symbols)) + 1):
            for subset in itertools.combinations(symbols, k):
                states = [common.get(s, []) for s in subset]
                enegs = [_pauling(s) for s in subset]
                if not all(states) or any(e is None for e in enegs):
                    continue
                for ox in itertools.product(*states):
                    if not pauling_test(list(ox), enegs):
                        continue
                    plaus = math.prod(share.get((s, o), 0.0) for s, o in zip(subset, ox, strict=True))
                    for ratio in _neutral_ratios(ox, max_stoich, max_atoms):
                        if (subset, ratio) not in best or plaus > best[subset, ratio][0]:
                            best[subset, ratio] = (plaus, dict(zip(subset, ox, strict=True)))
    ranked = sorted(best.items(), key=lambda kv: (sum(kv[0][1]), -kv[1][0], kv[0]))
    return [(Composition(dict(zip(subset, ratio, strict=True))), ox) for (subset, ratio), (_, ox) in ranked]


# ---------------------------------------------------------------------------- prototypes
def _package_dir(package: str) -> Path:
    """Folder of an installed package, found without importing it (pymatgen's prototypes import slowly)."""
    spec = importlib.util.find_spec(package)
    return Path(next(iter(spec.submodule_search_locations or []))) if spec else Path(package)


def _decorate(structure: Structure) -> Structure | None:
    """An oxidation-state decorated copy (BVAnalyzer, else the likeliest guess), or None."""
    from pymatgen.analysis.bond_valence import BVAnalyzer

    if not structure.is_ordered or len(structure.composition.elements) < 2:
        return None
    plain = structure.copy()
    plain.remove_oxidation_states()
    try:
        out = BVAnalyzer().get_oxi_state_decorated_structure(plain)
    except (ValueError, KeyError):
        try:
            guesses = plain.composition.oxi_state_guesses(max_sites=-8)
        except (ValueError, KeyError):
            guesses = ()
        if not guesses or any(abs(v - round(v)) > 1e-6 for v in guesses[0].values()):
            return None
        out = plain.copy()
        out.add_oxidation_state_by_element({k: round(v) for k, v in guesses[0].items()})
    if any(not sp.oxi_state for sp in out.composition) or abs(out.charge) > 1e-6:
        return None
    return out


@functools.lru_cache(maxsize=1)
def _builtin_prototypes() -> tuple[tuple[Structure, str], ...]:
    """The AFLOW prototypes and pymatgen's bundled MP structures, decorated (loaded once)."""
    out: list[tuple[Structure, str]] = []
    with _quiet():
        path = _package_dir("pymatgen.analysis.prototypes") / "aflow_prototypes.json.gz"
        for entry in orjson.loads(gzip.decompress(path.read_bytes())):
            tags = entry.get("tags", {})
            structure = _decorate(Structure.from_dict(entry["snl"]))
            if structure is not None:
                mineral = str(tags.get("mineral") or "").split(",")[0].strip()
                name = f"AFLOW {tags.get('aflow', '?')}" + (f" ({mineral})" if mineral else "")
                out.append((structure, f"{name} {structure.composition.reduced_formula}"))
        for path in sorted(_package_dir("pymatgen.util.structures").glob("*.json")):
            try:
                structure = _decorate(Structure.from_file(path))
            except (ValueError, KeyError, TypeError):
                continue
            if structure is not None:
                out.append((structure, f"MP structure {path.stem} (pymatgen)"))
    return tuple(out)


def prototype_library(extra: Sequence[Structure] = ()) -> list[tuple[Structure, str]]:
    """Oxidation-state decorated known structures with labels, to substitute ions into.

    pymatgen's AFLOW prototype library, the Materials Project structures bundled with pymatgen
    (LiFePO4, NaFePO4, Li2O, ...) and ``extra`` (e.g. the campaign's reference phases).
    Disordered structures, single-element ones and those whose oxidation states cannot be
    assigned (BVAnalyzer, else ``Composition.oxi_state_guesses``) are left out.
    """
    out = [(s.copy(), label) for s, label in _builtin_prototypes()]
    with _quiet():
        from pymatgen.symmetry.analyzer import SpacegroupAnalyzer

        for i, structure in enumerate(extra):
            decorated = _decorate(structure)
            if decorated is not None:
                sg = SpacegroupAnalyzer(decorated, symprec=0.1).get_space_group_symbol()
                out.append((decorated, f"reference {decorated.composition.reduced_formula} ({sg}) #{i}"))
    return out


# ---------------------------------------------------------------------------- substitution
def _signature(comp: Composition) -> tuple[int, ...]:
    """Anonymized formula as sorted reduced amounts, e.g. (1, 1, 1, 4) for LiFePO4."""
    ints = [round(a) for a in comp.values()]
    return tuple(sorted(a // math.gcd(*ints) for a in ints))


def _bond_ratios(new: Structure, old: Structure) -> list[float] | None:
    """(r_a + r_b) new / (r_a + r_b) old over the nearest cation-anion bonds of ``old`` (ionic
    radii, Å); None if a radius is unknown."""
    ratios = []
    for i, nbrs in enumerate(old.get_all_neighbors(4.0)):
        dmin = min((n.nn_distance for n in nbrs), default=0.0)
        for n in nbrs:
            if n.nn_distance < 1.2 * dmin and (old[i].specie.oxi_state or 0) * (n.specie.oxi_state or 0) < 0:
                r = [s.specie.ionic_radius for s in (old[i], old[n.index], new[i], new[n.index])]
                if r[0] is None or r[1] is None or r[2] is None or r[3] is None:
                    return None
                ratios.append((r[2] + r[3]) / (r[0] + r[1]))
    return ratios


def _scaled_volume(new: Structure, old: Structure) -> float:
    """Volume (Å^3) of ``new`` (``old`` with substituted ions) keeping nearest cation-anion bond
    lengths proportional to sums of ionic radii; pymatgen's DLS predictor where radii are missing."""
    ratios = _bond_ratios(new, old)
    if ratios:
        return old.volume * math.exp(3 * float(np.mean(np.log(ratios))))
    from pymatgen.analysis.structure_prediction.volume_predictor import DLSVolumePredictor

    try:
        return float(DLSVolumePredictor().predict(new))
    except (ValueError, TypeError):
        return old.volume


def _guess_ox(comp: Composition) -> dict[str, int]:
    """pymatgen's likeliest integer oxidation states of ``comp`` ({} if none)."""
    try:
        guesses = comp.oxi_state_guesses(max_sites=-24)
    except ValueError:
        return {}
    return {k: round(v) for k, v in guesses[0].items()} if guesses else {}


@functools.lru_cache(maxsize=1)
def _model() -> SubstitutionProbability:
    """The substitution model, held here: pymatgen caches it only while referenced (weakly)."""
    return SubstitutionProbability()


@functools.lru_cache(maxsize=65536)
def _cond_prob(new: str, old: str) -> float:
    """Hautier's probability that ion ``new`` takes the place of ion ``old`` (e.g. "Li+", "Na+")."""
    return _model().cond_prob(Species.from_str(new), Species.from_str(old))


def _mappings(proto: Composition, target: dict[Species, float]) -> Iterator[list[tuple[Any, Species]]]:
    """Every (prototype ion, target ion) bijection that turns ``proto`` into a multiple of ``target``."""
    scale = proto.num_atoms / sum(target.values())
    groups: dict[float, tuple[list[Any], list[Species]]] = {}
    for sp, amt in proto.items():
        groups.setdefault(round(amt / scale, 6), ([], []))[0].append(sp)
    for sp, amt in target.items():
        groups.setdefault(round(amt, 6), ([], []))[1].append(sp)
    if any(len(a) != len(b) for a, b in groups.values()):
        return
    per_group = [
        [list(zip(a, p, strict=True)) for p in itertools.permutations(b)] for a, b in groups.values()
    ]
    for combo in itertools.product(*per_group):
        yield [pair for part in combo for pair in part]


def _substitute(proto: Structure, pairs: Sequence[tuple[Species, Species]]) -> Structure | None:
    """``proto`` with its ions replaced, volume rescaled, oxidation states removed; None if unphysical."""
    new = proto.copy()
    new.replace_species(dict(pairs))
    new.scale_lattice(_scaled_volume(new, proto))
    new.remove_oxidation_states()
    new = canonical(new)
    try:
        check_physical(new)
    except MattwinError:
        return None
    return new


def substitution_candidates(
    compositions: Sequence[tuple[Composition, dict[str, int]] | Composition | str],
    prototypes: Sequence[tuple[Structure, str]],
    max_atoms: int,
    threshold: float = 1e-3,
    max_per_composition: int = 10,
) -> list[Candidate]:
    """Ionic substitutions of ``prototypes`` that give the target ``compositions``.

    For each target (composition and oxidation states) and each prototype with the same
    anonymized formula and at most ``max_atoms`` sites, every ion-to-ion mapping that preserves
    the stoichiometry is scored with pymatgen's ``SubstitutionProbability`` (product of the
    conditional probabilities, lambda table shipped with pymatgen); mappings with probability
    >= ``threshold`` are built, rescaled in volume (:func:`_scaled_volume`), checked with
    ``check_physical`` and de-duplicated. The best ``max_per_composition`` per composition are
    kept; the result is sorted by composition order, then by descending probability.
    """
    with _quiet():
        species = _model().species
        by_signature: dict[tuple[int, ...], list[int]] = {}
        for idx, (proto, _) in enumerate(prototypes):
            if len(proto) <= max_atoms and all(sp in species for sp in proto.composition):
                by_signature.setdefault(_signature(proto.composition), []).append(idx)
        out: list[Candidate] = []
        for item in compositions:
            comp = item[0] if isinstance(item, tuple) else _parse_composition(item)
            matches = by_signature.get(_signature(comp))
            if not matches:
                continue
            ox = item[1] if isinstance(item, tuple) else _guess_ox(comp)
            try:
                target = {Species(el, ox[el]): comp[el] for el in (e.symbol for e in comp.elements)}
            except (KeyError, ValueError):
                continue
            if not all(sp in species for sp in target):
                continue
            scored = []
            for idx in matches:
                for pairs in _mappings(prototypes[idx][0].composition, target):
                    prob = math.prod(_cond_prob(str(new), str(old)) for old, new in pairs)
                    if prob >= threshold:
                        scored.append((-prob, prototypes[idx][1], idx, sorted(pairs, key=str)))
            scored.sort(key=lambda t: (t[0], t[1], str(t[3])))
            seen, kept = DuplicateFilter(), 0
            for neg_prob, label, idx, pairs in scored[: 5 * max_per_composition]:
                new = _substitute(prototypes[idx][0], pairs)
                if new is None or not seen.add(new):
                    continue
                changes = ", ".join(f"{a}->{b}" for a, b in pairs if a != b) or "same ions"
                origin = f"substitution of {label}: {changes} (p={-neg_prob:.3g})"
                out.append(Candidate(new, origin, "substitution", -neg_prob))
                kept += 1
                if kept >= max_per_composition:
                    break
    return out


# ---------------------------------------------------------------------------- random (PyXtal)
@functools.lru_cache(maxsize=230)
def _group(sg: int) -> Any:
    from pyxtal.symmetry import Group

    return Group(sg)


@functools.lru_cache(maxsize=1)
def _fast_pyxtal() -> None:
    """PyXtal's Wyckoff merging calls ``check_images`` with a tolerance override but no tolerance
    matrix, and ``check_images`` then builds a new ``Tol_matrix(prototype="atomic")`` each time (about
    9 ms, 35-40 % of the time of a random structure; the matrix is not used when the override is given).
    Hand it one shared matrix: the same structures, faster. Applied once."""
    import pyxtal.symmetry
    from pyxtal.tolerance import Tol_matrix

    original = pyxtal.symmetry.check_images
    shared = Tol_matrix(prototype="atomic")

    def check_images(*args: Any, **kwargs: Any) -> Any:
        if kwargs.get("tm") is None and len(args) < 5:
            kwargs["tm"] = shared
        return original(*args, **kwargs)

    pyxtal.symmetry.check_images = check_images


@functools.lru_cache(maxsize=8192)
def _compatible(sg: int, num_ions: tuple[int, ...]) -> bool:
    return bool(_group(sg).check_compatible(list(num_ions))[0])


def random_candidates(
    composition: Composition | str,
    n: int,
    max_atoms: int,
    seed: int = 0,
    formula_units: Sequence[int] | None = None,
    space_groups: Sequence[int] | None = None,
    attempts_per_structure: int = 20,
    pyxtal_tries: int = 10,
    space_group_weights: Mapping[int, float] | None = None,
) -> list[Candidate]:
    """Up to ``n`` symmetric random structures of ``composition`` from PyXtal.

    Space groups (``space_groups``, default 2-230) are drawn without repetition (in proportion to
    ``space_group_weights`` when given, e.g. :func:`space_group_prior`; uniformly otherwise), each with a
    random number of formula units (``formula_units``, default every Z with at most
    ``max_atoms`` atoms in the conventional cell) compatible with its Wyckoff multiplicities.
    A space group is given up after 3 failed attempts; at most ``attempts_per_structure * n``
    attempts (each PyXtal call trying ``pyxtal_tries`` times) are made in all, so fewer than ``n``
    structures may come back. Structures are reduced to primitive
    cells and checked with ``check_physical``. Reproducible for a given ``seed``.
    """
    from pyxtal import pyxtal

    _fast_pyxtal()
    comp = _parse_composition(composition).reduced_composition
    _validate_symbols([e.symbol for e in comp.elements])
    species = [e.symbol for e in comp.elements]
    per_fu = [round(comp[s]) for s in species]
    zs = list(formula_units) if formula_units else list(range(1, max_atoms // sum(per_fu) + 1))
    zs = [z for z in zs if 0 < z * sum(per_fu) <= max_atoms]
    if not zs:
        raise CampaignError(
            f"{comp.reduced_formula}: {sum(per_fu)} atoms per formula unit exceed max_atoms={max_atoms}"
        )
    groups = list(space_groups) if space_groups else list(range(2, 231))
    rng = np.random.default_rng(seed)
    out: list[Candidate] = []
    failures: dict[int, int] = {}
    attempts = 0
    with _quiet():
        options = {sg: [z for z in zs if _compatible(sg, tuple(z * c for c in per_fu))] for sg in groups}
        options = {sg: z_list for sg, z_list in options.items() if z_list}
        max_attempts = attempts_per_structure * n
        while len(out) < n and options and attempts < max_attempts:
            keys = sorted(options)
            if space_group_weights is None:
                order = rng.permutation(keys)
            else:
                w = np.array([max(float(space_group_weights.get(sg, 0.0)), 1e-12) for sg in keys])
                order = rng.choice(keys, size=len(keys), replace=False, p=w / w.sum())
            for sg in [int(x) for x in order]:
                if len(out) >= n or attempts >= max_attempts:
                    break
                if sg not in options:
                    continue
                attempts += 1
                z = int(rng.choice(options[sg]))
                sub_seed = int(rng.integers(2**31 - 1))
                crystal = pyxtal()
                try:
                    num_ions = [z * c for c in per_fu]
                    kwargs = {"factor": PYXTAL_FACTOR, "max_count": pyxtal_tries, "random_state": sub_seed}
                    crystal.from_random(3, sg, species, num_ions, **kwargs)
                    if not crystal.valid:
                        raise RuntimeError("invalid")
                    structure = canonical(crystal.to_pymatgen().get_primitive_structure())
                    check_physical(structure, f"pyxtal {comp.reduced_formula} sg {sg}")
                except Exception:  # noqa: BLE001 - PyXtal raises many kinds of errors
                    failures[sg] = failures.get(sg, 0) + 1
                    if failures[sg] >= 3:
                        del options[sg]
                    continue
                symbol = _group(sg).symbol
                origin = f"pyxtal random, space group {sg} ({symbol}), Z={z}, seed {sub_seed}"
                out.append(Candidate(structure, origin, "random", 0.0))
    return out


#: space-group numbers of library structures already analysed, by (label, formula, number of sites)
_GROUPS: dict[tuple[str, str, int], int] = {}


def library_space_groups(library: Sequence[tuple[Structure, str]]) -> list[int]:
    """Space-group numbers (symprec 0.1) of a prototype library's structures, 0 where spglib fails;
    remembered by label, so the shipped library is analysed once per process."""
    from pymatgen.symmetry.analyzer import SpacegroupAnalyzer

    out = []
    with _quiet():
        for s, label in library:
            key = (label, s.composition.formula, len(s))
            if key not in _GROUPS:
                try:
                    _GROUPS[key] = SpacegroupAnalyzer(s, symprec=0.1).get_space_group_number()
                except Exception:  # noqa: BLE001 - spglib fails on a few odd cells: no vote
                    _GROUPS[key] = 0
            out.append(_GROUPS[key])
    return out


def space_group_prior(groups: Iterable[int], smoothing: float = 1.0) -> dict[int, float]:
    """Space groups 2-230 weighted by how often they occur in ``groups`` (the space-group numbers of,
    e.g., the known structures a search may learn from), plus ``smoothing`` for every group so that
    none is ruled out: a prior for :func:`random_candidates` that draws the symmetries of known
    crystals more often than uniform sampling does. Group 1 is left out, as in
    :func:`random_candidates`."""
    counts = dict.fromkeys(range(2, 231), float(smoothing))
    for sg in groups:
        if sg in counts:
            counts[sg] += 1.0
    return counts


# ---------------------------------------------------------------------------- the Propose step
def generate_candidates(
    elements: Sequence[str],
    max_atoms: int,
    budget: int,
    *,
    compositions: Sequence[str] = (),
    n_random: int = 0,
    prototypes_extra: Sequence[Structure] = (),
    seed: int = 0,
    exclude: Sequence[Structure] = (),
) -> list[Candidate]:
    """At most ``budget`` distinct candidates with at most ``max_atoms`` atoms in ``elements``' space.

    SMACT compositions -> ionic substitution into :func:`prototype_library` (plus
    ``prototypes_extra``) and ``n_random`` PyXtal structures for each user-named composition in
    ``compositions``. Duplicates and matches of ``exclude`` (the known phases) are dropped. The
    budget is spread round-robin over the formulas: user-named formulas first, then by their best
    substitution probability; within a formula by descending score. Deterministic for a seed.
    """
    symbols = _validate_symbols(elements)
    if not symbols:
        raise CampaignError("empty chemical space: name at least one element")
    if budget <= 0:
        return []
    requested = _requested(compositions, symbols)
    prototypes = prototype_library(prototypes_extra)
    most = max((len(p.composition) for p, _ in prototypes), default=2)  # more ions: no prototype
    targets = charge_balanced_compositions(symbols, max_atoms, max_elements=most)
    # no per-composition cap beyond the budget: the round-robin below spreads the budget
    pool = substitution_candidates(targets, prototypes, max_atoms, max_per_composition=max(10, budget))
    for i, comp in enumerate(requested):
        if n_random > 0:
            pool += random_candidates(comp, n_random, max_atoms, seed=seed + 1009 * i)
    groups: dict[str, list[Candidate]] = {}
    for cand in pool:
        if cand.n_atoms <= max_atoms:
            groups.setdefault(cand.formula, []).append(cand)
    first = {c.reduced_formula: i for i, c in reversed(list(enumerate(requested)))}
    for cands in groups.values():
        cands.sort(key=lambda c: -c.score)  # stable: keeps generation order among ties
    order = sorted(groups, key=lambda f: (first.get(f, len(first)), -groups[f][0].score, f))
    seen = DuplicateFilter(exclude)
    out: list[Candidate] = []
    for rank in range(max(map(len, groups.values()), default=0)):
        for formula in order:
            if len(out) >= budget:
                return out
            if rank < len(groups[formula]) and seen.add(groups[formula][rank].structure):
                out.append(groups[formula][rank])
    return out


# ---------------------------------------------------------------------------- orbit-resolved substitution
#: score factor of a PyXtal random structure relative to a substitution with probability 1
RANDOM_PRIOR = 0.05
#: the budget's share kept for random structures of compositions no prototype fits (exploration)
EXPLORE_SHARE = 1 / 8
#: payoff factor per candidate of the same formula already in the budget (diminishing returns)
DIVERSITY = 0.5
#: with a learned proposer, random structures are made for enough compositions to fill this many times
#: the budget, so that the model chooses (set a priori, not tuned)
OVERSAMPLE = 3.0
#: most search nodes per (composition, prototype) in the orbit assignment
_MAX_NODES = 3000


@dataclass
class _Orbits:
    """A decorated prototype's symmetry orbits: (ion, Wyckoff label, site indices), largest first."""

    index: int
    orbits: tuple[tuple[Species, str, tuple[int, ...]], ...]

    @functools.cached_property
    def n_cation_sites(self) -> int:
        return sum(len(sites) for sp, _, sites in self.orbits if (sp.oxi_state or 0) > 0)


def orbit_table(prototypes: Sequence[tuple[Structure, str]], max_atoms: int) -> list[_Orbits]:
    """Symmetry orbits (SpacegroupAnalyzer, symprec 0.1) of the prototypes with at most ``max_atoms``."""
    from pymatgen.symmetry.analyzer import SpacegroupAnalyzer

    out = []
    with _quiet():
        species = _model().species
        for idx, (proto, _) in enumerate(prototypes):
            if len(proto) > max_atoms or not all(sp in species for sp in proto.composition):
                continue
            try:
                sym = SpacegroupAnalyzer(proto, symprec=0.1).get_symmetrized_structure()
                groups: list[tuple[Any, str, tuple[int, ...]]] = [
                    (sym[eq[0]].specie, wy, tuple(eq))
                    for eq, wy in zip(sym.equivalent_indices, sym.wyckoff_symbols, strict=True)
                ]
            except Exception:  # noqa: BLE001 - spglib fails on a few odd cells: one orbit per site
                groups = [(site.specie, "1a", (i,)) for i, site in enumerate(proto)]
            groups.sort(key=lambda g: (-len(g[2]), str(g[0]), g[2]))
            out.append(_Orbits(idx, tuple(groups)))
    return out


def _orbit_maps(
    orbits: Sequence[tuple[Species, str, tuple[int, ...]]], need: dict[Species, int], threshold: float
) -> list[tuple[float, tuple[Species, ...]]]:
    """Every assignment of a target ion to each orbit that uses exactly ``need`` sites of each ion,
    keeps cations on cation sites, and has probability (product over distinct old -> new ion pairs of
    Hautier's conditional probability) >= ``threshold``. Branch and bound; (probability, ions)."""
    targets = sorted(need, key=str)
    found: list[tuple[float, tuple[Species, ...]]] = []
    left = dict(need)
    nodes = 0

    def rec(i: int, prob: float, pairs: frozenset[tuple[str, str]], chosen: tuple[Species, ...]) -> None:
        nonlocal nodes
        nodes += 1
        if nodes > _MAX_NODES:
            return
        if i == len(orbits):
            if all(v == 0 for v in left.values()):
                found.append((prob, chosen))
            return
        old, _, sites = orbits[i]
        for t in targets:
            if left[t] < len(sites) or (t.oxi_state or 0) * (old.oxi_state or 0) <= 0:
                continue
            pair = (str(old), str(t))
            p = prob if pair in pairs else prob * _cond_prob(str(t), str(old))
            if p < threshold:
                continue
            left[t] -= len(sites)
            rec(i + 1, p, pairs | {pair}, (*chosen, t))
            left[t] += len(sites)

    rec(0, 1.0, frozenset(), ())
    return found


def _build(
    proto: Structure, orbits: _Orbits, ions: Sequence[Species]
) -> tuple[Structure, dict[str, list[int]]] | None:
    """The prototype with each orbit's sites replaced by its ion, rescaled; None if unphysical."""
    new = proto.copy()
    for (_, _, sites), ion in zip(orbits.orbits, ions, strict=True):
        for i in sites:
            new.replace(i, ion, properties=None)
    new.scale_lattice(_scaled_volume(new, proto))
    ox: dict[str, list[int]] = {}
    for site in new:
        ox.setdefault(site.specie.symbol, []).append(round(getattr(site.specie, "oxi_state", 0) or 0))
    new.remove_oxidation_states()
    new = canonical(new)
    try:
        check_physical(new)
    except MattwinError:
        return None
    return new, ox


def _ox_tuple(ox: dict[str, list[int]]) -> tuple[tuple[str, tuple[int, ...]], ...]:
    return tuple((el, tuple(sorted(qs))) for el, qs in sorted(ox.items()))


def orbit_substitution_candidates(
    targets: Sequence[Any],
    prototypes: Sequence[tuple[Structure, str]],
    max_atoms: int,
    threshold: float = 1e-3,
    max_per_composition: int = 10,
    table: Sequence[_Orbits] | None = None,
) -> list[Candidate]:
    """Ionic substitution orbit by orbit, for compositions with per-site oxidation states.

    ``targets`` are :class:`mattwin.discovery.compositions.CompositionCandidate` objects. Each
    symmetry orbit (Wyckoff set) of a prototype gets one target ion; the orbits of one prototype
    ion may go to different target ions (partial substitution, as in GNoME's symmetry-aware partial
    substitutions: e.g. the tetrahedral and octahedral orbits of a spinel's Al3+ becoming Fe2+ and
    Fe3+ of Fe3O4), and orbits of different prototype ions may go to one target ion. Probability
    as in :func:`substitution_candidates` (product over distinct ion pairs, >= ``threshold``); the
    candidate's score is the composition's score times its geometric mean per ion pair, so that
    binaries and quaternaries compete fairly. method "substitution" when every prototype ion maps
    to one ion, else "partial substitution". The best ``max_per_composition`` per composition, de-duplicated.
    """
    table = list(table) if table is not None else orbit_table(prototypes, max_atoms)
    out: list[Candidate] = []
    with _quiet():
        species = _model().species
        for cc in targets:
            amounts = cc.species_amounts
            if not all(sp in species for sp in amounts):
                continue
            n_fu = sum(amounts.values())
            scored = []
            for entry in table:
                proto, label = prototypes[entry.index]
                if len(proto) % n_fu or len(entry.orbits) < len(amounts):
                    continue
                z = len(proto) // n_fu
                need = {sp: n * z for sp, n in amounts.items()}
                if sum(n for sp, n in need.items() if (sp.oxi_state or 0) > 0) != entry.n_cation_sites:
                    continue  # cations go onto cation sites only: the counts must agree
                for prob, ions in _orbit_maps(entry.orbits, need, threshold):
                    n_pairs = len({(str(o), str(i)) for (o, _, _), i in zip(entry.orbits, ions, strict=True)})
                    scored.append((-(prob ** (1 / n_pairs)), label, entry.index, entry, ions))
            scored.sort(key=lambda t: (t[0], t[1], [str(i) for i in t[4]]))
            seen, kept = DuplicateFilter(), 0
            for neg_mean, label, idx, entry, ions in scored[: 5 * max_per_composition]:
                built = _build(prototypes[idx][0], entry, ions)
                if built is None or not seen.add(built[0]):
                    continue
                by_old: dict[str, set[str]] = {}
                for (old, _, _), ion in zip(entry.orbits, ions, strict=True):
                    by_old.setdefault(str(old), set()).add(str(ion))
                partial = any(len(v) > 1 for v in by_old.values())
                if partial:
                    changes = ", ".join(
                        f"{old}({wy})->{ion}" for (old, wy, _), ion in zip(entry.orbits, ions, strict=True)
                    )
                else:
                    changes = ", ".join(f"{a}->{next(iter(b))}" for a, b in sorted(by_old.items()))
                method = "partial substitution" if partial else "substitution"
                origin = f"{method} of {label}: {changes} (p per ion pair={-neg_mean:.3g})"
                out.append(Candidate(built[0], origin, method, cc.score * -neg_mean, _ox_tuple(built[1])))
                kept += 1
                if kept >= max_per_composition:
                    break
    return out


def _assign_random_ox(structure: Structure, cc: Any) -> tuple[tuple[str, tuple[int, ...]], ...]:
    """The composition's oxidation states times the formula units of a random structure (which site
    of a mixed-valent element takes which state is left to the relaxation)."""
    per_fu = cc.oxidation_states
    z = len(structure) // max(int(cc.composition.num_atoms), 1)
    ox: dict[str, list[int]] = {el: sorted(qs * z) for el, qs in per_fu.items()}
    return _ox_tuple(ox)


def random_for_composition(
    cc: Any, n: int, max_atoms: int, seed: int, space_group_weights: Mapping[int, float] | None = None
) -> list[Candidate]:
    """Up to ``n`` PyXtal random structures of a composition candidate, scored ``score * RANDOM_PRIOR``
    (one or two formula units, 4 space-group attempts per structure, 3 PyXtal tries each: a hard
    composition is given up fast; space groups drawn by ``space_group_weights`` if given)."""
    try:
        raw = random_candidates(
            cc.composition,
            n,
            max_atoms,
            seed=seed,
            formula_units=[1, 2],
            attempts_per_structure=4,
            pyxtal_tries=3,
            space_group_weights=space_group_weights,
        )
    except CampaignError:
        return []
    return [
        Candidate(
            c.structure, c.origin, "random", cc.score * RANDOM_PRIOR, _assign_random_ox(c.structure, cc)
        )
        for c in raw
    ]


# ---------------------------------------------------------------------------- the full generator
def propose_candidates(
    elements: Sequence[str],
    max_atoms: int,
    budget: int,
    *,
    compositions: Sequence[str] = (),
    n_random: int = 0,
    random_top: int | None = None,
    n_random_auto: int = 1,
    max_compositions: int = 400,
    prototypes_extra: Sequence[Structure] = (),
    prototypes: Sequence[tuple[Structure, str]] | None = None,
    seed: int = 0,
    exclude: Sequence[Structure] = (),
    proposer: Any = None,
    mixed_valence: bool = True,
) -> list[Candidate]:
    """At most ``budget`` distinct candidates in ``elements``' space, the most promising first.

    1. Compositions: :func:`mattwin.discovery.compositions.composition_candidates` (every common
       oxidation state, mixed valence, several anions; scored by chemical commonness).
    2. Structures for the ``max_compositions`` best: orbit-resolved ionic substitution into
       :func:`prototype_library` plus ``prototypes_extra`` (or exactly ``prototypes``), including
       partial substitution (:func:`orbit_substitution_candidates`); PyXtal random structures
       (``n_random_auto`` each) for the ``random_top`` (default: twice the exploration share of the
       budget or of what the substitutions leave of it (of :data:`OVERSAMPLE` x the budget with a
       ``proposer``), 4 to 40, up to 4 each where few compositions are left) best compositions no
       prototype fits (one in eight of them the best mixed-valence ones), and ``n_random`` for each user-named
       composition in ``compositions``; their space groups are drawn by :func:`space_group_prior` of the
       library's structures.
    3. Order: a candidate's score is its composition's score times its substitution probability
       (:data:`RANDOM_PRIOR` for random ones); a trained ``proposer``
       (:class:`mattwin.discovery.proposer.Proposer`) multiplies in exp(-predicted E_hull / its
       temperature). :func:`allocate` spends the budget: user-named formulas first, an exploration
       share for random structures, the rest by score with diminishing returns per formula;
       duplicates and matches of ``exclude`` are dropped. Deterministic for a seed.
    """
    from mattwin.discovery.compositions import CompositionCandidate, composition_candidates

    symbols = _validate_symbols(elements)
    if not symbols:
        raise CampaignError("empty chemical space: name at least one element")
    if max_atoms < 1:
        raise CampaignError(f"max_atoms = {max_atoms} must be positive, e.g. 20")
    if budget <= 0:
        return []
    requested = [c.reduced_composition for c in _requested(compositions, symbols)]
    library = list(prototypes) if prototypes is not None else prototype_library(prototypes_extra)
    comps = (
        composition_candidates(symbols, max_atoms, mixed_valence=mixed_valence) if len(symbols) > 1 else []
    )
    req_formulas = [c.reduced_formula for c in requested]
    top = comps[:max_compositions]
    top += [c for c in comps[max_compositions:] if c.formula in req_formulas]
    pool = orbit_substitution_candidates(top, library, max_atoms, max_per_composition=max(10, budget))
    fitted = {c.formula for c in pool}
    no_fit = [c for c in top if c.formula not in fitted and c.formula not in req_formulas]
    # PyXtal draws the space groups of the library's known structures more often than the rest
    weights = space_group_prior(library_space_groups(library))
    need = 0  # random structures still wanted to fill the pool (default random_top only)
    if random_top is None:
        # twice the exploration share, or twice what the substitutions (known phases and ``exclude``
        # left out) leave of the budget: PyXtal gives up on many compositions
        # (with a learned proposer, of OVERSAMPLE x the budget: proposing is cheap, relaxing is not, so
        # the model picks the budget out of a larger pool)
        want = math.ceil(budget * (OVERSAMPLE if proposer is not None else 1.0))
        fresh, n_sub = DuplicateFilter(exclude), 0
        for c in pool:
            if n_sub >= want:
                break
            n_sub += fresh.add(c.structure)
        random_top = min(40, max(4, 2 * math.ceil(budget * EXPLORE_SHARE), 2 * (want - n_sub)))
        need = want - n_sub
    # a share of the random structures explores the best mixed-valence compositions
    n_mixed = max(1, random_top // 8) if random_top > 0 else 0
    mixed = [c for c in no_fit if c.mixed_valence]
    chosen: dict[str, Any] = {}
    for cc in [c for c in no_fit if not c.mixed_valence]:
        if len(chosen) >= random_top - min(n_mixed, len({c.formula for c in mixed})):
            break
        chosen.setdefault(cc.formula, cc)
    for cc in [*mixed, *no_fit]:
        if len(chosen) >= random_top:
            break
        chosen.setdefault(cc.formula, cc)
    # few compositions for what the pool still wants: up to 4 random structures each
    n_each = n_random_auto
    if chosen and need > 0:
        n_each = min(4, max(n_random_auto, math.ceil(need / len(chosen))))
    for i, cc in enumerate(no_fit):
        if chosen.get(cc.formula) is cc:
            pool += random_for_composition(cc, n_each, max_atoms, seed + 7919 * (i + 1), weights)
    for i, comp in enumerate(requested):
        if n_random <= 0:
            continue
        named = next((c for c in comps if c.formula == comp.reduced_formula), None)
        if named is None:
            ox = _guess_ox(comp)
            ints = {e.symbol: round(comp[e]) for e in comp.elements}
            named = CompositionCandidate(tuple((el, ox.get(el, 0), n) for el, n in ints.items()), 1.0)
        cc = named
        pool += random_for_composition(cc, n_random, max_atoms, seed + 1009 * i, weights)
    pool = [c for c in pool if c.n_atoms <= max_atoms]
    if proposer is not None and pool:
        pool = proposer.reorder(pool)
    return allocate(pool, budget, req_formulas, exclude)


def allocate(
    pool: Sequence[Candidate], budget: int, requested: Sequence[str] = (), exclude: Sequence[Structure] = ()
) -> list[Candidate]:
    """Spend ``budget`` on the pool: duplicates and matches of ``exclude`` out, then

    1. every candidate of a user-named formula (``requested``), round-robin over those formulas;
    2. an exploration share (:data:`EXPLORE_SHARE` of the budget, rounded up) for PyXtal random
       structures, one per formula, the best-scored first, one in eight of them mixed valence: the twin
       keeps relaxing some compositions no prototype fits, so the learned proposer learns about them;
    3. the rest by expected payoff: a candidate's score (substitution probability or
       :data:`RANDOM_PRIOR` times the composition's score, times the learned proposer's
       exp(-E_hull / T)) times :data:`DIVERSITY` to the power of how many candidates of its formula
       are already in (diminishing returns for one formula's polymorphs).

    The result lists the user-named candidates first, then the others by that payoff."""
    seen = DuplicateFilter(exclude)
    groups: dict[str, list[Candidate]] = {}
    for cand in sorted(pool, key=lambda c: -c.score):  # stable: generation order among ties
        if seen.add(cand.structure):
            groups.setdefault(cand.formula, []).append(cand)
    req = [f for f in dict.fromkeys(requested) if f in groups]
    out: list[Candidate] = []
    for rank in range(max((len(groups[f]) for f in req), default=0)):
        out += [groups[f][rank] for f in req if rank < len(groups[f])]
    out = out[:budget]
    taken = {id(c) for c in out}
    count: dict[str, int] = {}
    rest: list[tuple[float, Candidate]] = []
    n_explore = min(budget - len(out), math.ceil(budget * EXPLORE_SHARE))
    if n_explore > 0:
        firsts = sorted(
            (g[0] for f, g in groups.items() if f not in req and all(c.method == "random" for c in g)),
            key=lambda c: -c.score,
        )
        explore = [c for c in firsts if c.mixed_valence][: max(1, n_explore // 8)]
        ids = {id(c) for c in explore}
        explore += [c for c in firsts if id(c) not in ids][: n_explore - len(explore)]
        for c in explore:
            taken.add(id(c))
            count[c.formula] = 1
            rest.append((c.score, c))
    # the remaining candidates by payoff, each formula's k-th candidate worth DIVERSITY**k of its score
    heads = {f: [c for c in g if id(c) not in taken] for f, g in groups.items() if f not in req}
    heap = [(-g[0].score * DIVERSITY ** count.get(f, 0), f) for f, g in heads.items() if g]
    heapq.heapify(heap)
    while heap and len(out) + len(rest) < budget:
        neg, f = heapq.heappop(heap)
        rest.append((-neg, heads[f].pop(0)))
        count[f] = count.get(f, 0) + 1
        if heads[f]:
            heapq.heappush(heap, (-heads[f][0].score * DIVERSITY ** count[f], f))
    rest.sort(key=lambda t: -t[0])
    return out + [c for _, c in rest][: budget - len(out)]
