"""Multiscale API (same names as the CLI): ``equation_of_state``, ``elastic``, ``phonons`` (stored,
cached atomistic properties) and ``part`` (a continuum part made of a stored material)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from pymatgen.core import Structure

from mattwin.api.screening import _raise_failed, _structure
from mattwin.engines.registry import get_engine, member_specs
from mattwin.errors import EngineError, SettingsError
from mattwin.materials.checks import check_size
from mattwin.materials.io import check_writable
from mattwin.multiscale.reports import PartReport, PropertyReport
from mattwin.runtime.jobs import Job
from mattwin.runtime.runner import run_jobs
from mattwin.store.store import Store

#: scalar fields summarised (mean, spread over ensemble members) per task
_SUMMARY = {
    "equation_of_state": ["v0_per_atom_A3", "b0_GPa", "bp", "e0_per_atom_eV"],
    "elastic_tensor": [
        "K_vrh_GPa",
        "G_vrh_GPa",
        "youngs_modulus_GPa",
        "poisson_ratio",
        "universal_anisotropy",
    ],
    "phonons": ["min_frequency_THz", "cp_300K_J_kg_K"],
    "thermal_expansion": ["alpha_300K_1_K"],
    "thermal_conductivity": ["kappa_300K_scalar_W_mK"],
}


def _scalar(task: str, res: dict[str, Any], name: str) -> float:
    if task == "elastic_tensor":
        return float(res["moduli"][name])
    return float(res[name])


def _check(ok: bool, src: str, message: str) -> None:
    """Raise :class:`SettingsError` ``src: message`` unless ``ok``."""
    if not ok:
        raise SettingsError(f"{src}: {message}")


def _check_supercell(src: str, s: Structure, supercell: tuple[int, ...] | None) -> None:
    if supercell is None:
        return
    _check(
        len(supercell) == 3 and all(int(n) >= 1 for n in supercell),
        src,
        f"supercell {supercell}: give three multiples >= 1",
    )
    check_size(len(s) * int(np.prod(supercell)), f"{src} in a {'x'.join(map(str, supercell))} supercell")


def _run_property(
    task: str, material: tuple[Structure, str], engine: str, params: dict[str, Any], store: Store | None
) -> PropertyReport:
    s, src = material
    store = store or Store()
    specs = member_specs(engine)
    outs = run_jobs([Job(task, s, spec, params, label=src) for spec in specs], store)
    _raise_failed(outs)
    res: list[dict[str, Any]] = [o.result for o in outs if o.result is not None]
    vals = {n: [_scalar(task, r, n) for r in res] for n in _SUMMARY[task]}
    return PropertyReport(
        task=task,
        source=src,
        formula=s.composition.reduced_formula,
        engine=engine,
        engine_signatures=[get_engine(spec).signature for spec in specs],
        keys=[o.key for o in outs],
        results=res,
        summary={n: float(np.mean(v)) for n, v in vals.items()},
        spread={n: float(np.std(v, ddof=1)) for n, v in vals.items()} if len(res) > 1 else None,
        cached=all(o.cached for o in outs),
        workdirs=[str(store.runs_dir / o.key) for o in outs],
    )


def equation_of_state(
    material: Structure | str | Path,
    engine: str = "chgnet",
    n_points: int = 9,
    volume_range: float = 0.06,
    relax: bool = True,
    store: Store | None = None,
) -> PropertyReport:
    """Birch–Murnaghan V0 (Å^3/atom), B0 (GPa), B' of a structure (or file); stored and cached."""
    s, src = _structure(material)
    _check(n_points >= 5, src, f"{n_points} volumes: an equation-of-state fit needs at least 5")
    _check(
        0 < volume_range < 0.5, src, f"volume range {volume_range}: give a fraction in (0, 0.5), e.g. 0.06"
    )
    params = {"n_points": n_points, "volume_range": volume_range, "relax": relax}
    return _run_property("equation_of_state", (s, src), engine, params, store)


def elastic(
    material: Structure | str | Path,
    engine: str = "chgnet",
    strains: tuple[float, ...] = (-0.01, -0.005, 0.005, 0.01),
    relax: bool = True,
    store: Store | None = None,
) -> PropertyReport:
    """Elastic tensor C_ij (GPa), Voigt–Reuss–Hill moduli and Born stability; stored and cached.
    The run key (``keys[0]``) is what ``part(material=...)`` takes."""
    s, src = _structure(material)
    bad = [e for e in strains if not 0 < abs(e) <= 0.1]
    _check(bool(strains) and not bad, src, f"strains {list(strains)}: give nonzero strains up to ±0.1")
    params = {"strains": list(strains), "relax": relax}
    return _run_property("elastic_tensor", (s, src), engine, params, store)


