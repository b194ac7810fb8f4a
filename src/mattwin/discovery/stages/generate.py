"""Stage ``generate``: the competing phases of the chemical space and the candidates (from the store
when generated before, else proposed now and stored)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from pymatgen.core import Composition, Structure

from mattwin.discovery.config import CampaignConfig
from mattwin.discovery.generate import propose_candidates
from mattwin.discovery.known import predicted_references
from mattwin.discovery.references import ReferencePhase, builtin_references
from mattwin.discovery.stages.state import CampaignState, Candidate, Context
from mattwin.materials.identity import material_id
from mattwin.runtime.execute import Execution
from mattwin.store.store import Store


def campaign_references(config: CampaignConfig, store: Store) -> list[ReferencePhase]:
    """Shipped reference phases of the chemical space, the searched structures of known compounds that
    the library lacks (:func:`mattwin.discovery.known.predicted_references`) and the user's
    (``mattwin refs add``), unique."""
    refs = builtin_references(config.elements)
    refs += predicted_references(config.elements)
    refs += [ReferencePhase(n, s, src, rc) for s, n, src, rc in store.references(config.elements)]
    seen: set[str] = set()
    unique = []
    for r in refs:
        mid = material_id(r.structure)
        if mid not in seen:
            seen.add(mid)
            unique.append(r)
    return unique


def screened_structures(
    store: Store, elements: Sequence[str], exclude_campaign: str | None = None
) -> list[Any]:
    """The structures (as generated) of the candidates that finished campaigns of the store (but
    ``exclude_campaign``) relaxed inside the chemical space of ``elements``."""
    from mattwin.discovery.proposer import campaign_candidates

    space = set(elements)
    ids: dict[str, None] = {}
    for _, cands in campaign_candidates(store, exclude_campaign):
        for c in cands:
            mid = c.get("candidate_id")
            if mid and c.get("formula") and {e.symbol for e in Composition(c["formula"]).elements} <= space:
                ids.setdefault(mid)
    out = []
    for mid in ids:
        try:
            out.append(store.get_material(mid))
        except (KeyError, LookupError, ValueError):
            continue
    return out


def learned_proposer(config: CampaignConfig, store: Store, execution: Execution | None = None) -> Any:
    """The learned proposer retrained on the store's finished campaigns (this campaign's own earlier
    run left out) and the known compounds, or None when the campaign turns it off; with the
    unrelaxed-structure descriptors, without single-point energies (on the dev chemical spaces they
    did not raise the held-out rank correlation: README)."""
    if not config.learned:
        return None
    from mattwin.discovery.proposer import train_proposer

    return train_proposer(store, exclude_campaign=config.campaign_id, structural=True, execution=execution)


def propose_for(
    config: CampaignConfig,
    refs: list[ReferencePhase],
    proposer: Any = None,
    exclude: Sequence[Any] = (),
    budget: int | None = None,
) -> list[Any]:
    """The Propose step of a campaign on its own (``mattwin generate``): the full generator with the
    reference phases as extra prototypes and as known phases to leave out (and ``exclude``), at most
    ``budget`` (default the campaign's) candidates."""
    return propose_candidates(
        config.elements,
        max_atoms=config.max_atoms,
        budget=config.budget if budget is None else budget,
        compositions=config.compositions,
        n_random=config.n_random if config.compositions else 0,
        prototypes_extra=[r.structure for r in refs],
        seed=config.seed,
        exclude=[*(r.structure for r in refs), *exclude],
        proposer=proposer,
    )


def candidates(
    config: CampaignConfig, store: Store, refs: list[ReferencePhase], execution: Execution | None = None
) -> list[Candidate]:
    """The campaign's candidates: from the store when generated before, else generated now (ordered
    by the learned proposer as trained now, unless the campaign turns it off; without what other
    campaigns relaxed when ``skip_screened``); with ``evolution``, the substitution and random
    candidates get what the evolutionary search leaves of the budget and its best structures follow
    (:func:`evolution_candidates`)."""
    stored = store.campaign_candidates(config.generation_id)
    if stored:
        return [Candidate(*row) for row in stored]
    tried = screened_structures(store, config.elements, config.campaign_id) if config.skip_screened else []
    n_evo = config.evolution_relaxations if config.evolution else 0
    proposer = learned_proposer(config, store, execution)
    generated = propose_for(config, refs, proposer, tried, config.budget - n_evo)
    rows = [(c.structure, c.origin, c.method, c.score) for c in generated]
    if n_evo:
        known = {r.structure.composition.reduced_formula for r in refs}
        rows += evolution_candidates(config, store, generated, n_evo, execution, skip=known)
    store.add_candidates(config.generation_id, rows)
    return [Candidate(*row) for row in rows]


#: ``[generate] evolution``: at most this many compositions are searched, each with at least
#: EVOLUTION_PER_COMPOSITION relaxations when there are several, and at most EVOLUTION_POPULATION
#: structures per generation
EVOLUTION_COMPOSITIONS = 3
EVOLUTION_PER_COMPOSITION = 8
EVOLUTION_POPULATION = 8


def evolution_candidates(
    config: CampaignConfig,
    store: Store,
    generated: Sequence[Any],
    n_relax: int,
    execution: Execution | None = None,
    skip: Sequence[str] | set[str] = (),
) -> list[tuple[Structure, str, str, float]]:
    """The evolutionary search (:func:`mattwin.discovery.evolution.evolutionary_search`) of the
    best-scored compositions among the ``generated`` candidates, ``n_relax`` relaxations in all.

    The formulas are taken in the order of their best candidate's score (the cheap rungs' ranking,
    times the learned proposer's factor when it is on), those in ``skip`` (the campaign's reference
    phases: a composition whose structure is known is not searched again) left out: one search per
    :data:`EVOLUTION_PER_COMPOSITION` relaxations, at most :data:`EVOLUTION_COMPOSITIONS`. Each search
    keeps the cell size (formula units) of its composition's best candidate; generation 0 is that
    composition's candidates of that size (they are candidates anyway, so their relaxations are the
    screen's, read from the cache) topped up with random P1 structures; then generations of up to
    :data:`EVOLUTION_POPULATION` children until the composition's share is spent. Every structure is
    relaxed with the campaign's (first) engine and settings through the runtime (batched, cached in the
    store: an interrupted search reruns from the cache); a relaxation ending unphysical counts as
    failed. The search's surviving distinct structures that are not already candidates come back as
    (structure as relaxed from, origin, "evolution", score): the screen's relaxation of them is then a
    cache hit. Their score is the composition's best score times exp(-(E - E_best of the search) /
    0.05 eV/atom)."""
    import math

    from mattwin.discovery.evolution import evolutionary_search, mlip_relaxer
    from mattwin.engines.registry import member_specs
    from mattwin.errors import CampaignError
    from mattwin.materials.checks import relaxed_structure_problem
    from mattwin.materials.identity import canonical

    best: dict[str, Any] = {}
    for c in sorted(generated, key=lambda c: -c.score):
        if c.formula not in skip:
            best.setdefault(c.formula, c)
    if not best:
        return []
    k = max(1, min(EVOLUTION_COMPOSITIONS, n_relax // EVOLUTION_PER_COMPOSITION, len(best)))
    spec = member_specs(config.engine)[0]
    inner = mlip_relaxer(spec, store, fmax=config.fmax, max_steps=config.max_steps, execution=execution)
    inputs: dict[int, Structure] = {}  # id(relaxed structure) -> the structure it was relaxed from

    def relax(structures: list[Structure]) -> list[tuple[Structure, float] | None]:
        canon = [canonical(s) for s in structures]
        out: list[tuple[Structure, float] | None] = []
        for s, r in zip(canon, inner(canon), strict=True):
            if r is None or relaxed_structure_problem(r[0]) is not None:
                out.append(None)
                continue
            inputs[id(r[0])] = s
            out.append(r)
        return out

    taken = {material_id(c.structure) for c in generated}
    rows: list[tuple[Structure, str, str, float]] = []
    for i, formula in enumerate(list(best)[:k]):
        share = n_relax // k + (n_relax % k if i == k - 1 else 0)
        head = best[formula]
        n_fu = round(Composition(formula).num_atoms)
        z = max(1, len(head.structure) // n_fu)
        starts = [c.structure for c in generated if c.formula == formula and len(c.structure) == z * n_fu]
        population = max(2, min(EVOLUTION_POPULATION, share // 2))
        n_fill = max(0, population - len(starts))
        generations = max(1, (share - n_fill) // population)
        seed = config.seed + 104729 * (i + 1)
        try:
            res = evolutionary_search(
                formula,
                relax,
                formula_units=z,
                population=population,
                generations=generations,
                seed=seed,
                starts=starts[:population],
            )
        except CampaignError:  # every relaxation failed, or no random start: nothing to add
            continue
        for rank, (relaxed, e) in enumerate(res.population, 1):
            start = inputs.get(id(relaxed))
            if start is None or material_id(start) in taken:
                continue  # a generated candidate (already in the list)
            taken.add(material_id(start))
            origin = (
                f"evolution of {formula} (Z={z}, population {population}, {generations} generations, "
                f"seed {seed}): #{rank} of the search, relaxed with {spec} to {e:.4f} eV/atom "
                f"({1000 * (e - res.best_energy_per_atom):+.0f} meV/atom from its best)"
            )
            score = head.score * math.exp(-(e - res.best_energy_per_atom) / 0.05)
            rows.append((start, origin, "evolution", score))
    return rows


def stage(state: CampaignState, ctx: Context) -> CampaignState:
    ctx.tell("generate", 0, 1, "generating candidates")
    refs = campaign_references(state.config, ctx.store)
    cands = candidates(state.config, ctx.store, refs, ctx.execution)
    ctx.tell("generate", 1, 1, f"{len(cands)} candidates")
    return replace(state, refs=tuple(refs), cands=tuple(cands))
