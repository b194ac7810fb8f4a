"""Tables of the provenance store (SQLAlchemy Core; SQLite or PostgreSQL)."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

metadata = MetaData()

materials = Table(
    "materials",
    metadata,
    Column("id", String(32), primary_key=True, doc="material_id: hash of species, cell, positions"),
    Column("formula", String(128), nullable=False, index=True),
    Column("n_atoms", Integer, nullable=False),
    Column("structure", Text, nullable=False, doc="pymatgen Structure JSON (Å)"),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

calculations = Table(
    "calculations",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column(
        "key", String(64), nullable=False, unique=True, doc="hash(task, version, material, engine, params)"
    ),
    Column("task", String(64), nullable=False, index=True),
    Column("material_id", String(32), nullable=False, index=True),
    Column("engine_key", String(32), nullable=False, index=True),
    Column("engine_signature", Text, nullable=False, doc="JSON: package, version, model, parameters"),
    Column("params", Text, nullable=False, doc="JSON task parameters"),
    Column("status", String(16), nullable=False, doc="done or failed"),
    Column("result", Text, doc="JSON result with units in field names"),
    Column("error", Text, doc="why it failed"),
    Column("error_type", String(64)),
    Column("started_at", DateTime(timezone=True)),
    Column("finished_at", DateTime(timezone=True)),
    Column("wall_time_s", Float),
    Column("host", String(128)),
    Column("mattwin_version", String(32)),
)
#: a campaign's relaxations (candidates joined on material_id, task "relax"): without it SQLite may pick
#: the task index and scan every relaxation in the store
Index("ix_calculations_material_task", calculations.c.material_id, calculations.c.task)

campaigns = Table(
    "campaigns",
    metadata,
    Column("id", String(32), primary_key=True, doc="hash of the campaign definition"),
    Column("name", String(128), nullable=False),
    Column("config", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("result", Text, doc="JSON summary of the last finished run"),
)

candidates = Table(
    "candidates",
    metadata,
    Column("campaign_id", String(32), primary_key=True),
    Column("material_id", String(32), primary_key=True, index=True, doc="indexed: a material's campaigns"),
    Column("position", Integer, nullable=False, doc="order of generation"),
    Column("origin", Text, nullable=False),
    Column("method", String(32), nullable=False),
    Column("score", Float, nullable=False),
)

references = Table(
    "reference_phases",
    metadata,
    Column("material_id", String(32), primary_key=True),
    Column("name", String(256), nullable=False),
    Column("formula", String(128), nullable=False),
    Column("elements", String(256), nullable=False, doc="space-separated sorted symbols"),
    Column("source", Text, nullable=False),
    Column("relax_cell", Boolean, nullable=False),
    Column("added_at", DateTime(timezone=True), nullable=False),
)

# Measurements from the lab (mattwin.lab), one row per Measurement. The table is ``lab_measurements``:
# older databases have a ``measurements`` table that nothing ever wrote; it is left as it was, unused.
measurements = Table(
    "lab_measurements",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("key", String(64), nullable=False, unique=True, doc="content hash: Measurement.content_key()"),
    Column("material", Text, nullable=False, doc="as given: formula, structure file path or material id"),
    Column("formula", String(128), nullable=False, index=True, doc="reduced formula"),
    Column("material_id", String(32), index=True, doc="identity hash when a structure was given"),
    Column("property", String(64), nullable=False, index=True),
    Column("value", Float, nullable=False, doc="in unit (canonical: eV/atom, Å, eV, GPa, S/cm, K)"),
    Column("unit", String(32), nullable=False),
    Column("uncertainty", Float, doc="in unit"),
    Column("temperature_K", Float),
    Column("method", Text, nullable=False),
    Column("source", Text, nullable=False, doc="DOI or notebook id"),
    Column("date", String(10), doc="ISO date of the measurement"),
    Column("given_value", Float, nullable=False, doc="the value as written in the file"),
    Column("given_unit", Text, nullable=False),
    Column("file", Text, nullable=False, doc="the file it was read from"),
    Column("file_row", Integer, nullable=False, doc="row number in that file (Measurement.row)"),
    Column("added_at", DateTime(timezone=True), nullable=False),
)

calibrations = Table(
    "calibrations",
    metadata,
    Column("name", String(96), primary_key=True, doc="engine@version"),
    Column("engine", String(128), nullable=False, index=True),
    Column("version", String(32), nullable=False),
    Column("n_compounds", Integer, nullable=False),
    Column("fit", Text, nullable=False, doc="JSON of mattwin.analysis.calibration.Calibration"),
    Column("created_at", DateTime(timezone=True), nullable=False, index=True),
)
