"""electronic_energy (with CBS) and correlation_diagnostics: single-reference water vs stretched N2."""

from __future__ import annotations

import pytest
from pymatgen.core import Molecule

from mattwin.engines.pyscf import PySCFEngine
from mattwin.errors import EngineError
from mattwin.tasks.correlation import correlation_diagnostics, electronic_energy

WATER = Molecule(["O", "H", "H"], [[0, 0, 0.1173], [0, 0.7572, -0.4692], [0, -0.7572, -0.4692]])


def test_mp2_cbs_energy_is_the_x3_limit_of_its_two_basis_sets():
    res = electronic_energy(WATER, PySCFEngine("mp2/cbs(cc-pvdz,cc-pvtz)"))
    c = res.components_hartree
    dz, tz = c["e_corr_cc-pvdz"], c["e_corr_cc-pvtz"]
    assert c["e_corr_cbs"] == pytest.approx((27 * tz - 8 * dz) / 19, abs=1e-10)
    assert c["e_corr_cbs"] < tz < dz < 0  # correlation energy grows with the basis
    # frozen-core MP2/CBS correlation energy of water: about -0.29 to -0.30 Eh (Helgaker et al. 1997
    # report valence MP2 limits near -0.30 Eh); a DZ/TZ extrapolation lands within 0.02 Eh
    assert c["e_corr_cbs"] == pytest.approx(-0.295, abs=0.02)
    assert res.energy_eV == pytest.approx(res.energy_hartree * 27.211386, rel=1e-8)


def test_water_is_single_reference():
    d = correlation_diagnostics(WATER, PySCFEngine("ccsd/cc-pvdz"))
    assert d.verdict == "single-reference" and d.active_space is None
    assert d.t1_diagnostic < 0.02 and d.d1_diagnostic < 0.05
    assert "can be trusted" in d.advice


def test_stretched_n2_is_multireference_and_gets_an_active_space():
    n2 = Molecule(["N", "N"], [[0, 0, 0], [0, 0, 1.6]])
    d = correlation_diagnostics(n2, PySCFEngine("ccsd/cc-pvdz"))
    assert d.verdict == "multireference"
    # the two pi and one sigma bonding/antibonding pairs are partly occupied: at least (6e,6o)
    assert d.active_space is not None and d.active_space[1] >= 6
    lumo = d.natural_occupations[d.noon_labels.index("LUMO")]
    assert 0.1 < lumo < 0.5
    assert "cannot be trusted" in d.advice


def test_open_shell_diagnostics_are_refused_with_a_reason():
    oh = Molecule(["O", "H"], [[0, 0, 0], [0, 0, 0.97]])
    with pytest.raises(EngineError, match="closed-shell"):
        correlation_diagnostics(oh, PySCFEngine("ccsd/cc-pvdz"))
