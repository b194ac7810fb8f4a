"""What the simulated-lab benchmarks ``bench_closed_loop.py`` (one target) and ``bench_closed_loop_mo.py``
(two targets) share: their command line, the pool drawn per seed, the random and greedy strategies'
picks and the summary ratio line. Not a benchmark itself."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

import numpy as np


def parser(doc: str, pool: int, batch: int, dev_seeds: str) -> argparse.ArgumentParser:
    """``--seeds``, ``--first-seed`` (``dev_seeds``: the development seeds, named in its help), ``--pool``
    and ``--batch`` with these defaults; the description is the first line of ``doc``."""
    ap = argparse.ArgumentParser(description=doc.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument(
        "--first-seed", type=int, default=0, help=f"0: reported seeds; {dev_seeds} were the dev seeds"
    )
    ap.add_argument("--pool", type=int, default=pool)
    ap.add_argument("--batch", type=int, default=batch)
    return ap


def draw_pool(n_all: int, pool: int, seed: int) -> np.ndarray:
    """The indices of the ``pool`` compounds (of ``n_all``) that seed ``seed`` draws."""
    return np.random.default_rng(seed).choice(n_all, size=min(pool, n_all), replace=False)


def baseline_picks(
    strategy: str, left: list[int], greedy: Sequence[int], batch: int, rng: np.random.Generator
) -> list[int]:
    """The next ``batch`` picks of ``random`` (of the unmeasured ``left``, drawn with ``rng``) or
    ``greedy`` (the first of ``left`` in the order ``greedy``)."""
    if strategy == "random":
        return [int(i) for i in rng.choice(left, size=min(batch, len(left)), replace=False)]
    unmeasured = set(left)
    return [int(i) for i in greedy if i in unmeasured][:batch]


def print_ratios(found: dict[str, list[int]], seeds: int) -> None:
    """The median measurements of random and greedy over those of mattwin, and the per-seed tally."""
    m = np.median(found["mattwin"])
    wins = sum(a < b for a, b in zip(found["mattwin"], found["greedy"], strict=True))
    ties = sum(a == b for a, b in zip(found["mattwin"], found["greedy"], strict=True))
    print(
        f"ratio random/mattwin: {np.median(found['random']) / m:.2f}x   greedy/mattwin: "
        f"{np.median(found['greedy']) / m:.2f}x   (per seed, mattwin fewer than greedy on {wins} of "
        f"{seeds}, tied on {ties})"
    )
