"""A part model: geometry + stored material + load -> elastic (and thermal) fields, cards, files.

Loads are strings with units: a traction (``10MPa``, ``0.5 GPa``, ``2e6 Pa``, ``150 kPa``) on the
loaded face, or a total force (``1000N``, ``2 kN``) spread over it. Geometry: ``plate-with-hole``,
``bracket`` or a mesh file (meshio formats; coordinates in mm).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mattwin.errors import PartModelError
from mattwin.multiscale.cards import MaterialCard
from mattwin.multiscale.fem import (
    ElasticSolution,
    HeatSolution,
    Part,
    bracket,
    mesh_part,
    plate_with_hole,
    solve_elastic,
    solve_heat,
)

_PRESSURE = {"pa": 1.0, "kpa": 1e3, "mpa": 1e6, "gpa": 1e9, "psi": 6894.757293168, "ksi": 6894757.293168}
_FORCE = {"n": 1.0, "kn": 1e3, "mn": 1e6, "lbf": 4.4482216152605}
_LOAD_RE = re.compile(r"^\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*([A-Za-z]+)\s*$")


def parse_load(text: str) -> tuple[float, bool]:
    """(value in Pa or N, is_force) from a load string such as ``10MPa`` or ``2 kN``."""
    m = _LOAD_RE.match(text)
    if not m:
        raise PartModelError(f"load {text!r}: expected a number with a unit, e.g. 10MPa, 0.2GPa, 1000N")
    value, unit = float(m.group(1)), m.group(2).lower()
    if unit in _PRESSURE:
        return value * _PRESSURE[unit], False
    if unit in _FORCE:
        return value * _FORCE[unit], True
    raise PartModelError(
        f"load {text!r}: unknown unit {m.group(2)!r}; "
        "use Pa, kPa, MPa, GPa, psi, ksi (traction) or N, kN, lbf (force)"
    )


def build_part(geometry: str) -> Part:
    """``plate-with-hole``, ``bracket`` or the path of a mesh file."""
    key = geometry.strip().lower()
    if key in ("plate-with-hole", "plate_with_hole", "plate"):
        return plate_with_hole()
    if key == "bracket":
        return bracket()
    if Path(geometry).suffix and Path(geometry).exists():
        return mesh_part(geometry)
    raise PartModelError(
        f"geometry {geometry!r}: use plate-with-hole, bracket, "
        "or an existing mesh file (.msh, .vtu, .inp, ...)"
    )


@dataclass(frozen=True)
class PartSolution:
    """The solved part: elastic fields, the thermal solve (None without a computed conductivity)."""

    card: MaterialCard
    elastic: ElasticSolution
    heat: HeatSolution | None
    load_text: str


def conductivity_of(card: MaterialCard) -> float | np.ndarray | None:
    k = card.conductivity_W_mK
    return None if k is None else (float(k) if np.ndim(k) == 0 else np.asarray(k))  # type: ignore[arg-type]


def solve_part(card: MaterialCard, geometry: str, load: str, plane: str = "stress") -> PartSolution:
    """Elastic solve of ``geometry`` made of ``card`` under ``load``; heat conduction (400 K hot face,
    300 K cold face) when the card has a conductivity."""
    if plane not in ("stress", "strain"):
        raise PartModelError(f"plane {plane!r}: use stress or strain")
    part = build_part(geometry)
    value, is_force = parse_load(load)
    el = solve_elastic(part, np.asarray(card.C_GPa), value, load_is_force=is_force, plane=plane)
    k = conductivity_of(card)
    heat = solve_heat(part, k) if k is not None else None
    return PartSolution(card, el, heat, load)


def write_fields(sol: PartSolution, path: str | Path) -> Path:
    """The mesh with displacement (m), von Mises (Pa) and temperature (K) as a VTU file (ParaView)."""
    import meshio

    part = sol.elastic.part
    mesh = part.mesh
    pts = mesh.p.T if part.dim == 3 else np.c_[mesh.p.T, np.zeros(mesh.p.shape[1])]
    cell_type = "triangle" if part.dim == 2 else "tetra"
    disp = sol.elastic.displacement_m.T
    if part.dim == 2:
        disp = np.c_[disp, np.zeros(len(disp))]
    data = {"displacement_m": disp, "von_mises_Pa": sol.elastic.von_mises_Pa}
    if sol.heat is not None:
        data["temperature_K"] = sol.heat.temperature_K
    path = Path(path)
    meshio.write(path, meshio.Mesh(pts, [(cell_type, mesh.t[: part.dim + 1].T)], point_data=data))
    return path
