"""The Propose step: candidate crystal structures in a chemical space (lengths in Å, volumes in Å^3).

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
import importlib.util
import io
import itertools
import math
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import orjson
from pymatgen.analysis.structure_prediction.substitution_probability import SubstitutionProbability
from pymatgen.core import Composition, Element, Species, Structure

from mattwin.discovery.dedup import DuplicateFilter
from mattwin.errors import CampaignError, MattwinError
from mattwin.materials import canonical, check_physical, material_id

__all__ = [
    "Candidate",
    "charge_balanced_compositions",
    "generate_candidates",
    "prototype_library",
    "random_candidates",
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
@functools.lru_cache(maxsize=512)
def _compatible(sg: int, num_ions: tuple[int, ...]) -> bool:
    from pyxtal.symmetry import Group

    return bool(Group(sg).check_compatible(list(num_ions))[0])


def random_candidates(
    composition: Composition | str,
    n: int,
    max_atoms: int,
    seed: int = 0,
    formula_units: Sequence[int] | None = None,
    space_groups: Sequence[int] | None = None,
) -> list[Candidate]:
    """Up to ``n`` symmetric random structures of ``composition`` from PyXtal.

    Space groups (``space_groups``, default 2-230) are drawn without repetition, each with a
    random number of formula units (``formula_units``, default every Z with at most
    ``max_atoms`` atoms in the conventional cell) compatible with its Wyckoff multiplicities.
    A space group is given up after 3 failed attempts; at most ``20 * n`` attempts are made in
    all, so fewer than ``n`` structures may come back. Structures are reduced to primitive
    cells and checked with ``check_physical``. Reproducible for a given ``seed``.
    """
    from pyxtal import pyxtal
    from pyxtal.symmetry import Group

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
        while len(out) < n and options and attempts < 20 * n:
            for sg in [int(x) for x in rng.permutation(sorted(options))]:
                if len(out) >= n or attempts >= 20 * n:
                    break
                if sg not in options:
                    continue
                attempts += 1
                z = int(rng.choice(options[sg]))
                sub_seed = int(rng.integers(2**31 - 1))
                crystal = pyxtal()
                try:
                    num_ions = [z * c for c in per_fu]
                    kwargs = {"factor": PYXTAL_FACTOR, "max_count": 10, "random_state": sub_seed}
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
                symbol = Group(sg).symbol
                origin = f"pyxtal random, space group {sg} ({symbol}), Z={z}, seed {sub_seed}"
                out.append(Candidate(structure, origin, "random", 0.0))
    return out


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
