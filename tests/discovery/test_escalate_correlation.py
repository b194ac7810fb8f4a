"""The correlation rung of the escalation ladder: a Cu(I) oxide candidate (cuprite Cu2O, relaxed with
CHGNet) gets CCSD
T1/D1 diagnostics on its embedded [CuO2]3- cluster through the runtime, the verdict is fed back and
recorded with its cost, a rerun comes from the store; a candidate without a transition metal is not
run; an open-shell Fe(III) site (hematite) gets the high-spin UHF/UMP2 diagnostics."""

from __future__ import annotations

import tempfile
from functools import lru_cache
from pathlib import Path

import numpy as np
import pytest
from pymatgen.core import Lattice, Structure

from mattwin.discovery.config import CampaignConfig
from mattwin.discovery.escalate import _cluster, _Ladder, _value, escalate, high_spin_multiplicity
from mattwin.discovery.escalate_config import EscalateConfig
from mattwin.discovery.results import CampaignResult, RankedCandidate
from mattwin.errors import CampaignError
from mattwin.runtime.execute import execute
from mattwin.runtime.jobs import Job
from mattwin.store.store import Store


def _cuprite() -> Structure:
    a = 4.27  # experimental lattice constant
    cu = [[0.25, 0.25, 0.25], [0.75, 0.75, 0.25], [0.75, 0.25, 0.75], [0.25, 0.75, 0.75]]
    return Structure(Lattice.cubic(a), ["O", "O", "Cu", "Cu", "Cu", "Cu"], [[0, 0, 0], [0.5] * 3, *cu])


def _rocksalt(a: float, els: list[str]) -> Structure:
    return Structure.from_spacegroup("Fm-3m", Lattice.cubic(a), els, [[0, 0, 0], [0.5, 0.5, 0.5]])


@lru_cache(maxsize=1)
def _relaxed_cuprite() -> Structure:
    """Cuprite relaxed (cell and positions) with CHGNet through the runtime, as a campaign screens it."""
    store = Store(str(Path(tempfile.mkdtemp(prefix="mattwin-cu2o-")) / "relax.db"))
    job = Job("relax", _cuprite(), "chgnet", {"fmax": 0.05, "max_steps": 200, "relax_cell": True})
    out = execute([job], store)
    assert out[0].ok, out[0].error
    return Structure.from_dict(out[0].result["structure"])


def _result() -> CampaignResult:
    structs = [
        ("Cu2O", _relaxed_cuprite()),
        ("LiCl", _rocksalt(5.1, ["Li", "Cl"])),
        ("NiO", _rocksalt(4.18, ["Ni", "O"])),
    ]
    cands = [
        RankedCandidate(
            rank=k + 1,
            candidate_id=f"c{k}",
            formula=f,
            origin="test",
            status="ok",
            n_atoms=len(st),
            e_hull=0.01,
            e_hull_std=0.03,
            p_stable=0.6,
            e_hull_interval=[-0.03, 0.05],
            structure=st.as_dict(),
        )
        for k, (f, st) in enumerate(structs)
    ]
    return CampaignResult("t", ["Cu", "O"], "chgnet", {}, 3, 3, 0, 0, 0.0, cands, [])


