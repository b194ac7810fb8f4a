"""Lab measurements in the store (SQLite and PostgreSQL): one transaction per file, all or nothing;
the same measurement is never stored twice; what comes back is what was read."""

from __future__ import annotations

import dataclasses
import sqlite3
from pathlib import Path

import pytest

from mattwin.api import add_measurements, list_measurements
from mattwin.errors import MeasurementError
from mattwin.lab import read_measurements
from mattwin.materials import write_structure
from mattwin.store import Store

EXAMPLE = Path(__file__).parents[2] / "examples" / "measurements.csv"
HEADER = "material,property,value,unit,temperature_K,method,source\n"
ROWS = (
    "Fe2O3,formation_enthalpy,-824.2,kJ/mol,298.15,calorimetry,nbs-1982\n"
    "Si,band_gap,1.12,eV,300,absorption,sze-2007\n"
)


def test_a_file_with_a_bad_row_stores_nothing(store, tmp_path):
    path = tmp_path / "m.csv"
    path.write_text(HEADER + ROWS + "Si,band_gap,-1,eV,300,absorption,sze-2007\n")
    with pytest.raises(MeasurementError, match=r"m\.csv, row 4: impossible band gap"):
        add_measurements(path, store=store)
    assert store.measurements() == []


def test_skip_bad_stores_the_good_and_returns_the_bad(store, tmp_path):
    path = tmp_path / "m.csv"
    path.write_text(HEADER + "Si,density,2.33,g/cm^3,300,,x\n" + ROWS)
    rep = add_measurements(path, store=store, skip_bad=True)
    assert (rep.n_new, rep.n_present, [b.row for b in rep.bad]) == (2, 0, [2])
    stored = store.measurements()
    assert [m.formula for m in stored] == ["Fe2O3", "Si"]
    assert stored == rep.measurements  # every field, floats included, comes back as read


def test_the_same_measurement_is_not_stored_twice(store, tmp_path):
    first = add_measurements(EXAMPLE, store=store)
    assert (first.n_new, first.n_present) == (12, 0)
    again = add_measurements(EXAMPLE, store=store)
    assert (again.n_new, again.n_present) == (0, 12)
    # the same Fe2O3 enthalpy written another way (formula order, eV per formula unit) in another file,
    # and twice in that file: one new row (Si), the rest already there
    other = tmp_path / "other.csv"
    fe2o3 = "O3Fe2,ΔHf,{:.12f},eV/fu,298.15,calorimetry (compiled),{}\n"
    src = "NBS tables, J. Phys. Chem. Ref. Data 11 Suppl. 2 (1982)"
    ev = -824.2 / 96.48533212
    other.write_text(HEADER + fe2o3.format(ev, f'"{src}"') * 2 + "Si,Eg,1.1,eV,77,PL,nb-3\n")
    rep = add_measurements(other, store=store)
    assert (rep.n_new, rep.n_present) == (1, 2)
    assert len(store.measurements()) == 13
    assert len(store.measurements(property="dHf", formula="Fe2O3")) == 1


def test_one_transaction_a_failing_row_rolls_back_the_others(store, tmp_path):
    path = tmp_path / "m.csv"
    path.write_text(HEADER + ROWS)
    good = read_measurements(path).measurements
    broken = dataclasses.replace(good[1], source=None)  # type: ignore[arg-type]  # NOT NULL column
    with pytest.raises(Exception):  # noqa: B017  # the database's IntegrityError
        store.add_measurements([good[0], broken])
    assert store.measurements() == []
    assert store.add_measurements(good) == (2, 0)


def test_filters_and_structure_files(store, tmp_path, si_diamond):
    write_structure(si_diamond, tmp_path / "Si.cif")
    path = tmp_path / "m.yaml"
    path.write_text(
        "- {material: Si.cif, property: lattice constant, value: 543.102, unit: pm, source: lab-1}\n"
        "- {material: Fe2O3, property: Hf, value: -1.708, unit: eV/atom, source: lab-2}\n"
    )
    rep = add_measurements(path, store=store)
    a = rep.measurements[0]
    assert store.get_material(a.material_id).composition.reduced_formula == "Si"  # stored with it
    assert list_measurements(property="a0", store=store) == [a]
    assert [m.formula for m in list_measurements(formula="O3Fe2", store=store)] == ["Fe2O3"]
    assert list_measurements(property="Tm", store=store) == []
    # a stored material id names the material in a later file
    later = tmp_path / "later.csv"
    later.write_text(HEADER + f"{a.material_id},bulk modulus,978,kbar,300,ultrasound,lab-3\n")
    b = add_measurements(later, store=store).measurements[0]
    assert (b.formula, b.material_id, b.value) == ("Si", a.material_id, pytest.approx(97.8))


def test_a_database_with_the_old_measurements_table_opens_and_stores(tmp_path):
    db = tmp_path / "old.db"
    con = sqlite3.connect(db)
    con.execute(  # the table of earlier mattwin versions, which nothing wrote
        "CREATE TABLE measurements (id INTEGER PRIMARY KEY, material_id VARCHAR(32) NOT NULL, "
        "property VARCHAR(64) NOT NULL, value FLOAT NOT NULL, unit VARCHAR(32) NOT NULL, uncertainty FLOAT, "
        "source TEXT NOT NULL, measured_at DATETIME, "
        "CONSTRAINT uq_measurement UNIQUE (material_id, property, source))"
    )
    con.commit()
    con.close()
    store = Store(str(db))
    assert add_measurements(EXAMPLE, store=store).n_new == 12
    assert len(store.measurements()) == 12
    store.engine.dispose()
