"""When the lab answers: a formation enthalpy of a campaign candidate (named by its id, as ``mattwin
next`` prints it) refits the calibration as a new stored version, the campaign is re-judged with it
(from the cache), and the next suggestions change; with nothing new, nothing is refitted."""

from __future__ import annotations

import pytest

from mattwin.api.loop import next_experiments
from mattwin.discovery.loop.next import load_campaign
from mattwin.discovery.loop.relearn import judged_with
from mattwin.store.calibrations import load_calibration
from mattwin.store.store import Store

from .tiny_campaign import tiny_db


@pytest.mark.slow
def test_a_measured_candidate_refits_the_calibration_and_rejudges_the_campaign(tmp_path):
    store = Store(str(tiny_db(tmp_path)))
    camp = load_campaign("lina", store)
    cal_before = judged_with(camp)
    assert cal_before is not None and cal_before.startswith("chgnet@")
    first = next_experiments("lina", n=3, store=store)
    assert first.relearned is not None and not first.relearned["rejudged"]
    top = first.suggestions[0]
    cand = next(c for c in camp.candidates() if c["candidate_id"] == top.candidate_id)
    measured = cand["formation_energy_per_atom"] - 0.3  # the lab finds it far more stable
    lab = tmp_path / "lab.csv"
    lab.write_text(
        "material,property,value,unit,uncertainty,source\n"
        f"{top.candidate_id},formation_enthalpy,{measured:.4f},eV/atom,0.02,calorimetry nb-7\n"
    )
    second = next_experiments("lina", n=3, store=store, measured=lab)
    re = second.relearned
    assert re is not None and re["rejudged"] and re["refitted"]
    assert re["before"] == cal_before and re["after"] != cal_before
    cal = load_calibration(store, re["after"])
    assert cal is not None and cal.fitted_on["n_lab_used"] == 1
    assert load_calibration(store, cal_before) is not None  # the old version is kept
    camp2 = load_campaign("lina", store)
    cand2 = next(c for c in camp2.candidates() if c["candidate_id"] == top.candidate_id)
    assert cand2["calibration"] == re["after"]
    # the recalibrated prediction moved toward the measurement, its raw value did not change
    assert cand2["raw_formation_energy_per_atom"] == pytest.approx(cand["raw_formation_energy_per_atom"])
    assert cand2["formation_energy_per_atom"] < cand["formation_energy_per_atom"] - 0.01
    assert [s.candidate_id for s in second.suggestions] != [s.candidate_id for s in first.suggestions]
    # nothing new: the stored fit is the campaign's, no refit, no re-judgement
    third = next_experiments("lina", n=3, store=store)
    assert third.relearned is not None
    assert not third.relearned["refitted"] and not third.relearned["rejudged"]
