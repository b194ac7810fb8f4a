"""Crystal-structure prediction of known compounds: mattwin's generator against plain PyXtal random search.

For each of ``--compounds`` known compounds of distinct structure types (2-3 elements, at most
``--max-atoms`` atoms in the primitive cell, from mattwin's shipped reference library and pymatgen's
prototype library), every library structure isotypic with it (pymatgen ``fit_anonymous``: its own
structure, its prototype and every other structure of its type) is removed from what the generator
may use. mattwin proposes candidates for the composition with the compound's atoms per cell:
orbit-resolved and partial ionic substitution into the remaining prototypes (best probability
first), then PyXtal random structures whose space groups are drawn by the prior of the remaining
library (:func:`mattwin.discovery.generate.space_group_prior`: how often each group occurs there, plus
one). The baseline proposes PyXtal random structures with uniformly drawn space groups. Random
structures (both methods) are conventional cells of 1-4x the formula units whose primitive cell has
the compound's number of atoms, so that centred structures can be drawn; they come in blocks of
``BLOCK`` seeded per block, so a larger budget continues a smaller one's sequence. Everything is
relaxed with CHGNet through mattwin's batched runtime (cached in the benchmark's store: a rerun is fast).

mattwin's search is anytime: its first ``--population`` (10) relaxations are those candidates
(substitution first, prior-drawn PyXtal to fill), and past them the evolutionary search
(:func:`mattwin.discovery.evolution.evolutionary_search`: cut-and-splice heredity, permutation,
lattice strain, mutation; tournament selection; a fifth of each generation fresh prior-drawn PyXtal
structures) runs seeded by them, one generation of ``--population`` relaxations at a time, until the
budget is spent. The baseline relaxes its PyXtal structures in order, 10 at a time. A compound counts
as found within k relaxations when one of the first k relaxations matches its known structure
(pymatgen ``StructureMatcher``, default tolerances); a method stops at its first hit ("relaxations
needed to find the known structure"), so one run gives the match rate at every budget up to the
largest. Every compound runs the smallest budget before any runs the next.

CPU is bounded: ``--subset 200:12`` runs budget 200 on 12 of the compounds only (spread over the list
by a van der Corput sequence); ``--time-limit`` stops starting new compounds after that many seconds;
each budget's match rate is over the compounds that every arm ran to it. On two cores the arms can
run side by side on one store and be summarised together:

    OMP_NUM_THREADS=1 nice -n 5 .venv/bin/python benchmarks/bench_csp.py          # budget 10, both arms
    .venv/bin/python benchmarks/bench_csp.py --budgets 10 50 200 --arms mattwin > m.out &
    .venv/bin/python benchmarks/bench_csp.py --budgets 10 50 200 --arms pyxtal > p.out
    .venv/bin/python benchmarks/bench_csp.py --merge m.out p.out                  # as reported
"""

from __future__ import annotations

import argparse
import functools
import itertools
import json
import os
import re
import statistics
import sys
import time
import warnings
from collections.abc import Iterator
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", "1")
warnings.filterwarnings("ignore")


