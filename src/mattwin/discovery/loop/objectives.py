"""The properties ``mattwin next`` can plan measurements of, beyond the formation enthalpy: the volume
per atom and the density, informed by a measured lattice parameter (XRD).

**Prior error of the MLIP volume, measured.** The shipped reference library
(``mattwin/data/references.json.gz``) holds experimental structures (AFLOW prototypes "as given",
with the structure's original reference, and the cited room-temperature structures of the
lanthanides and actinides). The calibration set of an engine (``calibration_<engine>.json.gz``) holds
the engine's relaxation of the same phases ("reference library: NAME"). :func:`volume_pairs` pairs
them (leaving out three whose stored structure is the library's own, unrelaxed: Li3N, MgCu2, TiAl3);
:func:`volume_error` gives the mean and the RMS of ln(V_engine / V_experiment) over the pairs, the
prior σ of the surrogate of ln(volume per atom). For CHGNet: 77 compounds, mean +0.035 (CHGNet's
volumes are about 3.5 % too large, a PBE-like overestimate), RMS 0.071 (largest errors the layered
and molecular halides and oxides: HgBr2, PbO, +25-28 %). Every one of these 77 compounds also has a
measured formation enthalpy (pymatgen ``exp_compounds``), so they are also the oracle of the
multi-objective closed-loop benchmark (``benchmarks/bench_closed_loop_mo.py``).

**Lattice parameter -> volume.** A measured lattice parameter a_meas of a candidate is read as the
``a`` of its conventional standard cell (pymatgen ``SpacegroupAnalyzer``, symprec 0.1), and the cell
is taken to scale isotropically from the relaxed one: ln V_meas = ln V_relaxed + 3 ln(a_meas / a).
Exact for a cubic cell; for the others the anisotropy of the MLIP's error adds an error, measured on
the same pairs as the RMS of 3 ln(a_exp / a_engine) - ln(V_exp / V_engine) over the non-cubic ones
(:func:`lattice_anisotropy`; CHGNet: 0.058 over 62 non-cubic phases, median |error| 0.006, the tail
from layered and chain structures), and added in quadrature to the measurement's own uncertainty.
"""

from __future__ import annotations

import gzip
import json
import math
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

import numpy as np
from pymatgen.core import Structure

#: the engine whose measured volume error stands in for an engine with no shipped calibration set
FALLBACK_ENGINE = "chgnet"
#: σ (Å) of a lattice parameter given without one: a routine powder XRD refinement
DEFAULT_LATTICE_UNCERTAINTY = 0.005


def _is_experimental(source: str) -> bool:
    """A reference-library entry whose structure is a measured one (not substituted, not DFT)."""
    s = source.lower()
    if "substitut" in s or "no measured structure" in s:
        return False
    if s.startswith(("delta test set", "materials project")):  # WIEN2k-PBE and PBE structures
        return False
    cited = ("structure from", "measured structure", "acta cryst", " j. ", "donohue", "radiochim")
    return any(c in s for c in cited)


@lru_cache(maxsize=1)
def _library() -> dict[str, dict[str, Any]]:
    path = resources.files("mattwin") / "data" / "references.json.gz"
    with resources.as_file(path) as p, gzip.open(p, "rt", encoding="utf-8") as fh:
        return {e["name"]: e for e in json.load(fh)}


def conventional_a(structure: Structure) -> tuple[float, bool]:
    """The ``a`` (Å) of the conventional standard cell, and whether the cell is cubic."""
    from pymatgen.symmetry.analyzer import SpacegroupAnalyzer

    try:
        sga = SpacegroupAnalyzer(structure, symprec=0.1)
        conv = sga.get_conventional_standard_structure()
        return float(conv.lattice.a), sga.get_crystal_system() == "cubic"
    except Exception:  # symmetry search failed: the cell as it is
        return float(structure.lattice.a), False


@dataclass(frozen=True)
class VolumePair:
    """One phase with an experimental structure and the engine's relaxation of it."""

    formula: str
    volume_engine: float  # Å³/atom
    volume_exp: float  # Å³/atom
    a_engine: float  # Å, conventional cell
    a_exp: float
    cubic: bool
    density_engine: float  # g/cm³
    density_exp: float


