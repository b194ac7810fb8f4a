"""Elastic constants from stress–strain data, their averages and mechanical (Born) stability.

Voigt convention used throughout: index order (xx, yy, zz, yz, xz, xy) = (1, 2, 3, 4, 5, 6); strain
vectors carry *engineering* shear strains (e4 = 2 eps_yz, ...); stress vectors carry the plain tensor
components; stiffness ``C`` (6x6, GPa) maps strain to stress, sigma = C e, tensile stress positive
(ASE's sign). Compliance S = C^-1 (1/GPa).

The fit is symmetry-aware: C is restricted to the linear subspace of 6x6 matrices invariant under the
crystal's point-group rotations (3 independent constants for cubic, 5 hexagonal, 6 or 7 tetragonal,
9 orthorhombic, 13 monoclinic, 21 triclinic), and the coefficients are fitted by least squares.
Pure functions: no files, no store.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from itertools import product
from typing import Any

import numpy as np

from mattwin.errors import FitError

#: Voigt index -> pair of Cartesian indices
VOIGT_PAIRS = ((0, 0), (1, 1), (2, 2), (1, 2), (0, 2), (0, 1))


def strain_to_voigt(eps: np.ndarray) -> np.ndarray:
    """(3, 3) symmetric strain tensor -> (6,) Voigt vector with engineering shear strains."""
    return np.array([eps[0, 0], eps[1, 1], eps[2, 2], 2 * eps[1, 2], 2 * eps[0, 2], 2 * eps[0, 1]])


def voigt_to_strain(e: np.ndarray) -> np.ndarray:
    """(6,) Voigt strain (engineering shear) -> (3, 3) symmetric strain tensor."""
    return np.array(
        [[e[0], e[5] / 2, e[4] / 2], [e[5] / 2, e[1], e[3] / 2], [e[4] / 2, e[3] / 2, e[2]]], dtype=float
    )


def voigt_to_tensor(c: np.ndarray) -> np.ndarray:
    """(6, 6) Voigt stiffness -> (3, 3, 3, 3) tensor C_ijkl."""
    t = np.zeros((3, 3, 3, 3))
    for a, b in product(range(6), repeat=2):
        (i, j), (k, m) = VOIGT_PAIRS[a], VOIGT_PAIRS[b]
        for p, q, r, s in ((i, j, k, m), (j, i, k, m), (i, j, m, k), (j, i, m, k)):
            t[p, q, r, s] = c[a, b]
    return t


def tensor_to_voigt(t: np.ndarray) -> np.ndarray:
    """(3, 3, 3, 3) stiffness tensor -> (6, 6) Voigt matrix."""
    return np.array([[t[(*VOIGT_PAIRS[a], *VOIGT_PAIRS[b])] for b in range(6)] for a in range(6)])


def rotate_voigt(c: np.ndarray, rot: np.ndarray) -> np.ndarray:
    """The stiffness ``c`` (6x6) seen after the Cartesian rotation ``rot`` (3x3)."""
    t = np.einsum("ia,jb,kc,ld,abcd->ijkl", rot, rot, rot, rot, voigt_to_tensor(c))
    return tensor_to_voigt(t)


def symmetrize(c: np.ndarray, rotations: Sequence[np.ndarray]) -> np.ndarray:
    """Average of ``c`` over the point group (Cartesian rotation matrices): the projection onto the
    symmetry-invariant stiffnesses."""
    rots = list(rotations) or [np.eye(3)]
    c_sym = 0.5 * (c + c.T)
    return np.mean([rotate_voigt(c_sym, r) for r in rots], axis=0)


def invariant_basis(rotations: Sequence[np.ndarray], tol: float = 1e-8) -> list[np.ndarray]:
    """An orthonormal basis (list of symmetric 6x6 matrices) of the stiffnesses invariant under
    ``rotations``; its length is the number of independent elastic constants."""
    units = []
    for i in range(6):
        for j in range(i, 6):
            m = np.zeros((6, 6))
            m[i, j] = m[j, i] = 1.0
            units.append(symmetrize(m, rotations).ravel())
    u, s, _vt = np.linalg.svd(np.array(units).T, full_matrices=False)
    rank = int(np.sum(s > tol * s[0]))
    return [u[:, k].reshape(6, 6) for k in range(rank)]


def needed_strain_directions(basis: Sequence[np.ndarray]) -> list[int]:
    """The fewest Voigt strain directions (0..5) whose stress responses determine every coefficient
    of ``basis`` (greedy, in Voigt order): 2 for cubic (e1, e4), all 6 for triclinic."""
    chosen: list[int] = []
    rows: list[np.ndarray] = []
    rank = 0
    for d in range(6):
        e = np.zeros(6)
        e[d] = 1.0
        block = np.array([b @ e for b in basis]).T  # (6 stress comps, n_basis)
        trial = np.vstack(rows + [block])
        r = int(np.linalg.matrix_rank(trial, tol=1e-8))
        if r > rank:
            chosen.append(d)
            rows.append(block)
            rank = r
        if rank == len(basis):
            break
    return chosen


@dataclass(frozen=True)
class ElasticFit:
    """Fitted stiffness: C_GPa (6x6, Voigt), C_std_GPa its one-sigma uncertainty from the
    least-squares residuals, n_independent the number of symmetry-independent constants,
    rms_residual_GPa the stress misfit."""

    C_GPa: list[list[float]]
    C_std_GPa: list[list[float]]
    n_independent: int
    rms_residual_GPa: float


def fit_stiffness(
    strains: Sequence[np.ndarray], stresses: Sequence[np.ndarray], rotations: Sequence[np.ndarray] = ()
) -> ElasticFit:
    """Least-squares stiffness from Voigt ``strains`` (n, 6; engineering shear) and the stress
    *changes* ``stresses`` (n, 6; GPa) they caused, within the symmetry of ``rotations``.

    Raises :class:`FitError` when the strains do not determine every independent constant."""
    e = np.asarray(strains, dtype=float).reshape(-1, 6)
    s = np.asarray(stresses, dtype=float).reshape(-1, 6)
    if len(e) != len(s) or len(e) == 0:
        raise FitError(f"need equal numbers of strains and stresses, got {len(e)} and {len(s)}")
    basis = invariant_basis(rotations)
    a = np.vstack([np.array([b @ ei for b in basis]).T for ei in e])  # (6n, k)
    y = s.ravel()
    if np.linalg.matrix_rank(a) < len(basis):
        raise FitError(
            f"the {len(e)} strains determine only {np.linalg.matrix_rank(a)} of {len(basis)} independent "
            "elastic constants; add strains along the missing directions"
        )
    coef, _res, _rk, _sv = np.linalg.lstsq(a, y, rcond=None)
    resid = y - a @ coef
    dof = max(len(y) - len(basis), 1)
    sigma2 = float(resid @ resid) / dof
    cov = sigma2 * np.linalg.pinv(a.T @ a)
    c = sum(ck * b for ck, b in zip(coef, basis, strict=True))
    var = np.einsum("kij,kl,lij->ij", np.array(basis), cov, np.array(basis))
    return ElasticFit(
        C_GPa=np.asarray(c).tolist(),
        C_std_GPa=np.sqrt(np.clip(var, 0, None)).tolist(),
        n_independent=len(basis),
        rms_residual_GPa=float(np.sqrt(np.mean(resid**2))),
    )


@dataclass(frozen=True)
class ElasticModuli:
    """Polycrystalline averages (GPa): bulk K and shear G moduli in the Voigt (uniform strain), Reuss
    (uniform stress) and Hill (mean) bounds; Young's modulus E and Poisson ratio nu from the Hill
    values; universal anisotropy index A_U = 5 G_V/G_R + K_V/K_R - 6 (Ranganathan & Ostoja-Starzewski,
    PRL 101, 055504 (2008); 0 for an isotropic solid)."""

    K_voigt_GPa: float
    K_reuss_GPa: float
    K_vrh_GPa: float
    G_voigt_GPa: float
    G_reuss_GPa: float
    G_vrh_GPa: float
    youngs_modulus_GPa: float
    poisson_ratio: float
    universal_anisotropy: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def vrh_moduli(c_gpa: np.ndarray | Sequence[Sequence[float]]) -> ElasticModuli:
    """Voigt–Reuss–Hill averages of the stiffness ``c_gpa`` (6x6, GPa) (Hill, Proc. Phys. Soc. A 65,
    349 (1952))."""
    c = np.asarray(c_gpa, dtype=float)
    s = np.linalg.inv(c)
    kv = (c[0, 0] + c[1, 1] + c[2, 2] + 2 * (c[0, 1] + c[1, 2] + c[0, 2])) / 9
    gv = (
        c[0, 0] + c[1, 1] + c[2, 2] - (c[0, 1] + c[1, 2] + c[0, 2]) + 3 * (c[3, 3] + c[4, 4] + c[5, 5])
    ) / 15
    kr = 1 / (s[0, 0] + s[1, 1] + s[2, 2] + 2 * (s[0, 1] + s[1, 2] + s[0, 2]))
    gr = 15 / (
        4 * (s[0, 0] + s[1, 1] + s[2, 2])
        - 4 * (s[0, 1] + s[1, 2] + s[0, 2])
        + 3 * (s[3, 3] + s[4, 4] + s[5, 5])
    )
    k, g = (kv + kr) / 2, (gv + gr) / 2
    return ElasticModuli(
        K_voigt_GPa=float(kv),
        K_reuss_GPa=float(kr),
        K_vrh_GPa=float(k),
        G_voigt_GPa=float(gv),
        G_reuss_GPa=float(gr),
        G_vrh_GPa=float(g),
        youngs_modulus_GPa=float(9 * k * g / (3 * k + g)),
        poisson_ratio=float((3 * k - 2 * g) / (2 * (3 * k + g))),
        universal_anisotropy=float(5 * gv / gr + kv / kr - 6),
    )


@dataclass(frozen=True)
class BornStability:
    """Mechanical stability: ``stable`` when C is positive definite (the necessary and sufficient
    Born condition for every crystal system); ``failed`` names each violated criterion;
    ``eigenvalues_GPa`` of C in ascending order."""

    stable: bool
    failed: list[str]
    eigenvalues_GPa: list[float]
    crystal_system: str

    @property
    def message(self) -> str:
        if self.stable:
            return f"mechanically stable ({self.crystal_system}): all Born criteria hold"
        return f"mechanically unstable ({self.crystal_system}): violates " + "; ".join(self.failed)


def _named_criteria(c: np.ndarray, system: str) -> list[tuple[str, bool]]:
    """Named Born criteria of Mouhat & Coudert, Phys. Rev. B 90, 224104 (2014), in Voigt indices."""
    c11, c12, c13, c33 = c[0, 0], c[0, 1], c[0, 2], c[2, 2]
    c44, c66 = c[3, 3], c[5, 5]
    if system == "cubic":
        return [
            ("C11 - C12 > 0", c11 - c12 > 0),
            ("C11 + 2 C12 > 0", c11 + 2 * c12 > 0),
            ("C44 > 0", c44 > 0),
        ]
    if system in ("hexagonal", "tetragonal"):
        crit = [
            ("C11 > |C12|", c11 > abs(c12)),
            ("2 C13^2 < C33 (C11 + C12)", 2 * c13**2 < c33 * (c11 + c12)),
            ("C44 > 0", c44 > 0),
            ("C66 > 0", c66 > 0),
        ]
        if system == "tetragonal" and abs(c[0, 5]) > 1e-6 * abs(c11):  # tetragonal II (C16 != 0)
            crit.append(("2 C16^2 < C66 (C11 - C12)", 2 * c[0, 5] ** 2 < c66 * (c11 - c12)))
        return crit
    if system == "orthorhombic":
        return [
            ("C11 > 0", c11 > 0),
            ("C11 C22 > C12^2", c11 * c[1, 1] > c12**2),
            ("det(C[1:3,1:3]) > 0", np.linalg.det(c[:3, :3]) > 0),
            ("C44 > 0", c44 > 0),
            ("C55 > 0", c[4, 4] > 0),
            ("C66 > 0", c66 > 0),
        ]
    # trigonal, monoclinic, triclinic: Sylvester's leading principal minors
    return [(f"leading principal minor {k} > 0", np.linalg.det(c[:k, :k]) > 0) for k in range(1, 7)]


def born_stability(
    c_gpa: np.ndarray | Sequence[Sequence[float]], crystal_system: str = "triclinic"
) -> BornStability:
    """Born mechanical stability of the stiffness ``c_gpa`` (6x6, GPa) of a crystal of
    ``crystal_system`` (cubic, hexagonal, trigonal, tetragonal, orthorhombic, monoclinic, triclinic)."""
    c = np.asarray(c_gpa, dtype=float)
    c = 0.5 * (c + c.T)
    eig = np.linalg.eigvalsh(c)
    failed = [name for name, ok in _named_criteria(c, crystal_system.lower()) if not ok]
    if eig[0] <= 0:
        failed.append(f"C positive definite (smallest eigenvalue {eig[0]:.3g} GPa)")
    return BornStability(
        stable=not failed, failed=failed, eigenvalues_GPa=eig.tolist(), crystal_system=crystal_system.lower()
    )
