"""Solid-state synthesis routes from common precursors, ranked by reaction free energy at temperature
and by selectivity.

Precursors: the A-Lab's list of available precursors that the ``reaction-network`` package ships
(``rxn_network/data/available_precursors.json``) with Gibbs energies of formation in its FREED table
(``rxn_network/data/freed/compounds.json.gz``: FREED, the U.S. Bureau of Mines database as
extracted by reaction-network; reaction-network is BSD-licensed), 300-2000 K, eV per formula unit.
Gases are released or taken up: CO2, H2O, NH3 (FREED), O2 and N2 (elements, 0; 1 atm).

For a target (the candidate, with its own ΔG_f(T) from its calibrated formation enthalpy and the
Gibbs descriptor, :mod:`mattwin.synthesis.thermo`), every set of one to four precursors that supplies
each non-volatile element of the target and no other is balanced by linear programming (fewest
moles of gas); ΔG_rxn(T) is per atom of the target. Selectivity (after McDermott et al., Nat.
Commun. 12, 3097 (2021), and the A-Lab's ARROWS3, Szymanski et al. 2023): from the same precursors,
every other compound of FREED (and the campaign's own phases) made of the same elements is a
competing product, balanced the same way; the route's *competition margin* is ΔG_rxn(target) minus
the most negative competing ΔG_rxn (both per atom of product). A route is *selective* when the margin
is <= 0 (no competing product is favoured more). Routes rank selective first, then by ΔG_rxn.

Limits: FREED energies are measured, the target's is computed (calibrated MLIP + descriptor), so a
ΔG_rxn within ~0.05 eV/atom of zero is not a firm sign; kinetics, melting and volatility are not
modelled; oxygen is at 1 atm.
"""

from __future__ import annotations

import functools
import gzip
import itertools
import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from importlib.util import find_spec
from pathlib import Path
from typing import Any

import numpy as np
from pymatgen.core import Composition

from mattwin.errors import SettingsError

GASES = ("CO2", "H2O", "H3N", "O2", "N2")
#: gases that may also be consumed (from the furnace atmosphere)
OPEN_GASES = ("O2", "N2")
VOLATILE = {"C", "H", "N", "O"}
MAX_PRECURSORS = 4
SOURCE = "FREED (reaction-network rxn_network/data/freed), A-Lab precursors (available_precursors.json)"


