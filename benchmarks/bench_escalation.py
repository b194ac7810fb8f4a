"""Escalation, cost-aware vs "every rung on every top candidate", on one screened campaign.

The campaign (default: K-Cl-Br with PyXtal K2ClBr structures, CHGNet, about 12 candidates) is
screened once; its database is copied, and each policy escalates its own copy with the same rungs
(default ``ensemble`` and ``phonons``):
  * mattwin (``policy = "value"``): the option with the largest expected change of the top N per
    predicted second, until no option can change the top N;
  * every rung (``policy = "all"``): every rung on each of the top ``--all-top`` candidates.
Reported: each policy's final top N (as a set and in order), the CPU seconds its rungs took (recorded
wall times of the calculations, one process), how many rungs ran, and the ratio.

    python benchmarks/bench_escalation.py [--toml CAMPAIGN.toml] [--top 5] [--all-top 8]
        [--rungs ensemble phonons]
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
import warnings
from pathlib import Path

from mattwin.discovery.campaign import run_campaign
from mattwin.discovery.config import CampaignConfig
from mattwin.store.store import Store

DEFAULT = CampaignConfig(
    elements=("K", "Cl", "Br"),
    name="kclbr",
    compositions=("K2ClBr",),
    n_random=3,
    max_atoms=8,
    budget=12,
    max_steps=200,
    phonons_top=0,
    routes_top=0,
)


def _copy(src: Path, dst: Path) -> Path:
    shutil.copy(src, dst)
    for ext in ("-wal", "-shm"):
        if Path(f"{src}{ext}").exists():
            shutil.copy(f"{src}{ext}", f"{dst}{ext}")
    return dst


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--toml", type=Path, help="campaign file (default: the K-Cl-Br campaign above)")
    ap.add_argument("--top", type=int, default=5, help="the decision: top N by P(stable)")
    ap.add_argument("--all-top", type=int, default=8, help="candidates the every-rung policy escalates")
    ap.add_argument("--rungs", nargs="+", default=["ensemble", "phonons"])
    ap.add_argument("--keep", type=Path, help="keep the databases in this folder")
    args = ap.parse_args()
    warnings.filterwarnings("ignore")
    cfg = CampaignConfig.from_toml(args.toml).replace(phonons_top=0) if args.toml else DEFAULT
    work = args.keep or Path(tempfile.mkdtemp(prefix="mattwin-bench-esc-"))
    work.mkdir(parents=True, exist_ok=True)
    db0 = work / "screened.db"
    t0 = time.perf_counter()
    store = Store(str(db0))
    screened, _ = run_campaign(cfg, store)
    store.engine.dispose()
    ok = [c for c in screened.candidates if c.status == "ok" and not c.duplicate_of]
    print(
        f"campaign {cfg.name}: {'-'.join(cfg.elements)} with {cfg.engine}, {len(ok)} screened candidates "
        f"({time.perf_counter() - t0:.0f} s); rungs {', '.join(args.rungs)}; decision: top {args.top}"
    )
    runs = {}
    for label, policy, top in (("mattwin", "value", args.top), ("every rung", "all", args.all_top)):
        st = Store(str(_copy(db0, work / f"{policy}.db")))
        esc = {"rungs": args.rungs, "top": top, "policy": policy, "budget_cpu_h": 100.0}
        t = time.perf_counter()
        result, _ = run_campaign(cfg.replace(escalate=esc), st)
        wall = time.perf_counter() - t
        runs[label] = result
        e = result.escalation or {}
        per = ", ".join(f"{k} {v:.0f} s" for k, v in e.get("spent_per_rung_cpu_s", {}).items())
        print(
            f"\n{label} (policy {policy}, top {top}): {e.get('n_rungs_run')} rungs, "
            f"{e.get('spent_cpu_s', 0):.0f} CPU s ({per}); wall {wall:.0f} s"
        )
        for c in result.candidates:
            if c.ladder:
                steps = "; ".join(f"{x['rung']}: {x['said']} ({x['cost_s']:.0f} s)" for x in c.ladder)
                print(f"  #{c.rank} {c.formula} {c.candidate_id}: {steps}")
        st.engine.dispose()
    tops = {k: [c.candidate_id for c in r.candidates[: args.top]] for k, r in runs.items()}
    same_set = set(tops["mattwin"]) == set(tops["every rung"])
    print(f"\nfinal top {args.top}:")
    for k, ids in tops.items():
        forms = {c.candidate_id: c.formula for c in runs[k].candidates}
        print(f"  {k:10s} " + ", ".join(f"{forms[i]} ({i[:8]})" for i in ids))
    print(f"same top-{args.top} set: {same_set}; same order: {tops['mattwin'] == tops['every rung']}")
    a = (runs["mattwin"].escalation or {}).get("spent_cpu_s", 0.0)
    b = (runs["every rung"].escalation or {}).get("spent_cpu_s", 0.0)
    print(f"CPU s: mattwin {a:.0f}, every rung {b:.0f}; ratio every-rung/mattwin {b / max(a, 1e-9):.2f}x")
    print(f"total {time.perf_counter() - t0:.0f} s; databases in {work}")


if __name__ == "__main__":
    main()
