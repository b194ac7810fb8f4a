"""``mattwin embed`` and :func:`mattwin.api.embed`, run as a user runs them."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from ase.build import bulk
from ase.calculators.emt import EMT
from pymatgen.core import Structure

from mattwin.api import embed
from mattwin.materials import write_structure
from mattwin.materials.identity import from_atoms
from mattwin.multiscale.embedding import select_region
from mattwin.store import Store

CLI = [sys.executable, "-m", "mattwin.cli.main"]


def _vacancy():
    perf = bulk("Cu", "fcc", a=3.61, cubic=True).repeat(3)
    shell = [i - 1 for i in select_region(perf, 0, 2.6) if i]  # the 12 neighbours of the vacant site
    del perf[0]
    return perf, shell


def test_embed_cli_json_and_error(tmp_path):
    atoms, shell = _vacancy()
    write_structure(from_atoms(atoms), tmp_path / "cu_vac.extxyz")
    args = [
        "embed",
        "cu_vac.extxyz",
        "--high",
        "emt",
        "--engine",
        "emt",
        "--no-cap",
        "--json",
        "--db",
        "e.db",
    ]
    proc = subprocess.run(
        [*CLI, *args, "--region", *map(str, shell)], cwd=tmp_path, capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["region"] == shell and data["n_link_atoms"] == 0
    # the same level inside and out: the embedded energy is the plain EMT energy of the cell
    ref = atoms.copy()
    ref.calc = EMT()
    assert data["energy_eV"] == pytest.approx(ref.get_potential_energy(), abs=1e-6)
    assert data["high_engine"]["model"] == "EMT"
    bad = subprocess.run(
        [*CLI, *args[:3], "nosuch", *args[4:], "--center", "0"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert bad.returncode == 2 and "unknown engine 'nosuch'" in bad.stderr


def test_embed_api_is_cached_and_relaxes_the_region(tmp_path):
    atoms, shell = _vacancy()
    store = Store(str(tmp_path / "e.db"))
    first = embed(
        from_atoms(atoms), high="emt", engine="emt", region=shell, cap=False, relax_steps=100, store=store
    )
    assert first.n_steps > 0 and first.max_force_eV_A < 0.05
    unrelaxed = embed(from_atoms(atoms), high="emt", engine="emt", region=shell, cap=False, store=store)
    assert first.energy_eV < unrelaxed.energy_eV - 0.001  # EMT Cu vacancy relaxation: about 3 meV
    # the 12 neighbours of a vacancy in EMT Cu relax inwards, towards the vacant site (origin)
    relaxed = Structure.from_dict(first.structure)
    before = [
        from_atoms(atoms).lattice.get_distance_and_image([0, 0, 0], from_atoms(atoms)[i].frac_coords)[0]
        for i in shell
    ]
    after = [relaxed.lattice.get_distance_and_image([0, 0, 0], relaxed[i].frac_coords)[0] for i in shell]
    assert max(after) < min(before)
    again = embed(
        from_atoms(atoms), high="emt", engine="emt", region=shell, cap=False, relax_steps=100, store=store
    )
    assert again == first
    assert again.n_steps == first.n_steps
    assert len(store.calculations()) == 2
