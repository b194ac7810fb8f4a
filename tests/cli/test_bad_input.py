"""Bad input to every command (issue 16): exit status 2, one or two lines on stderr naming the input
and the cause, never a Python traceback, never exit 0 with a failed result.

The real CLI runs through typer's CliRunner (a few cases as real subprocesses); every case fails
before a model is loaded or uses EMT, so the whole corpus takes seconds. ``BAD_INPUTS_BY_KIND`` is
the table "bad inputs tried" of the README (a test keeps the two equal).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mattwin.cli.common import expand_multi_value_options
from mattwin.cli.main import app

README = Path(__file__).parents[2] / "README.md"

# -- the inputs --------------------------------------------------------------------------------
CU_CIF = """data_Cu
_symmetry_space_group_name_H-M 'P 1'
_cell_length_a 3.61
_cell_length_b 3.61
_cell_length_c 3.61
_cell_angle_alpha 90
_cell_angle_beta 90
_cell_angle_gamma 90
loop_
_atom_site_label
_atom_site_type_symbol
_atom_site_fract_x
_atom_site_fract_y
_atom_site_fract_z
_atom_site_occupancy
Cu1 Cu 0.0 0.0 0.0 {occ}
Cu2 Cu 0.5 0.5 0.0 1
Cu3 Cu 0.5 0.0 0.5 1
Cu4 Cu 0.0 0.5 0.5 1
"""


def _poscar(lattice: str, symbols: str, counts: str, coords: str, mode: str = "Direct") -> str:
    return f"test\n1.0\n{lattice}\n{symbols}\n{counts}\n{mode}\n{coords}\n"


CUBE5 = "5 0 0\n0 5 0\n0 0 5"
CU_POSCAR = _poscar("3.61 0 0\n0 3.61 0\n0 0 3.61", "Cu", "1", "0 0 0")
WATER = "3\n\nO 0 0 0\nH 0.757 0.586 0\nH -0.757 0.586 0\n"


def _extxyz(lattice: str, rows: str, n: int) -> str:
    return f'{n}\nLattice="{lattice}" Properties=species:S:1:pos:R:3 pbc="T T T"\n{rows}'


def _many_atoms(n_side: int) -> str:
    """A simple cubic grid of Cu 2.6 Å apart: n_side**3 atoms."""
    rows = "".join(
        f"Cu {2.6 * i} {2.6 * j} {2.6 * k}\n"
        for i in range(n_side)
        for j in range(n_side)
        for k in range(n_side)
    )
    a = 2.6 * n_side
    return _extxyz(f"{a} 0 0 0 {a} 0 0 0 {a}", rows, n_side**3)


#: lab measurement files (``mattwin measure add``): one bad row each
_LAB_HEADER = "material,property,value,unit,uncertainty,temperature_K,method,source,date"
_LAB_ROWS = {
    "lab_property": "NaCl,colour,1,eV,",
    "lab_unit": "NaCl,band_gap,1,GPa,",
    "lab_element": "XxO,band_gap,1,eV,",
    "lab_text_value": "NaCl,band_gap,abc,eV,",
    "lab_impossible": "NaCl,band_gap,-3,eV,",
}

INPUTS: dict[str, str | bytes] = {
    "cu.cif": CU_CIF.format(occ=1),
    "cu.xyz": WATER,
    "water.xyz": WATER,
    "empty.cif": "",
    "empty.xyz": "",
    "empty.extxyz": "",
    "POSCAR_empty": "",
    "empty.toml": "",
    "binary.cif": bytes(range(256)) * 8,
    "binary.xyz": bytes(range(256)) * 8,
    "binary.extxyz": bytes(range(256)) * 8,
    "POSCAR_binary": bytes(range(256)) * 8,
    "binary.toml": b"\xff\xfe\x00[campaign]\x00" * 40,
    "binary.msh": bytes(range(256)) * 8,
    "truncated.cif": CU_CIF.format(occ=1)[:200],
    "POSCAR_truncated": CU_POSCAR[:25],
    "truncated.extxyz": _extxyz("5 0 0 0 5 0 0 0 5", "Cu 0 0 0\nCu 2.5", 2),
    "truncated.xyz": "3\n\nO 0 0 0\nH 0.757 0.586\n",
    "truncated.json": '{"@module": "pymatgen.core.structure", "lattice": {"matrix": [[3.6, 0',
    "truncated.msh": "$MeshFormat\n4.1 0 8\n$EndMeshFormat\n$Nodes\n1 3 1 3\n",
    "poscar_text.cif": CU_POSCAR,
    "POSCAR_cif_text": CU_CIF.format(occ=1),
    "garbage.extxyz": "this is not\nan extxyz file\n",
    "garbage.xyz": "water, please\n",
    "list.json": "[1, 2, 3]",
    "POSCAR_coplanar": _poscar("3 0 0\n0 3 0\n3 3 0", "Cu", "1", "0 0 0"),
    "POSCAR_zero_vector": _poscar("3 0 0\n0 3 0\n0 0 0", "Cu", "1", "0 0 0"),
    "coplanar.extxyz": _extxyz("3 0 0 0 3 0 3 3 0", "Cu 0 0 0\n", 1),
    "POSCAR_collapsed": _poscar("1 0 0\n0 1 0\n0 0 1", "Cu", "1", "0 0 0"),
    "POSCAR_huge": _poscar("1e6 0 0\n0 1e6 0\n0 0 1e6", "Cu", "1", "0 0 0"),
    "many_atoms.extxyz": _many_atoms(22),  # 10,648 atoms
    "POSCAR_overlap": _poscar(CUBE5, "Cu", "2", "0 0 0\n0.1 0 0", "Cartesian"),
    "overlap.extxyz": _extxyz("5 0 0 0 5 0 0 0 5", "Cu 0 0 0\nCu 0 0 0.05\n", 2),
    "overlap.xyz": "3\n\nO 0 0 0\nH 0 0 0.01\nH -0.757 0.586 0\n",
    "POSCAR_nan": _poscar(CUBE5, "Cu", "2", "0 0 0\nnan 0.5 0.5"),
    "POSCAR_inf": _poscar(CUBE5, "Cu", "2", "0 0 0\n0.5 inf 0.5"),
    "nan.extxyz": _extxyz("5 0 0 0 5 0 0 0 5", "Cu 0 0 0\nCu nan 2.5 2.5\n", 2),
    "nan.xyz": "3\n\nO 0 0 0\nH nan 0.586 0\nH -0.757 0.586 0\n",
    "disordered.cif": CU_CIF.format(occ=0.5),
    "si.cif": CU_CIF.format(occ=1).replace("Cu", "Si").replace("3.61", "5.43"),
    "xx.xyz": "1\n\nXx 0 0 0\n",
    "syntax.toml": "[campaign\nelements = [\n",
    "unknown_key.toml": '[campaign]\nelements = ["Cu"]\ncolour = "blue"\n',
    "unknown_element.toml": '[campaign]\nelements = ["Cu", "Xx"]\n',
    "negative_budget.toml": '[campaign]\nelements = ["Cu"]\nbudget = -1\n',
    "zero_budget.toml": '[campaign]\nelements = ["Cu"]\nbudget = 0\n',
    "zero_max_atoms.toml": '[campaign]\nelements = ["Cu"]\nmax_atoms = 0\n',
    "text_budget.toml": '[campaign]\nelements = ["Cu"]\nbudget = "many"\n',
    "string_elements.toml": '[campaign]\nelements = "Cu"\n',
    "no_elements.toml": "[campaign]\nbudget = 3\n",
    "section_value.toml": 'screen = 5\n[campaign]\nelements = ["Cu"]\n',
    "negative_fmax.toml": '[campaign]\nelements = ["Cu"]\n[screen]\nfmax = -0.05\n',
    "bad_target.toml": '[campaign]\nelements = ["Cu"]\n[rank]\ntargets = ["colour:max"]\n',
    "two_targets.toml": (
        '[campaign]\nelements = ["Li", "O"]\n[rank]\n'
        'targets = ["formation_energy_per_atom:min", "colour:max"]\n'
    ),
    "bad_evolution.toml": '[campaign]\nelements = ["Cu", "O"]\n[generate]\nevolution = 2.0\n',
    "afile": "a file, not a folder\n",
    **{f"{name}.csv": f"{_LAB_HEADER}\n{row},298,x,lab-1,2026-01-01\n" for name, row in _LAB_ROWS.items()},
    "empty.csv": "",
    "truncated_lab.json": '[{"material": "NaCl", "property": ',
}
FOLDERS = ("folder.cif", "folder.xyz", "folder.toml", "empty_folder")


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("bad-inputs")
    for name, content in INPUTS.items():
        (d / name).write_bytes(content if isinstance(content, bytes) else content.encode())
    for name in FOLDERS:
        (d / name).mkdir()
    return d


@pytest.fixture(scope="module")
def elastic_run(inputs: Path) -> tuple[str, str]:
    """(database, run key) of a stored EMT elastic run of Cu, for the cases of ``mattwin part``."""
    from pymatgen.core import Lattice, Structure

    from mattwin.api import elastic
    from mattwin.store import Store

    db = str(inputs / "elastic.db")
    cu = Structure.from_spacegroup("Fm-3m", Lattice.cubic(3.61), ["Cu"], [[0, 0, 0]])
    rep = elastic(cu.get_primitive_structure(), engine="emt", store=Store(db))
    return db, rep.keys[0]


# -- the cases ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Case:
    """``args`` with ``{d}`` the inputs folder (``{key}``, ``{eldb}``: a stored elastic run);
    ``names``: text the error must contain (a file name or the value); ``cause``: a regex of the
    cause (case-insensitive)."""

    kind: str
    args: str
    names: str
    cause: str

    @property
    def id(self) -> str:
        return re.sub(r"[{}]|d/", "", self.args)[:70]


UNREADABLE = "unreadable files: empty, binary, truncated, wrong format"
PATHS = "missing paths, folders, paths under a file, unwritable outputs, bad --db"
CELLS = "degenerate (coplanar), collapsed and huge cells, > 10,000 atoms"
ATOMS = "overlapping atoms, NaN/inf coordinates"
DISORDER = "disordered (partial-occupancy) sites"
ELEMENTS = "elements outside the engine"
MIXUP = "molecule given for a crystal, crystal for a molecule"
CHARGE = "impossible charge or multiplicity"
SMILES = "invalid SMILES"
CAMPAIGN = "bad campaign files and flags"
UNKNOWN = "unknown engines, methods, schemes, ensembles, geometries, tasks"
RUN_IDS = "unknown run ids"
SETTINGS = "out-of-range settings"
USAGE = "usage errors (unknown command, option or value type)"
LAB = "bad measurement files and rows (property, unit, element, value)"

_STRUCTURE_COMMANDS = ("energy", "relax", "md", "eos", "elastic", "phonons")
_EMBED = "--high pyscf:hf/sto-3g --center 0"


def _each(kind: str, file: str, cause: str, names: str | None = None, engine: str = "emt") -> list[Case]:
    """The case of ``file`` for every command that reads one crystal structure (and embed)."""
    engine = f"--engine {engine}"
    cases = [Case(kind, f"{cmd} {{d}}/{file} {engine}", names or file, cause) for cmd in _STRUCTURE_COMMANDS]
    cases.append(Case(kind, f"embed {{d}}/{file} {_EMBED} {engine}", names or file, cause))
    return cases


CASES: list[Case] = [
    # unreadable files
    *_each(UNREADABLE, "empty.cif", "empty"),
    Case(UNREADABLE, "energy {d}/POSCAR_empty -e emt", "POSCAR_empty", "empty"),
    Case(UNREADABLE, "energy {d}/empty.extxyz -e emt", "empty.extxyz", "empty"),
    Case(UNREADABLE, "refs add {d}/empty.cif", "empty.cif", "empty"),
    Case(UNREADABLE, "correlate {d}/empty.xyz --method hf --basis sto-3g", "empty.xyz", "empty"),
    Case(UNREADABLE, "interaction {d}/empty.xyz", "empty.xyz", "empty"),
    Case(UNREADABLE, "excite {d}/empty.xyz", "empty.xyz", "empty"),
    Case(UNREADABLE, "discover {d}/empty.toml", "empty.toml", "elements"),
    *_each(UNREADABLE, "binary.cif", "binary"),
    Case(UNREADABLE, "energy {d}/POSCAR_binary -e emt", "POSCAR_binary", "binary"),
    Case(UNREADABLE, "energy {d}/binary.extxyz -e emt", "binary.extxyz", "binary"),
    Case(UNREADABLE, "refs add {d}/binary.cif", "binary.cif", "binary"),
    Case(UNREADABLE, "correlate {d}/binary.xyz --method hf --basis sto-3g", "binary.xyz", "binary"),
    Case(UNREADABLE, "excite {d}/binary.xyz", "binary.xyz", "binary"),
    Case(UNREADABLE, "discover {d}/binary.toml", "binary.toml", "UTF-8|TOML"),
    Case(UNREADABLE, "part --material {key} --db {eldb} --geometry {d}/binary.msh", "binary.msh", "mesh"),
    Case(UNREADABLE, "energy {d}/truncated.cif -e emt", "truncated.cif", "CIF"),
    Case(UNREADABLE, "relax {d}/POSCAR_truncated -e emt", "POSCAR_truncated", "cannot read"),
    Case(UNREADABLE, "md {d}/truncated.extxyz -e emt", "truncated.extxyz", "cannot read"),
    Case(UNREADABLE, "eos {d}/truncated.json -e emt", "truncated.json", "JSON"),
    Case(UNREADABLE, "refs add {d}/truncated.json", "truncated.json", "JSON"),
    Case(UNREADABLE, "correlate {d}/truncated.xyz --method hf --basis sto-3g", "truncated.xyz", "XYZ"),
    Case(
        UNREADABLE, "part --material {key} --db {eldb} --geometry {d}/truncated.msh", "truncated.msh", "mesh"
    ),
    Case(UNREADABLE, "energy {d}/poscar_text.cif -e emt", "poscar_text.cif", "CIF"),
    Case(UNREADABLE, "energy {d}/POSCAR_cif_text -e emt", "POSCAR_cif_text", "cannot read"),
    Case(UNREADABLE, "elastic {d}/garbage.extxyz -e emt", "garbage.extxyz", "cannot read"),
    Case(UNREADABLE, "phonons {d}/list.json -e emt", "list.json", "JSON"),
    Case(UNREADABLE, "interaction {d}/garbage.xyz", "garbage.xyz", "XYZ"),
    # paths
    *_each(PATHS, "nosuch.cif", "no such file"),
    Case(PATHS, "refs add {d}/nosuch", "nosuch", "no such file"),
    Case(PATHS, "correlate {d}/nosuch.xyz --method hf --basis sto-3g", "nosuch.xyz", "no such file"),
    Case(PATHS, "interaction {d}/nosuch.xyz", "nosuch.xyz", "no such file"),
    Case(PATHS, "excite {d}/nosuch.xyz", "nosuch.xyz", "no such file"),
    Case(PATHS, "discover {d}/nosuch.toml", "nosuch.toml", "No such file"),
    Case(PATHS, "part --material {key} --db {eldb} --geometry {d}/nosuch.msh", "nosuch.msh", "geometry"),
    Case(PATHS, "energy {d}/folder.cif -e emt", "folder.cif", "folder"),
    Case(PATHS, "md {d}/folder.cif -e emt", "folder.cif", "folder"),
    Case(PATHS, "correlate {d}/folder.xyz --method hf --basis sto-3g", "folder.xyz", "folder"),
    Case(PATHS, "discover {d}/folder.toml", "folder.toml", "folder"),
    Case(PATHS, "refs add {d}/empty_folder", "empty_folder", "no structure files"),
    Case(PATHS, "energy {d}/afile/cu.cif -e emt", "afile", "is a file, not a folder"),
    Case(PATHS, "relax {d}/cu.cif -e emt --out {d}/afile/relaxed.cif", "afile", "is a file, not a folder"),
    Case(PATHS, "relax {d}/cu.cif -e emt --out {d}/relaxed.docx", "relaxed.docx", "output format"),
    Case(PATHS, "relax {d}/cu.cif -e emt --out {d}/folder.cif", "folder.cif", "is a folder"),
    Case(PATHS, "eos {d}/cu.cif -e emt --report {d}/afile/page", "afile", "is a file, not a folder"),
    Case(PATHS, "excite {d}/water.xyz --report {d}/afile/page", "afile", "is a file, not a folder"),
    Case(PATHS, "discover --elements Cu --report {d}/afile/report", "afile", "is a file, not a folder"),
    Case(PATHS, "part --material {key} --db {eldb} --out {d}/afile/part", "afile", "is a file, not a folder"),
    Case(PATHS, "energy {d}/cu.cif -e emt --db {d}/afile/x.db", "afile/x.db", "cannot open the database"),
    Case(PATHS, "energy {d}/cu.cif -e emt --db {d}/binary.cif", "binary.cif", "not a database"),
    Case(PATHS, "refs list --db {d}/folder.cif", "folder.cif", "cannot open the database"),
    # cells
    *_each(CELLS, "POSCAR_coplanar", "coplanar"),
    Case(CELLS, "refs add {d}/POSCAR_coplanar", "POSCAR_coplanar", "coplanar"),
    Case(CELLS, "energy {d}/coplanar.extxyz -e emt", "coplanar.extxyz", "coplanar"),
    Case(CELLS, "energy {d}/POSCAR_zero_vector -e emt", "POSCAR_zero_vector", "coplanar or zero"),
    Case(CELLS, "energy {d}/POSCAR_collapsed -e emt", "POSCAR_collapsed", "collapsed"),
    Case(CELLS, "md {d}/POSCAR_collapsed -e emt --ps 0.01", "POSCAR_collapsed", "collapsed"),
    Case(CELLS, "energy {d}/POSCAR_huge -e emt", "POSCAR_huge", "longer than 1000"),
    Case(CELLS, "md {d}/POSCAR_huge -e emt", "POSCAR_huge", "longer than 1000"),
    Case(CELLS, "phonons {d}/POSCAR_huge -e emt", "POSCAR_huge", "longer than 1000"),
    Case(CELLS, "energy {d}/many_atoms.extxyz -e emt", "many_atoms.extxyz", "10648 atoms"),
    Case(CELLS, "refs add {d}/many_atoms.extxyz", "many_atoms.extxyz", "10648 atoms"),
    Case(CELLS, "phonons {d}/cu.cif -e emt --supercell 20 20 20", "cu.cif", "32000 atoms"),
    # atoms
    Case(ATOMS, "energy {d}/POSCAR_overlap -e emt", "POSCAR_overlap", "overlapping atoms"),
    Case(ATOMS, "relax {d}/POSCAR_overlap -e emt", "POSCAR_overlap", "overlapping atoms"),
    Case(ATOMS, "md {d}/overlap.extxyz -e emt", "overlap.extxyz", "overlapping atoms"),
    Case(ATOMS, "refs add {d}/POSCAR_overlap", "POSCAR_overlap", "overlapping atoms"),
    Case(ATOMS, "correlate {d}/overlap.xyz --method hf --basis sto-3g", "overlap.xyz", "overlapping atoms"),
    Case(ATOMS, "energy {d}/POSCAR_nan -e emt", "POSCAR_nan", "non-finite"),
    Case(ATOMS, "md {d}/POSCAR_inf -e emt", "POSCAR_inf", "non-finite"),
    Case(ATOMS, "elastic {d}/nan.extxyz -e emt", "nan.extxyz", "non-finite"),
    Case(ATOMS, "correlate {d}/nan.xyz --method hf --basis sto-3g", "nan.xyz", "non-finite"),
    # disorder
    *_each(DISORDER, "disordered.cif", "disordered site \\d+.*OrderDisorderedStructureTransformation"),
    Case(DISORDER, "refs add {d}/disordered.cif", "disordered.cif", "disordered site"),
    # elements
    *_each(ELEMENTS, "si.cif", "no parameters for Si"),
    Case(ELEMENTS, "correlate [Og] --method hf --basis sto-3g", "Og", "no functions for Og"),
    Case(ELEMENTS, "correlate {d}/xx.xyz --method hf --basis sto-3g", "xx.xyz", "unknown element"),
    # molecule <-> crystal
    *_each(MIXUP, "water.xyz", "no periodic cell"),
    Case(MIXUP, "refs add {d}/water.xyz", "water.xyz", "no periodic cell"),
    Case(MIXUP, "correlate {d}/cu.cif --method hf --basis sto-3g", "cu.cif", r"must be \.xyz"),
    Case(MIXUP, "interaction {d}/cu.cif", "cu.cif", r"must be \.xyz"),
    Case(MIXUP, "excite {d}/cu.cif", "cu.cif", r"must be \.xyz"),
    # charge and multiplicity
    Case(CHARGE, "correlate {d}/water.xyz --multiplicity 2 --method hf --basis sto-3g", "water.xyz", "odd"),
    Case(
        CHARGE, "correlate {d}/water.xyz --multiplicity 0 --method hf --basis sto-3g", "water.xyz", "2S\\+1"
    ),
    Case(
        CHARGE,
        "correlate {d}/water.xyz --multiplicity 12 --method hf --basis sto-3g",
        "water.xyz",
        "impossible",
    ),
    Case(
        CHARGE, "correlate {d}/water.xyz --charge 20 --method hf --basis sto-3g", "water.xyz", "-10 electrons"
    ),
    Case(CHARGE, "correlate O --charge 1 --multiplicity 1 --method hf --basis sto-3g", "'O'", "even"),
    Case(CHARGE, "excite {d}/water.xyz --charge 11", "water.xyz", "-1 electrons"),
    # SMILES
    Case(SMILES, "correlate C1CC --method hf --basis sto-3g", "C1CC", "SMILES"),
    Case(SMILES, "correlate ((( --method hf --basis sto-3g", "(((", "SMILES"),
    Case(SMILES, "interaction [Xx]", "[Xx]", "SMILES"),
    Case(SMILES, "excite C(C", "C(C", "SMILES"),
    # campaigns
    Case(CAMPAIGN, "discover {d}/syntax.toml", "syntax.toml", "invalid TOML"),
    Case(CAMPAIGN, "discover {d}/unknown_key.toml", "unknown_key.toml", "unknown keys colour"),
    Case(CAMPAIGN, "discover {d}/unknown_element.toml", "unknown_element.toml", "unknown element 'Xx'"),
    Case(CAMPAIGN, "discover {d}/negative_budget.toml", "negative_budget.toml", "budget = -1"),
    Case(CAMPAIGN, "discover {d}/zero_budget.toml", "zero_budget.toml", "budget = 0"),
    Case(CAMPAIGN, "discover {d}/zero_max_atoms.toml", "zero_max_atoms.toml", "max_atoms = 0"),
    Case(CAMPAIGN, "discover {d}/text_budget.toml", "text_budget.toml", "whole number"),
    Case(CAMPAIGN, "discover {d}/string_elements.toml", "string_elements.toml", "list of strings"),
    Case(CAMPAIGN, "discover {d}/no_elements.toml", "no_elements.toml", "no 'elements'"),
    Case(CAMPAIGN, "discover {d}/section_value.toml", "section_value.toml", r"\[screen\] must be a table"),
    Case(CAMPAIGN, "discover {d}/negative_fmax.toml", "negative_fmax.toml", "fmax"),
    Case(CAMPAIGN, "discover {d}/bad_target.toml", "bad_target.toml", "colour:max"),
    Case(CAMPAIGN, "discover {d}/bad_evolution.toml", "bad_evolution.toml", "evolution = 2.0"),
    Case(CAMPAIGN, "discover --elements Cu O --evolution -0.5", "evolution = -0.5", "share of the budget"),
    Case(CAMPAIGN, "discover", "--elements", "give a campaign"),
    Case(CAMPAIGN, "discover --elements Cu Xx", "Xx", "unknown element"),
    Case(CAMPAIGN, "discover --elements Cu --budget 0", "budget = 0", "positive"),
    Case(CAMPAIGN, "discover --elements Cu --max-atoms 0", "max_atoms = 0", "positive"),
    Case(CAMPAIGN, "discover --elements Cu --target colour:max", "colour:max", "FIELD"),
    # unknown names
    *_each(UNKNOWN, "cu.cif", "unknown engine 'nosuch'", names="nosuch", engine="nosuch"),
    Case(UNKNOWN, "discover --elements Cu --engine nosuch", "nosuch", "unknown engine"),
    Case(UNKNOWN, "embed {d}/cu.cif --high nosuch --center 0 -e emt", "nosuch", "unknown engine"),
    Case(UNKNOWN, "correlate {d}/water.xyz --method nosuch --basis sto-3g", "nosuch", "neither"),
    Case(UNKNOWN, "correlate {d}/water.xyz --method hf --basis nosuch", "nosuch", "no functions"),
    Case(UNKNOWN, "excite {d}/water.xyz --method nosuch", "nosuch", "unknown excitation method"),
    Case(UNKNOWN, "interaction {d}/water.xyz --scheme nosuch", "nosuch", "unknown interaction scheme"),
    Case(UNKNOWN, "md {d}/cu.cif -e emt --ensemble nosuch", "nosuch", "not one of"),
    Case(UNKNOWN, "md {d}/cu.cif -e emt --thermostat nosuch", "nosuch", "not one of"),
    Case(UNKNOWN, "part --material {key} --db {eldb} --geometry nosuch", "nosuch", "geometry"),
    Case(UNKNOWN, "part --material {key} --db {eldb} --plane nosuch", "nosuch", "stress or strain"),
    # run ids
    Case(RUN_IDS, "diffusion NOSUCHID", "NOSUCHID", "no finished md run"),
    Case(RUN_IDS, "diffusion ab", "'ab'", "too short"),
    Case(RUN_IDS, "diffusion {key} --db {eldb}", "{key}", "no finished md run"),
    Case(RUN_IDS, "part --material NOSUCH", "NOSUCH", "no finished elastic_tensor run"),
    Case(RUN_IDS, "part --material ffffffff --db {eldb}", "ffffffff", "no finished elastic_tensor run"),
    # settings
    Case(SETTINGS, "relax {d}/cu.cif -e emt --fmax -1", "cu.cif", "fmax -1"),
    Case(SETTINGS, "relax {d}/cu.cif -e emt --steps 0", "cu.cif", "max_steps 0"),
    Case(SETTINGS, "md {d}/cu.cif -e emt --ps -1", "cu.cif", "positive duration"),
    Case(SETTINGS, "md {d}/cu.cif -e emt --timestep-fs 0", "cu.cif", "timestep 0"),
    Case(SETTINGS, "md {d}/cu.cif -e emt --temps -5", "cu.cif", "-5.0 K"),
    Case(SETTINGS, "eos {d}/cu.cif -e emt --points 1", "cu.cif", "at least 5"),
    Case(SETTINGS, "eos {d}/cu.cif -e emt --range 2", "cu.cif", "volume range 2"),
    Case(SETTINGS, "elastic {d}/cu.cif -e emt --strain 0", "cu.cif", "nonzero strains"),
    Case(SETTINGS, "phonons {d}/cu.cif -e emt --min-length -1", "cu.cif", "min_length -1"),
    Case(SETTINGS, "phonons {d}/cu.cif -e emt --supercell 0 0 0", "cu.cif", "multiples >= 1"),
    Case(SETTINGS, "excite {d}/water.xyz --states 0", "water.xyz", "at least 1 state"),
    Case(
        SETTINGS, "correlate {d}/water.xyz -m dmrg-casci(2,2) --bond-dim 0", "water.xyz", "bond dimension 0"
    ),
    Case(SETTINGS, "interaction {d}/water.xyz --fragment a,b --fragment 1", "a,b", "atom indices"),
    Case(SETTINGS, "interaction {d}/water.xyz --cbs foo", "foo", "two basis sets"),
    Case(SETTINGS, "part --material {key} --db {eldb} --load abc", "abc", "number with a unit"),
    Case(SETTINGS, "embed {d}/cu.cif --high pyscf:hf/sto-3g --center 99 -e emt", "99", "not an atom index"),
    # lab measurements, calibration, stability, drift, generate, next, serve
    Case(PATHS, "measure add {d}/nosuch.csv", "nosuch.csv", "no such file"),
    Case(UNREADABLE, "measure add {d}/empty.csv", "empty.csv", "empty"),
    Case(UNREADABLE, "measure add {d}/truncated_lab.json", "truncated_lab.json", "JSON"),
    Case(LAB, "measure add {d}/lab_property.csv", "lab_property.csv, row 2", "unknown property 'colour'"),
    Case(LAB, "measure add {d}/lab_unit.csv", "lab_unit.csv, row 2", "'GPa' is a pressure"),
    Case(LAB, "measure add {d}/lab_element.csv", "lab_element.csv, row 2", "unknown element Xx"),
    Case(LAB, "measure add {d}/lab_text_value.csv", "lab_text_value.csv, row 2", "'abc' is not a number"),
    Case(LAB, "measure add {d}/lab_impossible.csv", "lab_impossible.csv, row 2", "impossible band gap"),
    Case(UNKNOWN, "measure list --property colour", "colour", "unknown property"),
    Case(UNKNOWN, "calibrate --engine nosuch", "nosuch", "unknown engine"),
    Case(UNKNOWN, "calibrate --engine emt", "emt", "no computed calibration set"),
    Case(SETTINGS, "calibrate --folds 1", "folds = 1", "at least 2 folds"),
    Case(PATHS, "stability {d}/nosuch.cif -e emt", "nosuch.cif", "no such file"),
    Case(UNREADABLE, "stability {d}/lab_unit.csv -e emt", "lab_unit.csv", "cannot read as a structure"),
    Case(UNKNOWN, "stability {d}/cu.cif -e emt --calibration nosuch", "nosuch", "not in the store"),
    Case(SETTINGS, "stability {d}/cu.cif -e emt --temperature -5", "-5.0 K", "outside 300-2000 K"),
    Case(UNKNOWN, "drift --engine nosuch", "nosuch", "unknown engine"),
    Case(UNKNOWN, "drift --calibration nosuch", "nosuch", "not in the store"),
    Case(CAMPAIGN, "generate --elements Li Xx", "Xx", "unknown element"),
    Case(SETTINGS, "generate --elements Li O --budget 0", "--budget 0", "at least 1"),
    Case(SETTINGS, "generate --elements Li O --max-atoms 0", "--max-atoms 0", "at least 2 atoms"),
    Case(RUN_IDS, "next NOSUCH", "NOSUCH", "not in the store"),
    Case(PATHS, "next {d}/nosuch.toml", "nosuch.toml", "cannot read campaign file"),
    Case(SETTINGS, "next NOSUCH --n 0", "--n 0", "at least 1"),
    Case(UNKNOWN, "next NOSUCH --for nobody", "nobody", "not one of lab, compute"),
    Case(CAMPAIGN, "next {d}/two_targets.toml", "colour:max", "not FIELD"),
    Case(PATHS, "serve --db {d}/nosuch.db", "nosuch.db", "no such database file"),
    Case(SETTINGS, "serve --db {eldb} --port 99999", "--port 99999", "between 1 and 65535"),
    Case(SETTINGS, "serve --db {eldb} --host 0.0.0.0", "0.0.0.0", "needs a token"),
    # usage errors: click's own message (a usage line and a boxed error), exit 2
    Case(USAGE, "nosuch", "nosuch", "No such command"),
    Case(USAGE, "energy {d}/cu.cif --nosuch", "--nosuch", "No such option"),
    Case(USAGE, "discover --elements Cu --budget many", "--budget", "valid integer"),
]

#: the README table "bad inputs tried (count by kind)": the CLI cases above and the three tests below
#: (an unreadable file and an unwritable folder, skipped as root; an unknown task through the API)
BAD_INPUTS_BY_KIND: dict[str, int] = dict(Counter(c.kind for c in CASES) + Counter({PATHS: 2, UNKNOWN: 1}))


def _argv(case: Case, inputs: Path, db: Path, elastic: tuple[str, str] | None) -> list[str]:
    eldb, key = elastic or ("", "")
    args = case.args.replace("{d}", str(inputs)).replace("{eldb}", eldb).replace("{key}", key).split()
    if "--db" not in args and args[0] not in ("nosuch",):
        args += ["--db", str(db)]
    return expand_multi_value_options(args)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_exits_2_naming_the_input_and_the_cause(case, inputs, tmp_path, monkeypatch, request):
    monkeypatch.chdir(tmp_path)  # default output folders (mattwin-part, ...) land here
    elastic = request.getfixturevalue("elastic_run") if "{eldb}" in case.args else None
    result = CliRunner().invoke(app, _argv(case, inputs, tmp_path / "t.db", elastic))
    err = result.stderr
    assert result.exit_code == 2, f"exit {result.exit_code}: {result.output}\n{result.exception!r}"
    assert "Traceback" not in result.output
    names = case.names.replace("{key}", elastic[1] if elastic else "")
    assert names in err, err
    assert re.search(case.cause, err, re.IGNORECASE), err
    if case.kind != USAGE:
        lines = [line for line in err.splitlines() if line.strip()]
        assert 1 <= len(lines) <= 2, err
        # a bad measurement row: "error: FILE: 1 bad row, nothing stored ..." then "FILE, row N: cause"
        assert lines[0 if case.kind == LAB else -1].startswith("error: "), err


def test_an_unreadable_file_is_named(inputs, tmp_path):
    locked = tmp_path / "locked.cif"
    locked.write_text(CU_CIF.format(occ=1))
    locked.chmod(0)
    if os.access(locked, os.R_OK):  # root reads it anyway; the path-under-a-file cases stand in
        pytest.skip("running as root: file permissions do not stop reading")
    result = CliRunner().invoke(app, ["energy", str(locked), "-e", "emt", "--db", str(tmp_path / "t.db")])
    assert result.exit_code == 2 and "locked.cif" in result.stderr and "permission" in result.stderr.lower()


def test_an_unwritable_output_folder_is_named(tmp_path):
    from mattwin.errors import SettingsError
    from mattwin.materials.io import check_writable

    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        if os.access(locked, os.W_OK):
            pytest.skip("running as root: file permissions do not stop writing")
        with pytest.raises(SettingsError, match="no permission to write"):
            check_writable(locked / "report", folder=True)
    finally:
        locked.chmod(0o700)


def test_unknown_task_through_the_api_is_a_settings_error(si_diamond):
    from mattwin.errors import SettingsError
    from mattwin.runtime.jobs import Job

    with pytest.raises(SettingsError, match="si.cif: unknown task 'nosuch'"):
        _ = Job("nosuch", si_diamond, "emt", label="si.cif").key


def test_debug_shows_the_traceback(inputs, tmp_path):
    from mattwin.errors import UnphysicalStructureError

    args = ["--debug", "energy", str(inputs / "POSCAR_coplanar"), "-e", "emt", "--db", str(tmp_path / "t.db")]
    result = CliRunner().invoke(app, args)
    assert isinstance(result.exception, UnphysicalStructureError)
    assert "coplanar" in str(result.exception)


def test_an_unexpected_error_is_one_line_asking_for_a_report(monkeypatch, inputs, tmp_path):
    import mattwin.api

    def broken(*_args: object, **_kwargs: object) -> None:
        raise ZeroDivisionError("float division by zero")

    monkeypatch.setattr(mattwin.api, "energy", broken)
    result = CliRunner().invoke(app, ["energy", str(inputs / "cu.cif"), "--db", str(tmp_path / "t.db")])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "unexpected ZeroDivisionError" in result.stderr and "--debug" in result.stderr


# -- as a user runs it: real subprocesses -------------------------------------------------------
def _mattwin(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "mattwin.cli.main", *args]
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=300)


def test_energy_of_a_coplanar_cell_as_a_subprocess(inputs, tmp_path):
    proc = _mattwin(["energy", str(inputs / "POSCAR_coplanar"), "--db", "t.db"], tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr and "LinAlgError" not in proc.stderr
    assert "POSCAR_coplanar" in proc.stderr and "coplanar" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_md_with_an_element_the_engine_lacks_as_a_subprocess(inputs, tmp_path):
    proc = _mattwin(
        ["md", str(inputs / "si.cif"), "--engine", "emt", "--ps", "0.01", "--db", "t.db"], tmp_path
    )
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "si.cif" in proc.stderr and "no parameters for Si" in proc.stderr
    assert "diffusion" not in proc.stdout + proc.stderr  # no suggestion to analyse what did not run
    assert "nan" not in (proc.stdout + proc.stderr).lower()


# -- the README table -------------------------------------------------------------------------
def test_readme_table_counts_the_cases_tried():
    text = README.read_text(encoding="utf-8")
    table = text[text.index("| bad inputs tried (count by kind)") :].split("\n\n")[0]
    rows = [line.strip("|").split("|") for line in table.splitlines()[2:]]
    counts = {kind.strip(): int(n.strip().strip("*")) for kind, n in rows if "total" not in kind}
    assert counts == BAD_INPUTS_BY_KIND
    total = next(int(n.strip().strip("*")) for kind, n in rows if "total" in kind)
    assert total == sum(BAD_INPUTS_BY_KIND.values())