def test_correlation_rung_diagnoses_a_cu_oxide_cluster_and_a_rerun_is_cached(tmp_path):
    cfg = CampaignConfig(elements=("Cu", "O")).replace(escalate={"rungs": ["correlation"], "top": 2})
    store = Store(str(tmp_path / "m.db"))
    s = _Ladder(_result(), cfg)
    assert (
        _value(s, 0, "correlation", ["correlation"]) == 1.0
        and _value(s, 1, "correlation", ["correlation"]) == 0
        and _value(s, 2, "correlation", ["correlation"]) == 0  # NiO: outside the top 2
    )
    mol, what = _cluster(s, 0)
    # the Cu(I) site and its first shell (two O at about 1.85 Å), charge +1 - 2*2 = -3, in Evjen charges
    assert mol.composition.reduced_formula == "CuO2" and int(mol.charge) == -3 and mol.spin_multiplicity == 1
    assert len(mol.properties["point_charges"]) > 100 and "d10" in what
    ni, ni_what = _cluster(s, 2)  # Ni2+ d8: an open shell, cut as the high-spin triplet
    assert ni.composition.reduced_formula == "NiO6" and int(ni.charge) == -10 and ni.spin_multiplicity == 3
    assert "d8, high-spin S = 1, 2S+1 = 3" in ni_what

    result = escalate(cfg, _result(), [], [], store)
    by = {c.formula: c for c in result.candidates}
    (entry,) = by["Cu2O"].ladder
    assert entry["rung"] == "correlation" and entry["cost_s"] > 0 and entry["predicted_s"] > 0
    rows = {r.key: r for r in store.calculations(task="correlation_diagnostics", status="done")}
    assert list(rows) == entry["keys"]
    # physics: a closed-shell d10 cluster; T1 and D1 positive and below the values of a broken bond
    assert 0 < entry["t1_diagnostic"] < 0.1 and 0 < entry["d1_diagnostic"] < 0.5
    assert entry["verdict"] in ("single-reference", "caution", "multireference")
    assert f"T1 = {entry['t1_diagnostic']:.3f}" in entry["said"] and "CCSD/def2-svp" in entry["said"]
    over_3d = entry["t1_diagnostic"] > 0.05 or entry["d1_diagnostic"] > 0.15  # Jiang et al. 2012
    assert f"Jiang et al. 2012: {'exceeded' if over_3d else 'not exceeded'})" in entry["said"]
    flagged = entry["t1_diagnostic"] > 0.02 or entry["d1_diagnostic"] > 0.05
    assert flagged == (entry["verdict"] != "single-reference")
    if flagged:
        assert "MLIP/DFT energies less reliable" in (by["Cu2O"].verdict or "")
        assert ("Janssen & Nielsen 1998" in entry["said"]) == (entry["d1_diagnostic"] > 0.05)
    if entry["verdict"] == "multireference":  # the interval widens
        assert by["Cu2O"].e_hull_std > 0.03 and entry["sigma_added_eV_atom"] > 0
    else:
        assert by["Cu2O"].e_hull_std == pytest.approx(0.03)
    assert not by["NiO"].ladder  # outside the top 2
    assert not by["LiCl"].ladder  # no transition metal: no value, no rung
    assert result.escalation["spent_per_rung_cpu_s"]["correlation"] == pytest.approx(entry["cost_s"])

    again = escalate(cfg, _result(), [], [], store)  # a rerun: from the store, the same verdict
    (entry2,) = next(c for c in again.candidates if c.formula == "Cu2O").ladder
    assert entry2["n_from_store"] == 1 and entry2["said"] == entry["said"] and entry2["keys"] == entry["keys"]
    assert {r.key: r.finished_at for r in store.calculations(task="correlation_diagnostics")} == {
        k: r.finished_at for k, r in rows.items()
    }


def test_a_multireference_verdict_widens_the_interval(tmp_path):
    """In STO-3G, a minimal basis that over-states the cluster's static correlation (def2-SVP says
    "caution"), the same cluster's CCSD does not converge (or converges to multireference diagnostics):
    a "multireference" verdict, the path that widens σ and lets the candidate fall in the ranking."""
    cfg = CampaignConfig(elements=("Cu", "O")).replace(
        escalate={"rungs": ["correlation"], "top": 1, "correlation_basis": "sto-3g"}
    )
    result = escalate(cfg, _result(), [], [], Store(str(tmp_path / "m.db")))
    cu = next(c for c in result.candidates if c.formula == "Cu2O")
    (entry,) = cu.ladder
    assert entry["verdict"] == "multireference" and "CCSD/sto-3g" in entry["said"]
    added = 0.1 * 4 / 6  # MR_SIGMA_PER_TM per Cu atom, spread over the cell's 6 atoms
    assert entry["sigma_added_eV_atom"] == pytest.approx(added)
    assert cu.e_hull_std == pytest.approx(float(np.hypot(0.03, added)))
    assert 0.5 < cu.p_stable < 0.6  # less sure either way: P(stable) moves toward 1/2
    w = cu.e_hull_std / 0.03
    assert cu.e_hull_interval == pytest.approx([0.01 - 0.04 * w, 0.01 + 0.04 * w])
    assert "multireference suspected" in entry["said"] and "less reliable" in (cu.verdict or "")
    assert cu.rank > 1  # first before (ties at P(stable) 0.6 go by order); the others now outrank it


