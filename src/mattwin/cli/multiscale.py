"""``mattwin`` commands of the multiscale area; they register on :data:`mattwin.cli.common.app`."""

from __future__ import annotations

from mattwin.cli.common import app  # noqa: F401
