"""Self-contained HTML pages of the multiscale area: the EOS curve with its fit, the elastic tensor,
phonon bands + DOS, Cv and F(T), and the FEM fields of a part (matplotlib PNG inlined).

plotly.js is inlined once per page, so the file opens offline; strings from data are escaped.
"""

from __future__ import annotations

import base64
import io
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from mattwin.analysis.eos import birch_murnaghan
from mattwin.report.plots import note, plotly_js, to_div

if TYPE_CHECKING:
    from mattwin.multiscale.part import PartSolution
    from mattwin.multiscale.reports import PartReport, PropertyReport

_CSS = """
body{margin:0;font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1d2330}
header{background:linear-gradient(120deg,#0b2e59,#0b5cad);color:#fff;padding:24px}
header h1{margin:0 0 4px;font-size:26px}header .sub{opacity:.9}
main{max-width:1200px;margin:0 auto;padding:0 24px 48px}
h2{font-size:19px;margin:28px 0 10px;border-bottom:2px solid #e4e7ec;padding-bottom:4px}
.cards{display:flex;flex-wrap:wrap;gap:12px;margin:18px 0}
.card{border:1px solid #e4e7ec;border-radius:10px;padding:8px 14px;background:#f7f8fa}
.card .v{font-size:22px;font-weight:650}.card .k{font-size:12px;color:#667085;text-transform:uppercase}
table{border-collapse:collapse;font-size:14px}th,td{padding:4px 10px;border-bottom:1px solid #e4e7ec}
td.num{text-align:right;font-variant-numeric:tabular-nums}.note{color:#667085}
img{max-width:100%;border:1px solid #e4e7ec;border-radius:8px}
pre{background:#f7f8fa;padding:10px;border-radius:8px;overflow-x:auto}
"""


def page(title: str, subtitle: str, body: str) -> str:
    """A complete HTML document with plotly.js inlined."""
    return (
        f"<!doctype html><html lang=en><head><meta charset=utf-8><title>{escape(title)}</title>"
        f"<style>{_CSS}</style><script>{plotly_js()}</script></head><body><header><h1>{escape(title)}</h1>"
        f"<div class=sub>{escape(subtitle)}</div></header><main>{body}</main></body></html>"
    )


def cards(items: list[tuple[str, str]]) -> str:
    return (
        "<div class=cards>"
        + "".join(
            f"<div class=card><div class=k>{escape(k)}</div><div class=v>{escape(v)}</div></div>"
            for k, v in items
        )
        + "</div>"
    )


def eos_figure(res: dict[str, Any], div_id: str = "eos") -> str:
    """Energy per atom vs volume per atom: computed points and the Birch–Murnaghan fit."""
    n = res["n_atoms"]
    v = np.asarray(res["volumes_A3"]) / n
    e = np.asarray(res["energies_eV"]) / n
    vv = np.linspace(v.min() * 0.98, v.max() * 1.02, 200)
    fit = birch_murnaghan(vv * n, res["e0_eV"], res["v0_A3"], res["b0_GPa"] / 160.21766208, res["bp"]) / n
    fig = go.Figure()
    fig.add_scatter(x=vv, y=(fit - res["e0_per_atom_eV"]) * 1000, mode="lines", name="Birch–Murnaghan fit")
    fig.add_scatter(
        x=v, y=(e - res["e0_per_atom_eV"]) * 1000, mode="markers", name="computed", marker={"size": 9}
    )
    fig.update_layout(
        template="plotly_white",
        xaxis_title="volume (Å³/atom)",
        yaxis_title="E − E0 (meV/atom)",
        title=f"V0 = {res['v0_per_atom_A3']:.3f} Å³/atom, "
        f"B0 = {res['b0_GPa']:.1f} ± {res['b0_std_GPa']:.1f} GPa, "
        f"B' = {res['bp']:.2f}",
    )
    return to_div(fig, div_id)


