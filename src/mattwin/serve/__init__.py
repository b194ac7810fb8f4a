"""``mattwin serve``: a read-only live dashboard over the store (FastAPI + Jinja2; plotly.js and
3Dmol.js served by the package itself, no CDN)."""

from __future__ import annotations

from mattwin.serve.app import create_app
from mattwin.serve.db import ReadOnlyStore, open_read_only

__all__ = ["ReadOnlyStore", "create_app", "open_read_only"]
