"""Physics procedures: ``task(structure, engine, **params) -> Result``. Tasks never touch the store."""

from collections.abc import Callable
from typing import Any

from mattwin.tasks import relax as _relax
from mattwin.tasks import static as _static
from mattwin.tasks.relax import relax
from mattwin.tasks.results import RelaxResult, StaticResult
from mattwin.tasks.static import static

#: task name -> (function, result class, version); the version enters the cache key
TASKS: dict[str, tuple[Callable[..., Any], type, int]] = {
    "relax": (relax, RelaxResult, _relax.TASK_VERSION),
    "static": (static, StaticResult, _static.TASK_VERSION),
}

__all__ = ["TASKS", "RelaxResult", "StaticResult", "relax", "static"]
