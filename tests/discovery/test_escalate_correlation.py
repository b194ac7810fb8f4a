"""The correlation rung of the escalation ladder: a Cu(I) oxide candidate (cuprite Cu2O, relaxed with
CHGNet) gets CCSD
T1/D1 diagnostics on its embedded [CuO2]3- cluster through the runtime, the verdict is fed back and
recorded with its cost, a rerun comes from the store; an open-shell Ni(II) site and a candidate without
a transition metal are said and not run."""

from __future__ import annotations

import tempfile
from functools import lru_cache
from pathlib import Path

import numpy as np
import pytest
from pymatgen.core import Lattice, Structure

from mattwin.discovery.config import CampaignConfig
from mattwin.discovery.escalate import _cluster, _Ladder, _value, escalate
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
        ("NiO", _rocksalt(4.18, ["Ni", "O"])),
        ("LiCl", _rocksalt(5.1, ["Li", "Cl"])),
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
    cfg = CampaignConfig(elements=("Cu", "O")).replace(escalate={"rungs": ["correlation"], "top": 3})
    store = Store(str(tmp_path / "m.db"))
    s = _Ladder(_result(), cfg)
    assert (
        _value(s, 0, "correlation", ["correlation"]) == 1.0
        and _value(s, 2, "correlation", ["correlation"]) == 0
    )
    mol, what = _cluster(s, 0)
    # the Cu(I) site and its first shell (two O at about 1.85 Å), charge +1 - 2*2 = -3, in Evjen charges
    assert mol.composition.reduced_formula == "CuO2" and int(mol.charge) == -3 and mol.spin_multiplicity == 1
    assert len(mol.properties["point_charges"]) > 100 and "d10" in what
    assert _cluster(s, 1)[0] is None and "open d shell (d8)" in _cluster(s, 1)[1]  # Ni2+: not closed-shell

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
    (ni,) = by["NiO"].ladder
    assert "not run" in ni["said"] and ni["keys"] == [] and ni["cost_s"] == 0
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
