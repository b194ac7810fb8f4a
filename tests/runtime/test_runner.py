"""The runtime: cached jobs are not recomputed, one bad job never stops the others."""

from __future__ import annotations

from pymatgen.core import Lattice, Structure

from mattwin.runtime import Job, run_jobs


def test_second_run_recomputes_nothing(store, cu_fcc):
    jobs = [
        Job("relax", cu_fcc, "emt", {"fmax": 0.05, "max_steps": 100, "relax_cell": True}),
        Job("static", cu_fcc, "emt"),
    ]
    first = run_jobs(jobs, store)
    assert [o.cached for o in first] == [False, False] and all(o.ok for o in first)
    second = run_jobs(jobs, store)
    assert [o.cached for o in second] == [True, True]
    assert second[0].result == first[0].result
    assert len(store.calculations()) == 2
    rec = store.lookup(first[0].key)
    assert rec.engine_signature["model"] == "EMT" and rec.wall_time_s > 0 and rec.host


def test_different_parameters_are_different_calculations(store, cu_fcc):
    run_jobs(
        [Job("relax", cu_fcc, "emt", {"fmax": 0.05}), Job("relax", cu_fcc, "emt", {"fmax": 0.01})], store
    )
    assert len(store.calculations()) == 2


def test_bad_candidates_fail_with_reasons_and_the_rest_go_on(store, cu_fcc, si_diamond):
    overlapping = Structure(Lattice.cubic(4.0), ["Cu", "Cu"], [[0, 0, 0], [0.01, 0, 0]])
    outs = run_jobs(
        [
            Job("static", si_diamond, "emt", label="si"),
            Job("static", overlapping, "emt", label="overlap"),
            Job("static", cu_fcc, "emt", label="cu"),
        ],
        store,
    )
    assert [o.status for o in outs] == ["failed", "failed", "done"]
    assert (
        outs[0].error_type == "UnsupportedElementError" and "Si" in outs[0].error and "si:" in outs[0].error
    )
    assert outs[1].error_type == "UnphysicalStructureError" and "overlap: overlapping atoms" in outs[1].error
    failed = store.calculations(status="failed")
    assert {f.error_type for f in failed} == {"UnsupportedElementError", "UnphysicalStructureError"}
