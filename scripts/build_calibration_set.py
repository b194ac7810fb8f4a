"""Build ``src/mattwin/data/calibration_<engine>.json.gz``: computed energies of experimentally measured
compounds, per engine, for the calibration of formation energies (``mattwin calibrate``).

The experimental set is the one the Materials Project 2020 corrections were fitted to, read from the
installed pymatgen (``pymatgen/analysis/compatibility/exp_compounds.json.gz``: formation enthalpies at
298 K, eV per formula unit, with uncertainties; Wang et al., Sci. Rep. 11, 15496 (2021), data from
Kubaschewski, NIST-JANAF and others; pymatgen is MIT-licensed). The experimental values are *not*
copied: the files written here hold only what mattwin computed, and ``mattwin.analysis.calibration``
joins them with the package's experimental values at run time.

Per compound, a structure is needed:
1. the shipped reference library (``references.json.gz``) when a phase has the compound's reduced
   formula (source "reference library: <name>");
2. otherwise a structure search with the default engine: ionic substitution into known prototypes
   (``mattwin.discovery.generate.substitution_candidates``), element substitution into the common
   structure types of the same stoichiometry (intermetallics and compounds without oxidation states,
   electropositive element on the prototype's electropositive site), and PyXtal random structures when
   neither gives one (unless ``--no-random``: the shipped files were built so, as random structures take
   ten times the steps on 2 CPU cores; compounds without a substitution structure are then left out).
   Every structure is relaxed with the default engine (CHGNet; fmax 0.1 eV/Å, at most 200 steps, or
   the campaign settings where an earlier build relaxed it so), the lowest energy is kept and
   labelled "structure predicted by mattwin (<origin>)".
The chosen structure, as CHGNet left it, is then relaxed with every engine, and the elemental
ground states of the reference library with each engine, with the relaxation settings of a campaign
(fmax 0.05 eV/Å, at most 500 steps), so a campaign's hull and the calibration share element energies.

Engines: the three GGA-level members of the default ensemble (CHGNet 0.3.0, SevenNet-0, SevenNet-l3i5;
``ENGINES``, which also fix the elements covered) and two r2SCAN-level models (``R2SCAN_ENGINES``:
CHGNet's r2scan weights and SevenNet-MF-0's R2SCAN head). The r2SCAN engines relax the same chosen
structures: with ``--from-store`` they are read back from the store (the inputs of the earlier build's
relaxations) and no search is run or regenerated; with ``--reuse-search`` the search's starting
structures are regenerated and every one of their relaxations must already be in the store (the build
stops otherwise: a changed reference library or generator gives other starts).

All calculations go through mattwin's runtime and a store (``build/calibration.db``), so an interrupted
build resumes where it stopped. Run from the repository root::

    python scripts/build_calibration_set.py                       # all engines
    python scripts/build_calibration_set.py --engines chgnet      # one engine
    python scripts/build_calibration_set.py --from-store --engines chgnet:r2scan

Energies in eV/atom, lengths in Å.
"""

from __future__ import annotations

import argparse
import gzip
import itertools
import json
import math
import time
import warnings
from collections import Counter
from pathlib import Path
from typing import Any

from pymatgen.core import Composition, Element, Structure

