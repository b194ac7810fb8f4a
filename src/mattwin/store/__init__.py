"""Provenance and cache: SQLAlchemy, SQLite by default, PostgreSQL by URL."""

from mattwin.store.store import CalculationRecord, Store

__all__ = ["CalculationRecord", "Store"]
