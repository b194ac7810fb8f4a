"""Settings in one place: environment variables ``MATTWIN_*`` read once, here.

MATTWIN_DB      database URL or SQLite file path (default: ``mattwin.db`` in the working directory)
MATTWIN_DEVICE  ``cpu``, ``cuda`` or ``auto`` (default ``auto``: CUDA when torch sees a GPU)
MATTWIN_ENGINE  default engine name (default ``chgnet``)
MATTWIN_RUNS    folder for the files of long tasks (trajectories, checkpoints, phonon data); default:
                next to a SQLite database (``mattwin.db`` -> ``mattwin.runs/``), else ``mattwin-runs``
MATTWIN_DB_RETRY_S    seconds a store operation waits for the database (a dropped PostgreSQL connection,
                      an SQLite file locked by another writer) before a StoreError; default 60
MATTWIN_JOB_TIMEOUT_S per-job time limit on a Dask cluster, seconds (unset or 0: none); a job past it is
                      recorded as failed (JobTimeoutError) and its worker restarted
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path


def _seconds(var: str, default: float | None) -> float | None:
    """The environment variable ``var`` as seconds (>= 0), ``default`` when unset or empty."""
    value = os.environ.get(var, "").strip()
    if not value:
        return default
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if not seconds >= 0 or seconds == float("inf"):
        from mattwin.errors import SettingsError

        raise SettingsError(f"{var}={value!r}: not a number of seconds; give one >= 0, e.g. {var}=60")
    return seconds


def _db_url(value: str) -> str:
    if "://" in value:
        return value
    return f"sqlite:///{Path(value).expanduser().resolve()}"


@dataclass(frozen=True)
class Settings:
    db_url: str = field(default_factory=lambda: _db_url(os.environ.get("MATTWIN_DB", "mattwin.db")))
    device: str = field(default_factory=lambda: os.environ.get("MATTWIN_DEVICE", "auto"))
    engine: str = field(default_factory=lambda: os.environ.get("MATTWIN_ENGINE", "chgnet"))
    runs: str | None = field(default_factory=lambda: os.environ.get("MATTWIN_RUNS"))
    db_retry_s: float = field(default_factory=lambda: _seconds("MATTWIN_DB_RETRY_S", 60.0) or 0.0)
    job_timeout_s: float | None = field(default_factory=lambda: _seconds("MATTWIN_JOB_TIMEOUT_S", None))

    def resolved_device(self) -> str:
        """``cpu`` or ``cuda``: ``auto`` picks CUDA when torch sees a GPU."""
        if self.device != "auto":
            return self.device
        import torch

        return "cuda" if torch.cuda.is_available() else "cpu"


def get_settings() -> Settings:
    """The settings of this process, read from the environment now."""
    return Settings()


def db_url_from(value: str | None) -> str:
    """A database URL from a CLI value (path or URL), or from the environment when None."""
    return get_settings().db_url if value is None else _db_url(value)


def runs_dir_for(db_url: str) -> Path:
    """The folder where tasks of the store at ``db_url`` keep their files (one sub-folder per job key)."""
    explicit = get_settings().runs
    if explicit:
        return Path(explicit).expanduser().resolve()
    if db_url.startswith("sqlite:///"):
        return Path(db_url.removeprefix("sqlite:///")).with_suffix(".runs")
    return Path("mattwin-runs").resolve()
