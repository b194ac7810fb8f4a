"""The lab's formation enthalpies as calibration points: for a compound of the shipped computed set the
set's energy is used; for one measured on a structure the lab gave (a structure file or a stored
material id in the measurement file), that structure and the elemental reference phases of its
elements are relaxed with the engine through the runtime (cached, resumable), so the lab's own
materials join the calibration."""

from __future__ import annotations

import numpy as np
from pymatgen.core import Composition, Structure

from mattwin.analysis.calibration import CalibrationPoint
from mattwin.discovery.calibration_set import (
    DEFAULT_EXP_UNCERTAINTY,
    ExperimentalEnthalpy,
    calibration_points,
    computed_compounds,
    o_o_distance,
)
from mattwin.discovery.references import builtin_references
from mattwin.engines.registry import member_specs
from mattwin.lab import Measurement
from mattwin.runtime.execute import execute
from mattwin.runtime.jobs import Job
from mattwin.store.store import Store

#: relaxation settings of campaigns, so the elemental energies are those of every hull
RELAX = {"fmax": 0.05, "max_steps": 500}


def lab_enthalpies(store: Store) -> list[ExperimentalEnthalpy]:
    """The lab's formation-enthalpy measurements in the store, as eV/atom values (newest per formula)."""
    out: dict[str, ExperimentalEnthalpy] = {}
    for m in store.measurements(property="formation_enthalpy"):
        formula = Composition(m.formula).reduced_formula
        out[formula] = ExperimentalEnthalpy(
            formula=formula,
            value=float(m.value),
            uncertainty=float(m.uncertainty) if m.uncertainty else DEFAULT_EXP_UNCERTAINTY,
            source=f"lab: {m.source}",
            n_atoms=int(round(Composition(formula).num_atoms)),
        )
    return list(out.values())


def _element_energies(elements: set[str], spec: str, store: Store) -> dict[str, float]:
    refs = [r for r in builtin_references(elements) if len(r.elements) == 1]
    jobs = [
        Job("relax", r.structure, spec, {**RELAX, "relax_cell": r.relax_cell}, label=r.name) for r in refs
    ]
    out: dict[str, float] = {}
    for r, o in zip(refs, execute(jobs, store), strict=True):
        if o.ok and o.result:
            el = next(iter(r.elements))
            out[el] = min(out.get(el, np.inf), float(o.result["energy_per_atom_eV"]))
    return out


def structure_points(engine: str, store: Store) -> list[CalibrationPoint]:
    """Points from the lab's formation enthalpies measured on given structures whose formula has no
    computed energy in the shipped set (the engine relaxes them; failures are left out)."""
    computed = computed_compounds(engine)
    todo: dict[str, tuple[Structure, Measurement]] = {}
    for m in store.measurements(property="formation_enthalpy"):
        formula = Composition(m.formula).reduced_formula
        if m.material_id and formula not in computed and formula not in todo:
            todo[formula] = (store.get_material(m.material_id), m)
    points = []
    for formula, (structure, m) in sorted(todo.items()):
        elements = {e.symbol for e in structure.composition.elements}
        raws = []
        for spec in member_specs(engine):
            mu = _element_energies(elements, spec, store)
            if set(mu) != elements:
                break
            (o,) = execute(
                [Job("relax", structure, spec, {**RELAX, "relax_cell": True}, label=formula)], store
            )
            if not (o.ok and o.result):
                break
            frac = structure.composition.fractional_composition
            raws.append(float(o.result["energy_per_atom_eV"]) - sum(frac[e] * mu[e.symbol] for e in frac))
        if len(raws) != len(member_specs(engine)):
            continue
        points.append(
            CalibrationPoint(
                formula=formula,
                raw=float(np.mean(raws)),
                measured=float(m.value),
                uncertainty=float(m.uncertainty or DEFAULT_EXP_UNCERTAINTY),
                source=f"lab: {m.source} (structure given)",
                o_o_distance=o_o_distance(structure),
                spread=float(np.std(raws, ddof=1)) if len(raws) > 1 else None,
            )
        )
    return points


def all_points(engine: str, store: Store) -> list[CalibrationPoint]:
    """The shipped set with pymatgen's experimental values, the lab's values of those compounds
    (replacing the literature ones), and the lab's measured structures relaxed with the engine."""
    return calibration_points(engine, lab_enthalpies(store)) + structure_points(engine, store)
