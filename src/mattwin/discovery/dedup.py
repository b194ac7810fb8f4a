"""De-duplication of candidate structures ("is this the same material?").

Two structures are the same material when pymatgen's :class:`StructureMatcher` maps one onto
the other after reduction to primitive cells and volume normalisation: supercells, rotated,
translated or re-labelled copies of a structure, and small displacements, all match. Oxidation
states are ignored (species are compared by element), so a decorated reference phase matches a
plain candidate. Structures are first grouped by reduced formula, so the number of (costly)
matcher calls grows with the size of each formula group, not with the square of the input.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Sequence
from typing import Any, TypeVar

from pymatgen.analysis.structure_matcher import ElementComparator, StructureMatcher
from pymatgen.core import Structure

__all__ = ["DEFAULT_MATCHER", "DuplicateFilter", "deduplicate"]

#: StructureMatcher tolerances: fractional length tolerance, site tolerance (in units of the
#: average free length per atom) and angle tolerance in degrees.
DEFAULT_MATCHER: dict[str, Any] = {"ltol": 0.2, "stol": 0.3, "angle_tol": 5.0}

T = TypeVar("T")


def _structure_of(item: Any) -> Structure:
    """The structure of a :class:`Structure` or of anything with a ``structure`` attribute."""
    if isinstance(item, Structure):
        return item
    structure = getattr(item, "structure", None)
    if not isinstance(structure, Structure):
        raise TypeError(f"expected a Structure or an object with a .structure, got {type(item).__name__}")
    return structure


def _formula_key(structure: Structure) -> str:
    return structure.composition.element_composition.reduced_formula


class DuplicateFilter:
    """An incremental de-duplicator: :meth:`add` says whether a structure is new and remembers it.

    ``known`` structures (e.g. the reference phases) are remembered up front, so anything that
    matches them is reported as a duplicate. ``matcher_kwargs`` override :data:`DEFAULT_MATCHER`
    and are passed to :class:`StructureMatcher` (the comparator defaults to comparing elements).
    """

    def __init__(self, known: Iterable[Structure] = (), **matcher_kwargs: Any) -> None:
        kwargs = {**DEFAULT_MATCHER, "comparator": ElementComparator(), **matcher_kwargs}
        self.matcher = StructureMatcher(**kwargs)
        self._seen: dict[str, list[Structure]] = {}
        for structure in known:
            self._remember(structure)

    def _remember(self, structure: Structure) -> None:
        self._seen.setdefault(_formula_key(structure), []).append(structure)

    def is_duplicate(self, structure: Structure) -> bool:
        """True if ``structure`` matches a structure already seen (same reduced formula first)."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return any(
                self.matcher.fit(structure, other) for other in self._seen.get(_formula_key(structure), ())
            )

    def add(self, structure: Structure) -> bool:
        """Remember ``structure`` and return True if it is new; return False for a duplicate."""
        if self.is_duplicate(structure):
            return False
        self._remember(structure)
        return True


def deduplicate(items: Sequence[T], against: Sequence[Structure] = (), **matcher_kwargs: Any) -> list[T]:
    """``items`` without duplicates, first occurrence kept, order preserved.

    ``items`` are :class:`Structure` objects or objects with a ``structure`` attribute (such as
    :class:`mattwin.discovery.generate.Candidate`); the same objects come back. An item is dropped
    when it matches an earlier kept item or any structure in ``against``. Matching uses
    :class:`StructureMatcher` with ``ltol=0.2, stol=0.3, angle_tol=5`` (degrees) unless
    ``matcher_kwargs`` say otherwise.
    """
    seen = DuplicateFilter(against, **matcher_kwargs)
    return [item for item in items if seen.add(_structure_of(item))]
