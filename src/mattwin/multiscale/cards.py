"""Material cards for continuum solvers: JSON/YAML and Abaqus/CalculiX keyword cards.

The card carries C_ij (6x6 Voigt, GPa, order xx yy zz yz xz xy, engineering shear strains), density
(kg/m^3), thermal conductivity (W/(m K), scalar or 3x3), specific heat (J/(kg K)) and the provenance.

Abaqus (and CalculiX, same syntax) order the tensor components 11 22 33 12 13 23, so Voigt indices
(1..6 = 11 22 33 23 13 12) map to Abaqus positions as 4 <-> 6 swapped. ``*ELASTIC, TYPE=ANISO`` takes
the 21 constants D1111, D1122, D2222, D1133, D2233, D3333, D1112, D2212, D3312, D1212, D1113, D2213,
D3313, D1213, D1313, D1123, D2223, D3323, D1223, D1323, D2323 (the upper triangle column by
column, 8 per line). The Abaqus card is written in SI units (Pa, kg/m^3, W/(m K), J/(kg K)).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from mattwin.errors import PartModelError

#: Voigt index (0..5 = xx yy zz yz xz xy) of each Abaqus position (11 22 33 12 13 23)
ABAQUS_FROM_VOIGT = [0, 1, 2, 5, 4, 3]


@dataclass(frozen=True)
class MaterialCard:
    """A material for a continuum solver. C_GPa: 6x6 Voigt stiffness, GPa; density_kg_m3;
    conductivity_W_mK: scalar or 3x3 (None when not computed); specific_heat_J_kgK: at
    ``temperature_K`` (None when not computed); provenance: engine, run keys, methods."""

    name: str
    C_GPa: list[list[float]]
    density_kg_m3: float
    conductivity_W_mK: float | list[list[float]] | None = None
    specific_heat_J_kgK: float | None = None
    temperature_K: float = 300.0
    provenance: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> MaterialCard:
        return cls(**d)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    def to_yaml(self) -> str:
        import yaml

        return str(yaml.safe_dump(self.to_dict(), sort_keys=False))


def abaqus_constants(c_gpa: np.ndarray | list[list[float]]) -> list[float]:
    """The 21 ``*ELASTIC, TYPE=ANISO`` constants (in Pa) of the Voigt stiffness ``c_gpa`` (GPa).
    Entries below 1e-9 of the largest (fit round-off, e.g. 5e-5 Pa where symmetry gives zero) are
    written as 0."""
    c = np.asarray(c_gpa, dtype=float) * 1e9
    c = np.where(np.abs(c) < 1e-9 * np.abs(c).max(), 0.0, c)
    a = c[np.ix_(ABAQUS_FROM_VOIGT, ABAQUS_FROM_VOIGT)]
    return [float(a[i, j]) for j in range(6) for i in range(j + 1)]


def voigt_from_abaqus(constants: list[float]) -> np.ndarray:
    """The 6x6 Voigt stiffness (GPa) from the 21 Abaqus ANISO constants (Pa)."""
    if len(constants) != 21:
        raise PartModelError(f"*ELASTIC, TYPE=ANISO needs 21 constants, got {len(constants)}")
    a = np.zeros((6, 6))
    k = 0
    for j in range(6):
        for i in range(j + 1):
            a[i, j] = a[j, i] = constants[k]
            k += 1
    c = np.zeros((6, 6))
    c[np.ix_(ABAQUS_FROM_VOIGT, ABAQUS_FROM_VOIGT)] = a
    return c / 1e9


def _lines(values: list[float], per_line: int = 8) -> list[str]:
    return [", ".join(f"{v:.8g}" for v in values[i : i + per_line]) for i in range(0, len(values), per_line)]


def abaqus_card(card: MaterialCard) -> str:
    """``*MATERIAL`` block for Abaqus/CalculiX input (SI units): ``*ELASTIC, TYPE=ANISO``,
    ``*DENSITY``, and when known ``*CONDUCTIVITY`` (ISO or ANISO: k11 k22 k33 k12 k13 k23) and
    ``*SPECIFIC HEAT``."""
    out = [f"** mattwin material card: {card.name}", f"*MATERIAL, NAME={card.name.replace(' ', '_')}"]
    out += ["*ELASTIC, TYPE=ANISO", *_lines(abaqus_constants(card.C_GPa))]
    out += ["*DENSITY", f"{card.density_kg_m3:.8g}"]
    k = card.conductivity_W_mK
    if k is not None:
        if np.ndim(k) == 0:
            out += ["*CONDUCTIVITY", f"{float(k):.8g}"]  # type: ignore[arg-type]
        else:
            km = np.asarray(k)
            vals = [km[0, 0], km[1, 1], km[2, 2], km[0, 1], km[0, 2], km[1, 2]]
            out += ["*CONDUCTIVITY, TYPE=ANISO", ", ".join(f"{v:.8g}" for v in vals)]
    if card.specific_heat_J_kgK is not None:
        out += ["*SPECIFIC HEAT", f"{card.specific_heat_J_kgK:.8g}"]
    return "\n".join(out) + "\n"


def parse_abaqus_card(text: str) -> dict[str, Any]:
    """Read back a ``*MATERIAL`` block: {name, C_GPa (6x6), density_kg_m3, conductivity_W_mK,
    specific_heat_J_kgK} (the keywords :func:`abaqus_card` writes)."""
    out: dict[str, Any] = {}
    key, data = "", list[float]()
    for raw in [*text.splitlines(), "*END"]:
        line = raw.strip()
        if not line or line.startswith("**"):
            continue
        if line.startswith("*"):
            _store_keyword(out, key, data)
            key, data = line.upper(), []
            if key.startswith("*MATERIAL"):
                out["name"] = line.split("=", 1)[1].strip()
            continue
        data += [float(x) for x in line.replace(",", " ").split()]
    return out


def _store_keyword(out: dict[str, Any], key: str, data: list[float]) -> None:
    if key.startswith("*ELASTIC"):
        out["C_GPa"] = voigt_from_abaqus(data).tolist()
    elif key.startswith("*DENSITY"):
        out["density_kg_m3"] = data[0]
    elif key.startswith("*CONDUCTIVITY"):
        if "ANISO" in key:
            k11, k22, k33, k12, k13, k23 = data[:6]
            out["conductivity_W_mK"] = [[k11, k12, k13], [k12, k22, k23], [k13, k23, k33]]
        else:
            out["conductivity_W_mK"] = data[0]
    elif key.startswith("*SPECIFIC HEAT"):
        out["specific_heat_J_kgK"] = data[0]


def write_cards(card: MaterialCard, folder: str | Path) -> list[Path]:
    """Write ``<name>.json``, ``<name>.yaml`` and ``<name>.inp`` (Abaqus/CalculiX) into ``folder``."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    stem = card.name.replace(" ", "_")
    paths = [folder / f"{stem}.json", folder / f"{stem}.yaml", folder / f"{stem}.inp"]
    paths[0].write_text(card.to_json())
    paths[1].write_text(card.to_yaml())
    paths[2].write_text(abaqus_card(card))
    return paths