def _compounds(n: int, max_atoms: int) -> list[tuple[str, Any, str]]:
    """(name, structure, source) of up to n known compounds of distinct structure types."""
    from pymatgen.symmetry.analyzer import SpacegroupAnalyzer

    from mattwin.discovery.compositions import anonymous_formula
    from mattwin.discovery.generate import prototype_library
    from mattwin.discovery.references import builtin_references
    from mattwin.engines.registry import get_engine

    engine = get_engine("chgnet")
    pool: list[tuple[str, Any, str]] = []
    for r in builtin_references():
        pool.append((r.name, r.structure, f"reference library ({r.source})"))
    for s, label in prototype_library():
        plain = s.copy()
        plain.remove_oxidation_states()
        pool.append((label, plain, "pymatgen prototype library"))
    out: list[tuple[str, Any, str]] = []
    types: set[tuple[Any, ...]] = set()
    formulas: set[str] = set()
    for name, s, src in sorted(pool, key=lambda t: (len(t[1]), t[1].composition.reduced_formula, t[0])):
        prim = s.get_primitive_structure()
        n_el = len(prim.composition.elements)
        if not 2 <= n_el <= 3 or len(prim) > max_atoms or not prim.is_ordered:
            continue
        if engine.supports(prim) is not None:  # a reason it cannot handle the structure
            continue
        formula = prim.composition.reduced_formula
        try:
            sg = SpacegroupAnalyzer(prim, symprec=0.1).get_space_group_number()
        except Exception:  # noqa: BLE001
            continue
        key = (anonymous_formula(list(prim.composition.values())), sg, len(prim))
        if key in types or formula in formulas:
            continue
        types.add(key)
        formulas.add(formula)
        out.append((f"{formula} ({name})", prim, src))
        if len(out) >= n:
            break
    return out


def _library_without(target: Any, library: list[tuple[Any, str]]) -> list[int]:
    """Indices of the prototype library (decorated) and references, less everything isotypic with
    ``target``."""
    from pymatgen.analysis.structure_matcher import StructureMatcher

    from mattwin.discovery.compositions import anonymous_formula

    matcher = StructureMatcher()
    sig = anonymous_formula(list(target.composition.values()))
    keep = []
    for k, (s, _label) in enumerate(library):
        if anonymous_formula(list(s.composition.values())) == sig:
            plain = s.copy()
            plain.remove_oxidation_states()
            if matcher.fit_anonymous(plain, target):
                continue
        keep.append(k)
    return keep


#: PyXtal structures are drawn in blocks of this many (2x requested, those of the right size kept), each
#: block from its own seed, so the first k structures of a stream do not depend on the budget asked
BLOCK = 10


def _random_stream(
    comp: Any, n_atoms: int, seed: int, weights: dict[int, float] | None = None
) -> Iterator[Any]:
    """PyXtal random structures whose primitive cell has exactly ``n_atoms`` atoms, one after another:
    centred conventional cells of up to 4x (3x rhombohedral) the formula units are drawn and reduced.
    Space groups uniform (the baseline) or weighted by ``weights`` (mattwin's prior)."""
    from mattwin.discovery.generate import random_candidates

    z = round(n_atoms / comp.reduced_composition.num_atoms)
    empty = 0
    for block in range(10_000):
        more = random_candidates(
            comp,
            2 * BLOCK,
            4 * n_atoms,
            seed=seed + 7919 * block,
            formula_units=[z, 2 * z, 3 * z, 4 * z],
            space_group_weights=weights,
        )
        good = [c.structure for c in more if len(c.structure) == n_atoms]
        empty = 0 if good else empty + 1
        if empty >= 3:
            return
        yield from good


def _take(stream: Iterator[Any], n: int) -> list[Any]:
    return list(itertools.islice(stream, max(0, n)))


def _mattwin_starts(target: Any, library: list[tuple[Any, str]], n: int, stream: Iterator[Any]) -> list[Any]:
    """Up to n substitution candidates for the target's composition and cell size (best first), then
    structures from ``stream`` to fill n."""
    from mattwin.discovery.compositions import composition_candidates
    from mattwin.discovery.generate import orbit_substitution_candidates

    comp = target.composition
    n_atoms = len(target)
    els = [e.symbol for e in comp.elements]
    comps = [
        c
        for c in composition_candidates(els, n_atoms)
        if c.composition.reduced_composition == comp.reduced_composition
    ]
    subs = orbit_substitution_candidates(comps, library, n_atoms, max_per_composition=n)
    subs = [c.structure for c in subs if len(c.structure) == n_atoms][:n]
    return subs + _take(stream, n - len(subs))


