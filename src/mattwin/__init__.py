"""mattwin: an open materials digital twin.

>>> from mattwin import read_structure, relax, energy, discover

Names are imported lazily, so ``import mattwin.materials`` does not load torch.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_EXPORTS = {
    "EnergyReport": "mattwin.api",
    "RelaxReport": "mattwin.api",
    "add_references": "mattwin.api",
    "discover": "mattwin.api",
    "energy": "mattwin.api",
    "relax": "mattwin.api",
    "write_campaign_report": "mattwin.api",
    "correlate": "mattwin.api",
    "interaction": "mattwin.api",
    "excite": "mattwin.api",
    "read_molecule": "mattwin.materials.molecules",
    "md": "mattwin.api",
    "diffusion": "mattwin.api",
    "MDReport": "mattwin.api",
    "DiffusionReport": "mattwin.api",
    "CampaignConfig": "mattwin.discovery.config",
    "CampaignResult": "mattwin.discovery.results",
    "RankedCandidate": "mattwin.discovery.results",
    "Engine": "mattwin.engines",
    "get_engine": "mattwin.engines",
    "material_id": "mattwin.materials",
    "read_structure": "mattwin.materials",
    "write_structure": "mattwin.materials",
    "Store": "mattwin.store",
}

__all__ = ["__version__", *sorted(_EXPORTS)]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'mattwin' has no attribute {name!r}")
