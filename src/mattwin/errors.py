"""Typed errors. Each message names the input and the cause, and says what to do."""

from __future__ import annotations


class MattwinError(Exception):
    """Base class of every error mattwin raises on purpose."""


class MaterialReadError(MattwinError):
    """A structure file could not be read (missing, empty, malformed, unknown format), or what it
    holds cannot be used as is (disordered sites; a charge or multiplicity that does not fit)."""


class UnphysicalStructureError(MattwinError):
    """Overlapping atoms, a collapsed cell, or non-finite coordinates."""


class UnsupportedElementError(MattwinError):
    """The engine has no parameters for an element of the input."""


class RelaxationDivergedError(MattwinError):
    """A relaxation produced NaN energies/forces or an exploding or collapsing cell."""


class EngineError(MattwinError):
    """An engine is unknown, cannot be loaded, or failed on an input."""


class CampaignError(MattwinError):
    """A campaign definition is invalid (bad TOML, unknown element, empty chemical space)."""


class ConvergenceError(MattwinError):
    """An SCF or correlated-method iteration did not converge (names molecule, method, basis, iterations)."""


class MemoryLimitError(MattwinError):
    """A calculation would need more memory than is available; says how much and what to change."""


class FitError(MattwinError):
    """A fit to computed data failed (equation of state, elastic constants): too few or bad points."""


class PartModelError(MattwinError):
    """A continuum model could not be set up: unknown geometry or material run, bad mesh, bad load."""


class MDError(MattwinError):
    """A molecular-dynamics run has invalid settings, blew up (NaN), or its files are unusable."""


class CostLimitError(MattwinError):
    """A calculation would exceed its cost limit (e.g. too many displaced supercells); says what to change."""


class MeasurementError(MattwinError):
    """A measurement file or row is unusable: names the file, the row and the cause (unknown property,
    a unit that does not fit, an impossible value, an unreadable formula or structure, bad CSV/JSON/YAML)."""


class SettingsError(MattwinError):
    """A setting of a calculation is out of range or malformed (a force criterion <= 0, no steps, an
    unknown scheme); names the setting, the value given and what is allowed."""


class CalibrationError(MattwinError):
    """A calibration cannot be fitted or found (no data for the engine, unknown calibration name)."""


class StoreError(MattwinError):
    """The store could not be written or read: the database connection was lost and did not come back,
    another writer held the database locked too long, or the disk is full. Names the database and the
    cause; results recorded before are intact, so a rerun resumes from them."""


class JobTimeoutError(MattwinError):
    """A job ran past its per-job time limit and was cancelled (names the job and the limit)."""
