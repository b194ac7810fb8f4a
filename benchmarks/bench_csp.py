"""Crystal-structure prediction of known compounds: mattwin's generator against plain PyXtal random search.

For each of ``--compounds`` known compounds of distinct structure types (2-3 elements, at most
``--max-atoms`` atoms in the primitive cell, from mattwin's shipped reference library and pymatgen's
prototype library), every library structure isotypic with it (pymatgen ``fit_anonymous``: its own
structure, its prototype and every other structure of its type) is removed from what the generator
may use. mattwin proposes candidates for the composition with the compound's atoms per cell:
orbit-resolved and partial ionic substitution into the remaining prototypes (best probability
first), then PyXtal random structures. The baseline proposes PyXtal random structures only. Random
structures (both methods) are conventional cells of 1-4x the formula units whose primitive cell has
the compound's number of atoms, so that centred structures can be drawn. Everything is relaxed
with CHGNet through mattwin's batched runtime (cached in the benchmark's store: a rerun is fast).

mattwin's search is anytime: its first ``--population`` (10) relaxations are those candidates
(substitution first, PyXtal random to fill), and past them the evolutionary search
(:func:`mattwin.discovery.evolution.evolutionary_search`: cut-and-splice heredity, permutation,
lattice strain, mutation; tournament selection) runs seeded by them, one generation of
``--population`` relaxations at a time, until the budget is spent. The baseline relaxes PyXtal random
structures in order. A compound counts as found within k relaxations when one of the first k
relaxations matches its known structure (pymatgen ``StructureMatcher``, default tolerances); a
method stops at its first hit ("relaxations needed to find the known structure"), so one run gives
the match rate at every budget up to the largest.

CPU is bounded: ``--subset 50:12 200:3`` runs budget 50 on 12 and budget 200 on 3 of the compounds
(spread over the list by a van der Corput sequence, nested: the 200 subset lies in the 50 subset);
each budget's match rate is over the compounds that ran it, for both methods alike. ``--time-limit``
stops starting new compounds after that many seconds and reports on those done.

    OMP_NUM_THREADS=1 nice -n 5 .venv/bin/python benchmarks/bench_csp.py          # budget 10
    .venv/bin/python benchmarks/bench_csp.py --budgets 10 50 200 --subset 50:8 200:3   # as reported
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
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


def _library_without(target: Any, library: list[tuple[Any, str]]) -> list[tuple[Any, str]]:
    """The prototype library (decorated) and references, less everything isotypic with ``target``."""
    from pymatgen.analysis.structure_matcher import StructureMatcher

    from mattwin.discovery.compositions import anonymous_formula

    matcher = StructureMatcher()
    sig = anonymous_formula(list(target.composition.values()))
    keep = []
    for s, label in library:
        if anonymous_formula(list(s.composition.values())) == sig:
            plain = s.copy()
            plain.remove_oxidation_states()
            if matcher.fit_anonymous(plain, target):
                continue
        keep.append((s, label))
    return keep


def _random_fill(comp: Any, n_atoms: int, n: int, seed: int) -> list[Any]:
    """Up to n PyXtal random structures whose primitive cell has exactly ``n_atoms`` atoms: centred
    conventional cells of up to 4x (3x rhombohedral) the formula units are drawn and reduced."""
    from mattwin.discovery.generate import random_candidates

    z = round(n_atoms / comp.reduced_composition.num_atoms)
    out: list[Any] = []
    for attempt in range(6):
        if len(out) >= n:
            break
        more = random_candidates(
            comp,
            2 * (n - len(out)),
            4 * n_atoms,
            seed=seed + 7919 * attempt,
            formula_units=[z, 2 * z, 3 * z, 4 * z],
        )
        out += [c.structure for c in more if len(c.structure) == n_atoms]
    return out[:n]


def _mattwin_candidates(target: Any, library: list[tuple[Any, str]], n: int, seed: int) -> list[Any]:
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
    subs = [c for c in subs if len(c.structure) == n_atoms][:n]
    rnd = _random_fill(comp, n_atoms, n - len(subs), seed) if len(subs) < n else []
    return [c.structure for c in subs] + rnd


def _random_candidates(target: Any, n: int, seed: int) -> list[Any]:
    return _random_fill(target.composition, len(target), n, seed)


def _first_hit(
    cands: list[Any], target: Any, store: Any, stages: list[int], params: dict
) -> tuple[int | None, int]:
    """Relax the candidates in stages (cumulative budgets) and return (index of the first match, 1-based,
    or None; relaxations run)."""
    from pymatgen.analysis.structure_matcher import StructureMatcher
    from pymatgen.core import Structure

    from mattwin.runtime.execute import execute
    from mattwin.runtime.jobs import Job

    matcher = StructureMatcher()
    done = 0
    for stop in stages:
        batch = cands[done:stop]
        if not batch:
            break
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
    starts: list[Any], target: Any, store: Any, budget: int, population: int, params: dict, seed: int
) -> tuple[int | None, int]:
    """mattwin's search: ``starts`` (relaxed first, as generation 0) then the evolutionary search seeded
    by them, until ``budget`` relaxations; (1-based index of the first relaxation matching the target or
    None, relaxations run)."""
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
            comp, relax, formula_units=z, population=population, generations=gens, seed=seed, starts=starts
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
    ap.add_argument(
        "--subset", nargs="*", default=[], help="BUDGET:N runs BUDGET on N spread compounds only, e.g. 200:3"
    )
    ap.add_argument("--time-limit", type=float, default=None, help="s: start no new compound after it")
    args = ap.parse_args(argv)
    if args.compounds < 1 or any(b < 1 for b in args.budgets) or args.max_atoms < 2 or args.population < 2:
        print("error: --compounds, --budgets, --max-atoms and --population must be positive", file=sys.stderr)
        return 2
    try:
        subset = {int(b): int(n) for b, n in (x.split(":") for x in args.subset)}
    except ValueError:
        print(f"error: --subset {args.subset}: write BUDGET:N, e.g. 200:3", file=sys.stderr)
        return 2
    from mattwin.discovery.generate import prototype_library
    from mattwin.discovery.references import builtin_references
    from mattwin.store import Store

    store = Store(args.db)
    params = {"fmax": args.fmax, "max_steps": args.steps, "relax_cell": True}
    budgets = sorted(args.budgets)
    t0 = time.perf_counter()
    compounds = _compounds(args.compounds, args.max_atoms)
    library = prototype_library([r.structure for r in builtin_references() if len(r.elements) > 1])
    print(
        f"# {len(compounds)} compounds of distinct structure types; CHGNet relax fmax {args.fmax} eV/Å, "
        f"{args.steps} steps; budgets {budgets}; every isotypic library structure removed per compound"
    )
    order = _spread(len(compounds))
    # the largest budget each compound runs: the largest b whose subset (first N of the spread) has it
    cap = {}
    for i in range(len(compounds)):
        rank = order.index(i)
        cap[i] = max(b for b in budgets if rank < subset.get(b, len(compounds)))
    hits: dict[str, dict[int, int | None]] = {"mattwin": {}, "pyxtal": {}}
    n_relax = {"mattwin": 0, "pyxtal": 0}
    for i, (name, target, src) in enumerate(compounds):
        if args.time_limit is not None and time.perf_counter() - t0 > args.time_limit:
            print(f"# time limit {args.time_limit:.0f} s reached: {i} of {len(compounds)} compounds run")
            break
        lib = _library_without(target, library)
        b = cap[i]
        starts = _mattwin_candidates(target, lib, args.population, seed=i)
        line = []
        hit, ran = _evolution_hit(starts, target, store, b, args.population, params, seed=i)
        hits["mattwin"][i] = hit
        n_relax["mattwin"] += ran
        line.append(f"mattwin {'hit at ' + str(hit) if hit else 'not found'}")
        cs = _random_candidates(target, b, seed=i)
        hit, ran = _first_hit(cs, target, store, [k for k in budgets if k <= b], params)
        hits["pyxtal"][i] = hit
        n_relax["pyxtal"] += ran
        line.append(f"pyxtal {'hit at ' + str(hit) if hit else 'not found'} ({len(cs)} cands)")
        print(
            f"{i + 1:2d} {name[:56]:56s} {len(target):2d} atoms, budget {b:3d} [{src}]: {'; '.join(line)}",
            flush=True,
        )
    wall = time.perf_counter() - t0
    done = list(hits["mattwin"])
    print(
        f"# match rate (StructureMatcher defaults) on {len(done)} compounds, wall {wall:.0f} s, relaxations "
        f"mattwin {n_relax['mattwin']}, pyxtal {n_relax['pyxtal']}"
    )
    for k in budgets:
        ran_k = [i for i in done if cap[i] >= k]
        if not ran_k:
            continue
        m = sum(hits["mattwin"][i] is not None and hits["mattwin"][i] <= k for i in ran_k) / len(ran_k)  # type: ignore[operator]
        p = sum(hits["pyxtal"][i] is not None and hits["pyxtal"][i] <= k for i in ran_k) / len(ran_k)  # type: ignore[operator]
        ratio = f"{m / p:.2f}" if p else "inf" if m else "n/a"
        print(
            f"budget {k:3d} ({len(ran_k)} compounds): mattwin (substitution + random, then evolution) "
            f"{m:.1%}  pyxtal random {p:.1%}  ratio {ratio}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
