"""``diffusion``: transport analysis of a stored md series (MSD per species, D with block-averaging
errors, Arrhenius fit and its extrapolation, Nernst–Einstein conductivity, RDF, thermal expansion
for NPT, a heat-until-melt bracket) and optionally its HTML report."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from ase.data import atomic_masses, atomic_numbers

from mattwin.analysis import diffusion as dif
from mattwin.api.dynamics import find_runs, trajectory_path
from mattwin.errors import MDError
from mattwin.materials.io import check_writable
from mattwin.store.store import Store
from mattwin.tasks.md_state import read_trajectory
from mattwin.tasks.transport_types import DiffusionReport, TemperaturePoint

#: charge carriers (and their charge, units of e) considered for ionic conductivity, in order
CARRIERS = {"Li": 1, "Na": 1, "K": 1, "Ag": 1, "H": 1, "F": -1, "Mg": 2, "Zn": 2}


def _thin(x: np.ndarray, n: int = 200) -> list[float]:
    idx = np.unique(np.linspace(0, len(x) - 1, min(n, len(x))).astype(int))
    return [float(v) for v in np.asarray(x)[idx]]


def _point(
    key: str,
    params: dict[str, Any],
    res: dict[str, Any],
    store: Store,
    skip: float,
    blocks: int,
    carrier: str | None,
) -> TemperaturePoint:
    traj = read_trajectory(trajectory_path(res, store))
    dt = float(res["frame_interval_ps"])
    first = int(round(skip * traj.n_frames))
    pos = dif.unwrap(traj.positions, traj.cells)[first:]
    masses = np.array([atomic_masses[atomic_numbers[s]] for s in traj.symbols])
    pos = dif.remove_drift(pos, masses)
    sym = np.array(traj.symbols)
    blocks = min(blocks, len(pos) // 8)  # a short run gets fewer (but at least two) blocks
    if blocks < 2:
        raise MDError(
            f"md run {key[:12]} ({params['temperature_K']} K) has {len(pos)} frames after equilibration: "
            "too few for a diffusion coefficient with an error (need 16); run longer or sample more often"
        )
    fits = {}
    for sp in dict.fromkeys(traj.symbols):
        try:
            fits[sp] = dif.diffusion_coefficient(pos[:, sym == sp], dt, n_blocks=blocks).to_dict()
        except ValueError as exc:
            raise MDError(f"md run {key[:12]} ({params['temperature_K']} K): {exc}") from exc
    volume = float(traj.info["volume_A3"][first:].mean())
    mean_t = float(traj.info["temperature_K"][max(first, 1) :].mean())
    sigma = None
    if carrier is not None:
        sigma = dif.nernst_einstein(
            max(fits[carrier]["D_cm2_s"], 0.0),
            int((sym == carrier).sum()),
            volume,
            mean_t,
            CARRIERS[carrier],
        )
    curves = dif.msd_by_species(pos, traj.symbols)
    stride = max(1, (traj.n_frames - first) // 20)  # about 20 frames are enough for g(r)
    r, g = dif.rdf(traj.positions[first::stride], traj.cells[first::stride], traj.symbols, r_max=6.0)
    t = np.arange(len(pos)) * dt
    return TemperaturePoint(
        temperature_K=float(params["temperature_K"]),
        mean_temperature_K=mean_t,
        key=key,
        duration_ps=float(res["steps_done"] * res["timestep_fs"] / 1000.0),
        analysed_ps=float((len(pos) - 1) * dt),
        volume_A3=volume,
        diffusion=fits,
        conductivity_S_cm=sigma,
        energy_eV_per_atom=float(res["mean_total_energy_eV_per_atom"]),
        stopped_untrusted=bool(res["stopped_untrusted"]),
        force_std_max_eV_A=res.get("force_std_max_eV_A"),
        msd_time_ps=_thin(t),
        msd_A2={sp: _thin(c) for sp, c in curves.items()},
        rdf_r_A=r.tolist(),
        rdf_g=g.tolist(),
    )


def _diffusing(fit: dict[str, Any]) -> bool:
    """D is positive beyond two standard errors (else it is noise around a bounded MSD)."""
    return bool(fit["D_cm2_s"] > 2.0 * fit["D_err_cm2_s"] and fit["D_cm2_s"] > 0)


def _arrhenius(points: list[TemperaturePoint], notes: list[str]) -> dict[str, dict[str, Any]]:
    out = {}
    for sp in points[0].diffusion:
        ok = [p for p in points if _diffusing(p.diffusion[sp])]
        if len(ok) < len(points):
            skipped = [f"{p.temperature_K:g} K" for p in points if p not in ok]
            notes.append(
                f"{sp}: no significant diffusion at {', '.join(skipped)} (D < 2 sigma); left out of its fit"
            )
        if len(ok) >= 2:
            fit = dif.arrhenius(
                [p.mean_temperature_K for p in ok],
                [p.diffusion[sp]["D_cm2_s"] for p in ok],
                [p.diffusion[sp]["D_err_cm2_s"] for p in ok],
            )
            out[sp] = fit.to_dict()
    return out


def diffusion(
    run_id: str,
    store: Store | None = None,
    carrier: str | None = None,
    skip_fraction: float = 0.1,
    n_blocks: int = 5,
    report_dir: str | Path | None = None,
) -> DiffusionReport:
    """Analyse the stored md series (or single run) ``run_id``.

    ``skip_fraction`` of each trajectory is discarded as equilibration; D is fitted on the rest
    (window 20-60 % of the block length, ``n_blocks`` blocks for the error). ``carrier``: the
    conducting species (default: the first of Li, Na, K, Ag, H, F, Mg, Zn in a compound)."""
    if report_dir is not None:
        check_writable(report_dir, folder=True)
    store = store or Store()
    runs = find_runs(run_id, store)
    first = runs[0][2]
    symbols = first["formula"]
    elements = [e for e in CARRIERS if e in _elements(symbols)]
    if carrier is None and len(_elements(symbols)) > 1 and elements:
        carrier = elements[0]
    if carrier is not None and carrier not in CARRIERS:
        raise MDError(f"carrier {carrier!r}: known carriers are {', '.join(CARRIERS)}")
    if carrier is not None and carrier not in _elements(symbols):
        raise MDError(f"carrier {carrier} is not in {symbols}")
    notes: list[str] = []
    points = [_point(k, p, r, store, skip_fraction, n_blocks, carrier) for k, p, r in runs]
    for p in points:
        if p.stopped_untrusted:
            notes.append(
                f"{p.temperature_K:g} K stopped early: ensemble force spread {p.force_std_max_eV_A:.2f} eV/Å "
                "above the trust threshold (the models extrapolate)"
            )
    arr = _arrhenius(points, notes) if len(points) >= 2 else {}
    s300 = f300 = None
    if carrier is not None and carrier in arr:
        a = arr[carrier]
        n_c = _count(symbols, carrier, first["n_atoms"])
        s300 = dif.nernst_einstein(
            a["D_extrapolated_cm2_s"], n_c, points[0].volume_A3, 300.0, CARRIERS[carrier]
        )
        f300 = a["D_extrapolated_factor"]
    ensemble = str(runs[0][1].get("ensemble", "nvt"))
    texp = melt = None
    temps = [p.mean_temperature_K for p in points]
    if ensemble == "npt" and len(points) >= 2:
        texp = dif.thermal_expansion(temps, [p.volume_A3 for p in points]).to_dict()
    if len(points) >= 2:
        # molten when every species diffuses: the slowest one decides (a superionic solid's Li does
        # not), judged by the lower end of its 2-sigma interval
        slowest = [min(f["D_cm2_s"] - 2 * f["D_err_cm2_s"] for f in p.diffusion.values()) for p in points]
        melt = dif.melting_estimate(temps, slowest, [p.energy_eV_per_atom for p in points]).to_dict()
    rep = DiffusionReport(
        run_id=run_id,
        formula=symbols,
        engine_signature=first.get("engine_signature", {}),
        ensemble=ensemble,
        carrier=carrier,
        points=points,
        arrhenius=arr,
        conductivity_300K_S_cm=s300,
        conductivity_300K_factor=f300,
        thermal_expansion=texp,
        melting=melt,
        notes=notes,
    )
    if report_dir is not None:
        from mattwin.report.dynamics import write_dynamics_report

        path = write_dynamics_report(rep, Path(report_dir))
        rep = DiffusionReport(**{**rep.__dict__, "report": str(path)})
    return rep


def _elements(formula: str) -> list[str]:
    from pymatgen.core import Composition

    return [e.symbol for e in Composition(formula).elements]


def _count(formula: str, element: str, n_atoms: int) -> int:
    from pymatgen.core import Composition

    c = Composition(formula)
    return int(round(c[element] / c.num_atoms * n_atoms))
