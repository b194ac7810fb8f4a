"""The engine interface: one level of theory that turns structures into energies, forces and stress.

An engine has a ``name``, a ``fidelity`` rank, a ``signature`` (package, version, model and parameters:
the cache key of every calculation it makes), ``supports`` (the reason it cannot handle an input, or
None), ``evaluate`` on a batch of structures, and ``calculator`` for tasks that drive ASE.
An ensemble engine lists its ``members``; a single engine is its own only member.
"""

from __future__ import annotations

import hashlib
import json
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from ase import Atoms
from ase.calculators.calculator import Calculator
from pymatgen.core import Structure


@dataclass(frozen=True)
class Evaluation:
    """One single-point result.

    energy: eV per cell; forces: (n_atoms, 3) eV/Å; stress: (6,) Voigt, eV/Å^3, ASE sign
    (negative under compression); extras: engine-specific (e.g. ``energy_std`` in eV for ensembles).
    """

    energy: float
    forces: np.ndarray
    stress: np.ndarray
    extras: dict[str, Any] = field(default_factory=dict)


def signature_key(signature: dict[str, Any]) -> str:
    """A 16-hex-digit hash of an engine signature (stable across processes)."""
    return hashlib.sha256(json.dumps(signature, sort_keys=True, default=str).encode()).hexdigest()[:16]


class Engine(ABC):
    """Base class of all engines. Subclasses set ``name`` and ``fidelity`` and implement the
    abstract members; adding an engine is one module plus an entry point in ``mattwin.engines``."""

    name: str = "engine"
    #: rank on the fidelity ladder: 0 analytic, 1 MLIP, 2 tight binding, 3 DFT, 4 correlated
    fidelity: int = 1
    #: for models trained on Materials Project energies: "corrected" when they predict MP2020-corrected
    #: energies (CHGNet), "uncorrected" when they predict raw GGA/GGA+U ones (SevenNet; the hull then
    #: applies MP2020, ``mattwin.analysis.mp2020``); None for everything else
    mp_energies: str | None = None
    #: the level of theory whose energies the model reproduces ("PBE/PBE+U", "r2SCAN"), None when it
    #: is no DFT surrogate; energies of different levels never share a hull or an ensemble
    functional: str | None = None

    @property
    @abstractmethod
    def signature(self) -> dict[str, Any]:
        """Package, version, model and parameters: everything that changes a result."""

    @abstractmethod
    def supported_elements(self) -> frozenset[str]:
        """Element symbols the model has parameters for."""

    @abstractmethod
    def calculator(self) -> Calculator:
        """A fresh ASE calculator backed by this engine's model (shared, already loaded)."""

    def evaluate(self, structures: Sequence[Structure]) -> list[Evaluation]:
        """Energies, forces and stresses of a batch of structures (default: one ASE call each)."""
        from mattwin.materials.identity import to_atoms

        out = []
        calc = self.calculator()
        for s in structures:
            atoms = to_atoms(s)
            atoms.calc = calc
            out.append(
                Evaluation(
                    energy=float(atoms.get_potential_energy()),
                    forces=np.array(atoms.get_forces()),
                    stress=np.array(atoms.get_stress()),
                )
            )
        return out

    def evaluate_atoms(self, atoms_list: Sequence[Atoms]) -> list[Evaluation]:
        """:meth:`evaluate` on ASE ``Atoms`` (same atom order; periodic cells)."""
        from mattwin.materials.identity import from_atoms

        return self.evaluate([from_atoms(a) for a in atoms_list])

    @property
    def key(self) -> str:
        return signature_key(self.signature)

    @property
    def members(self) -> list[Engine]:
        """Engines whose results are aggregated into this one's; a single engine is its own."""
        return [self]

    def supports(self, structure: Structure) -> str | None:
        """None when the engine can handle ``structure``, else the reason it cannot."""
        missing = sorted({e.symbol for e in structure.composition.elements} - self.supported_elements())
        if missing:
            return (
                f"{self.label} has no parameters for {', '.join(missing)}; "
                "choose another engine or drop the element"
            )
        return None

    @property
    def label(self) -> str:
        """A short human name, e.g. ``chgnet 0.3.0``."""
        sig = self.signature
        return f"{self.name} {sig.get('model', '')}".strip()
