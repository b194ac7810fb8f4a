"""The report layer renders result objects and imports nothing from the API (which imports it):
every import in every ``mattwin.report`` module, TYPE_CHECKING blocks and function bodies included."""

from __future__ import annotations

import ast
from pathlib import Path

import mattwin.report

REPORT_DIR = Path(mattwin.report.__file__).parent


def _imported_modules(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative import inside mattwin.report
                found.append((node.lineno, f"mattwin.report.{node.module or ''}"))
            elif node.module:
                found.append((node.lineno, node.module))
    return found


def test_report_imports_nothing_from_api() -> None:
    modules = sorted(REPORT_DIR.glob("*.py"))
    assert len(modules) >= 5
    bad = [
        f"{p.name}:{line} imports {mod}"
        for p in modules
        for line, mod in _imported_modules(p)
        if mod == "mattwin.api" or mod.startswith("mattwin.api.") or mod in ("mattwin.cli", "mattwin.serve")
    ]
    assert not bad, bad


def test_the_walk_sees_type_checking_imports(tmp_path: Path) -> None:
    p = tmp_path / "m.py"
    p.write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from mattwin.api.x import Y\n")
    assert (3, "mattwin.api.x") in _imported_modules(p)


def test_moved_result_types_keep_their_api_names() -> None:
    from mattwin.api import DiffusionReport, PartReport, PropertyReport
    from mattwin.api.transport import TemperaturePoint
    from mattwin.multiscale import reports
    from mattwin.tasks import transport_types

    assert DiffusionReport is transport_types.DiffusionReport
    assert TemperaturePoint is transport_types.TemperaturePoint
    assert PartReport is reports.PartReport and PropertyReport is reports.PropertyReport
