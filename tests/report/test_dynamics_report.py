"""The dynamics page from a hand-made diffusion report: Arrhenius plot with the 300 K extrapolation,
MSD and RDF plots, the table, escaped strings, plotly inlined once."""

from __future__ import annotations

import numpy as np

from mattwin.analysis import diffusion as dif
from mattwin.api.transport import DiffusionReport, TemperaturePoint
from mattwin.report.dynamics import write_dynamics_report


def _point(t: float, d: float) -> TemperaturePoint:
    lags = np.linspace(0, 2, 50)
    fit = {"D_cm2_s": d, "D_err_cm2_s": 0.1 * d, "fit_window_ps": (0.2, 0.6), "n_blocks": 5}
    return TemperaturePoint(
        temperature_K=t,
        mean_temperature_K=t,
        key="k" * 32,
        duration_ps=10.0,
        analysed_ps=9.0,
        volume_A3=950.0,
        diffusion={"Li": fit, "S": {**fit, "D_cm2_s": 1e-9}},
        conductivity_S_cm=dif.nernst_einstein(d, 20, 950.0, t),
        energy_eV_per_atom=-4.0,
        stopped_untrusted=t > 1000,
        force_std_max_eV_A=0.6 if t > 1000 else 0.1,
        msd_time_ps=lags.tolist(),
        msd_A2={"Li": (6e4 * d * lags).tolist(), "S": (0 * lags + 0.1).tolist()},
        rdf_r_A=[1.0, 2.0, 3.0],
        rdf_g=[0.0, 2.5, 1.0],
    )


def test_page_has_the_three_plots_and_escapes_names(tmp_path):
    temps = [800.0, 1000.0, 1200.0]
    ds = [1e-2 * np.exp(-0.2 / (dif.KB_EV * t)) for t in temps]
    fit = dif.arrhenius(temps, ds, [0.1 * d for d in ds])
    rep = DiffusionReport(
        run_id="abc123<script>",
        formula="Li10Ge(PS6)2",
        engine_signature={"engine": "chgnet"},
        ensemble="nvt",
        carrier="Li",
        points=[_point(t, d) for t, d in zip(temps, ds, strict=True)],
        arrhenius={"Li": fit.to_dict()},
        conductivity_300K_S_cm=1e-2,
        conductivity_300K_factor=2.0,
        thermal_expansion=None,
        melting=None,
        notes=["1200 K stopped early <b>"],
    )
    html = write_dynamics_report(rep, tmp_path).read_text()
    for div in ('id="msd"', 'id="arrhenius"', 'id="rdf"'):
        assert div in html
    assert html.count("Plotly.newPlot") == 3 and html.count("<script>") >= 4  # plotly.js once + 3 plots
    assert "abc123&lt;script&gt;" in html and "&lt;b&gt;" in html and "abc123<script>" not in html
    assert "0.200 ± 0.0" in html  # Ea of the exact Arrhenius data, in the header cards
    assert "stopped: untrusted" in html
    assert (tmp_path / "dynamics.json").exists()
