"""Campaign reports: a self-contained HTML page plus CIF, CSV and JSON files."""

from mattwin.report.html import write_report

__all__ = ["write_report"]
