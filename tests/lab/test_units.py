"""Unit conversion of measured properties to their canonical units (pint)."""

from __future__ import annotations

import pytest

from mattwin.errors import MeasurementError
from mattwin.lab import field_unit, format_value, property_spec, to_canonical, uncertainty_to_canonical

F = 96.48533212  # kJ/mol per eV (CODATA 2018: e * N_A / 1000)


def test_formation_enthalpy_per_mole_of_formula_units_to_ev_per_atom():
    # Fe2O3, hematite: -824.2 kJ/mol (NBS tables 1982); 5 atoms per formula unit
    assert to_canonical("formation_enthalpy", -824.2, "kJ/mol", atoms_per_fu=5) == pytest.approx(
        -824.2 / F / 5, rel=1e-9
    )
    assert to_canonical("formation_enthalpy", -824.2, "kJ/mol", 5) == pytest.approx(-1.7084, abs=1e-4)
    # thermochemical calorie: 4.184 J; Al2O3 -400.5 kcal/mol = -1675.7 kJ/mol, 5 atoms
    assert to_canonical("ΔHf", -400.5, "kcal/mol", 5) == pytest.approx(-400.5 * 4.184 / F / 5, rel=1e-9)


@pytest.mark.parametrize("unit", ["eV/fu", "eV", "eV per f.u.", "eV/formula unit", "eV/f.u."])
def test_formation_enthalpy_per_formula_unit_in_ev(unit):
    assert to_canonical("formation enthalpy", -8.542, unit, 5) == pytest.approx(-1.7084, abs=1e-9)


def test_formation_enthalpy_per_atom_needs_no_formula():
    assert to_canonical("dHf", -1.708, "eV/atom") == pytest.approx(-1.708)
    assert to_canonical("dHf", -1708.0, "meV/atom") == pytest.approx(-1.708)
    with pytest.raises(MeasurementError, match="per formula unit"):
        to_canonical("dHf", -824.2, "kJ/mol")


def test_temperatures_lengths_conductivities_pressures():
    assert to_canonical("melting_point", 1414.0, "°C") == pytest.approx(1687.15)
    assert to_canonical("Tm", 1414.0, "degC") == pytest.approx(1687.15)
    assert to_canonical("Tm", 1414.0, "C") == pytest.approx(1687.15)  # degrees, not coulomb
    assert to_canonical("Tm", 2577.2, "degF") == pytest.approx((2577.2 - 32) * 5 / 9 + 273.15)
    assert to_canonical("lattice_parameter", 543.102, "pm") == pytest.approx(5.43102)
    assert to_canonical("lattice constant", 0.543102, "nm") == pytest.approx(5.43102)
    assert to_canonical("lattice_parameter", 5.43102, "A") == pytest.approx(5.43102)  # Å, not ampere
    assert to_canonical("ionic_conductivity", 1.2, "S/m") == pytest.approx(0.012)
    assert to_canonical("sigma", 12.0, "mS/cm") == pytest.approx(0.012)
    assert to_canonical("sigma", 12.0, "mS cm⁻¹") == pytest.approx(0.012)
    assert to_canonical("sigma", 12.0, "mS cm-1") == pytest.approx(0.012)
    assert to_canonical("bulk_modulus", 1378.0, "kbar") == pytest.approx(137.8)
    assert to_canonical("B0", 1.378, "Mbar") == pytest.approx(137.8)
    assert to_canonical("bulk modulus", 97.8e9, "Pa") == pytest.approx(97.8)
    assert to_canonical("band gap", 1120.0, "meV") == pytest.approx(1.12)


def test_uncertainty_is_a_difference():
    assert uncertainty_to_canonical("Tm", 5.0, "degC") == pytest.approx(5.0)  # not 278.15
    assert uncertainty_to_canonical("Tm", 9.0, "degF") == pytest.approx(5.0)
    assert uncertainty_to_canonical("dHf", 2.0, "kJ/mol", 5) == pytest.approx(2.0 / F / 5)


@pytest.mark.parametrize(
    ("prop", "unit", "match"),
    [
        ("band_gap", "nm", "a length: it does not fit band_gap"),
        ("lattice_parameter", "eV", "an energy: it does not fit lattice_parameter"),
        ("formation_enthalpy", "GPa", "a pressure"),
        ("bulk_modulus", "kJ/mool", "unknown unit 'kJ/mool'"),
        ("melting_point", "", "no unit"),
    ],
)
def test_units_that_do_not_fit_are_named(prop, unit, match):
    with pytest.raises(MeasurementError, match=match):
        to_canonical(prop, 1.0, unit, 5)


def test_aliases_case_insensitive_and_unknown_property_lists_the_known():
    assert property_spec("ΔHf").name == "formation_enthalpy"
    assert property_spec("Formation Enthalpy").name == "formation_enthalpy"
    assert property_spec("TM").name == "melting_point"
    assert property_spec("Band-Gap").name == "band_gap"
    with pytest.raises(MeasurementError, match="unknown property 'density'; known: formation_enthalpy"):
        property_spec("density")


def test_display_in_the_field_units():
    assert [field_unit(p) for p in ("dHf", "a0", "Eg", "B0", "sigma", "Tm")] == [
        "eV/atom",
        "Å",
        "eV",
        "GPa",
        "S/cm",
        "K",
    ]
    assert format_value("formation_enthalpy", -1.70845, 0.0104) == "-1.708 ± 0.01 eV/atom"
    assert format_value("lattice_parameter", 5.431020511) == "5.4310 Å"
    assert format_value("ionic_conductivity", 0.012) == "0.012 S/cm"
