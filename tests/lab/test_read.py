"""Measurement files (CSV, JSON, YAML): real rows read into canonical units; every bad row and every
unreadable file named with its file, row and cause."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pymatgen.core import Lattice, Structure

from mattwin.errors import MeasurementError
from mattwin.lab import Measurement, read_measurements
from mattwin.materials import material_id, write_structure

EXAMPLE = Path(__file__).parents[2] / "examples" / "measurements.csv"
HEADER = "material,property,value,unit,uncertainty,temperature_K,method,source,date\n"
GOOD = "Fe2O3,formation_enthalpy,-824.2,kJ/mol,2.0,298.15,calorimetry,nbs-1982,1982-01-01\n"


def _by(ms: list[Measurement], formula: str, prop: str) -> Measurement:
    return next(m for m in ms if m.formula == formula and m.property == prop)


def test_example_csv_reads_every_row_in_canonical_units():
    res = read_measurements(EXAMPLE)
    assert res.bad == [] and len(res.measurements) == 12
    fe2o3 = _by(res.measurements, "Fe2O3", "formation_enthalpy")
    assert fe2o3.value == pytest.approx(-824.2 / 96.48533212 / 5, rel=1e-9)  # -1.708 eV/atom
    assert (fe2o3.unit, fe2o3.given_value, fe2o3.given_unit, fe2o3.temperature_K) == (
        "eV/atom",
        -824.2,
        "kJ/mol",
        298.15,
    )
    assert fe2o3.row == 5 and fe2o3.file == str(EXAMPLE)  # line 5: three comment lines, the header
    si = _by(res.measurements, "Si", "lattice_parameter")
    assert si.value == pytest.approx(5.431020511) and si.unit == "Å"  # CODATA 2018, given in pm
    assert si.uncertainty == pytest.approx(8.9e-8)
    assert _by(res.measurements, "Cu", "melting_point").value == pytest.approx(1357.77)  # ITS-90
    lgps = next(m for m in res.measurements if m.material == "Li10GeP2S12")
    assert lgps.value == pytest.approx(0.012) and lgps.unit == "S/cm"
    assert _by(res.measurements, "GaAs", "band_gap").display() == "1.424 eV"


def test_json_list_and_yaml_mapping_with_a_structure_file(tmp_path):
    rows = [
        {"Material": "Si", "Property": "band gap", "value": 1.12, "unit": "eV", "source": "nb-17/p3"},
        {"formula": "O3Fe2", "property": "ΔHf", "value": "−8.542", "unit": "eV/fu", "doi": "10.x/y"},
    ]
    (tmp_path / "m.json").write_text(json.dumps(rows))
    res = read_measurements(tmp_path / "m.json")
    assert res.bad == [] and [m.row for m in res.measurements] == [1, 2]
    assert res.measurements[1].formula == "Fe2O3" and res.measurements[1].value == pytest.approx(-1.7084)
    assert res.measurements[1].source == "10.x/y"

    si = Structure.from_spacegroup("Fd-3m", Lattice.cubic(5.431), ["Si"], [[0, 0, 0]])
    write_structure(si, tmp_path / "cifs" / "Si.cif")
    (tmp_path / "m.yaml").write_text(
        "measurements:\n"
        "  - {material: cifs/Si.cif, property: a0, value: 543.1, unit: pm, source: lab-7, date: 2024-03-05}\n"
        "  - {material: Cu, property: Tm, value: 1084.62, unit: °C, uncertainty: 0.5, source: ITS-90}\n"
    )
    res = read_measurements(tmp_path / "m.yaml")
    assert res.bad == []
    a, tm = res.measurements
    assert (a.material, a.formula, a.value, a.date) == (
        "cifs/Si.cif",
        "Si",
        pytest.approx(5.431),
        "2024-03-05",
    )
    assert a.material_id == material_id(si) and set(res.structures) == {a.material_id}
    assert tm.value == pytest.approx(1357.77) and tm.uncertainty == pytest.approx(0.5)


def test_stored_material_id_is_resolved_by_the_lookup(tmp_path):
    (tmp_path / "m.csv").write_text(HEADER + "0123456789abcdef,Eg,1.1,eV,,,,nb-1,\n")
    assert "not in this call" in read_measurements(tmp_path / "m.csv").bad[0].reason
    res = read_measurements(tmp_path / "m.csv", lookup={"0123456789abcdef": "Si"}.get)
    assert res.measurements[0].formula == "Si" and res.measurements[0].material_id == "0123456789abcdef"


BAD_ROWS = [
    ("Fe2O3,density,5.2,g/cm^3,,,,x,", "unknown property 'density'; known: formation_enthalpy"),
    ("Si,band_gap,1.1,nm,,,,x,", "unit 'nm' is a length: it does not fit band_gap"),
    ("Si,band_gap,1.1,kJ/mool,,,,x,", "unknown unit 'kJ/mool'"),
    ("Si,band_gap,abc,eV,,,,x,", "value 'abc' is not a number"),
    ("Si,band_gap,nan,eV,,,,x,", "not a finite number"),
    ("Si,band_gap,-0.1,eV,,,,x,", "impossible band gap"),
    ("Si,lattice_parameter,0,Å,,,,x,", "impossible lattice parameter"),
    ("Si,bulk_modulus,-98,GPa,,,,x,", "impossible bulk modulus"),
    ("Li3PS4,ionic_conductivity,0,S/cm,,,,x,", "impossible ionic conductivity"),
    ("Cu,melting_point,-300,degC,,,,x,", "impossible melting point -26.85 K"),
    ("Fe2O3,formation_enthalpy,-8242,kJ/mol,,,,x,", r"\|ΔHf\| > 10 eV/atom"),
    ("Si,band_gap,1.1,eV,-0.1,,,x,", "negative uncertainty"),
    ("Si,band_gap,1.1,eV,,0,,x,", "impossible temperature 0 K"),
    ("Xx2O3,formation_enthalpy,-1,eV/atom,,,,x,", "unknown element Xx in formula 'Xx2O3'"),
    ("fe2o3,formation_enthalpy,-1,eV/atom,,,,x,", "unreadable formula 'fe2o3'"),
    ("missing.cif,band_gap,1,eV,,,,x,", "material 'missing.cif'.*no such file"),
    ("broken.cif,band_gap,1,eV,,,,x,", "material 'broken.cif'"),
    ("Si,band_gap,1.1,eV,,,,,", "no source"),
    (",band_gap,1.1,eV,,,,x,", "no material"),
    ("Si,band_gap,1.1,eV,,,,x,2024-13-01", "date '2024-13-01'"),
    ("Si,band_gap,1.1,eV,,,,x,5 March", "not an ISO date"),
    ("Si,band_gap,1.1,eV,,,,x,,extra", "10 fields, the header has 9"),
]


@pytest.mark.parametrize(("line", "cause"), BAD_ROWS)
def test_each_bad_row_names_file_row_and_cause(tmp_path, line, cause):
    (tmp_path / "broken.cif").write_text("data_x\n_cell_length_a 4\nloop_\n_atom_site_label\n")
    path = tmp_path / "m.csv"
    path.write_text(HEADER + GOOD + line + "\n" + GOOD.replace("2.0", "3.0"))
    res = read_measurements(path)
    assert len(res.measurements) == 2 and len(res.bad) == 1
    bad = res.bad[0]
    assert (bad.file, bad.row) == (str(path), 3)
    with pytest.raises(MeasurementError, match=cause):
        res.check()
    assert str(bad).startswith(f"{path}, row 3: ")


def test_check_names_every_bad_row(tmp_path):
    path = tmp_path / "m.json"
    path.write_text(json.dumps([{"material": "Si"}, 7, {"material": "Si", "property": "Eg", "value": True}]))
    res = read_measurements(path)
    with pytest.raises(MeasurementError) as err:
        res.check()
    lines = str(err.value).splitlines()
    assert "3 bad rows, nothing stored" in lines[0] and "--skip-bad" in lines[0]
    assert lines[1] == f"  {path}, row 1: no property, value, unit, source (source: a DOI or notebook id)"
    assert lines[2] == f"  {path}, row 2: entry is not a mapping of column names to values"
    assert lines[3].startswith(f"  {path}, row 3: no unit, source")


@pytest.mark.parametrize(
    ("name", "text", "cause"),
    [
        ("m.csv", HEADER + 'Si,"band_gap,1.1,eV,,,,x,\n', "not valid CSV"),
        ("m.csv", "material,property,value,source\nSi,Eg,1,x\n", "missing required column unit"),
        ("m.csv", HEADER.replace("method", "methdo") + GOOD, "unknown column methdo"),
        ("m.csv", "# only a comment\n", "empty CSV file"),
        ("m.csv", HEADER, "no measurements"),
        ("m.json", '[{"material": "Si",}]', r"not valid JSON \(line 1"),
        ("m.json", '{"material": "Si"}', "a list of entries"),
        ("m.yaml", "- {material: Si\n- x", "not valid YAML"),
        ("m.yml", "", "empty file"),
        ("m.xlsx", "x", "unknown measurement file type; use .csv, .json, .yaml, .yml"),
    ],
)
def test_files_that_do_not_parse(tmp_path, name, text, cause):
    (tmp_path / name).write_text(text)
    with pytest.raises(MeasurementError, match=cause) as err:
        read_measurements(tmp_path / name)
    assert str(err.value).startswith(str(tmp_path / name))


def test_missing_and_binary_files(tmp_path):
    with pytest.raises(MeasurementError, match="no such file"):
        read_measurements(tmp_path / "nope.csv")
    (tmp_path / "b.csv").write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(MeasurementError, match="not a UTF-8 text file"):
        read_measurements(tmp_path / "b.csv")
