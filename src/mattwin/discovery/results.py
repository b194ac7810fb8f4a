"""What a campaign produces: ranked candidates with energies, stability and their uncertainty."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class RankedCandidate:
    """One screened candidate.

    Energies in eV/atom. ``e_hull`` is the energy above the convex hull built from the reference
    phases and all screened candidates, with the same engine, from calibrated energies (``calibration``
    names the fit; None: raw energies). ``*_interval`` are the central 90 % intervals and ``*_std`` the
    standard deviations of the calibrated draws with the ensemble spread (None for one uncalibrated
    engine); ``p_stable`` is the probability that E_hull is within the campaign's stability threshold.
    ``raw_*`` are the uncalibrated values.
    """

    rank: int
    candidate_id: str
    formula: str
    origin: str
    status: str  # "ok", "failed" or "unsupported"
    n_atoms: int
    error: str | None = None
    spacegroup: str | None = None
    energy_per_atom: float | None = None
    energy_per_atom_std: float | None = None
    formation_energy_per_atom: float | None = None
    formation_energy_per_atom_std: float | None = None
    e_hull: float | None = None
    e_hull_std: float | None = None
    decomposition: str | None = None
    volume_per_atom: float | None = None  # Å^3/atom, relaxed
    targets: dict[str, float] = field(default_factory=dict)
    #: after relaxation: the reference phase or better-ranked candidate it became, if any
    duplicate_of: str | None = None
    formation_energy_interval: list[float] | None = None
    e_hull_interval: list[float] | None = None
    p_stable: float | None = None
    raw_formation_energy_per_atom: float | None = None
    raw_e_hull: float | None = None
    calibration: str | None = None
    #: None for a new composition, else the source that lists it (experiment, library, lab)
    known_compound: str | None = None
    #: how experiment entered its energy, if it did (measured anchor of its composition, or its place
    #: relative to the known stable polymorph; :mod:`mattwin.discovery.stages.judge`)
    thermo_note: str | None = None
    #: can it be made? (``mattwin.synthesis.assess_candidates``) PU-classifier probability 0-1 (None:
    #: not scored or outside the model's domain) and its 5-95 % interval
    synthesizability: float | None = None
    synthesizability_interval: list[float] | None = None
    #: harmonic phonons: True/False, None when not computed (only the top candidates get phonons)
    dynamically_stable: bool | None = None
    #: the softest imaginary mode {min_frequency_THz, qpoint, mode, ...} or the phonon error
    phonons: dict[str, Any] | None = None
    #: top solid-state routes from common precursors (``mattwin.synthesis.routes.Route`` as dicts)
    routes: list[dict[str, Any]] = field(default_factory=list)
    #: {chemistry, window_eV_atom, source} (Sun et al. 2016) and the finite-temperature picture
    metastability_window: dict[str, Any] | None = None
    #: {temperature_K, dGf_eV_atom, e_hull_eV_atom} from the Bartel et al. 2018 Gibbs descriptor
    gibbs: dict[str, Any] | None = None
    #: the one-line verdict ("new; 24 ± 15 meV/atom above hull ...; route ...")
    verdict: str | None = None
    #: the escalation ladder (``[escalate]``): one entry per rung run, in order: rung, what it said,
    #: cost (CPU s), calculation keys and provenance (:mod:`mattwin.discovery.escalate`)
    ladder: list[dict[str, Any]] = field(default_factory=list)
    structure: dict[str, Any] | None = None  # relaxed pymatgen Structure.as_dict()

    def to_dict(self, with_structure: bool = True) -> dict[str, Any]:
        d = asdict(self)
        if not with_structure:
            d.pop("structure")
        return d


@dataclass(frozen=True)
class HullPoint:
    """A phase on the hull plot: a reference or a candidate (energies in eV/atom)."""

    name: str
    formula: str
    kind: str  # "reference" or "candidate"
    formation_energy_per_atom: float
    e_hull: float
    source: str = ""


@dataclass(frozen=True)
class CampaignResult:
    """The outcome of one campaign run."""

    name: str
    elements: list[str]
    engine: str  # engine spec, e.g. "chgnet" or "ensemble"
    engine_signature: dict[str, Any]
    n_generated: int
    n_screened: int
    n_failed: int
    n_cached: int  # relaxations (reference phases and candidates) found in the store, not recomputed
    wall_time_s: float
    candidates: list[RankedCandidate]
    hull_points: list[HullPoint]
    parameters: dict[str, Any] = field(default_factory=dict)
    #: the calibration of the formation energies (name, engine, data, held-out figures); None: raw
    calibration: dict[str, Any] | None = None
    #: the escalation: policy, budget, CPU seconds spent per rung, decisions (None: no ``[escalate]``)
    escalation: dict[str, Any] | None = None

    def to_dict(self, with_structures: bool = False) -> dict[str, Any]:
        d = asdict(self)
        d["candidates"] = [c.to_dict(with_structures) for c in self.candidates]
        return d
