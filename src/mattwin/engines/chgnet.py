"""CHGNet (Deng et al., Nat. Mach. Intell. 2023): weights ship in the ``chgnet`` wheel."""

from __future__ import annotations

import contextlib
import io
import threading
import warnings
from collections.abc import Iterator, Sequence
from functools import lru_cache
from typing import Any

import numpy as np
from ase import units
from ase.calculators.calculator import Calculator
from ase.stress import full_3x3_to_voigt_6_stress
from pymatgen.core import Element, Structure

from mattwin.engines.base import Engine, Evaluation
from mattwin.materials.identity import canonical
from mattwin.settings import get_settings

#: model versions whose weights are inside the chgnet wheel
CHGNET_MODELS = ("0.3.0", "0.2.0", "r2scan")


@lru_cache(maxsize=4)
def _load(model: str, device: str) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from chgnet.model import CHGNet

        with contextlib.redirect_stdout(io.StringIO()):
            return CHGNet.load(model_name=model, use_device=device, verbose=False)


_GRAD_LOCK = threading.Lock()


@contextlib.contextmanager
def _first_order_autograd() -> Iterator[None]:
    """Inference-only gradients for CHGNet's forces and stress.

    CHGNet computes forces and stress with ``torch.autograd.grad(..., create_graph=True)`` so that
    it can train on them; at inference that builds a second-order graph nobody uses, and costs about
    half the evaluation time on a CPU. Inside this context ``create_graph`` is forced to False: the
    same first derivatives (to float32 rounding: 1e-4 eV/Å) at about half the cost. Process-wide while
    active, so it holds a lock and is used only around mattwin's own batched evaluation.
    """
    import torch

    orig = torch.autograd.grad

    def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False, **kw):  # type: ignore[no-untyped-def]
        return orig(outputs, inputs, grad_outputs, retain_graph=retain_graph, create_graph=False, **kw)

    with _GRAD_LOCK:
        torch.autograd.grad = grad  # type: ignore[assignment]
        try:
            yield
        finally:
            torch.autograd.grad = orig


class CHGNetEngine(Engine):
    """CHGNet universal potential (eV per cell). 0.3.0 and 0.2.0 (trained on MPtrj) predict
    MP2020-corrected GGA/GGA+U energies; ``r2scan`` (transfer-learned on MP's r2SCAN calculations)
    predicts r2SCAN energies, which are not on MP2020's GGA/GGA+U scale (``mp_energies`` None)."""

    name = "chgnet"
    fidelity = 1
    mp_energies: str | None = "corrected"  # measured: benchmarks/bench_formation_enthalpy.py
    functional: str | None = "PBE/PBE+U"

    def __init__(self, model: str = "0.3.0", device: str | None = None, batch_size: int = 16) -> None:
        if model not in CHGNET_MODELS:
            from mattwin.errors import EngineError

            raise EngineError(
                f"chgnet: unknown model {model!r}; bundled models are {', '.join(CHGNET_MODELS)}"
            )
        self.model_name = model
        if model == "r2scan":
            self.mp_energies, self.functional = None, "r2SCAN"
        self.device = device or get_settings().resolved_device()
        self.batch_size = batch_size

    @property
    def model(self) -> Any:
        return _load(self.model_name, self.device)

    @property
    def signature(self) -> dict[str, Any]:
        import chgnet

        return {
            "engine": "chgnet",
            "package": "chgnet",
            "version": chgnet.__version__,
            "model": self.model_name,
        }

    def supported_elements(self) -> frozenset[str]:
        return frozenset(Element.from_Z(z).symbol for z in range(1, 95))

    def calculator(self) -> Calculator:
        from chgnet.model.dynamics import CHGNetCalculator

        with contextlib.redirect_stdout(io.StringIO()):  # CHGNet prints its device on stdout
            return CHGNetCalculator(model=self.model, use_device=self.device)

    def evaluate(self, structures: Sequence[Structure]) -> list[Evaluation]:
        """Batched prediction through ``CHGNet.predict_structure`` (``batch_size`` graphs per call)."""
        if not structures:
            return []
        structs = [canonical(s) for s in structures]
        with warnings.catch_warnings(), _first_order_autograd():
            warnings.simplefilter("ignore")
            preds = self.model.predict_structure(structs, task="efsm", batch_size=self.batch_size)
        if isinstance(preds, dict):
            preds = [preds]
        return [
            Evaluation(
                energy=float(p["e"]) * len(s),
                forces=np.asarray(p["f"], dtype=float),
                stress=full_3x3_to_voigt_6_stress(np.asarray(p["s"], dtype=float)) * units.GPa,
                extras={"magmoms": np.asarray(p["m"], dtype=float).tolist()},
            )
            for p, s in zip(preds, structs, strict=True)
        ]