def _data_dir() -> Path:
    spec = find_spec("rxn_network")
    if spec is None or not spec.submodule_search_locations:
        raise SettingsError(
            "synthesis routes need the reaction-network package (its FREED data); install mattwin with "
            "its dependencies (`pip install -e .`)"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "data"


@functools.lru_cache(maxsize=1)
def freed() -> dict[str, dict[float, float]]:
    """Reduced formula -> {T (K): ΔG_f (eV per reduced formula unit)}."""
    with gzip.open(_data_dir() / "freed" / "compounds.json.gz", "rt", encoding="utf-8") as fh:
        raw = json.load(fh)
    out: dict[str, dict[float, float]] = {}
    for formula, table in raw.items():
        try:
            comp = Composition(formula)
        except (ValueError, KeyError):
            continue
        factor = comp.get_reduced_composition_and_factor()[1]
        red = comp.reduced_formula
        if red not in out:  # the first listed phase of a composition
            out[red] = {float(t): float(g) / factor for t, g in table.items()}
    return out


@functools.lru_cache(maxsize=1)
def precursors() -> tuple[str, ...]:
    """The A-Lab precursors with FREED data (reduced formulas, compounds only)."""
    with open(_data_dir() / "available_precursors.json", encoding="utf-8") as fh:
        names = json.load(fh)
    table = freed()
    out = []
    for n in names:
        try:
            c = Composition(n)
        except (ValueError, KeyError):
            continue
        if len(c.elements) > 1 and c.reduced_formula in table:
            out.append(c.reduced_formula)
    return tuple(sorted(set(out)))


def freed_g(formula: str, temperature_K: float) -> float | None:
    """ΔG_f at T (eV per reduced formula unit) from FREED, linear in T between table points; None
    outside the tabulated range or for a missing compound; elements (and O2, N2) 0."""
    comp = Composition(formula)
    if comp.is_element:
        return 0.0
    table = freed().get(comp.reduced_formula)
    if not table:
        return None
    ts = sorted(table)
    if not ts[0] <= temperature_K <= ts[-1]:
        return None
    return float(np.interp(temperature_K, ts, [table[t] for t in ts]))


@dataclass(frozen=True)
class Route:
    """One balanced route: ``reaction`` (text), ΔG_rxn at ``temperature_K`` (eV/atom of target),
    ``onset_K`` (lowest temperature of the 100 K grid where ΔG_rxn < 0, None if never), the main
    ``competing`` products ({formula, dG_eV_atom}), ``competition_margin_eV_atom`` and ``selective``."""

    precursors: list[str]
    reaction: str
    temperature_K: float
    dG_eV_atom: float
    onset_K: float | None
    competing: list[dict[str, Any]]
    competition_margin_eV_atom: float | None
    selective: bool
    source: str = SOURCE
    coefficients: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _nonvolatile(comp: Composition) -> set[str]:
    return {e.symbol for e in comp.elements} - VOLATILE


def _allowed_gases(reactants: Sequence[str], product: str) -> list[str]:
    """Gases that can leave (made of elements the reactants bring) and open gases (O2 always; N2 only
    for a nitrogen-bearing product)."""
    brought = {e.symbol for r in reactants for e in Composition(r).elements}
    out = [g for g in GASES if g not in OPEN_GASES and {e.symbol for e in Composition(g).elements} <= brought]
    out.append("O2")
    if "N" in brought or "N" in {e.symbol for e in Composition(product).elements}:
        out.append("N2")
    return [g for g in out if g != product]


def _open(g: str, product: str) -> bool:
    return g == "O2" or (g == "N2" and "N" in {e.symbol for e in Composition(product).elements})


def balance(reactants: Sequence[str], product: str, strict: bool = True) -> dict[str, float] | None:
    """Coefficients {formula: n} (reactants > 0, gases released > 0, open gases either sign, negative
    = consumed) with Σ n_r R - Σ n_g G = product (one reduced formula unit); fewest moles of gas.
    ``strict``: every reactant is used. None when no balance exists."""
    from scipy.optimize import linprog

    gases = _allowed_gases(reactants, product)
    species = list(reactants) + gases + [f"-{g}" for g in gases if _open(g, product)]
    comps = [Composition(s.lstrip("-")) for s in species]
    target = Composition(product).reduced_composition
    els = sorted({e.symbol for c in [*comps, target] for e in c.elements})
    a = np.zeros((len(els), len(species)))
    for j, (s, c) in enumerate(zip(species, comps, strict=True)):
        sign = 1.0 if j < len(reactants) else -1.0
        if s.startswith("-"):
            sign = 1.0  # consumed gas acts as a reactant
        for i, el in enumerate(els):
            a[i, j] = sign * c[el]
    b = np.array([target[el] for el in els])
    cost = np.array([0.0] * len(reactants) + [1.0] * (len(species) - len(reactants)))
    lo = 1e-3 if strict else 0.0
    bounds = [(lo, None)] * len(reactants) + [(0.0, None)] * (len(species) - len(reactants))
    res = linprog(cost, A_eq=a, b_eq=b, bounds=bounds, method="highs")
    if not res.success or np.abs(a @ res.x - b).max() > 1e-6:
        return None
    out: dict[str, float] = {}
    for s, x in zip(species, res.x, strict=True):
        if abs(x) < 1e-9:
            continue
        key = s.lstrip("-")
        out[key] = out.get(key, 0.0) + (-x if s.startswith("-") else x)
    return out


def _dg(
    coefs: Mapping[str, float], reactants: Sequence[str], product_g: float, n_atoms: float, t: float
) -> float | None:
    total = product_g
    for s, n in coefs.items():
        g = freed_g(s, t)
        if g is None:
            return None
        if s in reactants:
            total -= n * g
        else:  # a gas: released (n > 0) or consumed (n < 0)
            total += n * g
    return total / n_atoms


def _text(coefs: Mapping[str, float], reactants: Sequence[str], product: str) -> str:
    def term(n: float, f: str) -> str:
        return f if abs(n - 1) < 1e-9 else f"{n:.3g} {f}"

    left = [term(coefs[r], r) for r in reactants if r in coefs]
    left += [term(-n, g) for g, n in coefs.items() if g not in reactants and n < 0]
    right = [product] + [term(n, g) for g, n in coefs.items() if g not in reactants and n > 0]
    return " + ".join(left) + " -> " + " + ".join(right)


def _anion(c: Composition) -> str:
    return max(c.elements, key=lambda e: (e.X if e.X == e.X else 0.0, e.Z)).symbol


def _precursor_sets(target: Composition, pool: Sequence[str]) -> list[tuple[str, ...]]:
    """Sets of precursors covering the target's non-volatile elements, each precursor an oxide-type
    salt (its anion O) or a compound of one of the target's own anions (no hydrides, nitrides,
    carbides ... for an oxide)."""
    need = _nonvolatile(target)
    allowed = {e.symbol for e in target.elements} | VOLATILE
    anions = {"O"} | ({_anion(target)} if len(target.elements) > 1 else set())
    usable = []
    for p in pool:
        c = Composition(p)
        els = {e.symbol for e in c.elements}
        if (
            els <= allowed
            and els & need
            and c.reduced_formula != target.reduced_formula
            and _anion(c) in anions
        ):
            usable.append(p)
    sets = []
    for k in range(1, min(MAX_PRECURSORS, len(need)) + 1):
        for combo in itertools.combinations(usable, k):
            covered = [_nonvolatile(Composition(p)) for p in combo]
            if set().union(*covered) != need:
                continue
            # minimal: every precursor brings a non-volatile element the others lack
            if any(not (covered[i] - set().union(*(covered[:i] + covered[i + 1 :]))) for i in range(k)):
                continue
            sets.append(combo)
    return sets


def routes(
    target: str,
    target_g: Mapping[float, float],
    temperature_K: float = 1000.0,
    extra_phases: Mapping[str, Mapping[float, float]] | None = None,
    top: int = 3,
) -> list[Route]:
    """The ``top`` routes to ``target`` (a formula) whose ΔG_f is ``target_g`` {T: eV/atom} (at least at
    ``temperature_K``; other temperatures give the onset). ``extra_phases``: competing phases of the
    campaign {formula: {T: ΔG_f eV/atom}} beside FREED's."""
    comp = Composition(target).reduced_composition
    formula = comp.reduced_formula
    n = comp.num_atoms
    t = float(temperature_K)
    if t not in target_g:
        raise SettingsError(f"routes to {formula}: no free energy of the target at {t:g} K")
    pool = precursors()
    sets = _precursor_sets(comp, pool)
    competitors = _competitors(comp, extra_phases or {})
    out = []
    for combo in sets:
        coefs = balance(combo, formula)
        if coefs is None:
            continue
        dg = _dg(coefs, combo, target_g[t] * n, n, t)
        if dg is None:
            continue
        onset = None
        for tt in sorted(target_g):
            d = _dg(coefs, combo, target_g[tt] * n, n, tt)
            if d is not None and d < 0:
                onset = tt
                break
        comp_list: list[dict[str, Any]] = []
        for y, gy in competitors.items():
            cy = balance(combo, y, strict=False)
            if cy is None or gy(t) is None:
                continue
            ny = Composition(y).num_atoms
            d = _dg(cy, combo, gy(t) * ny, ny, t)  # type: ignore[operator]
            if d is not None and d < 0:
                comp_list.append({"formula": y, "dG_eV_atom": round(float(d), 4)})
        comp_list.sort(key=lambda c: c["dG_eV_atom"])
        margin = dg - float(comp_list[0]["dG_eV_atom"]) if comp_list else None
        out.append(
            Route(
                precursors=list(combo),
                reaction=_text(coefs, combo, formula),
                temperature_K=t,
                dG_eV_atom=round(float(dg), 4),
                onset_K=onset,
                competing=comp_list[:3],
                competition_margin_eV_atom=None if margin is None else round(float(margin), 4),
                selective=margin is None or margin <= 0,
                coefficients={k: round(v, 4) for k, v in coefs.items()},
            )
        )
    out.sort(key=lambda r: (not r.selective, "O2" in r.coefficients, r.dG_eV_atom))
    return [r for r in out if r.dG_eV_atom < 0][:top] or out[:top]


def _competitors(target: Composition, extra: Mapping[str, Mapping[float, float]]) -> dict[str, Any]:
    """Formula -> ΔG_f(T) per atom (a function of T) of every other solid made of the target's elements."""
    allowed = {e.symbol for e in target.elements} | VOLATILE
    need = _nonvolatile(target)
    out: dict[str, Any] = {}
    gases = {Composition(g).reduced_formula for g in GASES}
    for f in freed():
        c = Composition(f)
        if f == target.reduced_formula or f in gases or len(c.elements) < 2:
            continue
        els = {e.symbol for e in c.elements}
        if els <= allowed and (els - VOLATILE) <= need and els - VOLATILE:
            out[f] = functools.partial(_per_atom_freed, f)
    for f, table in extra.items():
        red = Composition(f).reduced_formula
        if red != target.reduced_formula and red not in out:
            ts = sorted(table)
            out[red] = functools.partial(_interp, ts, [table[x] for x in ts])
    return out


def _per_atom_freed(formula: str, t: float) -> float | None:
    g = freed_g(formula, t)
    return None if g is None else g / Composition(formula).num_atoms


def _interp(ts: list[float], gs: list[float], t: float) -> float | None:
    return float(np.interp(t, ts, gs)) if ts and ts[0] <= t <= ts[-1] else None
