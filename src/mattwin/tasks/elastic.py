"""Elastic tensor by finite strains with a symmetry-aware least-squares fit.

Recipe: relax the cell (forces below ``fmax``), orient it in the standard frame of its space group
(pymatgen's primitive standard structure: c along z for hexagonal, cubic axes along x, y, z), find the
point group, and strain the cell along only those Voigt directions that the symmetry needs (2 for
cubic, 6 for triclinic; ``symmetry_reduced=False`` uses all 6) by each magnitude of ``strains``.
Atoms relax inside every strained cell (the relaxed-ion constants; all cells batched, one model call
per optimiser step), and C is fitted to the stress changes within the point-group-invariant subspace.
Moduli: Voigt–Reuss–Hill; stability: Born criteria (:mod:`mattwin.analysis.elasticity`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from ase import units
from pymatgen.core import Lattice, Structure
from pymatgen.symmetry.analyzer import SpacegroupAnalyzer

from mattwin.analysis.elasticity import (
    born_stability,
    fit_stiffness,
    invariant_basis,
    needed_strain_directions,
    voigt_to_strain,
    vrh_moduli,
)
from mattwin.engines.base import Engine
from mattwin.tasks.eos import prerelax, relaxed_stresses
from mattwin.tasks.results import TaskResult

TASK_VERSION = 1
DEFAULT_STRAINS = (-0.01, -0.005, 0.005, 0.01)


@dataclass(frozen=True)
class ElasticResult(TaskResult):
    """Relaxed-ion elastic constants. C_GPa: 6x6 Voigt stiffness (xx, yy, zz, yz, xz, xy; engineering
    shear strains), GPa, in the frame of ``structure``; C_std_GPa: one-sigma fit uncertainty;
    moduli: Voigt/Reuss/Hill K and G, Young's modulus (GPa), Poisson ratio, anisotropy index;
    born_stable / born_failed: Born criteria; density_kg_m3; n_deformations: strained cells computed;
    strain_directions: Voigt indices strained; residual_stress_GPa: stress of the unstrained cell."""

    C_GPa: list[list[float]]
    C_std_GPa: list[list[float]]
    moduli: dict[str, float]
    crystal_system: str
    space_group: str
    n_independent: int
    born_stable: bool
    born_failed: list[str]
    eigenvalues_GPa: list[float]
    density_kg_m3: float
    n_deformations: int
    strain_directions: list[int]
    strains: list[float]
    residual_stress_GPa: list[float]
    rms_residual_GPa: float
    structure: dict[str, Any]
    method: str


def standard_frame(
    structure: Structure, symprec: float = 1e-3
) -> tuple[Structure, list[np.ndarray], str, str]:
    """(primitive standard structure, Cartesian point-group rotations, crystal system, space group)."""
    sga = SpacegroupAnalyzer(structure, symprec=symprec)
    prim = sga.get_primitive_standard_structure()
    sga2 = SpacegroupAnalyzer(prim, symprec=symprec)
    rots = [op.rotation_matrix for op in sga2.get_symmetry_operations(cartesian=True)]
    return prim, rots, sga2.get_crystal_system(), sga2.get_space_group_symbol()


def strained(structure: Structure, voigt_strain: np.ndarray) -> Structure:
    """``structure`` deformed by the (6,) Voigt strain (engineering shear): cell rows transformed by
    F = 1 + eps, fractional coordinates kept."""
    f = np.eye(3) + voigt_to_strain(voigt_strain)
    s = structure.copy()
    s.lattice = Lattice(structure.lattice.matrix @ f.T)
    return s


def elastic_tensor(
    structure: Structure,
    engine: Engine,
    strains: tuple[float, ...] = DEFAULT_STRAINS,
    relax: bool = True,
    relax_ions: bool = True,
    symmetry_reduced: bool = True,
    fmax: float = 0.005,
) -> ElasticResult:
    """Elastic constants (GPa) of ``structure`` with ``engine`` from finite ``strains`` (dimensionless
    magnitudes, applied along each needed Voigt direction). ``fmax``: force criterion (eV/Å) of the
    cell relaxation and of the ionic relaxations in the strained cells."""
    s0 = prerelax(structure, engine, fmax) if relax else structure
    prim, rots, system, spg = standard_frame(s0)
    dirs = needed_strain_directions(invariant_basis(rots)) if symmetry_reduced else list(range(6))
    vectors = []
    for d in dirs:
        for mag in strains:
            e = np.zeros(6)
            e[d] = mag
            vectors.append(e)
    cells = [prim] + [strained(prim, e) for e in vectors]
    if relax_ions:
        stress_list = [s for _e, s, _c in relaxed_stresses(cells, engine, fmax)]
    else:
        stress_list = [np.asarray(ev.stress) for ev in engine.evaluate(cells)]
    stresses = np.array(stress_list) / units.GPa
    fit = fit_stiffness(vectors, stresses[1:] - stresses[0], rots)
    born = born_stability(fit.C_GPa, system)
    mod = vrh_moduli(fit.C_GPa)
    mass_kg = float(prim.composition.weight) * 1.66053906660e-27
    how = "ions relaxed in each strained cell" if relax_ions else "clamped ions"
    return ElasticResult(
        C_GPa=fit.C_GPa,
        C_std_GPa=fit.C_std_GPa,
        moduli=mod.to_dict(),
        crystal_system=system,
        space_group=spg,
        n_independent=fit.n_independent,
        born_stable=born.stable,
        born_failed=born.failed,
        eigenvalues_GPa=born.eigenvalues_GPa,
        density_kg_m3=mass_kg / (prim.volume * 1e-30),
        n_deformations=len(vectors),
        strain_directions=dirs,
        strains=list(strains),
        residual_stress_GPa=stresses[0].tolist(),
        rms_residual_GPa=fit.rms_residual_GPa,
        structure=prim.as_dict(),
        method=(
            f"finite strains {list(strains)} along Voigt directions {[d + 1 for d in dirs]}, {how}, "
            f"least-squares fit in the {fit.n_independent}-constant {system} subspace"
        ),
    )


TASKS = {"elastic_tensor": (elastic_tensor, ElasticResult, TASK_VERSION)}
