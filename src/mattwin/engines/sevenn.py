"""SevenNet (Park et al., J. Chem. Theory Comput. 2024): 7net-0 and 7net-l3i5 ship in the wheel."""

from __future__ import annotations

import warnings
from functools import lru_cache
from typing import Any

from ase.calculators.calculator import Calculator

from mattwin.engines.base import Engine
from mattwin.errors import EngineError
from mattwin.settings import get_settings

#: model names whose checkpoints are inside the sevenn wheel (others need the network)
SEVENN_MODELS = ("7net-0", "7net-l3i5")


@lru_cache(maxsize=4)
def _calculator(model: str, device: str) -> Calculator:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from sevenn.calculator import SevenNetCalculator

        return SevenNetCalculator(model=model, device=device)


class SevenNetEngine(Engine):
    """SevenNet universal potential (trained on MPtrj, PBE/PBE+U energies in eV per cell)."""

    name = "sevenn"
    fidelity = 1

    def __init__(self, model: str = "7net-0", device: str | None = None) -> None:
        if model not in SEVENN_MODELS:
            raise EngineError(
                f"sevenn: model {model!r} is not bundled offline; choose one of {', '.join(SEVENN_MODELS)}"
            )
        self.model_name = model
        self.device = device or get_settings().resolved_device()

    @property
    def signature(self) -> dict[str, Any]:
        import sevenn

        return {
            "engine": "sevenn",
            "package": "sevenn",
            "version": sevenn.__version__,
            "model": self.model_name,
        }

    def calculator(self) -> Calculator:
        return _calculator(self.model_name, self.device)

    def supported_elements(self) -> frozenset[str]:
        from ase.data import chemical_symbols

        # the model's type_map is keyed by atomic number
        return frozenset(chemical_symbols[int(z)] for z in getattr(self.calculator(), "type_map", {}))