from mattwin.analysis.chemistry import chemistry_class
from mattwin.discovery.generate import (
    Candidate,
    _signature,
    prototype_library,
    random_candidates,
    substitution_candidates,
)
from mattwin.discovery.references import ReferencePhase, builtin_references
from mattwin.engines.registry import get_engine
from mattwin.errors import MattwinError
from mattwin.materials import canonical, check_physical
from mattwin.runtime.execute import execute
from mattwin.runtime.jobs import Job, Outcome
from mattwin.store.store import Store

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "src" / "mattwin" / "data"
DB = ROOT / "build" / "calibration.db"
ENGINES = ("chgnet", "sevenn:7net-0", "sevenn:7net-l3i5")
#: r2SCAN-level engines: relax the structures chosen with ENGINES[0]; energies on MP's r2SCAN scale
R2SCAN_ENGINES = ("chgnet:r2scan", "sevenn:7net-mf-0@r2scan")
RELAX = {"fmax": 0.05, "max_steps": 500}
#: settings of the structure search (ranking polymorphs); the chosen structure is relaxed again with RELAX
SEARCH = {"fmax": 0.1, "max_steps": 200}
MAX_ATOMS = 20  # largest cell of a searched structure
MAX_TRIED = 3  # structures relaxed per compound without a reference structure
N_RANDOM = 2
#: chemical spaces whose every measured compound is computed (the demo campaign's)
DEMO_SPACES = ("Li-Fe-P-O",)
#: common structure types (AFLOW labels) for element substitution, by stoichiometry
COMMON_TYPES = (
    "AB_cP2_221_b_a",  # B2 CsCl
    "AB_tP2_123_a_d",  # L1_0 CuAu
    "AB_cF8_225_a_b",  # B1 NaCl
    "AB_oP8_62_c_c",  # B27 FeB
    "AB_oC8_63_c_c",  # B33 CrB
    "AB_hP4_194_c_a",  # B8_1 NiAs
    "AB_cF8_216_c_a",  # B3 zincblende
    "AB_hP2_187_d_a",  # B_h WC
    "A2B_cF24_227_d_a",  # C15 MgCu2
    "AB2_hP12_194_f_ah",  # C14 MgZn2
    "AB2_tI6_139_a_e",  # C11_b MoSi2
    "A2B_tI12_140_h_a",  # C16 CuAl2
    "AB2_hP3_191_a_d",  # C32 AlB2
    "AB2_cF12_225_a_c",  # C1 fluorite
    "AB3_cP4_221_a_c",  # L1_2 Cu3Au
    "A3B_hP8_194_h_c",  # D0_19 Ni3Sn
    "A3B_tI8_139_bd_a",  # D0_22 TiAl3
    "AB3_cF16_225_a_bc",  # D0_3 BiF3
    "A3B_cP8_223_c_a",  # A15 Cr3Si
    "AB5_hP6_191_a_cg",  # D2_d CaCu5
    "AB2C_cF16_225_a_c_b",  # L2_1 Heusler
    "ABC_cF12_216_b_c_a",  # C1_b half-Heusler
)


def exp_compounds() -> list[dict[str, Any]]:
    from mattwin.discovery.calibration_set import experimental_formation_enthalpies

    return [
        {"formula": e.formula, "class": chemistry_class(e.formula), "n_atoms": e.n_atoms}
        for e in experimental_formation_enthalpies()
    ]


def _covered(formula: str, element_refs: set[str], supported: frozenset[str]) -> bool:
    comp = Composition(formula)
    symbols = {e.symbol for e in comp.elements}
    if not symbols <= element_refs or not symbols <= supported:
        return False
    if all(not Element(s).is_metal and not Element(s).is_metalloid for s in symbols):
        return False  # molecular compounds (CO2, NH3, ...): not crystals at 298 K
    return True


def _round_robin(pool: list[dict[str, Any]], limit: int, taken: set[str]) -> list[dict[str, Any]]:
    """Up to ``limit`` compounds of ``pool`` not in ``taken``, one chemistry class after another
    (smallest formula first within a class)."""
    by_class: dict[str, list[dict[str, Any]]] = {}
    for c in sorted(pool, key=lambda c: (c["n_atoms"], c["formula"])):
        if c["formula"] not in taken and c["n_atoms"] <= MAX_ATOMS:
            by_class.setdefault(c["class"], []).append(c)
    out: list[dict[str, Any]] = []
    for tier in itertools.zip_longest(*by_class.values()):
        for c in tier:
            if c is not None and len(out) < limit:
                out.append(c)
    return out


def select(
    limit: int, refs: list[ReferencePhase], late_limit: int = 80, spaces: tuple[str, ...] = DEMO_SPACES
) -> list[dict[str, Any]]:
    """Compounds to compute, in three groups that keep earlier builds' choices stable:

    1. every compound with a reference-library structure, then round-robin over chemistry classes up to
       ``limit``, over the elements that had elemental references in the first build (the Delta set);
    2. up to ``late_limit`` compounds with the elements whose references came later (lanthanides,
       actinides, Ra: ``build_references.EXPERIMENTAL_ELEMENTS``), round-robin over classes;
    3. every measured compound inside the chemical spaces ``spaces`` (the demo's Li-Fe-P-O), so that a
       campaign there meets the known phases.
    Elements every engine covers, with an elemental reference phase; no molecular compounds."""
    from build_references import EXPERIMENTAL_ELEMENTS

    supported = frozenset.intersection(*(get_engine(e).supported_elements() for e in ENGINES))
    element_refs = {next(iter(r.elements)) for r in refs if len(r.elements) == 1}
    late = set(EXPERIMENTAL_ELEMENTS)
    ref_formulas = {r.formula for r in refs if len(r.elements) > 1}
    pool = [c for c in exp_compounds() if _covered(c["formula"], element_refs, supported)]
    first = [c for c in pool if not _symbols(c["formula"]) & late]
    chosen = [c for c in first if c["formula"] in ref_formulas]
    chosen += _round_robin(first, limit - len(chosen), {c["formula"] for c in chosen})
    chosen += _round_robin([c for c in pool if _symbols(c["formula"]) & late], late_limit, set())
    taken = {c["formula"] for c in chosen}
    for space in spaces:
        allowed = set(space.split("-"))
        chosen += [c for c in pool if _symbols(c["formula"]) <= allowed and c["formula"] not in taken]
        taken = {c["formula"] for c in chosen}
    return chosen


