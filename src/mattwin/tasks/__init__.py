"""Physics procedures: ``task(structure, engine, **params) -> Result``. Tasks never touch the store.

Each task module defines ``TASKS = {name: (function, result class, version)}``; the version enters the
cache key, so bump it when a change alters results. :data:`TASKS` below maps every task name to its
module and imports that module on first use (so ``relax`` never loads PySCF or phonopy).
To add a task: write the module, then add its names to ``_MODULES``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from mattwin.tasks.relax import relax
from mattwin.tasks.results import RelaxResult, StaticResult
from mattwin.tasks.static import static

TaskEntry = tuple[Callable[..., Any], type, int]

#: task name -> module that defines it in its own ``TASKS`` dict
_MODULES: dict[str, str] = {
    "relax": "mattwin.tasks.relax",
    "static": "mattwin.tasks.static",
    "equation_of_state": "mattwin.tasks.eos",
    "elastic_tensor": "mattwin.tasks.elastic",
    "phonons": "mattwin.tasks.phonons",
    "thermal_expansion": "mattwin.tasks.phonons",
    "thermal_conductivity": "mattwin.tasks.conductivity",
    "md": "mattwin.tasks.md",
    "embedded_energy": "mattwin.tasks.embedding",
    "electronic_energy": "mattwin.tasks.correlation",
    "correlation_diagnostics": "mattwin.tasks.correlation",
    "quantum_rung": "mattwin.tasks.quantum_rung",
    "interaction_energy": "mattwin.tasks.interaction",
    "excited_states": "mattwin.tasks.excitations",
    "band_gap": "mattwin.tasks.band_gap",
}


class _Registry(Mapping[str, TaskEntry]):
    """Task name -> (function, result class, version), imported lazily."""

    def __getitem__(self, name: str) -> TaskEntry:
        if name not in _MODULES:
            raise KeyError(name)
        entry: TaskEntry = importlib.import_module(_MODULES[name]).TASKS[name]
        return entry

    def __iter__(self) -> Iterator[str]:
        return iter(_MODULES)

    def __len__(self) -> int:
        return len(_MODULES)


TASKS: Mapping[str, TaskEntry] = _Registry()

__all__ = ["TASKS", "RelaxResult", "StaticResult", "relax", "static"]