@lru_cache(maxsize=4)
def volume_pairs(engine: str = FALLBACK_ENGINE) -> tuple[VolumePair, ...]:
    """The reference-library phases with an experimental structure that the engine's shipped
    calibration set relaxed (empty when the engine ships none)."""
    from mattwin.discovery.calibration_set import computed_set

    data = computed_set(engine)
    if data is None:
        return ()
    lib = _library()
    out = []
    for row in data["compounds"]:
        src = str(row.get("structure_source", ""))
        if not src.startswith("reference library: ") or not row.get("converged", True):
            continue
        ref = lib.get(src.removeprefix("reference library: "))
        if ref is None or not _is_experimental(ref["source"]):
            continue
        calc, exp = Structure.from_dict(row["structure"]), Structure.from_dict(ref["structure"])
        if calc.composition.reduced_formula != exp.composition.reduced_formula:
            continue
        if abs(calc.volume / len(calc) / (exp.volume / len(exp)) - 1) < 1e-6:
            continue  # the stored structure is the library's own (Li3N, MgCu2, TiAl3): no relaxation to score
        ac, cubic = conventional_a(calc)
        ae, _ = conventional_a(exp)
        out.append(
            VolumePair(
                row["formula"],
                calc.volume / len(calc),
                exp.volume / len(exp),
                ac,
                ae,
                cubic,
                float(calc.density),
                float(exp.density),
            )
        )
    return tuple(out)


@dataclass(frozen=True)
class VolumeError:
    """ln(V_engine / V_exp) over the pairs: how many, mean, RMS; the engine they were measured for."""

    engine: str
    n: int
    mean: float
    rms: float

    def describe(self) -> str:
        return (
            f"{self.engine} volume error measured on {self.n} experimental structures of the reference "
            f"library: mean {100 * self.mean:+.1f} %, RMS {100 * self.rms:.1f} %"
        )


@lru_cache(maxsize=4)
def volume_error(engine: str = FALLBACK_ENGINE) -> VolumeError:
    """The engine's measured volume error (falls back to :data:`FALLBACK_ENGINE` when no calibration
    set ships for ``engine``)."""
    try:
        pairs = volume_pairs(engine)
    except Exception:  # an engine spec the calibration set does not know
        pairs = ()
    if len(pairs) < 10:
        engine, pairs = FALLBACK_ENGINE, volume_pairs(FALLBACK_ENGINE)
    r = np.log([p.volume_engine / p.volume_exp for p in pairs])
    return VolumeError(engine, len(pairs), float(r.mean()), float(np.sqrt((r**2).mean())))


@lru_cache(maxsize=4)
def lattice_anisotropy(engine: str = FALLBACK_ENGINE) -> float:
    """RMS over the non-cubic pairs of 3 ln(a_exp / a_engine) - ln(V_exp / V_engine): the error of
    reading one lattice parameter as an isotropic volume change."""
    pairs = [p for p in volume_pairs(engine) or volume_pairs(FALLBACK_ENGINE) if not p.cubic]
    d = [3 * math.log(p.a_exp / p.a_engine) - math.log(p.volume_exp / p.volume_engine) for p in pairs]
    return float(np.sqrt(np.mean(np.square(d)))) if d else 0.0


def log_volume_from_lattice(
    structure: Structure, a_measured: float, sigma_a: float | None, engine: str = FALLBACK_ENGINE
) -> tuple[float, float]:
    """ln(volume per atom / Å³) implied by a measured lattice parameter (Å) of the relaxed
    ``structure``, and its σ (see the module docstring)."""
    a, cubic = conventional_a(structure)
    v = structure.volume / len(structure)
    s_a = DEFAULT_LATTICE_UNCERTAINTY if sigma_a is None or sigma_a <= 0 else float(sigma_a)
    sd = 3 * s_a / a_measured
    if not cubic:
        sd = math.hypot(sd, lattice_anisotropy(engine))
    return math.log(v) + 3 * math.log(a_measured / a), sd
