"""Compositions worth proposing in a chemical space: every common oxidation state, mixed valence, a score.

Each element may take any of its common oxidation states, the states seen in at least
:data:`MIN_SHARE` of its ICSD compounds with a non-zero state (SMACT's ICSD-2024 frequency table,
``smact.utils.oxidation.ICSD24OxStatesFilter``; SMACT is MIT-licensed, the table ships with it),
and one element per composition may be mixed-valent (two cation states, e.g. Fe2+/Fe3+
in Fe3O4 or LiFe2(PO4)2). Several anions may share a composition. A composition must be charge
neutral and pass SMACT's Pauling electronegativity test (every cation less electronegative than
every anion).

The score prefers chemically common combinations: the site-weighted geometric mean of the
oxidation states' ICSD shares, times :data:`MIXED_PENALTY` when an element is mixed-valent, times
a stoichiometry prior: how often the anonymized formula (AB2, ABC4, ...) occurs among the 2,135
measured compounds of pymatgen's ``exp_compounds.json.gz`` (MIT-licensed, read from the installed
package), ``((count + 1) / (max count + 1)) ** STOICH_WEIGHT``. It is a prior, 0..1; the learned
proposer (:mod:`mattwin.discovery.proposer`) reorders on top of it.
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from pymatgen.core import Composition, Element, Species

from mattwin.errors import CampaignError

__all__ = ["MIN_SHARE", "MIXED_PENALTY", "CompositionCandidate", "composition_candidates", "oxidation_shares"]

#: an oxidation state is "common" when at least this share of the element's ICSD-2024 compounds with a
#: non-zero state have it
MIN_SHARE = 0.03
#: score factor for a mixed-valent element (mixed-valence compounds are rarer than single-valent ones)
MIXED_PENALTY = 0.5
#: exponent of the stoichiometry prior (0: off; 1: the raw frequency ratio)
STOICH_WEIGHT = 0.25
#: most species (element, state) pairs in one composition (a mixed-valent element counts twice)
MAX_SPECIES = 6


@dataclass(frozen=True)
class CompositionCandidate:
    """A charge-neutral composition with an oxidation state for every atom of its formula unit.

    ``species``: (element, oxidation state, atoms per formula unit), the formula unit being the
    smallest one whose every species count is whole; ``score``: the chemical-commonness prior (0..1).
    """

    species: tuple[tuple[str, int, int], ...]
    score: float

    @property
    def composition(self) -> Composition:
        amounts: dict[str, int] = {}
        for el, _, n in self.species:
            amounts[el] = amounts.get(el, 0) + n
        return Composition(amounts)

    @property
    def formula(self) -> str:
        return self.composition.reduced_formula

    @property
    def oxidation_states(self) -> dict[str, list[int]]:
        """Element -> the states of its atoms in one formula unit, e.g. {"Fe": [2, 3, 3], "O": [-2] * 4}."""
        out: dict[str, list[int]] = {}
        for el, q, n in self.species:
            out.setdefault(el, []).extend([q] * n)
        return {el: sorted(qs) for el, qs in out.items()}

    @property
    def mixed_valence(self) -> list[str]:
        """Elements with more than one oxidation state."""
        return sorted(el for el, qs in self.oxidation_states.items() if len(set(qs)) > 1)

    @property
    def species_amounts(self) -> dict[Species, int]:
        return {Species(el, q): n for el, q, n in self.species}

    def to_dict(self) -> dict[str, object]:
        return {
            "formula": self.formula,
            "oxidation_states": self.oxidation_states,
            "mixed_valence": self.mixed_valence,
            "score": self.score,
        }


@functools.lru_cache(maxsize=1)
def oxidation_shares() -> dict[str, dict[int, float]]:
    """Element -> {non-zero oxidation state: share of the element's ICSD-2024 compounds with it}."""
    from smact.utils.oxidation import ICSD24OxStatesFilter

    df = ICSD24OxStatesFilter().ox_states_df
    counts: dict[str, dict[int, float]] = {}
    for row in df.itertuples():
        q = int(row.oxidation_state)
        if q != 0 and float(row.results_count) > 0:
            counts.setdefault(str(row.element), {})[q] = float(row.results_count)
    out = {}
    for el, by_q in counts.items():
        total = sum(by_q.values())
        out[el] = {q: c / total for q, c in sorted(by_q.items())}
    return out


def common_states(symbol: str, min_share: float = MIN_SHARE) -> dict[int, float]:
    """The common oxidation states of ``symbol`` with their ICSD shares (empty for noble gases)."""
    return {q: s for q, s in oxidation_shares().get(symbol, {}).items() if s >= min_share}


def anonymous_formula(amounts: Sequence[float]) -> tuple[int, ...]:
    """Sorted reduced integer amounts, e.g. (1, 1, 1, 4) for LiFePO4."""
    ints = [round(a) for a in amounts]
    g = math.gcd(*ints)
    return tuple(sorted(a // g for a in ints))


@functools.lru_cache(maxsize=1)
def _stoich_counts() -> dict[tuple[int, ...], int]:
    """Anonymized formula -> number of measured compounds with it (pymatgen's experimental set)."""
    from mattwin.discovery.calibration_set import experimental_formation_enthalpies

    counts: dict[tuple[int, ...], int] = {}
    for e in experimental_formation_enthalpies():
        key = anonymous_formula(list(Composition(e.formula).values()))
        counts[key] = counts.get(key, 0) + 1
    return counts


def stoichiometry_prior(composition: Composition) -> float:
    """The stoichiometry factor of the score (0..1], from the anonymized formula's frequency."""
    counts = _stoich_counts()
    c = counts.get(anonymous_formula(list(composition.values())), 0)
    return ((c + 1) / (max(counts.values(), default=0) + 1)) ** STOICH_WEIGHT


@functools.lru_cache(maxsize=256)
def _pauling(symbol: str) -> float | None:
    x = Element(symbol).X
    return None if math.isnan(x) else float(x)


def _neutral_counts(charges: Sequence[int], max_coef: int, max_sum: int) -> Iterator[tuple[int, ...]]:
    """Coprime count tuples (each 1..``max_coef``, sum <= ``max_sum``) with zero total charge."""
    k = len(charges)
    lo = [sum(min(q, q * max_coef) for q in charges[i:]) for i in range(k + 1)]
    hi = [sum(max(q, q * max_coef) for q in charges[i:]) for i in range(k + 1)]

    def rec(i: int, charge: int, total: int, coefs: tuple[int, ...]) -> Iterator[tuple[int, ...]]:
        if i == k - 1:
            c, rest = divmod(-charge, charges[i])
            if rest == 0 and 1 <= c <= min(max_coef, max_sum - total) and math.gcd(*coefs, c) == 1:
                yield (*coefs, c)
            return
        for c in range(1, min(max_coef, max_sum - total - (k - i - 1)) + 1):
            q = charge + c * charges[i]
            if lo[i + 1] <= -q <= hi[i + 1]:
                yield from rec(i + 1, q, total + c, (*coefs, c))

    return rec(0, 0, 0, ())


def _state_choices(symbol: str, min_share: float, mixed: bool) -> list[tuple[int, ...]]:
    """One state, or (if ``mixed``) two cation states, of ``symbol``."""
    states = sorted(common_states(symbol, min_share))
    out: list[tuple[int, ...]] = [(q,) for q in states]
    if mixed:
        out += [(a, b) for a, b in itertools.combinations(states, 2) if a > 0 and b > 0]
    return out


def composition_candidates(
    elements: Sequence[str],
    max_atoms: int,
    *,
    max_stoich: int = 8,
    max_elements: int | None = None,
    min_share: float = MIN_SHARE,
    mixed_valence: bool = True,
    per_formula: int = 2,
) -> list[CompositionCandidate]:
    """Charge-neutral compositions of every subset of 2+ ``elements``, best score first.

    Every common oxidation state of each element (:func:`common_states`), at most one mixed-valent
    element per composition (``mixed_valence``), any number of anions; counts per species up to
    ``max_stoich``, at most ``max_atoms`` atoms per formula unit and ``max_elements`` elements.
    A mixed assignment whose mean state is itself a common single state of the element (Fe2+/Fe4+
    for Fe3+) is left out. Each reduced formula keeps its ``per_formula`` best oxidation-state
    assignments. Sorted by descending score, then atoms per formula unit, then formula.
    """
    from mattwin.discovery.generate import _validate_symbols

    symbols = _validate_symbols(elements)
    if max_atoms < 2:
        raise CampaignError(f"max_atoms = {max_atoms}: a compound needs at least 2 atoms; use 2 or more")
    shares = oxidation_shares()
    by_formula: dict[str, dict[tuple[tuple[str, int, int], ...], float]] = {}
    for k in range(2, min(len(symbols), max_elements or len(symbols)) + 1):
        for subset in itertools.combinations(symbols, k):
            maybe = [_pauling(s) for s in subset]
            if any(e is None for e in maybe):
                continue
            enegs = [float(e or 0.0) for e in maybe]
            choices = [_state_choices(s, min_share, mixed_valence) for s in subset]
            for pick in itertools.product(*choices):
                if sum(len(p) == 2 for p in pick) > 1 or sum(map(len, pick)) > MAX_SPECIES:
                    continue
                signs = [q > 0 for p in pick for q in p]
                if all(signs) or not any(signs):
                    continue
                cat = [e for e, p in zip(enegs, pick, strict=True) if p[0] > 0]
                an = [e for e, p in zip(enegs, pick, strict=True) if p[0] < 0]
                if max(cat) >= min(an):
                    continue
                species = [(s, q) for s, p in zip(subset, pick, strict=True) for q in p]
                charges = [q for _, q in species]
                for counts in _neutral_counts(charges, max_stoich, max_atoms):
                    _add(by_formula, species, counts, shares, symbols)
    ranked = []
    for options in by_formula.values():
        best = sorted(options.items(), key=lambda kv: (-kv[1], kv[0]))[:per_formula]
        ranked += [CompositionCandidate(sp, score) for sp, score in best]
    ranked.sort(key=lambda c: (-round(c.score, 12), c.composition.num_atoms, c.formula, c.species))
    return ranked


def _add(
    by_formula: dict[str, dict[tuple[tuple[str, int, int], ...], float]],
    species: list[tuple[str, int]],
    counts: tuple[int, ...],
    shares: dict[str, dict[int, float]],
    symbols: list[str],
) -> None:
    per_el: dict[str, list[tuple[int, int]]] = {}
    for (el, q), n in zip(species, counts, strict=True):
        per_el.setdefault(el, []).append((q, n))
    for el, qn in per_el.items():
        if len(qn) == 2:
            mean = sum(q * n for q, n in qn) / sum(n for _, n in qn)
            if abs(mean - round(mean)) < 1e-9 and round(mean) in common_states(el):
                return
    n_atoms = sum(counts)
    log_share = sum(n * math.log(shares[el][q]) for (el, q), n in zip(species, counts, strict=True))
    comp = Composition({el: sum(n for _, n in v) for el, v in per_el.items()})
    score = math.exp(log_share / n_atoms) * MIXED_PENALTY ** sum(len(v) == 2 for v in per_el.values())
    score *= stoichiometry_prior(comp)
    key = tuple(sorted(((el, q, n) for (el, q), n in zip(species, counts, strict=True)), key=_order(symbols)))
    by_formula.setdefault(comp.reduced_formula, {})[key] = score


def _order(symbols: list[str]) -> functools.partial[tuple[int, int]]:
    return functools.partial(_species_order, {s: i for i, s in enumerate(symbols)})


def _species_order(index: dict[str, int], item: tuple[str, int, int]) -> tuple[int, int]:
    return index[item[0]], item[1]