def bands_figure(res: dict[str, Any], div_id: str = "bands") -> str:
    """Phonon band structure along the high-symmetry path with the total DOS beside it."""
    bands = res.get("bands") or {}
    if not bands:
        return note("band structure too large for the result row: see phonons.npz in the run folder")
    fig = make_subplots(
        rows=1, cols=2, shared_yaxes=True, column_widths=[0.78, 0.22], horizontal_spacing=0.02
    )
    d = np.asarray(bands["distances"])
    f = np.asarray(bands["frequencies_THz"])
    for b in range(f.shape[1]):
        fig.add_scatter(
            x=d,
            y=f[:, b],
            mode="lines",
            line={"color": "#0b5cad", "width": 1.5},
            showlegend=False,
            row=1,
            col=1,
        )
    fig.add_scatter(
        x=res["dos"]["dos"],
        y=res["dos"]["frequencies_THz"],
        mode="lines",
        line={"color": "#D55E00"},
        showlegend=False,
        row=1,
        col=2,
    )
    for x in bands["label_distances"]:
        fig.add_vline(x=x, line={"color": "#bbb", "width": 1}, row=1, col=1)
    fig.update_xaxes(tickvals=bands["label_distances"], ticktext=bands["labels"], row=1, col=1)
    fig.update_xaxes(title_text="DOS", row=1, col=2)
    fig.update_yaxes(title_text="frequency (THz)", row=1, col=1)
    fig.update_layout(template="plotly_white", title=f"lowest mode {res['min_frequency_THz']:.3f} THz")
    return to_div(fig, div_id, height=480)


def thermal_figure(res: dict[str, Any], div_id: str = "thermal") -> str:
    """Harmonic Cv (J/(K mol atoms)) and Helmholtz free energy (meV/atom) vs temperature."""
    th = res["thermal"]
    fig = make_subplots(rows=1, cols=2, subplot_titles=("heat capacity Cv", "free energy F"))
    fig.add_scatter(
        x=th["temperatures_K"], y=th["heat_capacity_J_K_mol_atoms"], showlegend=False, row=1, col=1
    )
    fig.add_hline(y=3 * 8.314462618, line={"dash": "dot", "color": "#999"}, row=1, col=1)
    fig.add_scatter(
        x=th["temperatures_K"], y=np.asarray(th["free_energy_eV_atom"]) * 1000, showlegend=False, row=1, col=2
    )
    fig.update_xaxes(title_text="T (K)")
    fig.update_yaxes(title_text="J/(K mol atoms)  (dotted: 3R)", row=1, col=1)
    fig.update_yaxes(title_text="meV/atom", row=1, col=2)
    fig.update_layout(template="plotly_white")
    return to_div(fig, div_id, height=380)