def phonons(
    material: Structure | str | Path,
    engine: str = "chgnet",
    supercell: tuple[int, int, int] | None = None,
    min_length: float = 10.0,
    mesh: tuple[int, int, int] = (16, 16, 16),
    store: Store | None = None,
) -> PropertyReport:
    """Phonon bands, DOS, dynamic stability and Cv/F/S(T) with phonopy; stored and cached
    (force constants in the run's folder, ``workdirs``)."""
    if len(member_specs(engine)) > 1:
        raise EngineError(f"phonons take one engine, got the ensemble {engine!r}; run each member")
    s, src = _structure(material)
    _check(0 < min_length <= 50, src, f"min_length {min_length} Å: give a supercell length in (0, 50] Å")
    _check(all(int(n) >= 1 for n in mesh), src, f"q mesh {mesh}: give three divisions >= 1")
    _check_supercell(src, s, supercell)
    params: dict[str, Any] = {"min_length": min_length, "mesh": list(mesh)}
    if supercell is not None:
        params["supercell"] = list(supercell)
    return _run_property("phonons", (s, src), engine, params, store)


def thermal_expansion(
    material: Structure | str | Path,
    engine: str = "chgnet",
    supercell: tuple[int, int, int] | None = None,
    n_volumes: int = 7,
    store: Store | None = None,
) -> PropertyReport:
    """Quasi-harmonic thermal expansion alpha(T) (1/K), V(T), Cp(T), B(T) with phonopy; stored."""
    s, src = _structure(material)
    _check(n_volumes >= 5, src, f"{n_volumes} volumes: quasi-harmonic expansion needs at least 5")
    _check_supercell(src, s, supercell)
    params: dict[str, Any] = {"n_volumes": n_volumes}
    if supercell is not None:
        params["supercell"] = list(supercell)
    return _run_property("thermal_expansion", (s, src), engine, params, store)


def thermal_conductivity(
    material: Structure | str | Path,
    engine: str = "chgnet",
    supercell: tuple[int, int, int] = (2, 2, 2),
    mesh: tuple[int, int, int] = (11, 11, 11),
    store: Store | None = None,
) -> PropertyReport:
    """Lattice thermal conductivity (W/(m K), phono3py RTA); stored, and picked up by ``part``."""
    s, src = _structure(material)
    _check(all(int(n) >= 1 for n in mesh), src, f"q mesh {mesh}: give three divisions >= 1")
    _check_supercell(src, s, supercell)
    params = {"supercell": list(supercell), "mesh": list(mesh)}
    return _run_property("thermal_conductivity", (s, src), engine, params, store)


def part(
    material: str,
    geometry: str = "plate-with-hole",
    load: str = "10MPa",
    out: str | Path = "mattwin-part",
    plane: str = "stress",
    store: Store | None = None,
) -> PartReport:
    """Solve ``geometry`` (plate-with-hole, bracket, or a mesh file in mm) made of the material of
    the stored elastic run ``material`` (a key or unique prefix) under ``load`` (``10MPa``,
    ``1000N``, ...); write material cards, the fields (VTU) and ``part.html`` into ``out``."""
    from mattwin.multiscale.cards import abaqus_card, write_cards
    from mattwin.multiscale.material import find_run, material_card
    from mattwin.multiscale.part import solve_part, write_fields
    from mattwin.report.multiscale import part_page, write_page

    check_writable(out, folder=True)
    store = store or Store()
    card = material_card(store, material)
    sol = solve_part(card, geometry, load, plane)
    el = sol.elastic
    files = [str(p) for p in write_cards(card, out)]
    files.append(str(write_fields(sol, Path(out) / "part.vtu")))
    rep = PartReport(
        material_run=find_run(store, material).key,
        material=card.to_dict(),
        geometry=el.part.name,
        description=el.part.description,
        load=load,
        plane=plane,
        traction_MPa=el.traction_Pa / 1e6,
        load_N=el.load_N,
        max_von_mises_MPa=el.max_von_mises_Pa / 1e6,
        max_displacement_mm=el.max_displacement_m * 1e3,
        stress_concentration=el.max_von_mises_Pa / abs(el.traction_Pa),
        heat_flow_W=sol.heat.heat_flow_W if sol.heat else None,
        conductance_W_K=sol.heat.conductance_W_K if sol.heat else None,
        files=files + [str(Path(out) / "part.html")],
    )
    write_page(part_page(rep, sol, abaqus_card(card)), out, "part.html")
    return rep


def write_property_report(rep: PropertyReport, folder: str | Path) -> Path:
    """Write ``<task>.html`` (EOS curve, elastic tensor, or phonon bands + DOS + Cv/F(T)) into ``folder``."""
    from mattwin.report.multiscale import property_page, write_page

    return write_page(property_page(rep), folder, f"{rep.task}.html")
