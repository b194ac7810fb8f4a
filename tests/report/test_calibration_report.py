"""The calibration page: cards, the three plots, escaping, the corrections table and heldout.csv,
on a small synthetic calibration (40 oxides, halides, fluorides and sulfides; fits in seconds)."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from mattwin.analysis.calibration import (
    CalibrationPoint,
    HeldOut,
    correction_features,
    cross_validate,
    fit_calibration,
)
from mattwin.analysis.chemistry import FEATURES
from mattwin.discovery.calibrate import CalibrationReport
from mattwin.report.calibration import render, write_calibration_report
from mattwin.report.calibration_plots import class_order, coverage_curve

PLOTLY_BANNER = "* plotly.js v"
ENGINE = "emt <script>alert('x')</script>"
#: experimental-like formation enthalpies, eV/atom
MEASURED = {
    "MgO": -3.11, "CaO": -3.29, "SrO": -3.07, "BaO": -2.83, "Al2O3": -3.47, "SiO2": -3.03,
    "TiO2": -3.26, "ZnO": -1.81, "Li2O": -2.07, "Na2O": -1.44, "K2O": -1.25, "Ga2O3": -2.25,
    "Y2O3": -3.95, "La2O3": -3.72, "ZrO2": -3.80, "SnO2": -2.00, "BeO": -3.13, "Sc2O3": -3.95,
    "In2O3": -1.92, "MgAl2O4": -3.33, "NaCl": -2.14, "KCl": -2.25, "LiCl": -2.11, "RbCl": -2.26,
    "CsCl": -2.31, "MgCl2": -2.22, "CaCl2": -2.75, "SrCl2": -2.85, "BaCl2": -2.97, "AlCl3": -1.83,
    "ZnCl2": -1.43, "LiF": -3.20, "NaF": -2.99, "KF": -2.94, "MgF2": -3.89, "CaF2": -4.24,
    "ZnS": -1.07, "CaS": -2.45, "MgS": -1.80, "Na2S": -1.26,
}  # fmt: skip
#: what the synthetic engine misses, eV per atom of the species (GGA-like over-binding of O2, Cl2 ...)
SHIFT = {"oxide": 0.69, "Cl": 0.61, "F": 0.46, "S": 0.50}


def _points() -> list[CalibrationPoint]:
    rng = np.random.default_rng(1)
    out = []
    for formula, y in MEASURED.items():
        x = dict(zip(FEATURES, correction_features(formula), strict=True))
        raw = y + sum(SHIFT.get(k, 0.0) * v for k, v in x.items()) + rng.normal(0.0, 0.04)
        out.append(CalibrationPoint(formula, raw, y, 0.02, "synthetic"))
    return out


@pytest.fixture(scope="module")
def report() -> CalibrationReport:
    pts = _points()
    cal = fit_calibration(pts, ENGINE, {"reference_set": "synthetic <set>"}, k=4)
    heldout = cross_validate(pts, ENGINE, k=4)
    mp2020 = {f: MEASURED[f] + 0.01 for f in list(MEASURED)[:10]}
    return CalibrationReport(cal, heldout, mp2020)


@pytest.fixture(scope="module")
def written(report: CalibrationReport, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    path = write_calibration_report(report, tmp_path_factory.mktemp("cal") / "new")
    return path, path.read_text(encoding="utf-8")


def test_page_with_three_plots(written: tuple[Path, str]) -> None:
    path, page = written
    assert path.name == "calibration.html" and path.exists()
    assert page.count(PLOTLY_BANNER) == 1
    assert "<script src" not in page  # opens offline
    for div in ("parity", "residuals-by-class", "coverage"):
        assert page.count(f'id="{div}"') == 1
    sub = r"\u003csub\u003ef\u003c\u002fsub\u003e (eV\u002fatom)"  # plotly escapes < > / in its JSON
    assert f"measured ΔH{sub}" in page and f"predicted ΔH{sub}" in page
    assert "nominal level of the interval" in page


def test_cards(report: CalibrationReport, written: tuple[Path, str]) -> None:
    page = written[1]
    m = report.metrics()
    cards = page.split('<section class="cards">')[1].split("</section>")[0]
    assert f"{100 * m['coverage_90']:.0f} %" in cards and "inside the 90 % interval" in cards
    assert f"{m['heldout_mae_raw']:.3f} → {m['heldout_mae_calibrated']:.3f}" in cards
    assert m["heldout_mae_calibrated"] < 0.5 * m["heldout_mae_raw"]  # the synthetic shift is learnt
    assert "40" in cards and report.calibration.version in cards
    assert "MP2020 MAE" in cards and "not a held-out figure" in cards


def test_no_mp2020_card(report: CalibrationReport) -> None:
    page = render(CalibrationReport(report.calibration, report.heldout, {}))
    assert "MP2020 MAE" not in page


def test_strings_escaped(written: tuple[Path, str]) -> None:
    page = written[1]
    assert "emt &lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in page
    assert "<script>alert" not in page
    assert "synthetic &lt;set&gt;" in page
    assert page.count("<script") == page.count("</script>")


def test_residual_classes_by_size(report: CalibrationReport, written: tuple[Path, str]) -> None:
    order = class_order(report.heldout.classes)
    assert [n for _, n in order] == sorted((n for _, n in order), reverse=True)
    assert sum(n for _, n in order) == 40
    big, n = order[0]
    assert f"{big} (n={n})" in written[1]
    table = written[1].split('id="classes"')[1].split("</table>")[0]
    assert table.index(big) < table.index(order[-1][0])


def test_coverage_curve(report: CalibrationReport) -> None:
    h: HeldOut = report.heldout
    levels, cov = coverage_curve(h)
    assert levels[0] == pytest.approx(0.05) and levels[-1] == pytest.approx(0.99)
    assert np.all(np.diff(cov) >= 0) and 0.0 <= cov.min() and cov.max() <= 1.0
    assert cov[np.argmin(np.abs(levels - 0.9))] == pytest.approx(h.coverage(0.9))


def test_coefficient_table(report: CalibrationReport, written: tuple[Path, str]) -> None:
    d = report.to_dict()
    table = written[1].split('id="coefficients"')[1].split("</table>")[0]
    for k in SHIFT:
        c, s = d["coefficients_eV_per_atom_of_species"][k], d["coefficient_std"][k]
        assert f"<td>{k}</td><td class='num'>{c:+.3f}</td><td class='num'>{s:.3f}</td>" in table
        assert c == pytest.approx(-SHIFT[k], abs=0.15)
    assert "not in the data" in table and "Br" in table  # never-seen species keep their prior


def test_heldout_csv(report: CalibrationReport, written: tuple[Path, str]) -> None:
    with (written[0].parent / "heldout.csv").open(encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    header, body = rows[0], rows[1:]
    assert header[:6] == [
        "formula",
        "class",
        "measured_eV_per_atom",
        "raw_eV_per_atom",
        "calibrated_eV_per_atom",
        "half_width_90_eV_per_atom",
    ]
    assert len(body) == len(MEASURED)
    h = report.heldout
    by = {r[0]: r for r in body}
    i = h.formulas.index("NaCl")
    assert by["NaCl"][1] == "halide"
    assert float(by["NaCl"][2]) == pytest.approx(-2.14)
    assert float(by["NaCl"][4]) == pytest.approx(h.calibrated[i], abs=1e-6)
    assert float(by["NaCl"][5]) == pytest.approx(h.half_width(0.9)[i], abs=1e-6) and float(by["NaCl"][5]) > 0
