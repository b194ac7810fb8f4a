"""Continuum hand-off: linear elasticity with an anisotropic stiffness and steady heat conduction on
a part, solved with scikit-fem (quadratic triangles in 2D, linear tetrahedra in 3D).

SI units inside: lengths m, stiffness and stress Pa, conductivity W/(m K), temperature K. A part
(:class:`Part`) is a mesh with named boundaries: ``load`` (traction along ``load_direction``),
``load_neg`` (the opposite traction, for self-equilibrated tension) and ``clamp`` (u = 0). A part
without ``clamp`` is held by the minimum constraints against rigid motion, which carry no reaction
under a balanced load (so they add no stress). 2D parts are plane stress (thin plate of
``thickness_m``) or plane strain; the 6x6 Voigt stiffness (xx, yy, zz, yz, xz, xy) is reduced to the
in-plane (xx, yy, xy) block accordingly.
"""

from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass
from typing import Any

import numpy as np
from skfem import (
    Basis,
    BilinearForm,
    ElementTetP1,
    ElementTriP2,
    ElementVector,
    FacetBasis,
    Functional,
    LinearForm,
    Mesh,
    MeshTet,
    MeshTri,
    asm,
    condense,
    solve,
)
from skfem.helpers import grad

from mattwin.errors import PartModelError

PLANE_IDX = [0, 1, 5]  # Voigt indices of xx, yy, xy


@dataclass(frozen=True)
class Part:
    """A meshed part (coordinates in m) with named boundaries ``load`` / ``load_neg`` / ``clamp``;
    ``load_direction``: unit vector of the traction on ``load``; ``pin_nodes``: for unclamped 2D
    parts, node indices (a, b) where a is fixed in x and y and b in the direction normal to a-b."""

    name: str
    mesh: Mesh
    load_direction: tuple[float, ...]
    thickness_m: float = 1e-3
    pin_nodes: tuple[int, int] | None = None
    description: str = ""

    @property
    def dim(self) -> int:
        return int(self.mesh.dim())


def plate_with_hole(
    side_mm: float = 200.0,
    radius_mm: float = 10.0,
    n_theta: int = 128,
    n_radial: int = 32,
    thickness_mm: float = 1.0,
) -> Part:
    """A square plate of ``side_mm`` with a central hole of ``radius_mm``, pulled along x on both
    x faces. O-grid mesh of triangles, graded geometrically towards the hole (``n_theta`` must be a
    multiple of 8 so nodes sit on the plate corners and on the axes)."""
    if n_theta % 8 or not 0 < radius_mm < side_mm / 4:
        raise PartModelError(
            f"plate-with-hole: need n_theta % 8 == 0 and 0 < radius < side/4, got {n_theta}, {radius_mm}"
        )
    a, h = radius_mm * 1e-3, side_mm * 0.5e-3
    th = np.linspace(0, 2 * np.pi, n_theta, endpoint=False)
    c, s = np.cos(th), np.sin(th)
    r_out = h / np.maximum(np.abs(c), np.abs(s))  # ray from the centre to the square boundary
    g = 1.08  # geometric growth of the radial element size
    w = np.cumsum(np.r_[0.0, g ** np.arange(n_radial)])
    w = w / w[-1]
    rad = a + np.outer(w, r_out - a)  # (n_radial + 1, n_theta)
    pts = np.stack([rad * c, rad * s]).reshape(2, -1)
    i, j = np.meshgrid(np.arange(n_radial), np.arange(n_theta), indexing="ij")
    n00 = i * n_theta + j
    n01 = i * n_theta + (j + 1) % n_theta
    n10, n11 = n00 + n_theta, n01 + n_theta
    tri = np.hstack([np.stack([n00, n10, n11]).reshape(3, -1), np.stack([n00, n11, n01]).reshape(3, -1)])
    mesh = MeshTri(pts, tri).with_boundaries(
        {"load": lambda x: np.isclose(x[0], h), "load_neg": lambda x: np.isclose(x[0], -h)}
    )
    outer = n_radial * n_theta
    left, right = outer + n_theta // 2, outer  # nodes (-h, 0) and (h, 0)
    return Part(
        "plate-with-hole",
        mesh,
        (1.0, 0.0),
        thickness_mm * 1e-3,
        (left, right),
        f"{side_mm:g} mm square plate, hole radius {radius_mm:g} mm, uniaxial tension along x",
    )


