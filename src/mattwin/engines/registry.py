"""Engines by name, through the ``mattwin.engines`` entry points.

A spec is ``name`` or ``name:model``; ``ensemble:a,b,c`` lists the members of an ensemble
(each a spec). A multi-fidelity model names its fidelity after ``@``: ``name:model@modal``.
Examples: ``chgnet``, ``chgnet:0.2.0``, ``chgnet:r2scan``, ``sevenn:7net-l3i5``,
``sevenn:7net-mf-0@r2scan``, ``ensemble:chgnet,sevenn:7net-0``,
``ensemble:chgnet:r2scan,sevenn:7net-mf-0@r2scan`` (members of one level of theory only).
"""

from __future__ import annotations

from functools import lru_cache
from importlib.metadata import entry_points

from mattwin.engines.base import Engine
from mattwin.errors import EngineError

_BUILTIN = {
    "chgnet": "mattwin.engines.chgnet:CHGNetEngine",
    "sevenn": "mattwin.engines.sevenn:SevenNetEngine",
    "ensemble": "mattwin.engines.ensemble:EnsembleEngine",
    "emt": "mattwin.engines.emt:EMTEngine",
    "pyscf": "mattwin.engines.pyscf:PySCFEngine",
    "pyscf-pbc": "mattwin.engines.pyscf_pbc:PySCFPBCEngine",
}


def available_engines() -> dict[str, str]:
    """Engine name -> ``module:Class`` for built-in engines and installed plugins."""
    found = dict(_BUILTIN)
    for ep in entry_points(group="mattwin.engines"):
        found[ep.name] = ep.value
    return found


def _load_class(name: str) -> type[Engine]:
    import importlib

    engines = available_engines()
    if name not in engines:
        raise EngineError(f"unknown engine {name!r}; available: {', '.join(sorted(engines))}")
    module, cls = engines[name].split(":")
    return getattr(importlib.import_module(module), cls)  # type: ignore[no-any-return]


@lru_cache(maxsize=32)
def get_engine(spec: str) -> Engine:
    """The engine for ``spec`` (cached per process, so models load once)."""
    spec = spec.strip()
    name, _, arg = spec.partition(":")
    cls = _load_class(name.lower())
    if name.lower() == "ensemble":
        return cls(members=[m for m in arg.split(",") if m]) if arg else cls()  # type: ignore[call-arg]
    return cls(model=arg) if arg else cls()  # type: ignore[call-arg]


def member_specs(spec: str) -> list[str]:
    """The single-engine specs behind ``spec``: itself, or an ensemble's members."""
    name, _, arg = spec.strip().partition(":")
    if name.lower() != "ensemble":
        return [spec.strip()]
    from mattwin.engines.ensemble import DEFAULT_MEMBERS

    return [m for m in arg.split(",") if m] if arg else list(DEFAULT_MEMBERS)
