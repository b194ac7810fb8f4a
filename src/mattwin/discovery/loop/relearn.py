"""When the lab answers: refit the calibration with the new measurements and re-judge the campaign.

``mattwin next`` calls :func:`relearn` before it plans. If the store holds formation-enthalpy
measurements of the campaign's candidates and the calibration points the engine would be fitted on now
(the shipped set, the lab's values of those compounds, and the lab's measured structures: a measurement
that names a candidate by its id, as ``mattwin next`` prints it, brings the candidate's structure) give
a calibration version the campaign was not judged with, that calibration is fitted and stored as a new
version (``engine@version``, the version a hash of its points), and the campaign is rerun: every
relaxation, phonon and ladder rung comes from the cache, so only the judgement is redone, with the new
calibration (new formation energies, hull, intervals and P(stable)), and the stored result is replaced.
The surrogate then starts from the recalibrated predictions, so the ranking and the next suggestions
change. A campaign that names its calibration (``calibration = "none"`` or ``engine@version``) keeps it.

A lab value of a new composition given by formula only has no structure, so the calibration cannot use
it (the surrogate still does).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from mattwin.analysis.calibration import calibration_version
from mattwin.discovery.calibrate import engine_label, fit_engine_calibration
from mattwin.discovery.calibration_set import computed_compounds
from mattwin.discovery.config import CampaignConfig
from mattwin.discovery.lab_points import all_points
from mattwin.discovery.loop.next import MEASURED, StoredCampaign, load_campaign, match_measurements
from mattwin.store.calibrations import load_calibration
from mattwin.store.store import Store


@dataclass(frozen=True)
class Relearned:
    """What :func:`relearn` did: the calibration the campaign was judged with before and after (names,
    None for raw energies), whether it was refitted now and whether the campaign was re-judged."""

    before: str | None
    after: str | None
    refitted: bool
    rejudged: bool
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


def judged_with(camp: StoredCampaign) -> str | None:
    """The calibration the campaign's stored result was judged with (None: raw energies)."""
    for c in camp.candidates():
        return c.get("calibration")
    return None


def relearn(camp: StoredCampaign, store: Store) -> tuple[StoredCampaign, Relearned]:
    """Refit the engine's calibration when the lab's measurements change it and re-judge the campaign
    with it (see the module docstring); the campaign as stored afterwards."""
    before = judged_with(camp)
    cfg = CampaignConfig.from_stored(camp.config)
    if cfg.calibration != "default":
        return camp, Relearned(before, before, False, False, f"campaign uses calibration {cfg.calibration}")
    if not computed_compounds(cfg.engine):
        return camp, Relearned(before, before, False, False, f"no calibration set ships for {cfg.engine}")
    if not match_measurements(camp, store.measurements(property=MEASURED)):
        return camp, Relearned(before, before, False, False, "no measurement of its candidates")
    engine = engine_label(cfg.engine)
    name = f"{engine}@{calibration_version(all_points(cfg.engine, store), engine)}"
    refitted = load_calibration(store, name) is None
    if refitted:
        name = fit_engine_calibration(cfg.engine, store).name
    if name == before:
        return camp, Relearned(before, name, refitted, False, "the campaign was judged with this calibration")
    from mattwin.discovery.campaign import run_campaign

    run_campaign(cfg, store)  # everything cached: the judgement is redone with the newest calibration
    after = load_campaign(camp.campaign_id, store)
    return after, Relearned(
        before, judged_with(after), refitted, True, "lab measurements changed the calibration"
    )