def _first_hit(cands: list[Any], target: Any, store: Any, params: dict) -> tuple[int | None, int]:
    """Relax the candidates in order, ``BLOCK`` at a time (one batched call each), and return (1-based
    index of the first whose relaxed structure matches the target, or None; relaxations run)."""
    from pymatgen.analysis.structure_matcher import StructureMatcher
    from pymatgen.core import Structure

    from mattwin.runtime.execute import execute
    from mattwin.runtime.jobs import Job

    matcher = StructureMatcher()
    done = 0
    while done < len(cands):
        batch = cands[done : done + BLOCK]
        outs = execute([Job("relax", s, "chgnet", params) for s in batch], store)
        for k, o in enumerate(outs):
            if o.ok and o.result and matcher.fit(Structure.from_dict(o.result["structure"]), target):
                return done + k + 1, done + k + 1
        done += len(batch)
    return None, done


class _Found(Exception):  # noqa: N818 - control flow: the target was matched
    def __init__(self, at: int) -> None:
        self.at = at


def _evolution_hit(
    starts: list[Any],
    target: Any,
    store: Any,
    budget: int,
    population: int,
    params: dict,
    seed: int,
    immigrants: Any = None,
) -> tuple[int | None, int]:
    """mattwin's search: ``starts`` (relaxed first, as generation 0) then the evolutionary search seeded
    by them (with ``immigrants`` as its fresh share), until ``budget`` relaxations; (1-based index of
    the first relaxation matching the target or None, relaxations run)."""
    from pymatgen.analysis.structure_matcher import StructureMatcher

    from mattwin.discovery.evolution import evolutionary_search, mlip_relaxer

    matcher = StructureMatcher()
    inner = mlip_relaxer("chgnet", store, fmax=params["fmax"], max_steps=params["max_steps"])
    done = 0

    def relax(structures: list[Any]) -> list[Any]:
        nonlocal done
        structures = structures[: budget - done]
        out = inner(structures) if structures else []
        for r in out:
            done += 1
            if r is not None and matcher.fit(r[0], target):
                raise _Found(done)
        if done >= budget:
            raise _Found(0)
        return out

    comp = target.composition
    z = round(len(target) / comp.reduced_composition.num_atoms)
    gens = max(0, -(-(budget - min(len(starts), population)) // population))
    try:
        evolutionary_search(
            comp,
            relax,
            formula_units=z,
            population=population,
            generations=gens,
            seed=seed,
            starts=starts,
            immigrants=immigrants,
        )
    except _Found as f:
        return (f.at or None), done
    except Exception:  # noqa: BLE001 - every relaxation failed, or no random start: not found
        return None, done
    return None, done


def _spread(n: int) -> list[int]:
    """0..n-1 in van der Corput order (0, n/2, n/4, 3n/4, ...): any prefix is spread over the list."""
    out: list[int] = []
    k = 0
    while len(out) < n:
        x, denom, i = 0.0, 1.0, k
        while i:
            denom *= 2
            x += (i % 2) / denom
            i //= 2
        j = int(x * n)
        if j not in out:
            out.append(j)
        k += 1
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--compounds", type=int, default=40)
    ap.add_argument("--budgets", type=int, nargs="+", default=[10])
    ap.add_argument("--max-atoms", type=int, default=8, help="largest primitive cell of a compound")
    ap.add_argument("--fmax", type=float, default=0.1)
    ap.add_argument("--steps", type=int, default=80)
    ap.add_argument("--db", default="bench_csp.db")
    ap.add_argument("--population", type=int, default=10, help="evolution: structures per generation")
    ap.add_argument("--arms", nargs="+", default=["mattwin", "pyxtal"], choices=["mattwin", "pyxtal"])
    ap.add_argument(
        "--subset", nargs="*", default=[], help="BUDGET:N runs BUDGET on N spread compounds only, e.g. 200:3"
    )
    ap.add_argument(
        "--time-limit", type=float, default=None, help="s: start no new compound (at any budget) after it"
    )
    ap.add_argument("--json", default=None, help="write each compound's first hits to this file")
    ap.add_argument("--merge", nargs="+", default=None, help="summarise the printed lines of earlier runs")
    args = ap.parse_args(argv)
    if args.merge:
        return _merge(args.merge)
    if args.compounds < 1 or any(b < 1 for b in args.budgets) or args.max_atoms < 2 or args.population < 2:
        print("error: --compounds, --budgets, --max-atoms and --population must be positive", file=sys.stderr)
        return 2
    try:
        subset = {int(b): int(n) for b, n in (x.split(":") for x in args.subset)}
    except ValueError:
        print(f"error: --subset {args.subset}: write BUDGET:N, e.g. 200:3", file=sys.stderr)
        return 2
    from mattwin.discovery.generate import library_space_groups, prototype_library, space_group_prior
    from mattwin.discovery.references import builtin_references
    from mattwin.store import Store

    store = Store(args.db)
    params = {"fmax": args.fmax, "max_steps": args.steps, "relax_cell": True}
    budgets = sorted(set(args.budgets))
    arms = [a for a in ("mattwin", "pyxtal") if a in args.arms]
    t0 = time.perf_counter()
    compounds = _compounds(args.compounds, args.max_atoms)
    library = prototype_library([r.structure for r in builtin_references() if len(r.elements) > 1])
    groups = library_space_groups(library)
    print(
        f"# {len(compounds)} compounds of distinct structure types; CHGNet relax fmax {args.fmax} eV/Å, "
        f"{args.steps} steps; budgets {budgets}; arms {arms}; every isotypic library structure removed "
        f"per compound; {len(library)} library structures",
        flush=True,
    )
    order = _spread(len(compounds))
    hits: dict[str, dict[int, int | None]] = {a: {} for a in arms}
    ran_to: dict[str, dict[int, int]] = {a: {} for a in arms}
    n_relax = dict.fromkeys(arms, 0)
    out_of_time = False
    for b in budgets:  # every compound at the smallest budget first, then the next budget, ...
        for rank, i in enumerate(order):
            if rank >= subset.get(b, len(compounds)):
                break
            if args.time_limit is not None and time.perf_counter() - t0 > args.time_limit:
                print(f"# time limit {args.time_limit:.0f} s reached at budget {b}", flush=True)
                out_of_time = True
                break
            name, target, src = compounds[i]
            line = []
            for arm in arms:
                if hits[arm].get(i) is not None:  # found within a smaller budget: found within this one
                    ran_to[arm][i] = b
                    line.append(f"{arm} hit at {hits[arm][i]}")
                    continue
                if arm == "mattwin":
                    keep = _library_without(target, library)
                    lib = [library[k] for k in keep]
                    prior = space_group_prior(groups[k] for k in keep)  # add-one smoothing
                    stream = _random_stream(target.composition, len(target), seed=i, weights=prior)
                    starts = _mattwin_starts(target, lib, args.population, stream)
                    immigrants = functools.partial(_take, stream)
                    hit, ran = _evolution_hit(
                        starts, target, store, b, args.population, params, seed=i, immigrants=immigrants
                    )
                else:
                    cs = _take(_random_stream(target.composition, len(target), seed=i), b)
                    hit, ran = _first_hit(cs, target, store, params)
                hits[arm][i], ran_to[arm][i] = hit, b
                n_relax[arm] += ran
                line.append(f"{arm} {'hit at ' + str(hit) if hit else 'not found'}")
            print(
                f"{i + 1:2d} {name[:50]:50s} {len(target):2d} atoms, budget {b:3d} [{src[:40]}]: "
                f"{'; '.join(line)}  ({time.perf_counter() - t0:.0f} s)",
                flush=True,
            )
        if out_of_time:
            break
    wall = time.perf_counter() - t0
    print(
        f"# match rate (StructureMatcher defaults), wall {wall:.0f} s, relaxations run "
        + ", ".join(f"{a} {n_relax[a]}" for a in arms)
    )
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(
                {
                    "compounds": [c[0] for c in compounds],
                    "hits": {a: {str(i): h for i, h in hits[a].items()} for a in arms},
                    "ran_to": {a: {str(i): r for i, r in ran_to[a].items()} for a in arms},
                },
                fh,
                indent=1,
            )
    _summary(budgets, len(compounds), arms, hits, ran_to)
    return 0


def _summary(
    budgets: list[int],
    n: int,
    arms: list[str],
    hits: dict[str, dict[int, int | None]],
    ran_to: dict[str, dict[int, int]],
) -> None:
    """Match rate at each budget over the compounds every arm ran to that budget, and the ratio."""
    for k in budgets:
        ran_k = [i for i in range(n) if all(ran_to[a].get(i, 0) >= k for a in arms)]
        if not ran_k:
            continue
        found = {a: sum(hits[a][i] is not None and hits[a][i] <= k for i in ran_k) for a in arms}  # type: ignore[operator]
        text = "  ".join(f"{a} {found[a] / len(ran_k):.1%} ({found[a]})" for a in arms)
        if len(arms) == 2:
            m, p = found["mattwin"], found["pyxtal"]
            text += f"  ratio {m / p:.2f}" if p else "  ratio inf" if m else "  ratio n/a"
        print(f"budget {k:3d} ({len(ran_k)} compounds): {text}")
        both = sorted(i for i in ran_k if all(hits[a][i] is not None and hits[a][i] <= k for a in arms))  # type: ignore[operator]
        if len(arms) == 2 and both:
            first = sum(hits["mattwin"][i] < hits["pyxtal"][i] for i in both)  # type: ignore[operator]
            ties = sum(hits["mattwin"][i] == hits["pyxtal"][i] for i in both)
            print(f"    found by both: {len(both)}; mattwin first on {first}, the same relaxation on {ties}")
        if k == budgets[-1]:  # relaxations to the first match, a miss counted as the budget + 1
            med = {
                a: statistics.median(hits[a][i] if hits[a][i] is not None else k + 1 for i in ran_k)  # type: ignore[misc]
                for a in arms
            }
            print("    median relaxations to the first match: " + "  ".join(f"{a} {med[a]:g}" for a in arms))


_LINE = re.compile(r"^\s*(\d+) .* budget\s+(\d+) \[.*\]: (.*?)  \(\d+ s\)$")


def _merge(logs: list[str]) -> int:
    """The summary from the per-compound lines of earlier runs (e.g. one run per arm on the same store,
    side by side on two cores; a run stopped early counts for the budgets its compounds finished)."""
    hits: dict[str, dict[int, int | None]] = {}
    ran_to: dict[str, dict[int, int]] = {}
    budgets: set[int] = set()
    n = 0
    for path in logs:
        try:
            with open(path) as fh:
                lines = fh.read().splitlines()
        except OSError as exc:
            print(
                f"error: --merge {path}: cannot read it ({exc.strerror}); name bench_csp.py output",
                file=sys.stderr,
            )
            return 2
        for text in lines:
            m = _LINE.match(text)
            if not m:
                continue
            i, b = int(m.group(1)) - 1, int(m.group(2))
            n, budgets = max(n, i + 1), budgets | {b}
            for part in m.group(3).split("; "):
                arm, _, rest = part.partition(" ")
                hit = int(rest.split()[-1]) if rest.startswith("hit at") else None
                hits.setdefault(arm, {})[i] = hit
                ran_to.setdefault(arm, {})[i] = max(b, ran_to.get(arm, {}).get(i, 0))
    arms = [a for a in ("mattwin", "pyxtal") if a in hits]
    if not arms:
        print(f"error: --merge {logs}: no per-compound lines of bench_csp.py found", file=sys.stderr)
        return 2
    print(f"# merged {len(logs)} logs: arms {arms}, {n} compounds")
    _summary(sorted(budgets), n, arms, hits, ran_to)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
