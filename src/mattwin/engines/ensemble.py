"""An ensemble of engines: the mean is the prediction, the spread (sample standard deviation) its
uncertainty. Tasks that relax or move atoms run each member on its own (every member finds its own
minimum) and aggregate afterwards; single points aggregate here."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from ase.calculators.calculator import Calculator, all_changes
from pymatgen.core import Structure

from mattwin.engines.base import Engine, Evaluation
from mattwin.errors import EngineError

DEFAULT_MEMBERS = ("chgnet", "sevenn:7net-0", "sevenn:7net-l3i5")


class _MeanCalculator(Calculator):
    """ASE calculator returning the members' mean energy, forces and stress, and their spread."""

    implemented_properties = ["energy", "free_energy", "forces", "stress"]

    def __init__(self, calculators: list[Calculator]) -> None:
        super().__init__()
        self.calculators = calculators

    def calculate(self, atoms=None, properties=None, system_changes=all_changes):  # type: ignore[no-untyped-def]
        super().calculate(atoms, properties, system_changes)
        energies, forces, stresses = [], [], []
        for calc in self.calculators:
            a = self.atoms.copy()
            a.calc = calc
            energies.append(a.get_potential_energy())
            forces.append(a.get_forces())
            stresses.append(a.get_stress())
        f = np.array(forces)
        self.results = {
            "energy": float(np.mean(energies)),
            "free_energy": float(np.mean(energies)),
            "forces": f.mean(axis=0),
            "stress": np.mean(stresses, axis=0),
            "energy_std": float(np.std(energies, ddof=1)),
            "forces_std_max": float(np.linalg.norm(f.std(axis=0, ddof=1), axis=1).max()),
        }


class EnsembleEngine(Engine):
    """Mean and spread of several engines (default: CHGNet, SevenNet-0, SevenNet-l3i5)."""

    name = "ensemble"
    fidelity = 1

    def __init__(self, members: Sequence[str | Engine] = DEFAULT_MEMBERS) -> None:
        from mattwin.engines.registry import get_engine

        engines = [m if isinstance(m, Engine) else get_engine(m) for m in members]
        if len(engines) < 2:
            raise EngineError("ensemble: needs at least two members to give a spread")
        if any(isinstance(e, EnsembleEngine) for e in engines):
            raise EngineError("ensemble: members must be single engines")
        levels = {e.functional for e in engines}
        if len(levels) > 1:
            raise EngineError(
                "ensemble: members reproduce different levels of theory ("
                + ", ".join(f"{e.label}: {e.functional or 'none'}" for e in engines)
                + "); their energies cannot be averaged on one hull, choose members of one level"
            )
        self._members = engines

    @property
    def members(self) -> list[Engine]:
        return list(self._members)

    @property
    def signature(self) -> dict[str, Any]:
        return {"engine": "ensemble", "members": [m.signature for m in self._members]}

    @property
    def label(self) -> str:
        return "ensemble(" + ", ".join(m.label for m in self._members) + ")"

    def supported_elements(self) -> frozenset[str]:
        return frozenset.intersection(*(m.supported_elements() for m in self._members))

    def calculator(self) -> Calculator:
        return _MeanCalculator([m.calculator() for m in self._members])

    def evaluate(self, structures: Sequence[Structure]) -> list[Evaluation]:
        per_member = [m.evaluate(structures) for m in self._members]
        out = []
        for i in range(len(structures)):
            evs = [pm[i] for pm in per_member]
            e = np.array([ev.energy for ev in evs])
            f = np.array([ev.forces for ev in evs])
            out.append(
                Evaluation(
                    energy=float(e.mean()),
                    forces=f.mean(axis=0),
                    stress=np.mean([ev.stress for ev in evs], axis=0),
                    extras={
                        "energy_std": float(e.std(ddof=1)),
                        "member_energies": e.tolist(),
                        "forces_std_max": float(np.linalg.norm(f.std(axis=0, ddof=1), axis=1).max()),
                    },
                )
            )
        return out
