"""r2SCAN-level engines (CHGNet's r2scan weights, SevenNet-MF-0's R2SCAN head): their specs, their
energy scale (r2SCAN, not MP2020's GGA/GGA+U: no MP2020 correction is applied and they are never
averaged with GGA-level engines), and their shipped calibration against experiment, held out by
chemical system."""

from __future__ import annotations

import gzip
import json
from importlib import resources

import pytest
from pymatgen.core import Lattice, Structure

from mattwin.analysis.calibration import cross_validate
from mattwin.discovery.calibration_set import (
    calibration_points,
    computed_compounds,
    data_file,
    raw_formation_energy,
)
from mattwin.engines.registry import get_engine
from mattwin.errors import EngineError

R2SCAN = ("chgnet:r2scan", "sevenn:7net-mf-0@r2scan")


def _mgo() -> Structure:
    return Structure.from_spacegroup("Fm-3m", Lattice.cubic(4.21), ["Mg", "O"], [[0, 0, 0], [0.5] * 3])


def test_specs_name_the_level_of_theory_and_refuse_mixing_levels():
    mf = get_engine("sevenn:7net-mf-0@r2scan")
    assert mf.signature["modal"] == "R2SCAN" and mf.functional == "r2SCAN" and mf.mp_energies is None
    assert get_engine("sevenn:7net-mf-0@pbe").mp_energies == "uncorrected"
    assert get_engine("chgnet:r2scan").mp_energies is None
    assert get_engine("chgnet").mp_energies == "corrected"
    assert "modal" not in get_engine("sevenn:7net-0").signature  # old cache keys unchanged
    with pytest.raises(EngineError, match="multi-fidelity"):
        get_engine("sevenn:7net-mf-0")
    with pytest.raises(EngineError, match="levels of theory"):
        get_engine("ensemble:chgnet,chgnet:r2scan")
    assert len(get_engine("ensemble:" + ",".join(R2SCAN)).members) == 2


def test_the_two_r2scan_models_share_a_scale_that_is_not_the_pbe_one():
    """Total energies of MgO: the two independently trained r2SCAN models agree; the PBE head of the
    same multi-fidelity model lies eV/atom away (r2SCAN and PBE total energies differ in their
    reference, so formation energies of one must never meet elemental energies of the other)."""
    s = _mgo()
    e = {
        spec: get_engine(spec).evaluate([s])[0].energy / len(s) for spec in (*R2SCAN, "sevenn:7net-mf-0@pbe")
    }
    assert abs(e["chgnet:r2scan"] - e["sevenn:7net-mf-0@r2scan"]) < 0.1
    assert abs(e["sevenn:7net-mf-0@r2scan"] - e["sevenn:7net-mf-0@pbe"]) > 1.0


@pytest.mark.parametrize("engine", R2SCAN)
def test_shipped_r2scan_sets_are_used_without_mp2020(engine):
    path = resources.files("mattwin") / "data" / data_file(engine)
    with resources.as_file(path) as p, gzip.open(p, "rt") as fh:
        data = json.load(fh)
    assert data["engine"] == engine and data["engine_signature"] == get_engine(engine).signature
    computed = computed_compounds(engine)
    assert len(computed) >= 500
    els = data["element_energy_per_atom_eV"]
    for row in data["compounds"][:50]:  # TM oxides included: MP2020 would shift them
        assert computed[row["formula"]].raw == pytest.approx(
            raw_formation_energy(row["formula"], row["energy_per_atom_eV"], els), abs=1e-12
        )


@pytest.fixture(scope="module")
def heldout():
    return cross_validate(calibration_points("chgnet:r2scan"), "chgnet:r2scan")


@pytest.mark.parametrize("formula", ["MgO", "NaCl", "Al2O3", "Li2O"])
def test_r2scan_calibration_predicts_held_out_compounds_within_their_interval(heldout, formula):
    """Each compound predicted by a calibration fitted without its chemical system."""
    i = heldout.formulas.index(formula)
    err = abs(heldout.calibrated[i] - heldout.measured[i])
    assert err <= heldout.half_width(0.9)[i], (formula, heldout.calibrated[i], heldout.measured[i])
    assert err < 0.15  # eV/atom


def test_r2scan_calibration_coverage(heldout):
    m = heldout.metrics()
    assert 0.85 <= m["coverage_90"] <= 0.95


def test_a_campaign_on_an_r2scan_engine_gets_that_engine_s_own_calibration(tmp_path):
    """The default calibration of a chgnet:r2scan hull is fitted on chgnet:r2scan energies, stored, loads
    back and predicts MgO and NaCl within its interval of the measured value; a calibration of the GGA
    engine is refused for it (energies of different functionals never meet)."""
    import dataclasses

    from mattwin.discovery.calibrate import calibration_for
    from mattwin.errors import CalibrationError
    from mattwin.store.calibrations import load_calibration, save_calibration
    from mattwin.store.store import Store

    store = Store(str(tmp_path / "t.db"))
    cal = calibration_for("chgnet:r2scan", store)
    assert cal is not None and cal.engine == "chgnet:r2scan"
    loaded = load_calibration(store, cal.name)
    assert loaded is not None and loaded.version == cal.version
    computed = computed_compounds("chgnet:r2scan")
    measured = {p.formula: p.measured for p in calibration_points("chgnet:r2scan")}
    pred = loaded.predict(["MgO", "NaCl"], [computed["MgO"].raw, computed["NaCl"].raw])
    for i, f in enumerate(("MgO", "NaCl")):
        assert pred.low[i] <= measured[f] <= pred.high[i], (f, pred.formation_energy[i], measured[f])
    gga = dataclasses.replace(cal, engine="chgnet")
    save_calibration(store, gga)
    with pytest.raises(CalibrationError, match="is for engine chgnet, not chgnet:r2scan"):
        calibration_for("chgnet:r2scan", store, gga.name)