def test_correlation_settings_are_checked():
    assert EscalateConfig(correlation_auto=True).resolved_rungs("chgnet") == [
        "ensemble",
        "phonons",
        "correlation",
    ]
    with pytest.raises(CampaignError, match="correlation_basis = 'def9-nope' is not a basis set"):
        EscalateConfig(rungs=("correlation",), correlation_basis="def9-nope")
    with pytest.raises(CampaignError, match="correlation_auto = 'yes' must be true or false"):
        EscalateConfig(correlation_auto="yes")  # type: ignore[arg-type]


def _hematite() -> Structure:
    """alpha-Fe2O3 (corundum, R-3c; a = 5.035, c = 13.747 A, Fe 12c z = 0.3553, O 18e x = 0.3059)."""
    lat = Lattice.hexagonal(5.035, 13.747)
    return Structure.from_spacegroup("R-3c", lat, ["Fe", "O"], [[0, 0, 0.3553], [0.3059, 0, 0.25]])


@pytest.mark.parametrize(
    ("d", "mult"), [(0, 1), (3, 4), (4, 5), (5, 6), (6, 5), (7, 4), (8, 3), (9, 2), (10, 1)]
)
def test_high_spin_multiplicity_follows_hunds_rule(d, mult):
    assert high_spin_multiplicity(d) == mult  # e.g. Cr3+ d3 quartet, Fe3+ d5 sextet, Fe2+ d6 quintet


def test_an_open_shell_fe3_site_runs_high_spin_and_is_single_reference(tmp_path):
    """Hematite's Fe3+ (d5): the [FeO6]9- cluster (three O at 1.94 and three at 2.11 A) as the high-spin
    sextet (6A1, a half-filled d shell: the textbook single-determinant transition-metal ion); UHF
    <S^2> stays at S(S+1) = 8.75 and every UMP2 natural occupation is near 0, 1 or 2."""
    st = _hematite()
    cand = RankedCandidate(
        rank=1,
        candidate_id="fe",
        formula="Fe2O3",
        origin="test",
        status="ok",
        n_atoms=len(st),
        e_hull=0.0,
        e_hull_std=0.03,
        p_stable=0.55,
        e_hull_interval=[-0.04, 0.04],
        structure=st.as_dict(),
    )
    result = CampaignResult("t", ["Fe", "O"], "chgnet", {}, 1, 1, 0, 0, 0.0, [cand], [])
    cfg = CampaignConfig(elements=("Fe", "O")).replace(escalate={"rungs": ["correlation"], "top": 1})
    store = Store(str(tmp_path / "m.db"))
    out = escalate(cfg, result, [], [], store)
    (c,) = out.candidates
    (entry,) = c.ladder
    assert "not run" not in entry["said"] and "open shell" not in entry["said"]
    assert "[FeO6]9- cluster (Fe+3 d5, high-spin S = 2.5, 2S+1 = 6" in entry["said"]
    assert entry["spin_multiplicity"] == 6 and entry["method"] == "UHF/UMP2"
    assert entry["s2_exact"] == 8.75 and abs(entry["s2_uhf"] - 8.75) < 0.05  # uncontaminated
    occ = np.array(entry["natural_occupations"])
    assert np.sum(np.abs(occ - 1) < 0.1) == 5  # the five singly occupied 3d orbitals
    assert np.all(np.minimum(np.abs(occ - 1), np.minimum(occ, 2 - occ)) < 0.1)
    assert entry["verdict"] == "single-reference" and "MLIP/DFT energies not flagged" in entry["said"]
    assert c.e_hull_std == pytest.approx(0.03) and entry["sigma_added_eV_atom"] == 0
    # the cost model sees the open-shell level (UMP2: seconds; priced as UCCSD it would be ~100x more)
    assert entry["cost_s"] > 0 and 0.2 < entry["predicted_s"] / entry["cost_s"] < 5
    rows = store.calculations(task="correlation_diagnostics", status="done")
    assert [r.key for r in rows] == entry["keys"] and rows[0].params == {"open_shell": "ump2"}

    again = escalate(cfg, result, [], [], store)  # a rerun (or a resume after a kill): from the store
    (entry2,) = again.candidates[0].ladder
    assert entry2["n_from_store"] == 1 and entry2["said"] == entry["said"] and entry2["keys"] == entry["keys"]
