"""SevenNet (Park et al., J. Chem. Theory Comput. 2024): 7net-0 and 7net-l3i5 ship in the wheel."""

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
SEVENN_MODELS = ("7net-0", "7net-l3i5")
#: graphs per model call in :meth:`SevenNetEngine.evaluate_atoms`
BATCH_SIZE = 16


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
    mp_energies = "uncorrected"  # measured: benchmarks/bench_formation_enthalpy.py

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
