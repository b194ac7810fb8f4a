"""A job: one task on one material with one (single) engine and its parameters."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from pymatgen.core import Structure

from mattwin.engines.registry import get_engine
from mattwin.errors import SettingsError
from mattwin.materials.identity import material_id
from mattwin.tasks import TASKS


@dataclass(frozen=True)
class Job:
    """``task`` ("relax", "static") on ``structure`` with the engine ``engine`` (a single-engine spec).

    ``structure`` may also be a pymatgen ``Molecule`` (tasks of the quantum-chemistry rung); its
    identity is :func:`mattwin.materials.molecules.molecule_id`."""

    task: str
    structure: Structure
    engine: str
    params: dict[str, Any] = field(default_factory=dict)
    label: str = ""

    @cached_property
    def material_id(self) -> str:
        return material_id(self.structure)

    @property
    def name(self) -> str:
        return self.label or f"{self.structure.composition.reduced_formula} ({self.material_id})"

    @cached_property
    def key(self) -> str:
        """The cache key: task and its version, material, engine signature, parameters."""
        if self.task not in TASKS:
            raise SettingsError(f"{self.name}: unknown task {self.task!r}; known: {', '.join(TASKS)}")
        payload = {
            "task": self.task,
            "task_version": TASKS[self.task][2],
            "material": self.material_id,
            "engine": get_engine(self.engine).key,
            "params": self.params,
        }
        return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:32]


@dataclass(frozen=True)
class Outcome:
    """What became of a job: ``status`` "done" or "failed"; ``cached``: read from the store."""

    job: Job
    key: str
    status: str
    result: dict[str, Any] | None
    error: str | None
    error_type: str | None
    cached: bool
    wall_time_s: float

    @property
    def ok(self) -> bool:
        return self.status == "done"
