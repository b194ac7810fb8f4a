"""Escalation: a campaign with ``[escalate]`` runs phonons on its top candidates and demotes one with
an imaginary mode; interrupted mid-escalation it resumes without recomputing; the cost model learns
from the store's timings; bad settings are refused naming them."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace

import numpy as np
import pytest
from pymatgen.core import Lattice, Structure
from scipy.stats import norm

from mattwin.discovery.campaign import run_campaign
from mattwin.discovery.config import CampaignConfig
from mattwin.discovery.cost import PRIORS, fit_cost
from mattwin.discovery.escalate_config import EscalateConfig
from mattwin.discovery.loop.next import load_campaign
from mattwin.discovery.results import CampaignResult, RankedCandidate
from mattwin.errors import CampaignError
from mattwin.store.store import Store

from .tiny_campaign import CONFIG, tiny_db


def _phonon_rows(store: Store) -> dict[str, object]:
    return {r.key: r.finished_at for r in store.calculations(task="phonons", status="done")}


def test_phonons_demote_an_imaginary_mode_and_a_killed_escalation_resumes(tmp_path):
    store = Store(str(tiny_db(tmp_path)))
    before = load_campaign("lina", store).result["candidates"]
    cfg = CONFIG.replace(escalate={"rungs": ["phonons"], "top": 3, "policy": "all"})
    started = []

    def killed_at_the_third_rung(stage, done, total, msg):
        if stage == "escalate":
            started.append(msg)
            if len(started) == 3:  # the process dies as the third calculation starts
                raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_campaign(cfg, store, progress=killed_at_the_third_rung)
    done = _phonon_rows(store)
    assert len(done) == 2
    after, _ = run_campaign(cfg, store)
    again = _phonon_rows(store)
    assert len(again) == 3 and {k: again[k] for k in done} == done  # the finished two did not rerun
    by_id = {c.candidate_id: c for c in after.candidates}
    ok = [c for c in before if c["status"] == "ok" and not c["duplicate_of"]]
    by_p = sorted(range(len(ok)), key=lambda k: (-round(ok[k]["p_stable"], 2), k))  # the ladder's order
    top3 = [ok[k]["candidate_id"] for k in by_p[:3]]
    for cid in top3:  # each top candidate got phonons, recorded with provenance and cost
        (entry,) = by_id[cid].ladder
        assert entry["rung"] == "phonons" and entry["cost_s"] > 0
        assert entry["provenance"]["engine"] == "chgnet" and entry["keys"][0] in again
    first = by_id[top3[0]]
    assert first.dynamically_stable is False  # Na3LiCl4 from a random structure: imaginary modes
    assert "imaginary mode" in first.ladder[0]["said"] and "demoted" in first.ladder[0]["said"]
    assert first.phonons["min_frequency_THz"] < -0.2
    assert first.rank > 1  # it fell below candidates it outranked
    unchecked = [c for c in after.candidates if c.status == "ok" and not c.ladder and not c.duplicate_of]
    assert unchecked and all(c.rank < first.rank for c in unchecked)
    assert after.escalation["spent_per_rung_cpu_s"]["phonons"] > 0
    # the HTML report shows each candidate's ladder: the rung, what it said, what it cost
    from mattwin.report import write_report

    page = write_report(after, tmp_path / "report").read_text(encoding="utf-8")
    section = page[page.index('<section id="ladder">') :]
    section = section[: section.index("</section>")]
    assert section.count('id="ladder-') == 3  # the three candidates that climbed
    card = section[section.index(f'id="ladder-{first.rank}"') :]
    card = card[: card.index("</div>")]
    assert "<td>phonons</td>" in card and "imaginary mode" in card and "demoted" in card
    assert f"<td>{first.ladder[0]['cost_s']:.1f}</td>" in card
    assert f"{after.escalation['spent_cpu_s']:.1f} CPU s spent" in section


def _synthetic(p: list[float], sd: float = 0.05) -> CampaignResult:
    cands = [
        RankedCandidate(
            rank=k + 1,
            candidate_id=f"c{k}",
            formula="LiCl",
            origin="test",
            status="ok",
            n_atoms=2,
            e_hull=float(norm.ppf(1 - pk) * sd + 0.025) if 0 < pk < 1 else 0.0,
            e_hull_std=sd,
            p_stable=pk,
            structure=Structure.from_spacegroup(
                "Fm-3m", Lattice.cubic(5.1), ["Li", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]]
            ).as_dict(),
        )
        for k, pk in enumerate(p)
    ]
    return CampaignResult("t", ["Cl", "Li"], "chgnet", {}, len(p), len(p), 0, 0, 0.0, cands, [])


def test_value_of_each_rung_follows_the_top_n_decision():
    from mattwin.discovery.escalate import _Ladder, _value

    cfg = CONFIG.replace(escalate={"rungs": ["ensemble", "phonons", "elastic"], "top": 2})
    rungs = ["ensemble", "phonons", "elastic"]
    s = _Ladder(_synthetic([0.99, 0.62, 0.60, 0.10]), cfg)
    assert _value(s, 0, "phonons", rungs) == pytest.approx(0.5)  # Beta(1, 1) prior, in the top 2
    assert _value(s, 2, "phonons", rungs) == 0.0  # outside the top 2: cannot change the decision
    # the ensemble matters at the boundary (0.62 vs 0.60), not for a candidate far from it
    assert _value(s, 1, "ensemble", rungs) > _value(s, 0, "ensemble", rungs)
    assert _value(s, 3, "ensemble", rungs) == 0.0
    assert _value(s, 0, "elastic", rungs) == 0.0  # a property rung waits for the phonons
    s.done.add((0, "phonons"))
    s.c[0] = replace(s.c[0], dynamically_stable=True)
    assert _value(s, 0, "elastic", rungs) == 1.0
    s.demoted[1] = True  # a demoted candidate leaves the top 2; the third enters
    assert _value(s, 2, "phonons", rungs) > 0 and _value(s, 1, "elastic", rungs) == 0.0


def test_cost_model_learns_the_scaling_from_timings():
    logc0, b0 = np.log(PRIORS["phonons"][0]), PRIORS["phonons"][1]
    assert fit_cost("phonons", [], []) == pytest.approx((logc0, b0))
    w = np.array([100.0, 400.0, 1600.0, 6400.0] * 10)
    t = 0.5 * w**1.5
    logc, b = fit_cost("phonons", list(w), list(t))
    assert b == pytest.approx(1.5, abs=0.05) and np.exp(logc) == pytest.approx(0.5, rel=0.3)


def test_bad_escalation_settings_are_named(tmp_path):
    with pytest.raises(CampaignError, match="unknown rung 'dft'"):
        EscalateConfig(rungs=("phonons", "dft"))
    with pytest.raises(CampaignError, match="unknown application .*'magnet'"):
        EscalateConfig(application="magnet")
    with pytest.raises(CampaignError, match="budget_cpu_h = -1"):
        EscalateConfig(budget_cpu_h=-1)
    with pytest.raises(CampaignError, match="md_ps = 0 must be a positive MD length"):
        EscalateConfig(application="ionic_conductor", md_ps=0)
    toml = tmp_path / "c.toml"
    toml.write_text('[campaign]\nelements = ["Li", "Cl"]\n[escalate]\nrungs = ["phonons"]\ntopp = 3\n')
    with pytest.raises(CampaignError, match="c.toml: escalate: unknown keys topp"):
        CampaignConfig.from_toml(toml)
    toml.write_text('[campaign]\nelements = ["Li", "Cl"]\n[escalate]\nrungs = ["phonons"]\ntop = 3\n')
    cfg = CampaignConfig.from_toml(toml)
    assert cfg.escalate == EscalateConfig(rungs=("phonons",), top=3)
    assert cfg.campaign_id == CampaignConfig(elements=("Li", "Cl")).campaign_id  # not in the id
    assert EscalateConfig().resolved_rungs("chgnet") == ["ensemble", "phonons"]
    assert EscalateConfig(application="structural").resolved_rungs("ensemble") == ["phonons", "elastic"]


def test_a_budget_that_cannot_buy_one_calculation_is_refused(tmp_path):
    store = Store(str(tiny_db(tmp_path)))
    cfg = CONFIG.replace(escalate={"rungs": ["phonons"], "budget_cpu_h": 1e-6})
    with pytest.raises(CampaignError, match=r"budget_cpu_h = 1e-06 .*cannot buy one calculation"):
        run_campaign(cfg, store)
    assert _phonon_rows(store) == {}


def test_discover_flag_with_an_unknown_rung_exits_2(tmp_path):
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "mattwin.cli.main",
            "discover",
            "--elements",
            "Li",
            "Cl",
            "--escalate",
            "dft",
            "--db",
            str(tmp_path / "x.db"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 2 and proc.stderr.startswith("error: ") and "unknown rung 'dft'" in proc.stderr


def test_a_campaign_runs_the_stages_it_names(tmp_path):
    from mattwin.discovery.stages import DEFAULT_STAGES, CampaignState, Context, run_stages

    store = Store(str(tiny_db(tmp_path)))
    state = run_stages(CampaignState(CONFIG), Context(store), ("generate", "screen", "judge"))
    assert state.history == ("generate", "screen", "judge")
    assert len(state.cands) == 8 and state.result is not None and state.calibration is not None
    assert all(o.cached for o in state.cand_out)  # the stored relaxations: nothing recomputed
    assert all(c.verdict is None for c in state.result.candidates)  # synthesize was not named
    summary = state.summary()
    assert summary["stages_run"] == ["generate", "screen", "judge"] and summary["n_candidates"] == 8
    assert DEFAULT_STAGES[:3] == ("generate", "screen", "judge")
    learned = run_stages(state, Context(store), ("learn",))  # the next measurements, stored
    from mattwin.discovery.loop.history import history

    (batch,) = history(store, CONFIG.campaign_id)
    # five, or as many as there are distinct candidates to measure (a relaxation that ended unphysical
    # is failed and is not measurable)
    measurable = [c for c in state.result.candidates if c.status == "ok" and not c.duplicate_of]
    assert learned.history[-1] == "learn" and batch["mode"] == "lab"
    assert len(batch["batch"]) == min(5, len(measurable)) >= 3
    with pytest.raises(CampaignError, match="unknown stage 'relax'"):
        CONFIG.replace(stages=["generate", "screen", "relax"])
    with pytest.raises(CampaignError, match="must start with generate, screen, judge"):
        CONFIG.replace(stages=["generate", "judge"])


@pytest.mark.slow
def test_ionic_conductor_campaign_runs_the_diffusion_rung_and_resumes_from_the_cache(tmp_path):
    assert EscalateConfig(application="ionic_conductor").resolved_rungs("chgnet") == [
        "ensemble",
        "phonons",
        "diffusion",
    ]
    store = Store(str(tiny_db(tmp_path)))
    cfg = CONFIG.replace(escalate={"rungs": ["diffusion"], "top": 1, "md_ps": 1.0, "budget_cpu_h": 1.0})
    result, _ = run_campaign(cfg, store)
    climbed = [c for c in result.candidates if c.ladder]
    assert len(climbed) == 1
    (entry,) = climbed[0].ladder
    assert entry["rung"] == "diffusion" and entry["carrier"] == "Li" and entry["md_atoms"] >= 32
    assert entry["cost_s"] > 0 and entry["predicted_s"] > 0
    runs = {r.key: r for r in store.calculations(task="md", status="done")}
    assert set(entry["keys"]) <= set(runs) and len(entry["keys"]) == 2  # one MD per temperature
    assert {float(runs[k].params["temperature_K"]) for k in entry["keys"]} == {900.0, 1300.0}
    assert all(runs[k].params["steps"] == 500 for k in entry["keys"])
    assert entry["said"].startswith("Li: D(900 K)") and "D(1300 K)" in entry["said"]
    assert "MD Li: D(900 K)" in (climbed[0].verdict or "")
    if any(entry["liquid"]):  # a liquid's D: no solid-state conductivity is claimed
        assert "molten at" in entry["said"] and "ionic_conductivity_300K_S_cm" not in climbed[0].targets
    elif entry["conductivity_300K_S_cm"] is not None:  # a solid whose Li diffused at both temperatures
        assert climbed[0].targets["ionic_conductivity_300K_S_cm"] == entry["conductivity_300K_S_cm"] > 0
        assert 0 < entry["arrhenius"]["Ea_eV"] < 3
    # rerun: the MD comes from the store, nothing is recomputed, the rung says the same
    again, _ = run_campaign(cfg, store)
    assert {r.key: r.finished_at for r in store.calculations(task="md", status="done")} == {
        k: r.finished_at for k, r in runs.items()
    }
    (entry2,) = next(c for c in again.candidates if c.ladder).ladder
    assert entry2["said"] == entry["said"] and entry2["keys"] == entry["keys"]


@pytest.mark.slow
def test_semiconductor_campaign_runs_the_band_gap_rung_and_reruns_from_the_cache(tmp_path):
    assert EscalateConfig(application="semiconductor").resolved_rungs("ensemble") == ["phonons", "band_gap"]
    with pytest.raises(CampaignError, match="dft = 'chgnet' must be a periodic DFT engine"):
        EscalateConfig(application="semiconductor", dft="chgnet")
    with pytest.raises(CampaignError, match="ke must be a kinetic-energy cutoff"):
        EscalateConfig(dft="pyscf-pbc:pbe/gth-dzvp;ke=1")
    store = Store(str(tiny_db(tmp_path)))
    # the cheapest level that still separates an insulator from a metal: LDA, minimal basis, Gamma only
    esc = {"rungs": ["band_gap"], "top": 1, "dft": "pyscf-pbc:lda/gth-szv;k=1;ke=40", "budget_cpu_h": 2.0}
    cfg = CONFIG.replace(escalate=esc)
    result, _ = run_campaign(cfg, store)
    (climbed,) = [c for c in result.candidates if c.ladder]
    (entry,) = climbed.ladder
    assert entry["rung"] == "band_gap" and entry["cost_s"] > 0 and entry["predicted_s"] > 0
    done = {r.key: r.finished_at for r in store.calculations(task="band_gap", status="done")}
    assert list(done) == entry["keys"]
    # the primitive cell: never more atoms than the relaxed cell
    assert entry["n_atoms"] <= len(Structure.from_dict(climbed.structure))
    # a Li-Na chloride is a wide-gap insulator (NaCl: 8.5 eV measured; LDA/minimal basis about 2.6)
    assert entry["gap_eV"] > 1.5 and "DFT (Kohn-Sham) gap, LDA" in entry["said"]
    assert climbed.targets["band_gap_eV"] == entry["gap_eV"] and "gap" in (climbed.verdict or "")
    assert climbed.rank == 1  # an insulator is not demoted
    again, _ = run_campaign(cfg, store)
    assert {r.key: r.finished_at for r in store.calculations(task="band_gap", status="done")} == done
    (entry2,) = next(c for c in again.candidates if c.ladder).ladder
    assert entry2["gap_eV"] == entry["gap_eV"]


def test_the_semiconductor_example_climbs_to_the_band_gap_at_the_default_level():
    from pathlib import Path

    from mattwin.discovery.escalate_config import DEFAULT_DFT

    cfg = CampaignConfig.from_toml(Path(__file__).parents[2] / "examples" / "semiconductor.toml")
    assert cfg.escalate is not None and cfg.escalate.application == "semiconductor"
    assert cfg.escalate.resolved_rungs(cfg.engine) == ["band_gap"] and cfg.escalate.dft == DEFAULT_DFT
    from mattwin.engines.registry import get_engine

    dft = get_engine(DEFAULT_DFT)  # its basis has every element of the example (gth-dzvp has no Zn, Cd)
    for el in cfg.elements:
        assert el in dft.supported_elements()