def bracket(
    width_mm: float = 100.0,
    height_mm: float = 100.0,
    leg_mm: float = 20.0,
    h_mm: float = 2.0,
    thickness_mm: float = 10.0,
) -> Part:
    """An L-shaped bracket: vertical leg x in [0, leg], clamped on its top edge y = height;
    horizontal arm y in [0, leg], loaded on its end face x = width along -y. Element size ``h_mm``.
    The inner corner is sharp: the stress there is singular and its peak grows with refinement."""
    xs = np.unique(np.r_[np.arange(0, leg_mm, h_mm), np.arange(leg_mm, width_mm + h_mm / 2, h_mm)]) * 1e-3
    ys = np.unique(np.r_[np.arange(0, leg_mm, h_mm), np.arange(leg_mm, height_mm + h_mm / 2, h_mm)]) * 1e-3
    m = MeshTri.init_tensor(xs, ys)
    mid = m.p[:, m.t].mean(axis=1)
    leg = leg_mm * 1e-3
    m = m.remove_elements(np.nonzero((mid[0] > leg) & (mid[1] > leg))[0])
    m = m.with_boundaries(
        {
            "clamp": lambda x: np.isclose(x[1], height_mm * 1e-3),
            "load": lambda x: np.isclose(x[0], width_mm * 1e-3),
        }
    )
    return Part(
        "bracket",
        m,
        (0.0, -1.0),
        thickness_mm * 1e-3,
        None,
        f"L bracket {width_mm:g} x {height_mm:g} mm, legs {leg_mm:g} mm, "
        "clamped at the top, end loaded downwards",
    )


def mesh_part(path: str, scale: float = 1e-3) -> Part:
    """A part from a mesh file (any meshio format: .msh, .vtu, .inp, ...) with coordinates in mm
    (``scale`` converts them to m): triangles (2D, plane stress) or tetrahedra (3D). The face at
    minimum x is clamped and the face at maximum x pulled along +x."""
    import meshio

    try:  # meshio prints what each reader says and exits when none reads the file: keep it quiet
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            mio = meshio.read(path)
    except (Exception, SystemExit) as exc:  # meshio raises many types
        cause = f"{exc}" if isinstance(exc, Exception) else "no meshio reader understands it"
        raise PartModelError(
            f"{path}: cannot read the mesh ({cause}); give a .msh, .vtu or .inp mesh"
        ) from exc
    cells = {c.type: c.data for c in mio.cells}
    if "tetra" in cells:
        mesh: Mesh = MeshTet(mio.points[:, :3].T * scale, cells["tetra"].T)
    elif "triangle" in cells:
        mesh = MeshTri(mio.points[:, :2].T * scale, cells["triangle"].T)
    else:
        raise PartModelError(f"{path}: no triangle or tetra cells (found {', '.join(cells) or 'none'})")
    lo, hi = mesh.p[0].min(), mesh.p[0].max()
    tol = 1e-6 * (hi - lo)
    mesh = mesh.with_boundaries({"clamp": lambda x: x[0] < lo + tol, "load": lambda x: x[0] > hi - tol})
    direction = (1.0, 0.0, 0.0) if mesh.dim() == 3 else (1.0, 0.0)
    return Part(str(path), mesh, direction, 1e-3, None, f"mesh {path}: clamped at min x, pulled at max x")


def in_plane_stiffness(c_pa: np.ndarray, plane: str = "stress") -> np.ndarray:
    """The (3, 3) in-plane (xx, yy, xy) stiffness of the 6x6 Voigt ``c_pa`` for plane stress
    (sigma_zz = tau_yz = tau_xz = 0: invert the reduced compliance) or plane strain (take the block)."""
    if plane == "strain":
        return np.asarray(c_pa)[np.ix_(PLANE_IDX, PLANE_IDX)]
    s = np.linalg.inv(np.asarray(c_pa))
    return np.asarray(np.linalg.inv(s[np.ix_(PLANE_IDX, PLANE_IDX)]))