def expansion_figure(res: dict[str, Any], div_id: str = "qha") -> str:
    """Quasi-harmonic linear thermal expansion alpha/3 (1e-6/K) and Cp (J/(K mol atoms)) vs T."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=("linear expansion α/3", "heat capacity Cp"))
    t = res["temperatures_K"]
    fig.add_scatter(x=t, y=np.asarray(res["alpha_1_K"]) / 3 * 1e6, showlegend=False, row=1, col=1)
    fig.add_scatter(x=t, y=res["cp_J_K_mol_atoms"], showlegend=False, row=1, col=2)
    fig.update_xaxes(title_text="T (K)")
    fig.update_yaxes(title_text="1e-6 / K", row=1, col=1)
    fig.update_yaxes(title_text="J/(K mol atoms)", row=1, col=2)
    fig.update_layout(template="plotly_white")
    return to_div(fig, div_id, height=380)


def elastic_table(res: dict[str, Any]) -> str:
    """The 6x6 stiffness (GPa) with its fit uncertainty, and the moduli."""
    c, sd = np.asarray(res["C_GPa"]), np.asarray(res["C_std_GPa"])
    names = ["xx", "yy", "zz", "yz", "xz", "xy"]
    rows = "".join(
        f"<tr><th>{names[i]}</th>"
        + "".join(
            f"<td class=num>{c[i, j]:.1f}<span class=note> ±{sd[i, j]:.1f}</span></td>" for j in range(6)
        )
        + "</tr>"
        for i in range(6)
    )
    head = "<tr><th></th>" + "".join(f"<th>{n}</th>" for n in names) + "</tr>"
    m = res["moduli"]
    born = "stable" if res["born_stable"] else "UNSTABLE: " + "; ".join(res["born_failed"])
    return (
        f"<table>{head}{rows}</table>"
        + cards(
            [
                ("K_VRH", f"{m['K_vrh_GPa']:.1f} GPa"),
                ("G_VRH", f"{m['G_vrh_GPa']:.1f} GPa"),
                ("Young's E", f"{m['youngs_modulus_GPa']:.1f} GPa"),
                ("Poisson ν", f"{m['poisson_ratio']:.3f}"),
                ("anisotropy A_U", f"{m['universal_anisotropy']:.2f}"),
                ("Born", born),
            ]
        )
        + f"<p class=note>{escape(res['crystal_system'])} ({escape(res['space_group'])}); "
        f"{escape(res['method'])}</p>"
    )


def property_page(rep: PropertyReport) -> str:
    """The page of an atomistic property report (EOS, elastic, phonons)."""
    parts: list[str] = []
    for i, (res, sig) in enumerate(zip(rep.results, rep.engine_signatures, strict=True)):
        parts.append(f"<h2>{escape(sig.get('engine', ''))} {escape(str(sig.get('model', '')))}</h2>")
        parts.append(f"<p class=note>run key <code>{escape(rep.keys[i])}</code></p>")
        if rep.task == "equation_of_state":
            parts.append(eos_figure(res, f"eos{i}"))
        elif rep.task == "elastic_tensor":
            parts.append(elastic_table(res))
        elif rep.task == "phonons":
            stable = "dynamically stable" if res["dynamically_stable"] else "IMAGINARY MODES"
            parts.append(
                cards([("stability", stable), ("Cv(300 K)", f"{res['cp_300K_J_kg_K']:.0f} J/(kg K)")])
            )
            parts.append(bands_figure(res, f"bands{i}") + thermal_figure(res, f"thermal{i}"))
        else:
            parts.append(
                f"<pre>{escape(str({k: v for k, v in res.items() if not isinstance(v, list)}))}</pre>"
            )
    title = f"{rep.formula}: {rep.task.replace('_', ' ')}"
    return page(title, f"{rep.source} with {rep.engine}", "".join(parts))


def field_png(sol: PartSolution, scale: float | None = None) -> str:
    """Base64 PNG of the von Mises field (MPa) on the deformed part (and the temperature, if solved)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.tri import Triangulation

    el = sol.elastic
    mesh, part = el.part.mesh, el.part
    ncols = 2 if sol.heat is not None else 1
    fig, axes = plt.subplots(1, ncols, figsize=(7 * ncols, 5.6), squeeze=False)
    size = float(np.ptp(mesh.p, axis=1).max())
    s = scale if scale is not None else 0.05 * size / max(el.max_displacement_m, 1e-30)
    if part.dim == 2:
        x, y = (mesh.p + s * el.displacement_m) * 1e3
        tri = Triangulation(x, y, mesh.t[:3].T)
        im = axes[0, 0].tripcolor(tri, el.von_mises_Pa / 1e6, shading="gouraud", cmap="inferno")
    else:
        bf = mesh.facets[:, mesh.boundary_facets()]
        pts = (mesh.p + s * el.displacement_m) * 1e3
        tri = Triangulation(pts[0], pts[1], bf.T)
        im = axes[0, 0].tripcolor(tri, el.von_mises_Pa / 1e6, shading="gouraud", cmap="inferno")
    fig.colorbar(im, ax=axes[0, 0], label="von Mises stress (MPa)")
    axes[0, 0].set_title(f"von Mises, displacements x{s:.3g}")
    if sol.heat is not None and part.dim == 2:
        x, y = mesh.p * 1e3
        im2 = axes[0, 1].tripcolor(
            Triangulation(x, y, mesh.t[:3].T), sol.heat.temperature_K, shading="gouraud", cmap="coolwarm"
        )
        fig.colorbar(im2, ax=axes[0, 1], label="temperature (K)")
        axes[0, 1].set_title(f"steady conduction, {sol.heat.heat_flow_W:.3g} W")
    for ax in axes[0]:
        ax.set_aspect("equal")
        ax.set_xlabel("x (mm)")
        ax.set_ylabel("y (mm)")
    buf = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buf, format="png", dpi=110)
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode()


def part_page(rep: PartReport, sol: PartSolution, abaqus: str) -> str:
    """The page of a solved part: key numbers, field picture, the material card."""
    items = [
        ("load", rep.load),
        ("traction", f"{rep.traction_MPa:.3g} MPa"),
        ("force", f"{rep.load_N:.4g} N"),
        ("max von Mises", f"{rep.max_von_mises_MPa:.4g} MPa"),
        ("max displacement", f"{rep.max_displacement_mm:.4g} mm"),
        ("von Mises / traction", f"{rep.stress_concentration:.3f}"),
    ]
    if rep.heat_flow_W is not None:
        items.append(("heat flow (400→300 K)", f"{rep.heat_flow_W:.4g} W"))
    body = (
        cards(items)
        + f'<h2>Fields</h2><img alt="von Mises field" src="data:image/png;base64,{field_png(sol)}">'
    )
    if rep.heat_flow_W is None:
        body += note(
            "no computed thermal conductivity for this material: "
            "run `mattwin phonons FILE --conductivity` first"
        )
    body += f"<h2>Material card (Abaqus/CalculiX, SI)</h2><pre>{escape(abaqus)}</pre>"
    return page(f"Part: {rep.geometry}", f"{rep.description}; material run {rep.material_run[:12]}", body)


def write_page(html: str, folder: str | Path, name: str) -> Path:
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(html, encoding="utf-8")
    return path
