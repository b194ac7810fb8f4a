"""ASE's effective-medium theory (Jacobsen et al. 1996): an analytic potential for Al, Cu, Ag, Au,
Ni, Pd, Pt (and H, C, N, O, poorly). Fast and deterministic: the engine of cheap tests and checks."""

from __future__ import annotations

from typing import Any

from ase.calculators.calculator import Calculator

from mattwin.engines.base import Engine

EMT_ELEMENTS = frozenset({"Al", "Cu", "Ag", "Au", "Ni", "Pd", "Pt", "H", "C", "N", "O"})


class EMTEngine(Engine):
    """ASE EMT (analytic, fidelity 0)."""

    name = "emt"
    fidelity = 0

    @property
    def signature(self) -> dict[str, Any]:
        import ase

        return {"engine": "emt", "package": "ase", "version": ase.__version__, "model": "EMT"}

    def calculator(self) -> Calculator:
        from ase.calculators.emt import EMT

        return EMT()

    def supported_elements(self) -> frozenset[str]:
        return EMT_ELEMENTS