def _symbols(formula: str) -> set[str]:
    return {e.symbol for e in Composition(formula).elements}


def _element_substitutions(formula: str, prototypes: list[tuple[Structure, str]]) -> list[Candidate]:
    """Elements put on the sites of common structure types of the same stoichiometry; the more
    electropositive element goes on the prototype's more electropositive site; volume from the sum of
    the elements' atomic volumes (4/3 pi r^3 of pymatgen's calculated atomic radius, x 1.4 packing)."""
    comp = Composition(formula).reduced_composition
    sig = _signature(comp)
    out = []
    for proto, label in prototypes:
        if not any(t in label for t in COMMON_TYPES) or _signature(proto.composition) != sig:
            continue
        plain = proto.copy()
        plain.remove_oxidation_states()
        if len(plain) > MAX_ATOMS:
            continue
        scale = plain.composition.num_atoms / comp.num_atoms
        old = sorted(plain.composition.elements, key=lambda e: (plain.composition[e], e.X))
        new = sorted(comp.elements, key=lambda e: (comp[e] * scale, e.X))
        if [round(plain.composition[e]) for e in old] != [round(comp[e] * scale) for e in new]:
            continue
        s = plain.copy()
        s.replace_species(dict(zip(old, new, strict=True)))
        vol = sum(
            1.4 * 4.0 / 3.0 * math.pi * (site.specie.atomic_radius_calculated or 1.5) ** 3 for site in s
        )
        s.scale_lattice(vol)
        s = canonical(s)
        try:
            check_physical(s)
        except MattwinError:
            continue
        out.append(Candidate(s, f"element substitution into {label}", "substitution", 0.5))
    return out


