"""The command line, run as a user runs it (a real subprocess)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from pymatgen.core import Lattice, Structure

from mattwin.materials import write_structure

CLI = [sys.executable, "-m", "mattwin.cli.main"]


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], cwd=cwd, capture_output=True, text=True, timeout=600)


def test_relax_prints_json_and_writes_the_structure(tmp_path):
    si = Structure.from_spacegroup(
        "Fd-3m", Lattice.cubic(5.60), ["Si"], [[0, 0, 0]]
    ).get_primitive_structure()
    write_structure(si, tmp_path / "POSCAR")
    proc = _run(["relax", "POSCAR", "--out", "relaxed.cif", "--json", "--db", "cli.db"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["converged"] and data["formula"] == "Si"
    assert data["engine_signature"]["package"] == "chgnet"
    # primitive fcc cell edge = a_conv / sqrt(2); a_conv within 1.5 % of 5.43 Å
    assert data["lattice_abc_A"][0] * 2**0.5 == pytest.approx(5.43, rel=0.015)
    assert (tmp_path / "relaxed.cif").exists()
    again = _run(["relax", "POSCAR", "--json", "--db", "cli.db"], tmp_path)
    assert json.loads(again.stdout)["cached"] is True


def test_energy_of_a_broken_cif_names_the_file_and_exits_2(tmp_path):
    (tmp_path / "broken.cif").write_text("data_x\n_cell_length_a 4\nloop_\n_atom_site_label\n")
    proc = _run(["energy", "broken.cif", "--db", "cli.db"], tmp_path)
    assert proc.returncode == 2
    assert "broken.cif" in proc.stderr and "error" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_energy_with_an_element_the_model_lacks(tmp_path):
    write_structure(Structure(Lattice.cubic(2.7), ["Si"], [[0, 0, 0]]), tmp_path / "si.cif")
    proc = _run(["energy", "si.cif", "--engine", "emt", "--db", "cli.db"], tmp_path)
    assert proc.returncode == 2
    assert "si.cif" in proc.stderr and "no parameters for Si" in proc.stderr


def test_energy_json_units(tmp_path, nacl):
    write_structure(nacl, tmp_path / "nacl.extxyz")
    proc = _run(["energy", "nacl.extxyz", "--json", "--db", "cli.db"], tmp_path)
    data = json.loads(proc.stdout)
    assert data["n_atoms"] == 8 and data["energy_eV"] == pytest.approx(8 * data["energy_per_atom_eV"])
    assert -4.0 < data["energy_per_atom_eV"] < -3.0  # MP-compatible NaCl is about -3.4 eV/atom


def test_multi_value_options_are_typed_like_scientists_type_them():
    from mattwin.cli.main import expand_multi_value_options

    argv = ["discover", "--elements", "Li", "Fe", "P", "O", "--budget", "3", "--target", "density:max"]
    assert expand_multi_value_options(argv) == [
        "discover",
        "--elements",
        "Li",
        "--elements",
        "Fe",
        "--elements",
        "P",
        "--elements",
        "O",
        "--budget",
        "3",
        "--target",
        "density:max",
    ]
    assert expand_multi_value_options(["discover", "--elements", "Na", "Cl", "camp.toml"])[-1] == "camp.toml"


def test_unknown_element_in_discover_is_a_clear_error(tmp_path):
    proc = _run(["discover", "--elements", "Li", "Xx", "--db", "cli.db"], tmp_path)
    assert proc.returncode == 2
    assert "Xx" in proc.stderr and "Traceback" not in proc.stderr
