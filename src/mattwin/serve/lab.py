"""Lab measurements against the twin's predictions, for the dashboard.

The prediction of a measured formation enthalpy is the formation energy (eV/atom; calibrated when
the campaign was) that a finished campaign in the store reports for the same reduced formula: the
lowest-E_hull screened candidate of that formula (with its 90 % interval and σ), else a reference
phase of the campaign's hull (no interval). Nothing is recomputed. Measurements with a σ go through
the drift monitor of :mod:`mattwin.analysis.drift` (standardised residuals, CUSUM per chemistry)."""

from __future__ import annotations

from typing import Any

from mattwin.analysis.drift import ChemistryDrift, chemistry_drift, standardised_residuals
from mattwin.serve.figures import finite_or_none

FORMATION = "formation_enthalpy"


def predictions(results: list[tuple[str, dict[str, Any]]]) -> dict[str, dict[str, Any]]:
    """Reduced formula -> prediction from finished campaign results ``(campaign name, result)``."""
    best: dict[str, dict[str, Any]] = {}
    for name, res in results:
        for c in res.get("candidates", []):
            ef = finite_or_none(c.get("formation_energy_per_atom"))
            if c.get("status") != "ok" or ef is None:
                continue
            eh = finite_or_none(c.get("e_hull"))
            iv = c.get("formation_energy_interval") or [None, None]
            cand = {
                "predicted": ef, "low": finite_or_none(iv[0]), "high": finite_or_none(iv[1]),
                "sigma": finite_or_none(c.get("formation_energy_per_atom_std")),
                "e_hull": eh, "label": f"candidate in {name}", "calibration": c.get("calibration"),
            }  # fmt: skip
            old = best.get(c["formula"])
            if old is None or old["e_hull"] is None or (eh is not None and eh < old["e_hull"]):
                best[c["formula"]] = cand
        for p in res.get("hull_points", []):
            ef = finite_or_none(p.get("formation_energy_per_atom"))
            if p.get("kind") == "reference" and ef is not None and p.get("formula") not in best:
                best[p["formula"]] = {
                    "predicted": ef, "low": None, "high": None, "sigma": None, "e_hull": None,
                    "label": f"reference {p.get('name', '')} in {name}", "calibration": None,
                }  # fmt: skip
    return best


def compare(
    measurements: list[dict[str, Any]], preds: dict[str, dict[str, Any]]
) -> tuple[list[dict[str, Any]], list[ChemistryDrift]]:
    """One row per measurement (with its prediction where there is one) and the drift per chemistry."""
    rows = []
    for m in measurements:
        p = preds.get(m["formula"]) if m["property"] == FORMATION else None
        row = {**m, "measured": m["value"], "predicted": None, "low": None, "high": None, "sigma": None,
               "label": "", "residual": None, "outside": None}  # fmt: skip
        if p is not None:
            row.update({k: p[k] for k in ("predicted", "low", "high", "sigma", "label")})
            row["residual"] = m["value"] - p["predicted"]
            if p["low"] is not None and p["high"] is not None:
                row["outside"] = not p["low"] <= m["value"] <= p["high"]
        rows.append(row)
    with_sigma = [r for r in rows if r["sigma"] is not None and r["low"] is not None]
    if not with_sigma:
        return rows, []
    res = standardised_residuals(
        [r["formula"] for r in with_sigma],
        [r["measured"] for r in with_sigma],
        [r.get("uncertainty") or 0.0 for r in with_sigma],
        [r["predicted"] for r in with_sigma],
        [r["sigma"] for r in with_sigma],
        [r["low"] for r in with_sigma],
        [r["high"] for r in with_sigma],
        times=[r.get("date") or str(r.get("added_at")) for r in with_sigma],
        sources=[r["source"] for r in with_sigma],
        keys=[r["key"] for r in with_sigma],
    )
    return rows, chemistry_drift(res)
