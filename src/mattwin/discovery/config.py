"""A campaign definition: CLI flags or a TOML file, one frozen object."""

from __future__ import annotations

import hashlib
import json
import math
import tomllib
from dataclasses import asdict, dataclass, fields
from numbers import Integral, Real
from pathlib import Path
from typing import Any, cast

from pymatgen.core import Element

from mattwin.discovery.escalate_config import EscalateConfig
from mattwin.errors import CampaignError

_SECTIONS = ("campaign", "generate", "screen", "judge", "rank", "synthesize")
#: the candidate generator's version (:func:`mattwin.discovery.generate.propose_candidates`); part of the
#: generation id, so a new generator does not reuse candidate lists stored by an older one
GENERATOR_VERSION = "propose-5"
#: the ``[synthesize]`` settings (not part of the campaign id)
SYNTHESIZE_KEYS = ("temperature_K", "phonons_top", "routes_top", "phonon_tolerance_THz")
#: ``[generate] evolution``: the largest share of the budget the evolutionary search may take, and the
#: fewest relaxations it needs (a population of 2 and one generation of 2)
MAX_EVOLUTION_SHARE = 0.9
MIN_EVOLUTION_RELAXATIONS = 4
#: candidate properties a campaign can rank the near-stable candidates by
TARGET_FIELDS = ("volume_per_atom", "density", "formation_energy_per_atom", "e_hull")


