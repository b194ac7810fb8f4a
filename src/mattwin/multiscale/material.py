"""The material of a part, built from stored atomistic results.

``--material RUN_ID`` names a stored ``elastic_tensor`` calculation by its key (a unique prefix is
enough). Its stiffness and density make the elastic card; a finished ``phonons`` calculation of the
same material with the same engine adds the heat capacity at 300 K, and a ``thermal_conductivity``
one the lattice conductivity (else the card says they were not computed).
"""

from __future__ import annotations

from typing import Any

from mattwin.errors import PartModelError
from mattwin.multiscale.cards import MaterialCard
from mattwin.store.store import CalculationRecord, Store


def find_run(store: Store, run_id: str, task: str = "elastic_tensor") -> CalculationRecord:
    """The finished ``task`` calculation whose key starts with ``run_id``."""
    runs = store.calculations(task=task, status="done")
    hits = [r for r in runs if r.key.startswith(run_id.strip())] if run_id.strip() else []
    if len(hits) == 1:
        return hits[0]
    if not hits:
        known = ", ".join(r.key[:12] for r in runs[-5:]) or "none; run `mattwin elastic FILE` first"
        raise PartModelError(f"no finished {task} run with key {run_id!r} in {store.url} (latest: {known})")
    raise PartModelError(
        f"run key prefix {run_id!r} is ambiguous in {store.url}: {', '.join(h.key[:12] for h in hits[:5])}; "
        "give more characters"
    )


def _companion(store: Store, rec: CalculationRecord, task: str) -> CalculationRecord | None:
    """The latest finished ``task`` on the same material with the same engine as ``rec``."""
    same = [
        r
        for r in store.calculations(task=task, status="done")
        if r.material_id == rec.material_id and r.engine_signature == rec.engine_signature
    ]
    return same[-1] if same else None


def material_card(store: Store, run_id: str) -> MaterialCard:
    """A :class:`MaterialCard` from the stored elastic run ``run_id`` (and its companions)."""
    rec = find_run(store, run_id)
    res: dict[str, Any] = rec.result or {}
    formula = store.get_material(rec.material_id).composition.reduced_formula
    prov: dict[str, Any] = {
        "elastic_run": rec.key,
        "engine": rec.engine_signature,
        "elastic_method": res.get("method"),
        "born_stable": res.get("born_stable"),
    }
    cp = k = None
    ph = _companion(store, rec, "phonons")
    if ph is not None and ph.result:
        cp = float(ph.result["cp_300K_J_kg_K"])
        prov["phonon_run"] = ph.key
    kc = _companion(store, rec, "thermal_conductivity")
    if kc is not None and kc.result:
        k = kc.result["kappa_300K_W_mK"]
        prov["conductivity_run"] = kc.key
    engine = str(rec.engine_signature.get("engine") or rec.engine_signature.get("package") or "engine")
    return MaterialCard(
        name=f"{formula}_{engine}",
        C_GPa=res["C_GPa"],
        density_kg_m3=float(res["density_kg_m3"]),
        conductivity_W_mK=k,
        specific_heat_J_kgK=cp,
        provenance=prov,
    )
