"""A small real campaign shared by the closed-loop tests: Li-Na-Cl with PyXtal LiNaCl2 structures
(CHGNet, about 30 s once per test process); each test gets its own copy of the database."""

from __future__ import annotations

import shutil
import tempfile
from functools import lru_cache
from pathlib import Path

from mattwin.discovery.config import CampaignConfig

CONFIG = CampaignConfig(
    elements=("Li", "Na", "Cl"),
    name="lina",
    compositions=("LiNaCl2",),
    n_random=3,
    max_atoms=8,
    budget=8,
    max_steps=100,
    phonons_top=0,  # the escalation tests run the phonons
    routes_top=0,
)


@lru_cache(maxsize=1)
def _built() -> Path:
    from mattwin.discovery.campaign import run_campaign
    from mattwin.store.store import Store

    db = Path(tempfile.mkdtemp(prefix="mattwin-tiny-")) / "tiny.db"
    store = Store(str(db))
    run_campaign(CONFIG, store)
    store.engine.dispose()
    return db


def tiny_db(dest: Path) -> Path:
    """A copy of the campaign's database at ``dest``."""
    out = dest / "tiny.db"
    src = _built()
    shutil.copy(src, out)
    for ext in ("-wal", "-shm"):
        if Path(f"{src}{ext}").exists():
            shutil.copy(f"{src}{ext}", f"{out}{ext}")
    return out