def search_structures(
    formula: str, prototypes: list[tuple[Structure, str]], seed: int, random: bool = True
) -> list[Candidate]:
    """At most ``MAX_TRIED`` starting structures for ``formula`` (see the module docstring); PyXtal
    random structures only with ``random``."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cands = substitution_candidates([formula], prototypes, MAX_ATOMS, max_per_composition=MAX_TRIED)
        if len(cands) < MAX_TRIED:
            cands += _element_substitutions(formula, prototypes)[: MAX_TRIED - len(cands)]
        if not cands and random:
            try:
                cands = random_candidates(formula, N_RANDOM, MAX_ATOMS, seed=seed)
            except MattwinError:
                cands = []
    return cands[:MAX_TRIED]


def _progress(stage: str, total: int) -> Any:
    state = {"n": 0, "t0": time.perf_counter()}

    def tick(out: Outcome) -> None:
        state["n"] += 1
        if state["n"] % 25 == 0 or state["n"] == total:
            dt = time.perf_counter() - state["t0"]
            print(f"  {stage}: {state['n']}/{total} ({dt:.0f} s)", flush=True)

    return tick


def run(jobs: list[Job], store: Store, stage: str, chunk: int = 48) -> list[Outcome]:
    """Run ``jobs`` through the store in chunks (each a batch), so results and progress flow steadily."""
    print(f"{stage}: {len(jobs)} relaxations", flush=True)
    tick = _progress(stage, len(jobs))
    out: list[Outcome] = []
    for start in range(0, len(jobs), chunk):
        out += execute(jobs[start : start + chunk], store, progress=tick)
    return out


def relaxed_energy(o: Outcome) -> float | None:
    if not o.ok or not o.result:
        return None
    e = float(o.result["energy_per_atom_eV"])
    return e if math.isfinite(e) else None


def _search_job(f: str, k: int, s: Structure, relax_cell: bool, store: Store) -> Job:
    """The campaign-settings relaxation when it is in the store (earlier builds), else the cheaper
    search settings (SEARCH): the search only ranks polymorphs; the chosen one is relaxed again."""
    full = Job("relax", s, ENGINES[0], {**RELAX, "relax_cell": relax_cell}, label=f"{f} #{k}")
    cached = store.lookup(full.key)
    if cached is not None and cached.status == "done":
        return full
    return Job("relax", s, ENGINES[0], {**SEARCH, "relax_cell": relax_cell}, label=f"{f} #{k}")


def choose_structures(
    compounds: list[dict[str, Any]],
    refs: list[ReferencePhase],
    store: Store,
    random: bool = True,
    reuse: bool = False,
) -> dict[str, tuple[Structure, str, int]]:
    """formula -> (CHGNet-relaxed best structure of the search, source label, number of structures
    tried). Random (PyXtal) starts run last: they take the most steps. With ``reuse`` the search is
    read from the store and never run: a search relaxation missing there stops the build."""
    by_formula: dict[str, list[ReferencePhase]] = {}
    for r in refs:
        by_formula.setdefault(r.formula, []).append(r)
    prototypes = prototype_library([r.structure for r in refs])
    starts: list[tuple[str, Structure, str, bool]] = []
    for i, c in enumerate(compounds):
        f = c["formula"]
        if f in by_formula:
            starts += [(f, r.structure, f"reference library: {r.name}", r.relax_cell) for r in by_formula[f]]
        else:
            found = search_structures(f, prototypes, seed=i, random=random)
            starts += [(f, s.structure, f"structure predicted by mattwin ({s.origin})", True) for s in found]
    print(f"search: {len(starts)} starting structures for {len(compounds)} compounds", flush=True)
    starts.sort(key=lambda t: "pyxtal" in t[2])
    jobs = [_search_job(f, k, s, rc, store) for k, (f, s, _, rc) in enumerate(starts)]
    if reuse:
        missing = [j.label for j in jobs if (r := store.lookup(j.key)) is None or r.status != "done"]
        if missing:
            raise SystemExit(
                f"--reuse-search: {len(missing)} of {len(jobs)} search relaxations are not in the store "
                f"(first: {', '.join(missing[:5])}); the inputs changed since the search (reference "
                "library?) or the store is another one; drop --reuse-search to search again"
            )
        print(f"search: all {len(jobs)} relaxations read from the store", flush=True)
    outs = run(jobs, store, "search (chgnet)")
    best: dict[str, tuple[float, Structure, str]] = {}
    tried: Counter[str] = Counter()
    for (f, _s, label, _), o in zip(starts, outs, strict=True):
        tried[f] += 1
        e = relaxed_energy(o)
        if e is not None and (f not in best or e < best[f][0]):
            best[f] = (e, Structure.from_dict(o.result["structure"]), label)  # type: ignore[index]
    return {f: (s, label, tried[f]) for f, (_, s, label) in best.items()}


def chosen_from_store(store: Store) -> dict[str, tuple[Structure, str, int]]:
    """The structures an earlier build chose, read back without running or even regenerating the
    search (whose starting structures change whenever the reference library or the generator does).

    The compounds, their source labels and counts are those of the shipped ``ENGINES[0]`` file; each
    chosen structure is the input of that build's ``ENGINES[1]`` compound relaxation (a relaxation of
    the chosen structure and of nothing else), and is accepted only when ``ENGINES[0]``'s relaxation of
    the same material with the same settings is in the store too. Stops when a compound lacks either."""
    from sqlalchemy import text

    from mattwin.discovery.calibration_set import computed_set

    shipped = computed_set(ENGINES[0])
    if shipped is None:
        raise SystemExit(f"--from-store: no shipped calibration file for {ENGINES[0]}")
    rows = {r["formula"]: r for r in shipped["compounds"]}
    params = json.dumps({**RELAX, "relax_cell": True}, sort_keys=True)
    query = text(
        "SELECT m.structure, c.params FROM calculations c JOIN materials m ON c.material_id = m.id "
        "WHERE c.engine_key = :k AND c.task = 'relax' AND c.status = 'done'"
    )
    with store.engine.connect() as conn:
        found = conn.execute(query, {"k": get_engine(ENGINES[1]).key}).all()
    by_formula: dict[str, list[Structure]] = {}
    for structure, p in found:
        if json.dumps(json.loads(p), sort_keys=True) != params:
            continue
        s = Structure.from_dict(json.loads(structure))
        if s.composition.reduced_formula in rows:
            by_formula.setdefault(s.composition.reduced_formula, []).append(s)
    out: dict[str, tuple[Structure, str, int]] = {}
    problems = []
    for f, row in rows.items():
        cands = [
            s
            for s in by_formula.get(f, [])
            if (r := store.lookup(Job("relax", s, ENGINES[0], {**RELAX, "relax_cell": True}).key)) is not None
            and r.status == "done"
        ]
        if len(cands) != 1:
            problems.append(f"{f} ({len(cands)} structures)")
            continue
        out[f] = (cands[0], row["structure_source"], int(row.get("n_structures_tried", 1)))
    if problems:
        raise SystemExit(
            f"--from-store: {len(problems)} of {len(rows)} compounds have no unique chosen structure in "
            f"the store (first: {', '.join(problems[:5])}); rebuild without --from-store"
        )
    print(f"chosen structures of {len(out)} compounds read from the store (no search run)", flush=True)
    return out


def element_energies(refs: list[ReferencePhase], engine: str, store: Store) -> dict[str, float]:
    """Lowest relaxed energy per atom of each element's reference phases (eV/atom)."""
    els = [r for r in refs if len(r.elements) == 1]
    jobs = [
        Job("relax", r.structure, engine, {**RELAX, "relax_cell": r.relax_cell}, label=r.name) for r in els
    ]
    out: dict[str, float] = {}
    for r, o in zip(els, run(jobs, store, f"elements ({engine})"), strict=True):
        e = relaxed_energy(o)
        el = next(iter(r.elements))
        if e is not None and (el not in out or e < out[el]):
            out[el] = e
    return out


