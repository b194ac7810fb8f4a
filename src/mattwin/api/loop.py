"""The closed loop: what a campaign should measure or compute next (``mattwin next``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mattwin.discovery.loop.next import NextReport, check_measurements_belong, load_campaign, suggest_lab
from mattwin.errors import CampaignError
from mattwin.lab import read_measurements
from mattwin.store.store import Store

MODES = ("lab", "compute")


def next_experiments(
    campaign: str | Path,
    n: int = 5,
    mode: str = "lab",
    store: Store | None = None,
    measured: str | Path | None = None,
) -> NextReport:
    """The next ``n`` measurements (``mode="lab"``) or calculations (``"compute"``) for a campaign that
    has been run (``campaign``: its TOML file, stored id or name). ``measured``: a lab measurement file
    of some of its candidates, stored first (each row must name a candidate of the campaign). Lab
    measurements of its candidates that change the engine's calibration refit it (a new stored version)
    and re-judge the campaign first (:mod:`mattwin.discovery.loop.relearn`)."""
    if mode not in MODES:
        raise CampaignError(f"next: --for {mode!r} is not one of {', '.join(MODES)}")
    if n < 1:
        raise CampaignError(f"next: --n {n} must be at least 1")
    store = store or Store()
    camp = load_campaign(campaign, store)
    if measured is not None:
        from mattwin.api.lab import _lookup

        read = read_measurements(measured, lookup=_lookup(store))
        read.check()
        check_measurements_belong(camp, read.measurements)
        store.add_measurements(read.measurements, read.structures)
    from dataclasses import replace

    from mattwin.discovery.loop.relearn import relearn

    camp, re = relearn(camp, store)  # new measurements: refit the calibration, re-judge the campaign
    if mode == "compute":
        from mattwin.discovery.escalate import suggest_compute

        return replace(suggest_compute(camp, store, n), relearned=re.to_dict())
    return replace(suggest_lab(camp, store, n), relearned=re.to_dict())


def suggestion_history(campaign: str | Path, store: Store | None = None) -> list[dict[str, Any]]:
    """Every batch of suggestions the campaign received, oldest first: time stamp (UTC), mode,
    acquisition, the batch and the measurements it was based on."""
    from mattwin.discovery.loop.history import history

    store = store or Store()
    return history(store, load_campaign(campaign, store).campaign_id)
