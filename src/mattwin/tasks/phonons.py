"""Harmonic phonons with phonopy (finite displacements), and quasi-harmonic thermal expansion.

``phonons``: relax, take the standard primitive cell (pymatgen ``HighSymmKpath``, whose
Setyawan–Curtarolo path gives the band structure), build a supercell (``supercell`` or each vector at
least ``min_length`` Å), displace atoms by ``displacement`` Å (phonopy's symmetry-reduced set),
evaluate every displaced supercell in one batched engine call (minus the forces of the perfect
supercell), and compute the force constants, bands, DOS on a ``mesh`` and thermal properties.
Force constants and the full band/DOS arrays go to ``workdir`` (``phonopy_params.yaml``,
``phonons.npz``); the result row keeps the bands (when small), DOS and thermal curves.

``thermal_expansion``: phonons at ``n_volumes`` volumes, then phonopy's QHA (Vinet EOS of F(V, T)).
Units: frequencies THz, energies eV, heat capacity J/(K mol of atoms) and J/(kg K).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from phonopy import Phonopy, PhonopyQHA
from phonopy.phonon.band_structure import get_band_qpoints_and_path_connections
from phonopy.structure.atoms import PhonopyAtoms
from pymatgen.core import Structure
from pymatgen.symmetry.bandstructure import HighSymmKpath

from mattwin.engines.base import Engine
from mattwin.tasks.eos import prerelax, relaxed_stresses, scaled_cells
from mattwin.tasks.results import TaskResult

TASK_VERSION = 1
KJ_MOL_TO_EV = 1.0 / 96.48533212
#: below this (THz, negative = imaginary) a mode counts as imaginary; covers numerical noise at Gamma
IMAGINARY_TOL_THZ = 0.05
#: bands are kept in the result row up to this many numbers (else only in workdir/phonons.npz)
MAX_ROW_BAND_VALUES = 20000


@dataclass(frozen=True)
class PhononResult(TaskResult):
    """Harmonic phonons of ``structure`` (the standard primitive cell, ``n_atoms`` atoms).

    min_frequency_THz: lowest mode on the mesh and band path (negative = imaginary);
    dynamically_stable: no imaginary mode below -IMAGINARY_TOL_THZ; bands: {distances (1/Å), frequencies_THz
    (n_q, n_branches), labels, label_distances} or {} when too large (see workdir/phonons.npz);
    dos: {frequencies_THz, dos (states/THz per cell)}; thermal: temperatures_K, free_energy_eV_atom,
    entropy_J_K_mol_atoms, heat_capacity_J_K_mol_atoms (harmonic Cv, per mole of atoms), and
    heat_capacity_J_kg_K; cp_300K_J_kg_K (Cv at 300 K, approximately Cp for a solid)."""

    min_frequency_THz: float
    dynamically_stable: bool
    n_imaginary_qpoints: int
    supercell_matrix: list[int]
    n_displacements: int
    displacement_A: float
    mesh: list[int]
    bands: dict[str, Any]
    dos: dict[str, list[float]]
    thermal: dict[str, list[float]]
    cp_300K_J_kg_K: float
    n_atoms: int
    structure: dict[str, Any]
    files: list[str]


def _phonopy_atoms(s: Structure) -> PhonopyAtoms:
    return PhonopyAtoms(
        symbols=[sp.symbol for sp in s.species], cell=s.lattice.matrix, scaled_positions=s.frac_coords
    )


def supercell_for(s: Structure, min_length: float) -> list[int]:
    """Diagonal supercell multiples so each lattice vector is at least ``min_length`` Å long."""
    return [max(1, math.ceil(min_length / x - 1e-6)) for x in s.lattice.abc]


def force_constants(
    unitcell: Structure, engine: Engine, supercell: list[int], displacement: float
) -> Phonopy:
    """A Phonopy object of ``unitcell`` with force constants from batched finite displacements."""
    ph = Phonopy(_phonopy_atoms(unitcell), supercell_matrix=np.diag(supercell), primitive_matrix=None)
    ph.generate_displacements(distance=displacement)
    displaced = ph.supercells_with_displacements or []
    cells = [ph.supercell, *displaced]
    structures = [
        Structure(c.cell, list(c.symbols), c.scaled_positions, coords_are_cartesian=False) for c in cells
    ]
    evals = engine.evaluate(structures)
    f0 = np.asarray(evals[0].forces)
    ph.forces = np.array([np.asarray(e.forces) - f0 for e in evals[1:]])
    ph.produce_force_constants()
    ph.symmetrize_force_constants()
    return ph


def _band_structure(ph: Phonopy, kpath: HighSymmKpath, npoints: int = 51) -> dict[str, Any]:
    kp = kpath.kpath
    assert kp is not None
    paths = [[list(kp["kpoints"][lab]) for lab in seg] for seg in kp["path"]]
    labels = [lab for seg in kp["path"] for lab in seg]
    qpoints, connections = get_band_qpoints_and_path_connections(paths, npoints=npoints)
    ph.run_band_structure(qpoints, path_connections=connections, labels=labels)
    bs = ph.get_band_structure_dict()
    dist = np.concatenate(bs["distances"])
    freq = np.vstack(bs["frequencies"] or [])
    lab_d, lab_n, si = [], [], 0
    for seg in kp["path"]:
        lab_d.append(float(bs["distances"][si][0]))
        for _lab in seg[1:]:
            lab_d.append(float(bs["distances"][si][-1]))
            si += 1
        lab_n += [lab.replace("\\Gamma", "Γ").replace("GAMMA", "Γ") for lab in seg]
    return {
        "distances": dist.tolist(),
        "frequencies_THz": freq.tolist(),
        "labels": lab_n,
        "label_distances": lab_d,
    }


def _thermal(ph: Phonopy, s: Structure, t_max: float, t_step: float) -> dict[str, list[float]]:
    ph.run_thermal_properties(t_min=0, t_max=t_max, t_step=t_step, exclude_gamma_acoustic=True)
    tp = ph.get_thermal_properties_dict()
    n = len(s)
    molar_mass_kg = float(s.composition.weight) / 1000.0  # kg per mole of cells
    cv = np.asarray(tp["heat_capacity"])  # J/K per mole of cells
    return {
        "temperatures_K": np.asarray(tp["temperatures"]).tolist(),
        "free_energy_eV_atom": (np.asarray(tp["free_energy"]) * KJ_MOL_TO_EV / n).tolist(),
        "entropy_J_K_mol_atoms": (np.asarray(tp["entropy"]) / n).tolist(),
        "heat_capacity_J_K_mol_atoms": (cv / n).tolist(),
        "heat_capacity_J_kg_K": (cv / molar_mass_kg).tolist(),
    }


def _write_files(ph: Phonopy, bands: dict[str, Any], dos: dict[str, Any], workdir: Path | None) -> list[str]:
    if workdir is None:
        return []
    workdir.mkdir(parents=True, exist_ok=True)
    ph.save(filename=str(workdir / "phonopy_params.yaml"), settings={"force_constants": True})
    np.savez_compressed(
        workdir / "phonons.npz",
        band_distances=np.asarray(bands["distances"]),
        band_frequencies_THz=np.asarray(bands["frequencies_THz"]),
        dos_frequencies_THz=np.asarray(dos["frequencies_THz"]),
        dos=np.asarray(dos["dos"]),
    )
    return ["phonopy_params.yaml", "phonons.npz"]


def phonons(
    structure: Structure,
    engine: Engine,
    supercell: tuple[int, int, int] | None = None,
    min_length: float = 10.0,
    displacement: float = 0.01,
    mesh: tuple[int, int, int] = (16, 16, 16),
    relax: bool = True,
    fmax: float = 0.005,
    t_max: float = 1000.0,
    t_step: float = 10.0,
    workdir: Path | None = None,
) -> PhononResult:
    """Harmonic phonons of ``structure`` with ``engine`` (see module docstring). ``displacement`` in Å,
    ``fmax`` in eV/Å, temperatures in K."""
    s0 = prerelax(structure, engine, fmax) if relax else structure
    kpath = HighSymmKpath(s0, symprec=1e-3)
    prim = kpath.prim
    sc = list(supercell) if supercell else supercell_for(prim, min_length)
    ph = force_constants(prim, engine, sc, displacement)
    bands = _band_structure(ph, kpath)
    ph.run_mesh(list(mesh), is_gamma_center=True)
    mesh_freq = np.asarray(ph.get_mesh_dict()["frequencies"])  # type: ignore[typeddict-item]
    ph.run_total_dos()
    dd = ph.get_total_dos_dict()
    dos = {
        "frequencies_THz": np.asarray(dd["frequency_points"]).tolist(),
        "dos": np.asarray(dd["total_dos"]).tolist(),
    }
    thermal = _thermal(ph, prim, t_max, t_step)
    band_freq = np.asarray(bands["frequencies_THz"])
    fmin = float(min(mesh_freq.min(), band_freq.min()))
    n_imag = int(np.sum(mesh_freq.min(axis=1) < -IMAGINARY_TOL_THZ))
    files = _write_files(ph, bands, dos, workdir)
    t = np.asarray(thermal["temperatures_K"])
    return PhononResult(
        min_frequency_THz=fmin,
        dynamically_stable=fmin >= -IMAGINARY_TOL_THZ,
        n_imaginary_qpoints=n_imag,
        supercell_matrix=sc,
        n_displacements=len(ph.supercells_with_displacements or []),
        displacement_A=displacement,
        mesh=list(mesh),
        bands=bands if band_freq.size <= MAX_ROW_BAND_VALUES else {},
        dos=dos,
        thermal=thermal,
        cp_300K_J_kg_K=float(np.interp(300.0, t, thermal["heat_capacity_J_kg_K"])),
        n_atoms=len(prim),
        structure=prim.as_dict(),
        files=files,
    )


@dataclass(frozen=True)
class ThermalExpansionResult(TaskResult):
    """Quasi-harmonic thermal expansion (phonopy QHA, Vinet EOS). temperatures_K; volume_A3_atom V(T);
    alpha_1_K: volumetric thermal expansion coefficient (1/K; linear = alpha/3 for cubic);
    cp_J_K_mol_atoms: Cp(T); bulk_modulus_GPa: B(T); volumes_A3_atom / electronic_energies_eV_atom:
    the static E(V) used."""

    temperatures_K: list[float]
    volume_A3_atom: list[float]
    alpha_1_K: list[float]
    cp_J_K_mol_atoms: list[float]
    bulk_modulus_GPa: list[float]
    volumes_A3_atom: list[float]
    electronic_energies_eV_atom: list[float]
    alpha_300K_1_K: float
    n_atoms: int


def thermal_expansion(
    structure: Structure,
    engine: Engine,
    n_volumes: int = 7,
    volume_range: float = 0.04,
    supercell: tuple[int, int, int] | None = None,
    min_length: float = 10.0,
    displacement: float = 0.01,
    mesh: tuple[int, int, int] = (16, 16, 16),
    fmax: float = 0.005,
    t_max: float = 800.0,
) -> ThermalExpansionResult:
    """Quasi-harmonic V(T), thermal expansion, Cp(T) and B(T) from phonons at ``n_volumes`` volumes in
    V0 (1 ± ``volume_range``) (fixed cell shape, ions relaxed at each volume)."""
    s0 = prerelax(structure, engine, fmax)
    prim = HighSymmKpath(s0, symprec=1e-3).prim
    cells = scaled_cells(prim, np.linspace(1 - volume_range, 1 + volume_range, n_volumes).tolist())
    relaxed = relaxed_stresses(cells, engine, fmax)  # (energy, stress, relaxed cell) per volume
    sc = list(supercell) if supercell else supercell_for(prim, min_length)
    n = len(prim)
    free, cv, entropy, temps = [], [], [], None
    for _e, _s, c in relaxed:
        ph = force_constants(c, engine, sc, displacement)
        ph.run_mesh(list(mesh), is_gamma_center=True)
        ph.run_thermal_properties(t_min=0, t_max=t_max + 40, t_step=10, exclude_gamma_acoustic=True)
        tp = ph.get_thermal_properties_dict()
        temps = np.asarray(tp["temperatures"])
        free.append(tp["free_energy"])
        cv.append(tp["heat_capacity"])
        entropy.append(tp["entropy"])
    qha = PhonopyQHA(
        volumes=[c.volume for c in cells],
        electronic_energies=[e for e, _s, _c in relaxed],
        temperatures=temps,
        free_energy=np.array(free).T,
        cv=np.array(cv).T,
        entropy=np.array(entropy).T,
        eos="vinet",
        t_max=t_max,
    )
    assert qha.volume_temperature is not None and qha.heat_capacity_P_numerical is not None
    assert qha.bulk_modulus_temperature is not None
    m = len(qha.thermal_expansion)
    t = np.asarray(temps)[:m]
    alpha = np.asarray(qha.thermal_expansion)
    return ThermalExpansionResult(
        temperatures_K=t.tolist(),
        volume_A3_atom=(np.asarray(qha.volume_temperature[:m]) / n).tolist(),
        alpha_1_K=alpha.tolist(),
        cp_J_K_mol_atoms=(np.asarray(qha.heat_capacity_P_numerical[:m]) / n).tolist(),
        bulk_modulus_GPa=np.asarray(qha.bulk_modulus_temperature[:m]).tolist(),
        volumes_A3_atom=[c.volume / n for c in cells],
        electronic_energies_eV_atom=[e / n for e, _s, _c in relaxed],
        alpha_300K_1_K=float(np.interp(300.0, t, alpha)),
        n_atoms=n,
    )


TASKS = {
    "phonons": (phonons, PhononResult, TASK_VERSION),
    "thermal_expansion": (thermal_expansion, ThermalExpansionResult, TASK_VERSION),
}