def _voigt(e: Any, dim: int) -> list[Any]:
    """Engineering-strain Voigt components of a (dim, dim, ...) symmetric gradient."""
    if dim == 2:
        return [e[0, 0], e[1, 1], e[0, 1] + e[1, 0]]
    return [e[0, 0], e[1, 1], e[2, 2], e[1, 2] + e[2, 1], e[0, 2] + e[2, 0], e[0, 1] + e[1, 0]]


def _stiffness_form(cmat: np.ndarray, dim: int) -> BilinearForm:
    def form(u: Any, v: Any, _w: Any) -> Any:
        eu, ev = _voigt(grad(u), dim), _voigt(grad(v), dim)
        return sum(cmat[i, j] * eu[j] * ev[i] for i in range(len(eu)) for j in range(len(eu)))

    return BilinearForm(form)


def element_for(part: Part, vector: bool = True) -> Any:
    base = ElementTriP2() if part.dim == 2 else ElementTetP1()
    return ElementVector(base) if vector else base


@dataclass(frozen=True)
class ElasticSolution:
    """Displacement and stress of a part. displacement_m: (dim, n_nodes) at mesh vertices;
    stress_Pa: (3 or 6, n_nodes) Voigt components (xx, yy, xy in 2D) projected to the vertices;
    von_mises_Pa: (n_nodes,); traction_Pa: applied traction on ``load``; load_N: total force."""

    part: Part
    displacement_m: np.ndarray
    stress_Pa: np.ndarray
    von_mises_Pa: np.ndarray
    traction_Pa: float
    load_N: float
    plane: str

    @property
    def max_von_mises_Pa(self) -> float:
        return float(self.von_mises_Pa.max())

    @property
    def max_displacement_m(self) -> float:
        return float(np.linalg.norm(self.displacement_m, axis=0).max())

    def stress_at_node(self, node: int) -> np.ndarray:
        return np.asarray(self.stress_Pa[:, node])


def von_mises(
    stress: np.ndarray, c_pa: np.ndarray | None = None, strain: np.ndarray | None = None
) -> np.ndarray:
    """Von Mises stress of Voigt ``stress`` (3, ...) in 2D (plane stress; with ``c_pa`` and the
    in-plane engineering ``strain`` (3, ...), plane strain: sigma_zz from C) or (6, ...) in 3D."""
    if stress.shape[0] == 3:
        sx, sy, txy = stress
        sz = np.zeros_like(sx)
        if c_pa is not None and strain is not None:
            sz = sum(c_pa[2, k] * strain[i] for i, k in enumerate(PLANE_IDX))
        full = np.stack([sx, sy, sz, 0 * sx, 0 * sx, txy])
    else:
        full = stress
    sx, sy, sz, tyz, txz, txy = full
    return np.sqrt(0.5 * ((sx - sy) ** 2 + (sy - sz) ** 2 + (sz - sx) ** 2) + 3 * (tyz**2 + txz**2 + txy**2))


def _boundary_measure(part: Part, name: str) -> float:
    fb = FacetBasis(part.mesh, element_for(part, vector=False), facets=part.mesh.boundaries[name])
    area = float(Functional(lambda w: 1.0 + 0 * w.x[0]).assemble(fb))
    return area * (part.thickness_m if part.dim == 2 else 1.0)


def _load_vector(basis: Basis, part: Part, traction: float) -> np.ndarray:
    f = np.zeros(basis.N)
    for name, sign in (("load", 1.0), ("load_neg", -1.0)):
        if name not in (part.mesh.boundaries or {}):
            continue
        fb = FacetBasis(part.mesh, basis.elem, facets=part.mesh.boundaries[name])
        t = sign * traction * np.asarray(part.load_direction)

        @LinearForm
        def trac(v: Any, _w: Any, t: np.ndarray = t) -> Any:
            return sum(t[k] * v[k] for k in range(len(t)))

        f += asm(trac, fb)
    return f


def _fixed_dofs(basis: Basis, part: Part) -> np.ndarray:
    if "clamp" in (part.mesh.boundaries or {}):
        return np.asarray(basis.get_dofs("clamp").flatten())
    if part.pin_nodes is None or part.dim != 2:
        raise PartModelError(f"{part.name}: no clamped boundary and no pin nodes: the part can move freely")
    a, b = part.pin_nodes
    d = part.mesh.p[:, b] - part.mesh.p[:, a]
    normal_comp = 1 if abs(d[0]) >= abs(d[1]) else 0
    nd = basis.nodal_dofs
    return np.array([nd[0, a], nd[1, a], nd[normal_comp, b]])


