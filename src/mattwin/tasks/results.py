"""Results of tasks: frozen, JSON-serialisable dataclasses with units in their field names."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Self

from pymatgen.core import Structure


class TaskResult:
    """Base of every task result (frozen dataclasses): the JSON round trip through the store."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)  # type: ignore[call-overload]

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Self:
        return cls(**d)  # type: ignore[call-arg]


@dataclass(frozen=True)
class StaticResult(TaskResult):
    """A single point. energy_eV: eV per cell; stress_GPa: Voigt (xx, yy, zz, yz, xz, xy), GPa,
    positive = tensile (ASE sign); max_force_eV_A: largest atomic force norm, eV/Å."""

    energy_eV: float
    energy_per_atom_eV: float
    max_force_eV_A: float
    stress_GPa: list[float]
    n_atoms: int
    extras: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RelaxResult(TaskResult):
    """A relaxation (cell and positions, or positions only).

    energy_eV: final energy, eV per cell; structure: relaxed pymatgen Structure dict (Å);
    volumes in Å^3 per cell; max_force_eV_A: final largest force norm, eV/Å; converged: the
    force (and stress) criterion was met within max_steps.
    """

    energy_eV: float
    energy_per_atom_eV: float
    structure: dict[str, Any]
    initial_volume_A3: float
    final_volume_A3: float
    n_steps: int
    converged: bool
    max_force_eV_A: float
    stress_GPa: list[float]
    n_atoms: int

    @property
    def final_structure(self) -> Structure:
        return Structure.from_dict(self.structure)

    @property
    def lattice_abc_A(self) -> tuple[float, float, float]:
        return tuple(self.final_structure.lattice.abc)  # type: ignore[return-value]
