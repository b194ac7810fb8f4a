"""SevenNet (Park et al., J. Chem. Theory Comput. 2024): 7net-0, 7net-l3i5 and the multi-fidelity
7net-mf-0 ship in the wheel.

A multi-fidelity model needs its fidelity ("modal"), written after ``@`` in the model name:
``sevenn:7net-mf-0@r2scan`` (the MP r2SCAN head) or ``sevenn:7net-mf-0@pbe`` (the MPtrj PBE/PBE+U
head); the modal is case-insensitive and checked against the model's ``modal_map``.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import numpy as np
from ase import Atoms
from ase.calculators.calculator import Calculator
from pymatgen.core import Structure

from mattwin.engines.base import Engine, Evaluation
from mattwin.errors import EngineError
from mattwin.settings import get_settings

#: model names whose checkpoints are inside the sevenn wheel (others need the network)
SEVENN_MODELS = ("7net-0", "7net-l3i5", "7net-mf-0")
#: modals (fidelities) of the multi-fidelity models, as mattwin names them -> the model's modal_map key
SEVENN_MODALS = {"7net-mf-0": {"r2scan": "R2SCAN", "pbe": "PBE"}}
#: graphs per model call in :meth:`SevenNetEngine.evaluate_atoms`
BATCH_SIZE = 16


@lru_cache(maxsize=4)
def _calculator(model: str, device: str, modal: str | None = None) -> Calculator:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from sevenn.calculator import SevenNetCalculator

        return SevenNetCalculator(model=model, device=device, modal=modal)


class SevenNetEngine(Engine):
    """SevenNet universal potential (eV per cell). 7net-0 and 7net-l3i5 are trained on MPtrj and
    predict uncorrected PBE/PBE+U energies; 7net-mf-0@r2scan predicts MP's r2SCAN energies, which are
    not on MP2020's GGA/GGA+U scale (``mp_energies`` None: no MP2020 correction applies)."""

    name = "sevenn"
    fidelity = 1
    mp_energies: str | None = "uncorrected"  # measured: benchmarks/bench_formation_enthalpy.py
    functional: str | None = "PBE/PBE+U"

    def __init__(self, model: str = "7net-0", device: str | None = None) -> None:
        base, _, modal = model.partition("@")
        if base not in SEVENN_MODELS:
            raise EngineError(
                f"sevenn: model {base!r} is not bundled offline; choose one of {', '.join(SEVENN_MODELS)}"
            )
        modals = SEVENN_MODALS.get(base, {})
        if modals and modal.lower() not in modals:
            raise EngineError(
                f"sevenn: {base} is a multi-fidelity model; name its fidelity as {base}@<modal> with "
                f"<modal> one of {', '.join(modals)} (e.g. sevenn:{base}@r2scan)"
            )
        if modal and not modals:
            raise EngineError(f"sevenn: {base} has one fidelity; drop '@{modal}'")
        self.model_name = base
        self.modal = modals[modal.lower()] if modals else None
        if self.modal == "R2SCAN":
            self.mp_energies, self.functional = None, "r2SCAN"
        self.device = device or get_settings().resolved_device()

    @property
    def signature(self) -> dict[str, Any]:
        import sevenn

        sig = {
            "engine": "sevenn",
            "package": "sevenn",
            "version": sevenn.__version__,
            "model": self.model_name,
        }
        if self.modal is not None:  # only multi-fidelity models: single-fidelity keys stay unchanged
            sig["modal"] = self.modal
        return sig

    @property
    def label(self) -> str:
        """``sevenn 7net-0``; a multi-fidelity model names its head: ``sevenn 7net-mf-0@r2scan``."""
        return f"sevenn {self.model_name}" + (f"@{self.modal.lower()}" if self.modal else "")

    def calculator(self) -> Calculator:
        return _calculator(self.model_name, self.device, self.modal)

    def supported_elements(self) -> frozenset[str]:
        from ase.data import chemical_symbols

        # the model's type_map is keyed by atomic number
        return frozenset(chemical_symbols[int(z)] for z in getattr(self.calculator(), "type_map", {}))

    def evaluate(self, structures: Sequence[Structure]) -> list[Evaluation]:
        """Batched single points (:meth:`evaluate_atoms`)."""
        from mattwin.materials.identity import to_atoms

        return self.evaluate_atoms([to_atoms(s) for s in structures])

    def evaluate_atoms(self, atoms_list: Sequence[Atoms]) -> list[Evaluation]:
        """Energies (eV), forces (eV/Å) and stresses (eV/Å^3, ASE sign) of up to ``BATCH_SIZE`` graphs
        per model call: the graphs are built as ``SevenNetCalculator`` builds them, collated into one
        torch_geometric batch, and the model runs in its batch mode (per-graph energy and stress)."""
        out: list[Evaluation] = []
        for start in range(0, len(atoms_list), BATCH_SIZE):
            out += self._evaluate_chunk(atoms_list[start : start + BATCH_SIZE])
        return out

    def _evaluate_chunk(self, atoms_list: Sequence[Atoms]) -> list[Evaluation]:
        import sevenn._keys as KEY
        from sevenn.atom_graph_data import AtomGraphData
        from sevenn.train.dataload import unlabeled_atoms_to_graph
        from torch_geometric.data import Batch

        calc: Any = self.calculator()  # a SevenNetCalculator: model, cutoff, modal, device
        model = calc.model
        graphs = []
        for atoms in atoms_list:
            data = AtomGraphData.from_numpy_dict(
                unlabeled_atoms_to_graph(atoms, calc.cutoff, with_shift=False)
            )
            if calc.modal:
                data[KEY.DATA_MODALITY] = calc.modal
            graphs.append(data)
        batch = Batch.from_data_list(graphs).to(calc.device)
        model.set_is_batch_data(True)
        try:
            output = model(batch)
        finally:
            model.set_is_batch_data(False)
        energy = output[KEY.PRED_TOTAL_ENERGY].detach().cpu().numpy().reshape(-1)
        forces = output[KEY.PRED_FORCE].detach().cpu().numpy()
        stress = (
            (-output[KEY.PRED_STRESS]).detach().cpu().numpy().reshape(len(graphs), 6)[:, [0, 1, 2, 4, 5, 3]]
        )
        ptr = (
            output["ptr"].detach().cpu().numpy()
            if "ptr" in output
            else np.cumsum([0] + [len(a) for a in atoms_list])
        )
        return [
            Evaluation(
                energy=float(energy[i]),
                forces=forces[ptr[i] : ptr[i + 1]].astype(float),
                stress=stress[i].astype(float),
            )
            for i in range(len(graphs))
        ]