def compound_rows(
    chosen: dict[str, tuple[Structure, str, int]], engine: str, store: Store
) -> list[dict[str, Any]]:
    """Relax each chosen structure (as the CHGNet search left it) with ``engine`` and the campaign
    settings (RELAX)."""
    formulas = sorted(chosen)
    jobs = [Job("relax", chosen[f][0], engine, {**RELAX, "relax_cell": True}, label=f) for f in formulas]
    rows = []
    for f, o in zip(formulas, run(jobs, store, f"compounds ({engine})"), strict=True):
        e = relaxed_energy(o)
        if e is None:
            continue
        assert o.result is not None
        _, label, n = chosen[f]
        rows.append(
            {
                "formula": f,
                "energy_per_atom_eV": e,
                "converged": bool(o.result.get("converged", True)),
                "structure": o.result["structure"],
                "structure_source": label,
                "n_structures_tried": n,
            }
        )
    return rows


def write(engine: str, elements: dict[str, float], rows: list[dict[str, Any]]) -> Path:
    from mattwin.discovery.calibration_set import data_file

    path = DATA / data_file(engine)
    payload = {
        "engine": engine,
        "engine_signature": get_engine(engine).signature,
        "relax_params": RELAX,
        "built_by": "scripts/build_calibration_set.py",
        "experimental_set": "pymatgen/analysis/compatibility/exp_compounds.json.gz (read at run time)",
        "element_energy_per_atom_eV": elements,
        "compounds": rows,
    }
    with gzip.open(path, "wt", encoding="utf-8") as fh:
        json.dump(payload, fh, default=str)
    print(f"wrote {path} ({len(rows)} compounds, {path.stat().st_size / 1024:.0f} KiB)", flush=True)
    return path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--engines", nargs="+", default=list(ENGINES + R2SCAN_ENGINES))
    ap.add_argument("--limit", type=int, default=560, help="most compounds")
    ap.add_argument("--db", default=str(DB))
    ap.add_argument(
        "--from-store",
        action="store_true",
        help="relax the structures an earlier build chose (read from the store and the shipped "
        f"{ENGINES[0]} file); no search is run or regenerated",
    )
    ap.add_argument(
        "--reuse-search",
        action="store_true",
        help="read the structure search from the store, never run it (stop if any of it is missing)",
    )
    ap.add_argument(
        "--no-random",
        action="store_true",
        help="no PyXtal random structures (compounds without a substitution structure are left out)",
    )
    args = ap.parse_args()
    warnings.filterwarnings("ignore")
    Path(args.db).parent.mkdir(parents=True, exist_ok=True)
    store = Store(args.db)
    refs = builtin_references()
    if args.from_store:
        chosen = chosen_from_store(store)
    else:
        compounds = select(args.limit, refs)
        print(
            f"selected {len(compounds)} compounds: {dict(Counter(c['class'] for c in compounds))}", flush=True
        )
        chosen = choose_structures(compounds, refs, store, random=not args.no_random, reuse=args.reuse_search)
    print(f"structures for {len(chosen)} compounds", flush=True)
    for engine in args.engines:
        t0 = time.perf_counter()
        elements = element_energies(refs, engine, store)
        rows = compound_rows(chosen, engine, store)
        write(engine, elements, rows)
        print(f"{engine}: {time.perf_counter() - t0:.0f} s", flush=True)


if __name__ == "__main__":
    main()
