"""Composition features for the synthesizability score (pure functions of the formula).

Element-property statistics (fraction-weighted mean, mean absolute deviation, min, max, range) of
atomic number, period, group, Pauling electronegativity, atomic radius, Mendeleev number, atomic mass
and valence-block, from pymatgen's element data; stoichiometry (number of elements, largest and
smallest fraction, L2/L3 norms of the fractions, atoms in the reduced formula, largest coefficient);
the chemistry class (``analysis/chemistry.py``); and charge balance with the common ICSD-2024
oxidation states (SMACT's table, as the generator uses them).
"""

from __future__ import annotations

import functools
import itertools
import math

import numpy as np
from pymatgen.core import Composition, Element

from mattwin.analysis.chemistry import CLASSES, chemistry_class

PROPERTIES = ("Z", "row", "group", "X", "atomic_radius", "mendeleev_no", "atomic_mass")
STATS = ("mean", "mad", "min", "max", "range")
BLOCKS = ("s", "p", "d", "f")
STOICH = ("n_elements", "max_fraction", "min_fraction", "l2", "l3", "atoms_reduced", "max_coefficient")
FEATURE_NAMES = (
    *(f"{p}_{s}" for p in PROPERTIES for s in STATS),
    *(f"block_{b}" for b in BLOCKS),
    *STOICH,
    "charge_balanced",
    *(f"class_{c}" for c in CLASSES),
)


@functools.lru_cache(maxsize=256)
def element_properties(symbol: str) -> tuple[float, ...]:
    """(Z, row, group, X, atomic radius Å, Mendeleev number, mass u) of an element (NaN when undefined)."""
    el = Element(symbol)

    def num(v: object) -> float:
        try:
            x = float(v)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return math.nan
        return x if math.isfinite(x) else math.nan

    x = num(el.X)
    return (
        float(el.Z),
        float(el.row),
        float(el.group),
        x if x > 0 else math.nan,
        num(el.atomic_radius),
        num(el.mendeleev_no),
        num(el.atomic_mass),
    )


@functools.lru_cache(maxsize=1)
def _common_states() -> dict[str, list[int]]:
    from mattwin.discovery.generate import _icsd24

    return _icsd24()[0]


def charge_balanced(composition: Composition | str) -> bool:
    """Whether the formula is charge neutral with some choice of each element's common ICSD-2024
    oxidation states (SMACT table); single elements and elements without a common state: False."""
    comp = Composition(composition) if isinstance(composition, str) else composition
    amounts = comp.reduced_composition.get_el_amt_dict()
    if len(amounts) < 2:
        return False
    states = _common_states()
    lists = [states.get(s, []) for s in amounts]
    if not all(lists) or math.prod(len(x) for x in lists) > 20000:
        return False
    n = list(amounts.values())
    return any(abs(sum(q * a for q, a in zip(ox, n, strict=True))) < 1e-6 for ox in itertools.product(*lists))


def features(composition: Composition | str) -> np.ndarray:
    """The feature vector (:data:`FEATURE_NAMES`) of a composition."""
    comp = Composition(composition) if isinstance(composition, str) else composition
    red = comp.reduced_composition
    amt = red.get_el_amt_dict()
    syms = list(amt)
    w = np.array([amt[s] for s in syms], dtype=float)
    w = w / w.sum()
    props = np.array([element_properties(s) for s in syms])  # (n_el, n_prop)
    out: list[float] = []
    for j in range(props.shape[1]):
        col = props[:, j]
        ok = np.isfinite(col)
        if not ok.any():
            out += [math.nan] * len(STATS)
            continue
        c, ww = col[ok], w[ok] / w[ok].sum()
        mean = float(ww @ c)
        out += [mean, float(ww @ np.abs(c - mean)), float(c.min()), float(c.max()), float(c.max() - c.min())]
    blocks = [Element(s).block for s in syms]
    out += [float(sum(wi for wi, b in zip(w, blocks, strict=True) if b == bb)) for bb in BLOCKS]
    coefs = list(amt.values())
    out += [
        float(len(syms)),
        float(w.max()),
        float(w.min()),
        float(np.sqrt((w**2).sum())),
        float(np.cbrt((w**3).sum())),
        float(sum(coefs)),
        float(max(coefs)),
    ]
    out.append(1.0 if charge_balanced(red) else 0.0)
    cls = chemistry_class(red)
    out += [1.0 if cls == c else 0.0 for c in CLASSES]
    return np.array(out, dtype=float)


def feature_matrix(compositions: list[str] | list[Composition]) -> np.ndarray:
    """Rows of :func:`features`; NaN (an undefined property) replaced by -1 for the trees."""
    x = np.vstack([features(c) for c in compositions]) if compositions else np.zeros((0, len(FEATURE_NAMES)))
    return np.where(np.isfinite(x), x, -1.0)
