"""A campaign definition: CLI flags or a TOML file, one frozen object."""

from __future__ import annotations

import hashlib
import json
import tomllib
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from mattwin.errors import CampaignError

_SECTIONS = ("campaign", "generate", "screen", "rank")
#: candidate properties a campaign can rank the near-stable candidates by
TARGET_FIELDS = ("volume_per_atom", "density", "formation_energy_per_atom", "e_hull")


@dataclass(frozen=True)
class CampaignConfig:
    """What to search and how.

    elements: the chemical space; max_atoms: largest cell screened; budget: most candidates screened;
    engine: engine spec (``chgnet``, ``sevenn:7net-0``, ``ensemble``...); compositions: formulas for
    PyXtal random structures (n_random each); fmax: force criterion, eV/Å; max_steps: relaxation
    step cap; targets: ``field:min|max`` to rank the near-stable by; stability_threshold: eV/atom.
    """

    elements: tuple[str, ...]
    name: str = "campaign"
    max_atoms: int = 28
    budget: int = 50
    engine: str = "chgnet"
    compositions: tuple[str, ...] = ()
    n_random: int = 4
    seed: int = 0
    fmax: float = 0.05
    max_steps: int = 500
    targets: tuple[str, ...] = ()
    stability_threshold: float = 0.025

    def __post_init__(self) -> None:
        if not self.elements:
            raise CampaignError(
                "campaign: no elements given; name the chemical space, e.g. --elements Li Fe P O"
            )
        if self.max_atoms < 1 or self.budget < 1 or self.max_steps < 1 or self.fmax <= 0:
            raise CampaignError("campaign: max_atoms, budget and max_steps must be positive, fmax > 0")
        for t in self.targets:
            name, _, goal = t.partition(":")
            if name not in TARGET_FIELDS or goal not in ("", "min", "max"):
                raise CampaignError(
                    f"campaign: target {t!r} is not FIELD[:min|max] "
                    f"with FIELD one of {', '.join(TARGET_FIELDS)}"
                )

    @property
    def campaign_id(self) -> str:
        """Hash of everything that changes the candidates or their results (not the name)."""
        d = self.to_dict()
        d.pop("name")
        return hashlib.sha256(json.dumps(d, sort_keys=True).encode()).hexdigest()[:16]

    @property
    def generation_id(self) -> str:
        """Hash of what changes the generated candidates only."""
        d = {
            k: v
            for k, v in self.to_dict().items()
            if k in ("elements", "max_atoms", "budget", "compositions", "n_random", "seed")
        }
        return hashlib.sha256(json.dumps(d, sort_keys=True).encode()).hexdigest()[:16]

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["elements"] = sorted(d["elements"])
        return {k: list(v) if isinstance(v, tuple) else v for k, v in d.items()}

    def replace(self, **changes: Any) -> CampaignConfig:
        d = {f.name: getattr(self, f.name) for f in fields(self)}
        d.update({k: v for k, v in changes.items() if v is not None})
        return CampaignConfig(**_coerce(d))

    @classmethod
    def from_toml(cls, path: str | Path) -> CampaignConfig:
        """Read ``[campaign]``, ``[generate]``, ``[screen]`` and ``[rank]`` tables (or flat keys)."""
        p = Path(path)
        try:
            data = tomllib.loads(p.read_text())
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise CampaignError(f"{p}: cannot read campaign file ({exc})") from exc
        flat: dict[str, Any] = {k: v for k, v in data.items() if k not in _SECTIONS}
        for section in _SECTIONS:
            flat.update(data.get(section, {}))
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(flat) - known)
        if unknown:
            raise CampaignError(f"{p}: unknown keys {', '.join(unknown)}; known: {', '.join(sorted(known))}")
        if "elements" not in flat:
            raise CampaignError(f"{p}: no 'elements' list in [campaign]")
        return cls(**_coerce(flat))


def _coerce(d: dict[str, Any]) -> dict[str, Any]:
    for key in ("elements", "compositions", "targets"):
        if key in d and d[key] is not None:
            d[key] = tuple(d[key])
    return d