def solve_elastic(
    part: Part, c_gpa: np.ndarray, load: float, load_is_force: bool = False, plane: str = "stress"
) -> ElasticSolution:
    """Linear-elastic solve of ``part`` with the 6x6 Voigt stiffness ``c_gpa`` (GPa, in the part's
    frame) under ``load``: a traction in Pa on ``load`` (and its negative on ``load_neg``), or with
    ``load_is_force`` a total force in N spread uniformly over ``load``."""
    c_pa = np.asarray(c_gpa, dtype=float) * 1e9
    cmat = in_plane_stiffness(c_pa, plane) if part.dim == 2 else c_pa
    basis = Basis(part.mesh, element_for(part))
    traction = load / _boundary_measure(part, "load") if load_is_force else load
    k = asm(_stiffness_form(cmat, part.dim), basis)
    f = _load_vector(basis, part, traction)
    u = solve(*condense(k, f, D=_fixed_dofs(basis, part)))
    grads = basis.interpolate(u).grad  # (dim, dim, n_elem, n_qp)
    strain = np.array(_voigt(grads, part.dim))
    stress = np.einsum("ij,j...->i...", cmat, strain)
    sbasis = basis.with_element(element_for(part, vector=False))
    nodal = np.array([sbasis.project(sc) for sc in stress])[:, : part.mesh.nvertices]
    nodal_strain = np.array([sbasis.project(e) for e in strain])[:, : part.mesh.nvertices]
    vm = von_mises(nodal, c_pa if plane == "strain" else None, nodal_strain if plane == "strain" else None)
    disp = u[basis.nodal_dofs[:, : part.mesh.nvertices]]
    area = _boundary_measure(part, "load")
    return ElasticSolution(part, disp, nodal, vm, float(traction), float(traction * area), plane)


@dataclass(frozen=True)
class HeatSolution:
    """Steady temperature field. temperature_K: (n_nodes,); heat_flow_W: heat entering through the
    hot boundary; conductance_W_K: heat_flow / (t_hot - t_cold)."""

    part: Part
    temperature_K: np.ndarray
    heat_flow_W: float
    conductance_W_K: float
    t_hot_K: float
    t_cold_K: float


def solve_heat(
    part: Part, k_w_mk: float | np.ndarray, t_hot: float = 400.0, t_cold: float = 300.0
) -> HeatSolution:
    """Steady conduction -div(k grad T) = 0 with T = ``t_hot`` on the ``load_neg`` (or ``clamp``)
    boundary, ``t_cold`` on ``load`` and no flux elsewhere; ``k_w_mk`` scalar or (3, 3) W/(m K)."""
    kt = (
        np.eye(part.dim) * float(k_w_mk)
        if np.ndim(k_w_mk) == 0
        else np.asarray(k_w_mk)[: part.dim, : part.dim]
    )
    names = part.mesh.boundaries or {}
    hot_name = "load_neg" if "load_neg" in names else "clamp"
    if hot_name not in names or "load" not in names:
        raise PartModelError(f"{part.name}: needs a hot ({hot_name}) and a cold (load) boundary")
    basis = Basis(part.mesh, element_for(part, vector=False))

    @BilinearForm
    def conduction(u: Any, v: Any, _w: Any) -> Any:
        gu, gv = grad(u), grad(v)
        return sum(kt[i, j] * gu[j] * gv[i] for i in range(part.dim) for j in range(part.dim))

    a = asm(conduction, basis)
    hot, cold = basis.get_dofs(hot_name).flatten(), basis.get_dofs("load").flatten()
    t = basis.zeros()
    t[hot], t[cold] = t_hot, t_cold
    t = solve(*condense(a, x=t, D=np.r_[hot, cold]))
    # heat flow from the reaction at the hot dofs: (A T)_hot sums the flux through that boundary
    flow = float((a @ t)[hot].sum()) * (part.thickness_m if part.dim == 2 else 1.0)
    return HeatSolution(part, t[: part.mesh.nvertices], flow, flow / (t_hot - t_cold), t_hot, t_cold)
