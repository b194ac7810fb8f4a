"""electronic_energy (with CBS) and correlation_diagnostics: single-reference water vs stretched N2;
open shell: the OH radical at equilibrium vs stretched."""

from __future__ import annotations

import numpy as np
import pytest
from pymatgen.core import Molecule

from mattwin.engines.pyscf import PySCFEngine
from mattwin.errors import EngineError
from mattwin.tasks.correlation import correlation_diagnostics, electronic_energy
from mattwin.tasks.correlation_open import open_shell_t1_d1

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


def test_open_shell_t1_and_d1_reduce_to_the_closed_shell_forms():
    """Jayatilaka-Lee T1 and the max-norm D1 with t_alpha = t_beta and no singly occupied orbital are
    Lee & Taylor's ||t1|| / sqrt(N) and Janssen & Nielsen's spectral norm."""
    rng = np.random.default_rng(0)
    t = rng.normal(scale=0.01, size=(5, 12))
    t1, d1 = open_shell_t1_d1(t, t, 0)
    assert t1 == pytest.approx(np.linalg.norm(t) / np.sqrt(10), rel=1e-12)
    assert d1 == pytest.approx(np.sqrt(np.max(np.linalg.eigvalsh(t @ t.T))), rel=1e-12)


def test_oh_radical_at_equilibrium_is_a_single_reference_open_shell():
    oh = Molecule(["O", "H"], [[0, 0, 0], [0, 0, 0.97]], spin_multiplicity=2)
    d = correlation_diagnostics(oh, PySCFEngine("ccsd/cc-pvdz"))
    assert d.method == "UHF/UMP2 + ROHF-UCCSD" and d.spin_multiplicity == 2
    # a doublet radical at its equilibrium bond: UHF barely contaminated (<S^2> 0.75 exact)
    assert d.s2_exact == 0.75 and 0.75 <= d.s2_uhf < 0.76
    assert d.t1_diagnostic < 0.02 and d.d1_diagnostic < 0.05 and d.max_t2_amplitude < 0.15
    somo = d.natural_occupations[d.noon_labels.index("HOMO")]
    assert 0.95 < somo < 1.02  # the singly occupied pi orbital
    assert d.verdict == "single-reference" and d.active_space is None


def test_stretched_oh_radical_is_multireference_at_both_levels():
    """The O-H bond of the radical stretched to 2.5 A (about 2.6 r_e): the sigma/sigma* pair becomes
    near-degenerate (homolytic dissociation to O(3P) + H), a textbook static-correlation case."""
    oh = Molecule(["O", "H"], [[0, 0, 0], [0, 0, 2.5]], spin_multiplicity=2)
    full = correlation_diagnostics(oh, PySCFEngine("ccsd/cc-pvdz"))
    cheap = correlation_diagnostics(oh, PySCFEngine("ccsd/cc-pvdz"), open_shell="ump2")
    assert full.verdict == cheap.verdict == "multireference"
    assert full.t1_diagnostic > 0.02 and cheap.t1_diagnostic is None and cheap.method == "UHF/UMP2"
    # the sigma pair: one occupation well below 1.9 and its partner well above 0.1; with the SOMO a
    # (3e,3o) space at least
    occ = np.array(cheap.natural_occupations)
    assert np.any((occ > 1.0) & (occ < 1.9)) and np.any((occ > 0.1) & (occ < 0.9))
    assert cheap.active_space is not None and cheap.active_space[1] >= 3
    assert "cannot be trusted" in cheap.advice


def test_a_bad_open_shell_level_is_refused():
    oh = Molecule(["O", "H"], [[0, 0, 0], [0, 0, 0.97]], spin_multiplicity=2)
    with pytest.raises(EngineError, match="open_shell = 'ccsdt'"):
        correlation_diagnostics(oh, PySCFEngine("ccsd/sto-3g"), open_shell="ccsdt")
