"""scikit-fem part models against closed-form elasticity and conduction results."""

from __future__ import annotations

import meshio
import numpy as np
import pytest
from skfem import MeshTet, MeshTri

from mattwin.errors import PartModelError
from mattwin.multiscale.fem import (
    bracket,
    in_plane_stiffness,
    mesh_part,
    plate_with_hole,
    solve_elastic,
    solve_heat,
)
from mattwin.multiscale.part import build_part, parse_load


def isotropic(e_gpa: float, nu: float) -> np.ndarray:
    lam, mu = e_gpa * nu / ((1 + nu) * (1 - 2 * nu)), e_gpa / (2 * (1 + nu))
    c = np.zeros((6, 6))
    c[:3, :3] = lam
    c[range(3), range(3)] += 2 * mu
    c[3, 3] = c[4, 4] = c[5, 5] = mu
    return c


def cubic(c11: float, c12: float, c44: float) -> np.ndarray:
    c = np.zeros((6, 6))
    c[:3, :3] = c12
    c[range(3), range(3)] = c11
    c[3, 3] = c[4, 4] = c[5, 5] = c44
    return c


def _hole_edge_stresses(c: np.ndarray, traction: float = 10e6) -> tuple[np.ndarray, np.ndarray]:
    part = plate_with_hole()  # 200 mm plate, 10 mm hole: width / diameter = 10
    sol = solve_elastic(part, c, traction)
    n_theta = 128
    top, side = n_theta // 4, 0  # nodes (0, a) and (a, 0) on the hole
    assert np.allclose(part.mesh.p[:, top], [0.0, 0.01]) and np.allclose(part.mesh.p[:, side], [0.01, 0.0])
    return sol.stress_at_node(top) / traction, sol.stress_at_node(side) / traction


def test_plate_with_hole_reproduces_the_kirsch_concentration():
    at_top, at_side = _hole_edge_stresses(isotropic(200.0, 0.3))
    assert at_top[0] == pytest.approx(3.0, rel=0.10)  # Kirsch: sigma_xx = 3 sigma at the hole's top
    assert at_top[0] == pytest.approx(3.03, rel=0.03)  # finite width d/W = 0.1 (Howland): ~3.03
    assert at_side[1] == pytest.approx(-1.0, abs=0.15)  # and sigma_yy = -sigma on the load axis


def test_anisotropic_plate_matches_lekhnitskii():
    c = cubic(168.4, 121.4, 75.4)  # Cu, GPa; (001) plate pulled along [100]
    s = np.linalg.inv(c)
    e1, nu12, g12 = 1 / s[0, 0], -s[0, 1] / s[0, 0], 1 / s[5, 5]
    kt = 1 + np.sqrt(2 * (1 - nu12) + e1 / g12)  # Lekhnitskii, orthotropic infinite plate: 2.43
    at_top, _ = _hole_edge_stresses(c)
    assert at_top[0] == pytest.approx(kt, rel=0.05)
    assert abs(at_top[0] - 3.0) > 0.4  # clearly not the isotropic value


def test_plane_stress_reduction_of_an_isotropic_tensor():
    e, nu = 100.0, 0.25
    q = in_plane_stiffness(isotropic(e, nu), "stress")
    assert q[0, 0] == pytest.approx(e / (1 - nu**2)) and q[0, 1] == pytest.approx(nu * e / (1 - nu**2))
    assert q[2, 2] == pytest.approx(e / (2 * (1 + nu)))
    assert np.allclose(
        in_plane_stiffness(isotropic(e, nu), "strain"), isotropic(e, nu)[np.ix_([0, 1, 5], [0, 1, 5])]
    )


def _bar_mesh(tmp_path, dim: int) -> str:
    """A 100 x 20 (x 20) mm bar written with meshio (coordinates in mm)."""
    if dim == 2:
        m = MeshTri.init_tensor(np.linspace(0, 100, 21), np.linspace(0, 20, 5))
        cells = [("triangle", m.t.T)]
    else:
        m = MeshTet.init_tensor(np.linspace(0, 100, 11), np.linspace(0, 20, 3), np.linspace(0, 20, 3))
        cells = [("tetra", m.t.T)]
    path = tmp_path / f"bar{dim}.vtu"
    meshio.write(path, meshio.Mesh(m.p.T, cells))
    return str(path)


@pytest.mark.parametrize("dim", [2, 3])
def test_user_mesh_bar_stretches_by_sigma_l_over_e(tmp_path, dim):
    part = mesh_part(_bar_mesh(tmp_path, dim))
    area = 0.02 * (part.thickness_m if dim == 2 else 0.02)
    force, _ = parse_load("8kN")
    sol = solve_elastic(part, isotropic(70.0, 0.0), force, load_is_force=True)  # nu = 0: uniaxial, exact
    sigma = force / area
    assert sol.traction_Pa == pytest.approx(sigma)
    assert sol.max_displacement_m == pytest.approx(sigma * 0.1 / 70e9, rel=1e-6)
    assert np.median(sol.von_mises_Pa) == pytest.approx(sigma, rel=1e-6)


def test_heat_flow_through_a_bar_is_k_area_dt_over_length(tmp_path):
    part = mesh_part(_bar_mesh(tmp_path, 2))
    sol = solve_heat(part, 150.0, t_hot=400.0, t_cold=300.0)  # hot = clamp (x = 0), cold = load (x = 100 mm)
    assert sol.heat_flow_W == pytest.approx(150.0 * 0.02 * 1e-3 * 100.0 / 0.1, rel=1e-8)  # 3 W
    assert sol.temperature_K.min() == pytest.approx(300.0) and sol.temperature_K.max() == pytest.approx(400.0)
    plate = solve_heat(plate_with_hole(), 150.0)
    assert 0.9 * 15.0 < plate.heat_flow_W < 15.0  # the hole blocks a little of the 15 W of a full plate


def test_bracket_force_load_becomes_a_traction_on_its_end_face():
    part = bracket()  # 20 mm arm end face, 10 mm thick
    sol = solve_elastic(part, isotropic(200.0, 0.3), 1000.0, load_is_force=True)
    assert sol.traction_Pa == pytest.approx(1000.0 / (0.02 * 0.01))
    tip = np.isclose(part.mesh.p[0], 0.1)
    assert np.all(sol.displacement_m[1, tip] < 0)  # it bends downwards
    # beam theory for the arm alone (cantilever of length 80 mm from the leg): M/Z at the root = 60 MPa
    assert 40e6 < sol.max_von_mises_Pa < 400e6


def test_bad_inputs_are_typed_errors():
    with pytest.raises(PartModelError, match="unknown unit"):
        parse_load("10 furlongs")
    with pytest.raises(PartModelError, match="expected a number"):
        parse_load("heavy")
    assert parse_load("10MPa") == (1e7, False) and parse_load("2 kN") == (2000.0, True)
    with pytest.raises(PartModelError, match="geometry 'sprocket'"):
        build_part("sprocket")
