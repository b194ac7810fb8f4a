"""The periodic DFT engine (PySCF PBC): spec grammar and analytic stress against finite differences."""

from __future__ import annotations

import numpy as np
import pytest
from ase import units
from pymatgen.core import Lattice, Molecule, Structure

from mattwin.engines.pyscf_pbc import PySCFPBCEngine
from mattwin.engines.registry import get_engine
from mattwin.errors import EngineError


def _si(a: float) -> Structure:
    return Structure.from_spacegroup("Fd-3m", Lattice.cubic(a), ["Si"], [[0, 0, 0]]).get_primitive_structure()


def test_spec_and_support():
    e = get_engine("pyscf-pbc:LDA/gth-szv;k=2x2x1")
    assert e.model == "lda/gth-szv;k=2x2x1;pseudo=gth-pade" and e.fidelity == 3
    assert e.supports(_si(5.43)) is None
    assert "crystals" in (e.supports(Molecule(["H", "H"], [[0, 0, 0], [0, 0, 0.74]])) or "")  # type: ignore[arg-type]
    with pytest.raises(EngineError, match="unknown functional"):
        PySCFPBCEngine("nonsense/gth-szv")
    with pytest.raises(EngineError, match="k must be"):
        PySCFPBCEngine("lda/gth-szv;k=0")


def test_a_density_grid_cutoff_is_in_the_model_and_the_cache_key():
    e = get_engine("pyscf-pbc:lda/gth-szv;k=1;ke=40")
    assert e.model.endswith(";ke=40") and e.signature["params"]["ke_cutoff"] == 40.0
    assert get_engine("pyscf-pbc:lda/gth-szv;k=1").key != e.key  # a different grid is a different result
    for bad in ("ke=1", "ke=lots"):
        with pytest.raises(EngineError, match="ke must be a kinetic-energy cutoff in Hartree"):
            PySCFPBCEngine(f"lda/gth-szv;{bad}")


def test_stress_matches_the_energy_derivative_under_uniform_strain():
    """sigma = (1/V) dE/d(eps) for a uniform strain of a cubic crystal: sigma_xx = dE/d(eps_iso) / (3V);
    Gamma-point LDA/GTH-SZV keeps it cheap. Forces vanish by symmetry."""
    eng = PySCFPBCEngine("lda/gth-szv;k=1")
    si = _si(5.6)
    ev = eng.evaluate([si])[0]
    assert np.abs(ev.forces).max() < 1e-4
    assert ev.stress[:3] == pytest.approx([ev.stress[0]] * 3, abs=1e-6) and np.abs(ev.stress[3:]).max() < 1e-6
    h = 2e-3
    e = []
    for d in (-h, h):
        s = si.copy()
        s.scale_lattice(si.volume * (1 + d) ** 3)
        e.append(eng.scf(s).e_tot * units.Hartree)
    fd = (e[1] - e[0]) / (2 * h) / (3 * si.volume)
    assert ev.stress[0] == pytest.approx(fd, rel=0.02, abs=2e-4)  # eV/Å^3
