"""The store: materials are deduplicated, calculations are cached by key, failures do not mask results."""

from __future__ import annotations

import sqlite3

from mattwin.store import Store


def _record(store: Store, key: str, status: str, result=None, error=None):  # type: ignore[no-untyped-def]
    store.record(
        key=key,
        task="static",
        material_id="m1",
        engine_signature={"engine": "emt"},
        engine_key="e1",
        params={},
        status=status,
        result=result,
        error=error,
        error_type="X" if error else None,
        wall_time_s=0.1,
    )


def test_same_material_is_stored_once(store, nacl):
    a = store.put_material(nacl)
    b = store.put_material(nacl.copy())
    assert a == b
    assert store.get_material(a).composition == nacl.composition
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("select count(*) from materials").scalar() == 1


def test_calculation_is_cached_by_key_and_done_replaces_failed(store):
    assert store.lookup("k") is None
    _record(store, "k", "failed", error="boom")
    _record(store, "k", "failed", error="second failure is not written twice")
    assert store.lookup("k").error == "boom"
    _record(store, "k", "done", result={"energy_eV": -1.0})
    rec = store.lookup("k")
    assert rec.status == "done" and rec.result == {"energy_eV": -1.0} and rec.error is None
    _record(store, "k", "failed", error="a later failure never masks a result")
    assert store.lookup("k").status == "done"
    assert len(store.calculations()) == 1


def test_sqlite_file_is_in_wal_mode_and_survives_reopening(tmp_path):
    path = tmp_path / "w.db"
    s1 = Store(str(path))
    _record(s1, "k1", "done", result={"x": 1})
    s1.engine.dispose()
    assert sqlite3.connect(path).execute("pragma journal_mode").fetchone()[0] == "wal"
    assert Store(str(path)).lookup("k1").result == {"x": 1}


def test_candidates_keep_generation_order(store, nacl, si_diamond):
    store.add_candidates("c1", [(si_diamond, "a", "random", 0.0), (nacl, "b", "substitution", 0.5)])
    rows = store.campaign_candidates("c1")
    assert [r[1] for r in rows] == ["a", "b"]
    assert rows[1][0].composition == nacl.composition
    assert store.campaign_candidates("other") == []


def test_references_are_filtered_by_chemical_space(store, nacl, si_diamond):
    store.add_reference(nacl, "NaCl rocksalt", "user: test", True)
    store.add_reference(si_diamond, "Si diamond", "user: test", True)
    assert [r[1] for r in store.references(["Na", "Cl", "O"])] == ["NaCl rocksalt"]
    assert len(store.references()) == 2


def test_a_result_is_never_overwritten(store):
    _record(store, "k", "done", result={"energy_eV": -1.0})
    _record(store, "k", "done", result={"energy_eV": -2.0})  # e.g. a concurrent duplicate computation
    assert store.lookup("k").result == {"energy_eV": -1.0}


def test_inserting_an_existing_row_again_is_a_no_op(store, nacl, si_diamond):
    rows = [(si_diamond, "a", "random", 0.0), (nacl, "b", "substitution", 0.5)]
    store.add_candidates("c1", rows)
    store.add_candidates("c1", rows)
    store.add_reference(nacl, "NaCl rocksalt", "user: test", True)
    store.add_reference(nacl, "NaCl again", "user: test", True)
    assert [r[1] for r in store.campaign_candidates("c1")] == ["a", "b"]
    assert [r[1] for r in store.references()] == ["NaCl rocksalt"]


def test_postgresql_urls_without_a_driver_use_psycopg3():
    from mattwin.store.store import engine_url

    assert engine_url("postgresql://me@db:5433/twin").drivername == "postgresql+psycopg"
    assert engine_url("postgres://me@db/twin").drivername == "postgresql+psycopg"
    assert engine_url("postgresql+psycopg2://me@db/twin").drivername == "postgresql+psycopg2"
    assert engine_url("sqlite:///x.db").drivername == "sqlite"


def test_the_store_uses_the_backend_it_was_given(store):
    assert store.engine.dialect.name in ("sqlite", "postgresql")
    if store.engine.dialect.name == "postgresql":
        assert store.url.startswith("postgresql://") and store.engine.dialect.driver == "psycopg"
