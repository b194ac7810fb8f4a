"""Kohn-Sham band gap of silicon through the runtime, labelled as the DFT gap."""

from __future__ import annotations

import pytest
from pymatgen.core import Lattice, Structure

from mattwin.api.quantum import band_gap
from mattwin.errors import EngineError
from mattwin.store import Store


def test_silicon_dft_gap_is_indirect_and_below_experiment(tmp_path):
    """Si: measured indirect gap 1.17 eV (0 K); LDA/PBE give about 0.5-0.7 eV with the valence-band
    maximum at Gamma and the conduction-band minimum near X. LDA/GTH-DZVP on a 2x2x2 mesh."""
    si = Structure.from_spacegroup(
        "Fd-3m", Lattice.cubic(5.43), ["Si"], [[0, 0, 0]]
    ).get_primitive_structure()
    store = Store(str(tmp_path / "q.db"))
    res = band_gap(si, engine="pyscf-pbc:lda/gth-dzvp;k=2", store=store)
    assert res.label.startswith("DFT (Kohn-Sham) gap, LDA")
    assert 0.3 < res.gap_eV < 1.17 and not res.is_metal
    assert not res.is_direct and res.direct_gap_eV > res.gap_eV + 0.5  # Si is an indirect semiconductor
    again = band_gap(si, engine="pyscf-pbc:lda/gth-dzvp;k=2", store=store)
    assert again == res  # second call: from the store


def test_band_gap_needs_the_periodic_engine(tmp_path, cu_fcc):
    with pytest.raises(EngineError, match="periodic DFT engine"):
        band_gap(cu_fcc, engine="emt", store=Store(str(tmp_path / "q.db")))
