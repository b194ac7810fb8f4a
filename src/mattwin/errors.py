"""Typed errors. Each message names the input and the cause, and says what to do."""

from __future__ import annotations


class MattwinError(Exception):
    """Base class of every error mattwin raises on purpose."""


class MaterialReadError(MattwinError):
    """A structure file could not be read (missing, empty, malformed, unknown format)."""


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
