"""Shared fixtures: small real structures and a fresh store per test."""

from __future__ import annotations

import os

import pytest
from pymatgen.core import Lattice, Structure

os.environ.setdefault("TQDM_DISABLE", "1")


@pytest.fixture
def si_diamond() -> Structure:
    """Si in the diamond structure, conventional cell, a = 5.43 Å (experiment)."""
    return Structure.from_spacegroup("Fd-3m", Lattice.cubic(5.43), ["Si"], [[0, 0, 0]])


@pytest.fixture
def nacl() -> Structure:
    """Rock-salt NaCl, conventional cell, a = 5.64 Å."""
    return Structure.from_spacegroup("Fm-3m", Lattice.cubic(5.64), ["Na", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]])


@pytest.fixture
def cu_fcc() -> Structure:
    """fcc Cu, primitive cell, a = 3.61 Å."""
    return Structure.from_spacegroup(
        "Fm-3m", Lattice.cubic(3.61), ["Cu"], [[0, 0, 0]]
    ).get_primitive_structure()


@pytest.fixture
def store(tmp_path):  # type: ignore[no-untyped-def]
    from mattwin.store import Store

    return Store(str(tmp_path / "test.db"))
