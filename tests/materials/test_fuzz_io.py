"""Property-based fuzzing of the readers (issue 16): valid CIF, POSCAR, extxyz, XYZ (molecule) and
campaign TOML text, mutated (bytes flipped, text cut, lines deleted or repeated, numbers replaced by nan, inf,
huge, zero or negative values), is either read into something usable (a structure that passes
``check_physical``; a valid campaign) or refused with a typed :class:`MattwinError`, never any
other exception."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from pymatgen.core import Lattice, Structure

from mattwin.discovery.config import CampaignConfig
from mattwin.errors import MattwinError
from mattwin.materials import check_physical, read_structure, write_structure
from mattwin.materials.molecules import read_molecule

FUZZ = settings(
    max_examples=200,
    deadline=None,
    database=None,  # nothing written into the repository
    suppress_health_check=[HealthCheck.too_slow],
)

#: what a number in the input may become
ODD_NUMBERS = ["nan", "NaN", "inf", "-inf", "1e308", "1e6", "-1e6", "0", "-0", "-5", "1e-30", "99999999999"]
_NUMBER = re.compile(rb"-?\d+(?:\.\d*)?(?:[eE][-+]?\d+)?")


NACL = Structure.from_spacegroup("Fm-3m", Lattice.cubic(5.64), ["Na", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]])


def _seed(name: str) -> bytes:
    """A valid file of NaCl (rock salt, 8 atoms) in the format ``name`` implies."""
    with tempfile.TemporaryDirectory() as d:
        return write_structure(NACL, Path(d) / name).read_bytes()


def _symmetric_cif() -> bytes:
    """NaCl as a CIF with its 192 symmetry operations and two sites (what databases export)."""
    from pymatgen.io.cif import CifWriter

    return str(CifWriter(NACL, symprec=0.01)).encode()


SEEDS = {name: _seed(name) for name in ("nacl.cif", "POSCAR", "nacl.extxyz")}
SEEDS["symmetric.cif"] = _symmetric_cif()
WATER = b"3\ncharge=0 spin_multiplicity=1\nO 0.0 0.0 0.117\nH 0.0 0.757 -0.467\nH 0.0 -0.757 -0.467\n"
CAMPAIGN = b"""[campaign]
name = "fuzz"
elements = ["Li", "Fe", "P", "O"]
max_atoms = 28
budget = 20
[generate]
compositions = ["LiFePO4"]
n_random = 2
seed = 0
[screen]
engine = "chgnet"
fmax = 0.05
max_steps = 300
[rank]
stability_threshold = 0.025
targets = ["volume_per_atom:max"]
"""


@st.composite
def _mutation(draw: st.DrawFn, text: bytes) -> bytes:
    """One mutation of ``text``: a byte flipped, a cut, a line deleted or repeated, a number replaced."""
    kind = draw(st.sampled_from(["flip", "cut", "delete", "repeat", "number"]))
    if kind == "flip" and text:
        i = draw(st.integers(0, len(text) - 1))
        return text[:i] + bytes([draw(st.integers(0, 255))]) + text[i + 1 :]
    if kind == "cut":
        return text[: draw(st.integers(0, len(text)))]
    lines = text.split(b"\n")
    if kind in ("delete", "repeat") and lines:
        i = draw(st.integers(0, len(lines) - 1))
        lines[i : i + 1] = [] if kind == "delete" else [lines[i]] * draw(st.integers(2, 4))
        return b"\n".join(lines)
    numbers = list(_NUMBER.finditer(text))
    if not numbers:
        return text
    m = draw(st.sampled_from(numbers))
    return text[: m.start()] + draw(st.sampled_from(ODD_NUMBERS)).encode() + text[m.end() :]


@st.composite
def _mutated(draw: st.DrawFn, text: bytes) -> bytes:
    """``text`` after one to three mutations."""
    for _ in range(draw(st.integers(1, 3))):
        text = draw(_mutation(text))
    return text


def _read_and_check(name: str, content: bytes) -> None:
    """Read ``content`` as the file ``name``: a structure that passes check_physical, or a MattwinError."""
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / name
        path.write_bytes(content)
        try:
            structure = read_structure(path)
            check_physical(structure, name)
        except MattwinError as exc:
            event(type(exc).__name__)
            return
    event("read and physical")
    assert len(structure) > 0


@FUZZ
@given(content=_mutated(SEEDS["nacl.cif"]))
def test_mutated_cif_reads_or_raises_a_typed_error(content: bytes) -> None:
    _read_and_check("nacl.cif", content)


@FUZZ
@given(content=_mutated(SEEDS["symmetric.cif"]))
def test_mutated_symmetric_cif_reads_or_raises_a_typed_error(content: bytes) -> None:
    _read_and_check("symmetric.cif", content)


@FUZZ
@given(content=_mutated(SEEDS["POSCAR"]))
def test_mutated_poscar_reads_or_raises_a_typed_error(content: bytes) -> None:
    _read_and_check("POSCAR", content)


@FUZZ
@given(content=_mutated(SEEDS["nacl.extxyz"]))
def test_mutated_extxyz_reads_or_raises_a_typed_error(content: bytes) -> None:
    _read_and_check("nacl.extxyz", content)


@FUZZ
@given(content=_mutated(WATER))
def test_mutated_molecule_xyz_reads_or_raises_a_typed_error(content: bytes) -> None:
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "water.xyz"
        path.write_bytes(content)
        try:
            mol = read_molecule(path)
            check_physical(mol, "water.xyz")
        except MattwinError as exc:
            event(type(exc).__name__)
            return
    event("read and physical")
    assert len(mol) > 0 and mol.spin_multiplicity >= 1


@FUZZ
@given(content=_mutated(CAMPAIGN))
def test_mutated_campaign_toml_is_a_config_or_a_typed_error(content: bytes) -> None:
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "campaign.toml"
        path.write_bytes(content)
        try:
            cfg = CampaignConfig.from_toml(path)
        except MattwinError as exc:
            event(type(exc).__name__)
            return
    event("valid config")
    assert cfg.elements and cfg.budget >= 1 and cfg.max_atoms >= 1 and cfg.fmax > 0
    assert cfg.campaign_id  # hashable into the store's key


def test_the_seeds_are_valid() -> None:
    with tempfile.TemporaryDirectory() as d:
        for name, content in SEEDS.items():
            (Path(d) / name).write_bytes(content)
            structure = read_structure(Path(d) / name)
            check_physical(structure, name)
            assert structure.composition.reduced_formula == "NaCl" and len(structure) == 8
        (Path(d) / "water.xyz").write_bytes(WATER)
        check_physical(read_molecule(Path(d) / "water.xyz"), "water.xyz")
        (Path(d) / "c.toml").write_bytes(CAMPAIGN)
        assert CampaignConfig.from_toml(Path(d) / "c.toml").elements == ("Li", "Fe", "P", "O")