@dataclass(frozen=True)
class CampaignConfig:
    """What to search and how.

    elements: the chemical space; max_atoms: largest cell screened; budget: most candidates screened;
    engine: engine spec (``chgnet``, ``sevenn:7net-0``, ``ensemble``...); compositions: formulas for
    PyXtal random structures (n_random each); fmax: force criterion, eV/Å; max_steps: relaxation
    step cap; targets: ``field:min|max`` to rank the near-stable by; stability_threshold: eV/atom;
    calibration: which calibration of the formation energies the hull uses (``[judge]`` table).
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
    #: "default" (the engine's newest calibration), "none" (raw energies) or a stored engine@version
    calibration: str = "default"
    #: ``[judge]``: a known composition's measured formation enthalpy anchors its lowest phase on the
    #: calibrated hull (:mod:`mattwin.discovery.stages.judge`); false for benchmarks that score E_hull
    #: against "known". Post-processing: not in the id
    measured_anchors: bool = True
    #: ``[synthesize]``: synthesis temperature (K) of the Gibbs descriptor and the routes; phonons and
    #: routes for the top N candidates; imaginary-mode tolerance (THz). Post-processing: not in the id
    temperature_K: float = 1000.0
    phonons_top: int = 3
    routes_top: int = 3
    phonon_tolerance_THz: float = 0.2
    #: ``[escalate]``: the ladder of the best candidates (None: no escalation). Not in the id: the
    #: rungs are calculations of their own, cached by their keys
    escalate: EscalateConfig | None = None
    #: the stages to run, in order (empty: generate, screen, judge, synthesize, escalate); not in the id
    stages: tuple[str, ...] = ()
    #: ``[generate]``: order and sample the proposals with the learned proposer, retrained on the store's
    #: finished campaigns (this one's own earlier run left out) and the shipped known compounds; off by
    #: default: measured, it does not raise the hit rate on both benchmark spaces (bench_proposer_rounds.py:
    #: 1.33x and 0.71x) and generation with it is ~7x slower (it oversamples: more PyXtal structures)
    learned: bool = False
    #: ``[generate]``: leave out the candidates other finished campaigns of the store relaxed (the next
    #: round of a search proposes what has not been tried)
    skip_screened: bool = False
    #: ``[generate]``: the share (0..0.9) of the budget's relaxations given to the evolutionary search
    #: (:mod:`mattwin.discovery.evolution`) of the best-scored compositions, after the substitution and
    #: random candidates; its best distinct structures become candidates (method "evolution"). 0: off
    evolution: float = 0.0

    def __post_init__(self) -> None:
        _check_types(self)
        if not 0 <= self.evolution <= MAX_EVOLUTION_SHARE:
            raise CampaignError(
                f"campaign: evolution = {self.evolution} must be a share of the budget from 0 (off) to "
                f"{MAX_EVOLUTION_SHARE}, e.g. evolution = 0.25"
            )
        if self.evolution > 0 and self.evolution_relaxations < MIN_EVOLUTION_RELAXATIONS:
            raise CampaignError(
                f"campaign: evolution = {self.evolution} of budget = {self.budget} is "
                f"{self.evolution_relaxations} relaxations, too few for an evolutionary search (needs "
                f"{MIN_EVOLUTION_RELAXATIONS}); raise the budget or the evolution share"
            )
        if not 300 <= self.temperature_K <= 2000:
            raise CampaignError(
                f"campaign: temperature_K = {self.temperature_K} K is outside 300-2000 K "
                "(the range of the Gibbs descriptor); give e.g. temperature_K = 1000"
            )
        for key in ("phonons_top", "routes_top"):
            if not 0 <= getattr(self, key) <= 100:
                raise CampaignError(f"campaign: {key} = {getattr(self, key)} must be from 0 to 100")
        if not 0 <= self.phonon_tolerance_THz <= 5:
            raise CampaignError(
                f"campaign: phonon_tolerance_THz = {self.phonon_tolerance_THz} must be from 0 to 5 THz"
            )
        if not self.elements:
            raise CampaignError(
                "campaign: no elements given; name the chemical space, e.g. --elements Li Fe P O"
            )
        unknown = [e for e in self.elements if not Element.is_valid_symbol(e)]
        if unknown:
            raise CampaignError(
                f"campaign: unknown element {', '.join(map(repr, unknown))}; use symbols such as Li, Fe, O"
            )
        for key in ("max_atoms", "budget", "max_steps"):
            if getattr(self, key) < 1:
                raise CampaignError(f"campaign: {key} = {getattr(self, key)} must be positive (at least 1)")
        if not 0 < self.fmax < 100:
            raise CampaignError(f"campaign: fmax = {self.fmax} eV/Å must be positive, e.g. 0.05")
        if self.n_random < 0:
            raise CampaignError(f"campaign: n_random = {self.n_random} must not be negative")
        _check_stages(self.stages)
        for t in self.targets:
            name, _, goal = t.partition(":")
            if name not in TARGET_FIELDS or goal not in ("", "min", "max"):
                raise CampaignError(
                    f"campaign: target {t!r} is not FIELD[:min|max] "
                    f"with FIELD one of {', '.join(TARGET_FIELDS)}"
                )

    @property
    def evolution_relaxations(self) -> int:
        """The relaxations of the budget the evolutionary search spends (``budget * evolution``,
        rounded down)."""
        return math.floor(self.budget * self.evolution + 1e-9)

    @property
    def campaign_id(self) -> str:
        """Hash of everything that changes the candidates or their results (not the name, not the
        calibration: calibrating is post-processing and recomputes nothing)."""
        d = self.to_dict()
        d.pop("name")
        d.pop("calibration")
        d.pop("measured_anchors")
        for key in SYNTHESIZE_KEYS:  # post-processing of finished relaxations
            d.pop(key)
        d.pop("escalate")
        d.pop("stages")
        if not self.evolution:  # campaigns from before the option keep their ids
            d.pop("evolution")
        return hashlib.sha256(json.dumps(d, sort_keys=True).encode()).hexdigest()[:16]

    @property
    def generation_id(self) -> str:
        """Hash of what changes the generated candidates only (including the generator's version, so a
        new generator does not reuse candidate lists stored by an older one)."""
        d = {
            k: v
            for k, v in self.to_dict().items()
            if k in ("elements", "max_atoms", "budget", "compositions", "n_random", "seed")
        }
        d["learned"], d["skip_screened"] = self.learned, self.skip_screened
        if self.evolution:  # the search relaxes: its candidates depend on the engine and its settings
            d["evolution"] = self.evolution
            d.update(engine=self.engine, fmax=self.fmax, max_steps=self.max_steps)
        d["generator"] = GENERATOR_VERSION
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
    def from_stored(cls, d: dict[str, Any]) -> CampaignConfig:
        """The config of a stored campaign (:meth:`to_dict`'s form; keys this version does not know are
        passed over)."""
        known = {f.name for f in fields(cls)}
        return cls(**_coerce({k: v for k, v in d.items() if k in known}))

    @classmethod
    def from_toml(cls, path: str | Path) -> CampaignConfig:
        """Read ``[campaign]``, ``[generate]``, ``[screen]`` and ``[rank]`` tables (or flat keys)."""
        p = Path(path)
        if p.is_dir():
            raise CampaignError(f"{p}: is a folder, not a campaign TOML file")
        try:
            text = p.read_text(encoding="utf-8")
        except OSError as exc:
            raise CampaignError(f"{p}: cannot read campaign file ({exc.strerror}); check the path") from exc
        except UnicodeDecodeError as exc:
            raise CampaignError(f"{p}: not a text (UTF-8) campaign file ({exc.reason})") from exc
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise CampaignError(f"{p}: cannot read campaign file: invalid TOML ({exc}); fix it") from exc
        escalate = data.pop("escalate", None)
        flat: dict[str, Any] = {k: v for k, v in data.items() if k not in _SECTIONS}
        if escalate is not None:
            try:
                flat["escalate"] = EscalateConfig.from_dict(escalate)
            except CampaignError as exc:
                raise CampaignError(f"{p}: {exc}") from exc
        for section in _SECTIONS:
            table = data.get(section, {})
            if not isinstance(table, dict):
                raise CampaignError(f"{p}: [{section}] must be a table of keys, not {table!r}")
            flat.update(table)
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(flat) - known)
        if unknown:
            raise CampaignError(f"{p}: unknown keys {', '.join(unknown)}; known: {', '.join(sorted(known))}")
        if "elements" not in flat:
            raise CampaignError(f"{p}: no 'elements' list in [campaign]")
        try:
            return cls(**_coerce(flat))
        except CampaignError as exc:
            raise CampaignError(f"{p}: {str(exc).removeprefix('campaign: ')}") from exc


#: the stages a campaign may name (:mod:`mattwin.discovery.stages`)
STAGE_NAMES = ("generate", "screen", "judge", "synthesize", "escalate", "learn")


def _check_stages(stages: tuple[str, ...]) -> None:
    unknown = [s for s in stages if s not in STAGE_NAMES]
    if unknown:
        raise CampaignError(
            f"campaign: unknown stage {', '.join(map(repr, unknown))}; known: {', '.join(STAGE_NAMES)}"
        )
    if stages and (
        list(stages[:3]) != ["generate", "screen", "judge"]
        or [s for s in STAGE_NAMES if s in stages] != list(stages)
        or len(set(stages)) != len(stages)
    ):
        raise CampaignError(
            f"campaign: stages = {list(stages)} must start with generate, screen, judge and keep the order "
            f"{' -> '.join(STAGE_NAMES)}"
        )


def _coerce(d: dict[str, Any]) -> dict[str, Any]:
    for key in ("elements", "compositions", "targets", "stages"):
        if isinstance(d.get(key), list | tuple):
            d[key] = tuple(d[key])
    if isinstance(d.get("escalate"), dict):
        d["escalate"] = EscalateConfig.from_dict(d["escalate"])
    return d


#: the type each field must have (bool is an int in Python, so it is refused explicitly)
_TYPES: dict[str, type] = {
    "name": str,
    "engine": str,
    "calibration": str,
    "max_atoms": Integral,
    "budget": Integral,
    "n_random": Integral,
    "seed": Integral,
    "max_steps": Integral,
    "fmax": Real,
    "stability_threshold": Real,
    "temperature_K": Real,
    "phonons_top": Integral,
    "routes_top": Integral,
    "phonon_tolerance_THz": Real,
    "evolution": Real,
}


def _check_types(cfg: CampaignConfig) -> None:
    """Raise :class:`CampaignError` naming the first field of the wrong type."""
    for key in ("learned", "skip_screened", "measured_anchors"):
        if not isinstance(getattr(cfg, key), bool):
            raise CampaignError(f"campaign: {key} = {getattr(cfg, key)!r} must be true or false")
    for key in ("elements", "compositions", "targets", "stages"):
        value = getattr(cfg, key)
        if isinstance(value, list):  # CampaignConfig(elements=["Li", "O"]): frozen, so set it once here
            value = tuple(value)
            object.__setattr__(cfg, key, value)
        if not isinstance(value, tuple) or not all(isinstance(v, str) for v in value):
            raise CampaignError(f'campaign: {key} = {value!r} must be a list of strings, e.g. ["Li", "O"]')
    for key, kind in _TYPES.items():
        given: Any = getattr(cfg, key)
        if isinstance(given, bool) or not isinstance(given, kind):
            want = "a whole number" if kind is Integral else "a number" if kind is Real else "a string"
            raise CampaignError(f"campaign: {key} = {given!r} must be {want}")
        if kind is Real and not math.isfinite(cast(float, given)):
            raise CampaignError(f"campaign: {key} = {given!r} must be finite")
