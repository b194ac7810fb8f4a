"""A small campaign through a real Dask LocalCluster with 2 workers gives the in-process answer,
on SQLite and on a real PostgreSQL server (the ``store`` fixture runs both)."""

from __future__ import annotations

import pytest

from mattwin.discovery.campaign import run_campaign
from mattwin.discovery.config import CampaignConfig
from mattwin.runtime.execute import Execution
from mattwin.store import Store


@pytest.mark.slow
def test_campaign_on_two_dask_workers_matches_in_process(tmp_path, store):
    cfg = CampaignConfig(elements=("Na", "Cl"), max_atoms=8, budget=4, max_steps=150)
    local, _ = run_campaign(cfg, store=Store(str(tmp_path / "local.db")))
    dstore = store
    dist, _ = run_campaign(cfg, store=dstore, execution=Execution(workers=2))
    assert dist.n_cached == 0 and len(dstore.calculations()) == len(
        Store(str(tmp_path / "local.db")).calculations()
    )
    n_rows = len(dstore.calculations())
    assert {c.host for c in dstore.calculations()}  # written by the workers
    by_id = {c.candidate_id: c for c in local.candidates}
    for c in dist.candidates:
        if c.status == "ok":
            assert c.e_hull == pytest.approx(by_id[c.candidate_id].e_hull, abs=1e-3)
    again, _ = run_campaign(cfg, store=dstore, execution=Execution(workers=2))
    # nothing recomputed: no new rows; every relaxation found in the store (phonons of the synthesize
    # stage are cached too, but n_cached counts the screen's relaxations)
    assert len(dstore.calculations()) == n_rows
    assert again.n_cached == len(dstore.calculations(task="relax"))
