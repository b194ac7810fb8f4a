"""Dynamic stability: harmonic phonons through the runtime, the softest imaginary mode beyond the
tolerance, acoustic modes near Γ excluded."""

from __future__ import annotations

import numpy as np
import pytest
from pymatgen.core import Lattice, Structure

from mattwin.errors import SettingsError
from mattwin.store.store import Store
from mattwin.synthesis.dynamics import _counted, dynamic_stability, dynamic_stability_many


def _nacl() -> Structure:
    return Structure.from_spacegroup("Fm-3m", Lattice.cubic(5.64), ["Na", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]])


def _cubic_batio3() -> Structure:
    return Structure(
        Lattice.cubic(4.0),
        ["Ba", "Ti", "O", "O", "O"],
        [[0, 0, 0], [0.5, 0.5, 0.5], [0.5, 0.5, 0], [0.5, 0, 0.5], [0, 0.5, 0.5]],
    )


def test_cubic_batio3_unstable_and_rock_salt_stable(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Pm-3m BaTiO3 relaxed with CHGNet has the ferroelectric soft mode (imaginary, several THz);
    rock-salt NaCl has none. A second call comes from the store cache."""
    store = Store(str(tmp_path / "s.db"))
    nacl, bto = dynamic_stability_many([_nacl(), _cubic_batio3()], "chgnet", store)
    assert nacl.computed and nacl.stable and nacl.qpoint is None and nacl.mode is None
    assert nacl.min_frequency_THz > -0.2
    assert bto.computed and not bto.stable
    assert bto.min_frequency_THz < -2.0  # a real instability, far beyond the 0.2 THz tolerance
    assert bto.qpoint is not None and len(bto.qpoint) == 3
    assert bto.mode is not None and "imaginary mode" in bto.mode
    assert bto.provenance["engine"] == "chgnet" and bto.provenance["tolerance_THz"] == 0.2
    again = dynamic_stability(_cubic_batio3(), "chgnet", store)
    assert again.min_frequency_THz == pytest.approx(bto.min_frequency_THz)
    # a looser tolerance than the soft mode turns the verdict; the verdict is recomputed, not re-run
    loose = dynamic_stability(_cubic_batio3(), "chgnet", store, tolerance_THz=5.0)
    assert loose.stable is (bto.min_frequency_THz >= -5.0)
    d = bto.to_dict()
    assert set(d) >= {"stable", "min_frequency_THz", "qpoint", "mode", "provenance"}


def test_acoustic_modes_near_gamma_are_not_counted() -> None:
    q = np.array([[0.0, 0.0, 0.0], [0.05, 0.0, 0.0], [0.5, 0.5, 0.5]])
    f = np.array([[-0.5, -0.4, -0.3, 3.0], [-0.1, 0.2, 0.3, 3.0], [-0.3, 1.0, 2.0, 3.0]])
    c = _counted(q, f)
    assert np.isinf(c[0, :3]).all() and c[0, 3] == 3.0  # the three lowest at Γ dropped
    assert np.isinf(c[1, :3]).all()
    assert c[2, 0] == -0.3  # a zone-boundary mode is always counted


def test_an_unusable_engine_gives_no_verdict_not_a_crash(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """EMT has no parameters for Ba: the verdict says so (computed=False) and the campaign carries on."""
    r = dynamic_stability(_cubic_batio3(), "emt", Store(str(tmp_path / "s.db")))
    assert not r.computed and r.error and "Ba" in r.error


@pytest.mark.parametrize("tol", [-1.0, float("nan"), 50.0])
def test_bad_tolerance(tmp_path, tol) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(SettingsError, match="phonon tolerance"):
        dynamic_stability(_nacl(), "chgnet", Store(str(tmp_path / "s.db")), tolerance_THz=tol)


def test_a_costly_structure_is_skipped_not_run(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Past the cost cap (displaced supercells x atoms) no job runs: the verdict says why."""
    store = Store(str(tmp_path / "s.db"))
    (r,) = dynamic_stability_many([_cubic_batio3()], "chgnet", store, max_displaced_atoms=10)
    assert not r.computed and r.error and "phonons skipped" in r.error and "exceed the cap" in r.error
    assert store.lookup(r.provenance["key"]) is None
