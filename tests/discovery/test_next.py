"""``mattwin next``: a batch of suggestions from a real campaign, stored with its time stamp; a
measurement of a suggested candidate changes the next batch; bad input exits 2 naming it."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from mattwin.api.loop import next_experiments
from mattwin.discovery.loop.acquisition import p_stable, stability_batch
from mattwin.discovery.loop.history import history
from mattwin.discovery.loop.next import load_campaign, suggest_lab
from mattwin.discovery.loop.surrogate import Pool, fit_surrogate, posterior
from mattwin.errors import CampaignError
from mattwin.lab import Measurement
from mattwin.store.store import Store

from .tiny_campaign import tiny_db

CLI = [sys.executable, "-m", "mattwin.cli.main"]


def _measure(store: Store, formula: str, value: float, material_id: str | None = None) -> None:
    m = Measurement(
        material=material_id or formula,
        formula=formula,
        material_id=material_id,
        property="formation_enthalpy",
        value=value,
        unit="eV/atom",
        source="test notebook",
        given_value=value,
        given_unit="eV/atom",
        uncertainty=0.02,
        method="calorimetry",
        file="test.csv",
        row=2,
    )
    store.add_measurements([m])


def test_surrogate_passes_through_a_measurement_and_moves_similar_candidates():
    # three compositions: two chemically close (LiCl, NaCl), one far (MgO)
    from mattwin.discovery.loop.surrogate import candidate_features

    feats = np.array([candidate_features(f) for f in ("LiCl", "NaCl", "KCl", "MgO", "CaO")])
    pool = Pool(list("abcde"), feats, np.array([-1.8, -2.0, -2.1, -3.0, -3.2]), np.full(5, 0.1))
    prior_mu, prior_cov = posterior(fit_surrogate(pool, [], [], []), pool)
    assert np.allclose(prior_mu, pool.mean, atol=1e-6)
    assert np.allclose(np.sqrt(np.diag(prior_cov)), 0.1, rtol=1e-3)
    mu, cov = posterior(fit_surrogate(pool, [1], [-2.2], [0.01]), pool)
    assert abs(mu[1] - -2.2) < 0.02 and np.sqrt(cov[1, 1]) < 0.015  # measured: near the value
    assert mu[2] - pool.mean[2] < mu[4] - pool.mean[4] <= 1e-9  # KCl moves down more than CaO
    assert cov[2, 2] < prior_cov[2, 2]


def test_class_term_carries_a_measured_fluoride_error_to_other_fluorides_not_to_oxides():
    # the MLIP's error per chemistry class: a measured LaF3 0.3 eV/atom below its prediction should
    # move AlF3 (another fluoride, different cation) down, and Al2O3 (same cation, oxide) much less
    from mattwin.discovery.loop.surrogate import candidate_features, class_features

    formulas = ("LaF3", "AlF3", "Al2O3", "La2O3", "MgO", "NaCl")
    feats = np.array([candidate_features(f) for f in formulas])
    mean = np.array([-4.3, -3.8, -3.4, -3.7, -3.1, -2.1])
    classes = np.array([class_features(f) for f in formulas])
    with_class = Pool(list(formulas), feats, mean, np.full(6, 0.1), classes)
    without = Pool(list(formulas), feats, mean, np.full(6, 0.1))
    mu, _ = posterior(fit_surrogate(with_class, [0], [-4.6], [0.01]), with_class)
    mu0, _ = posterior(fit_surrogate(without, [0], [-4.6], [0.01]), without)
    shift, shift0 = mu - mean, mu0 - mean
    assert shift[1] < -0.1  # AlF3 follows the fluoride error
    assert shift[1] < 2 * shift[2]  # far more than Al2O3
    assert shift[1] < shift0[1] - 0.05  # and more than the descriptor kernel alone carries it
    assert abs(shift[5]) < 0.05  # NaCl (no F, no oxide O) stays near its prediction


def test_entropy_batch_prefers_undecided_candidates():
    e = np.array([0.0, 0.5, -0.5, 0.01])  # undecided, surely unstable, surely stable, undecided
    cov = np.diag([0.01, 0.01, 0.01, 0.01])
    picks = stability_batch(e, cov, np.ones(4), np.full(4, 0.01), 0.025, 2)
    assert {i for i, _ in picks} == {0, 3}
    assert all(g > 0 for _, g in picks)
    # a candidate measured already (tiny variance) is worth little
    cov2 = np.diag([1e-6, 0.01, 0.01, 0.01])
    assert stability_batch(e, cov2, np.ones(4), np.full(4, 0.01), 0.025, 1)[0][0] == 3
    assert p_stable(np.array([0.025]), np.array([0.1]), 0.025)[0] == pytest.approx(0.5)


def test_next_batch_is_stored_and_a_measurement_changes_it(tmp_path):
    store = Store(str(tiny_db(tmp_path)))
    camp = load_campaign("lina", store)
    first = suggest_lab(camp, store, n=3)
    assert len(first.suggestions) == 3
    assert len({s.candidate_id for s in first.suggestions}) == 3
    assert all(s.acquisition > 0 and s.formula and s.reason for s in first.suggestions)
    gains = [s.acquisition for s in first.suggestions]
    assert gains == sorted(gains, reverse=True)  # greedy batch: diminishing marginal gains
    top = first.suggestions[0]
    before = {r["candidate_id"]: r for r in first.ranking}
    # the lab finds it far more stable than predicted: 0.6 eV/atom (the tiny campaign's best candidate is
    # about 0.3 eV/atom above the hull, and its E_hull moves by about half of a ΔH_f shift)
    # measured on the suggested polymorph itself (by its id: by formula alone a measurement goes to the
    # formula's lowest-ΔH_f polymorph, which need not be the one suggested)
    _measure(
        store, top.formula, before[top.candidate_id]["formation_energy_per_atom"] - 0.6, top.candidate_id
    )
    second = suggest_lab(camp, store, n=3)
    after = {r["candidate_id"]: r for r in second.ranking}
    assert second.n_measurements == 1 and after[top.candidate_id]["measured"]
    assert after[top.candidate_id]["p_stable"] > before[top.candidate_id]["p_stable"] + 0.3
    assert [s.candidate_id for s in second.suggestions] != [s.candidate_id for s in first.suggestions]
    assert top.candidate_id not in [s.candidate_id for s in second.suggestions[:1]]
    h = history(store, camp.campaign_id)
    assert [len(b["batch"]) for b in h] == [3, 3]
    assert h[0]["created_at"] <= h[1]["created_at"]
    assert h[0]["basis"]["measurements"] == [] and len(h[1]["basis"]["measurements"]) == 1


def _with_targets(camp, targets):
    return type(camp)(camp.campaign_id, camp.name, {**camp.config, "targets": targets}, camp.result)


def test_target_campaign_uses_qlognei_with_stability(tmp_path):
    store = Store(str(tiny_db(tmp_path)))
    camp = _with_targets(load_campaign("lina", store), ["formation_energy_per_atom:min"])
    # the premise made explicit: the surely unstable candidate of the tiny campaign (its CsCl-type NaCl,
    # P(stable) ~ 0) is given the lowest predicted ΔH_f, 50 meV/atom below every other proposable one
    proposable = [c for c in camp.candidates() if not c.get("duplicate_of")]
    unstable = max(proposable, key=lambda c: c["e_hull"] if c["formula"] == "NaCl" else -1.0)
    assert unstable["formula"] == "NaCl" and unstable["e_hull"] > 0.08
    floor = min(c["formation_energy_per_atom"] for c in proposable)
    result = copy.deepcopy(camp.result)
    for c in result["candidates"]:
        if c["candidate_id"] == unstable["candidate_id"]:
            c["formation_energy_per_atom"] = floor - 0.05
    camp = type(camp)(camp.campaign_id, camp.name, camp.config, result)
    rep = suggest_lab(camp, store, n=2)
    assert rep.acquisition.startswith("qLogNEI x P(stable)")
    assert len(rep.suggestions) == 2
    # with the stability constraint, the first proposal is of the most feasible formula, not the
    # candidate of lowest ΔH_f. Between polymorphs of one formula (the same composition inputs to the
    # surrogate) qLogNEI is nearly tied while nothing is measured: its baseline is then the whole pool
    p = {r["candidate_id"]: r["p_stable"] for r in rep.ranking}
    best = max(proposable, key=lambda c: p[c["candidate_id"]])
    assert rep.suggestions[0].formula == best["formula"]
    assert rep.suggestions[0].p_stable >= 0.8 * p[best["candidate_id"]]
    assert p[unstable["candidate_id"]] < 0.01 < rep.suggestions[0].p_stable
    assert unstable["candidate_id"] not in [s.candidate_id for s in rep.suggestions]
    on_hull = suggest_lab(_with_targets(camp, ["e_hull:min"]), store, n=2)
    assert on_hull.suggestions[0].p_stable == pytest.approx(rep.suggestions[0].p_stable)
    assert "e_hull min" in on_hull.suggestions[0].reason


def test_next_for_compute_ranks_ladder_calculations_by_value_per_cpu_hour(tmp_path):
    store = Store(str(tiny_db(tmp_path)))
    rep = next_experiments("lina", n=3, mode="compute", store=store)
    assert rep.mode == "compute" and len(rep.suggestions) == 3
    values = [s.acquisition for s in rep.suggestions]
    assert values == sorted(values, reverse=True) and values[0] > 0
    assert {s.action.split()[0] for s in rep.suggestions} <= {"phonons", "re-relax"}
    assert all(s.rank <= 5 for s in rep.suggestions)  # only what can change the top 5
    assert history(store, rep.campaign_id)[-1]["mode"] == "compute"


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], cwd=cwd, capture_output=True, text=True, timeout=300)


def test_cli_json_and_bad_input(tmp_path):
    tiny_db(tmp_path)
    ok = _run(["next", "lina", "--n", "2", "--json", "--db", "tiny.db"], tmp_path)
    assert ok.returncode == 0, ok.stderr
    items = json.loads(ok.stdout)
    assert len(items) == 2
    hist = _run(["next", "lina", "--history", "--json", "--db", "tiny.db"], tmp_path)
    assert hist.returncode == 0 and [len(b["batch"]) for b in json.loads(hist.stdout)] == [2]
    assert set(items[0]) >= {"candidate_id", "formula", "action", "acquisition", "reason"}
    # a measurement for a candidate the campaign does not have
    (tmp_path / "m.csv").write_text(
        "material,property,value,unit,uncertainty,source\nMgO,formation_enthalpy,-3.1,eV/atom,0.02,nb-1\n"
    )
    bad = _run(["next", "lina", "--measured", "m.csv", "--db", "tiny.db"], tmp_path)
    assert bad.returncode == 2 and bad.stderr.startswith("error: ") and "MgO" in bad.stderr
    assert "not a screened candidate of campaign lina" in bad.stderr and "Traceback" not in bad.stderr
    # a campaign that has not been run
    (tmp_path / "new.toml").write_text('[campaign]\nelements = ["K", "Br"]\n')
    notrun = _run(["next", "new.toml", "--db", "tiny.db"], tmp_path)
    assert notrun.returncode == 2 and "new.toml" in notrun.stderr and "mattwin discover" in notrun.stderr


def test_target_without_a_lab_measurement_is_refused(tmp_path):
    store = Store(str(tiny_db(tmp_path)))
    camp = _with_targets(load_campaign("lina", store), ["synthesizability:max"])
    with pytest.raises(CampaignError, match="target 'synthesizability:max' has no lab measurement"):
        suggest_lab(camp, store)
    with pytest.raises(CampaignError, match="--for 'dft' is not one of lab, compute"):
        next_experiments("lina", mode="dft", store=store)
    with pytest.raises(CampaignError, match="campaign 'nope': not in the store"):
        next_experiments("nope", store=store)
