"""``mattwin`` commands of the quantum area (``correlate``, ``interaction``, ``excite``); they register
on :data:`mattwin.cli.common.app`. A status line on stderr names the calculation that is running."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from mattwin.cli.common import (
    DbOpt,
    JsonOpt,
    app,
    console,
    library_call,
    open_store,
    print_json,
    quiet_libraries,
)
from mattwin.errors import SettingsError

if TYPE_CHECKING:
    from mattwin.api.quantum import CorrelateReport

MolArg = Annotated[str, typer.Argument(help="molecule: XYZ file or SMILES string (RDKit embeds it in 3D)")]
BasisOpt = Annotated[
    str, typer.Option("--basis", "-b", help="basis set, or cbs(X,Y) for a two-point CBS limit")
]
WorkersOpt = Annotated[
    int | None, typer.Option("--workers", help="run on a Dask LocalCluster with N workers")
]
DaskOpt = Annotated[str | None, typer.Option("--dask", help="Dask scheduler address, e.g. tcp://host:8786")]


@contextlib.contextmanager
def _status(first: str) -> Iterator[None]:
    """A rich spinner whose text follows the stages reported by the PySCF engine."""
    from mattwin.engines.pyscf_run import PROGRESS_LISTENERS

    with console.status(first) as status:

        def update(text: str) -> None:
            status.update(f"[bold]{text}[/]")

        PROGRESS_LISTENERS.append(update)
        try:
            yield
        finally:
            PROGRESS_LISTENERS.remove(update)


@app.command()
def correlate(
    molecule: MolArg,
    method: Annotated[
        str,
        typer.Option(
            "--method",
            "-m",
            help="hf, mp2, ccsd, ccsd(t), dmrg-casci(6,6), b3lyp-d3bj ...; quantum rung (emulated): "
            "sqd(6,6), vqe(2,2), qpe-cost(10,26)",
        ),
    ] = "ccsd(t)",
    basis: BasisOpt = "cc-pvdz",
    charge: Annotated[int | None, typer.Option(help="total charge, e")] = None,
    spin: Annotated[int | None, typer.Option("--multiplicity", help="spin multiplicity 2S+1")] = None,
    diagnostics: Annotated[
        bool, typer.Option("--diagnostics", help="T1/D1, natural occupations, verdict")
    ] = False,
    all_electron: Annotated[
        bool, typer.Option("--all-electron", help="correlate the core electrons too")
    ] = False,
    bond_dim: Annotated[int | None, typer.Option("--bond-dim", help="DMRG bond dimension")] = None,
    shots: Annotated[int | None, typer.Option("--shots", help="SQD: samples per sampler (10000)")] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="SQD: seed of sampling and batching (0)")] = None,
    report: Annotated[
        Path | None, typer.Option("--report", help="quantum rung: folder of the HTML page (mattwin-rungs)")
    ] = None,
    workers: WorkersOpt = None,
    dask: DaskOpt = None,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Correlated total energy of a molecule (hartree and eV), optionally with multireference diagnostics."""
    quiet_libraries()
    from mattwin.api.quantum import _is_quantum
    from mattwin.api.quantum import correlate as run

    quantum = _is_quantum(method)
    if quantum and report is None:
        report = Path("mattwin-rungs")
    with library_call(), _status(f"{method}/{basis} on {molecule}"):
        rep = run(
            molecule,
            method=method,
            basis=basis,
            charge=charge,
            spin_multiplicity=spin,
            diagnostics=diagnostics,
            frozen_core=not all_electron,
            bond_dim=bond_dim,
            store=open_store(db),
            workers=workers,
            scheduler=dask,
            shots=shots,
            seed=seed,
            report_dir=report if quantum else None,
        )
    if as_json:
        print_json(rep.to_dict())
        return
    if rep.rung is not None:
        _print_rung(rep)
        return
    e = rep.energy
    assert e is not None
    console.print(
        f"[bold]{rep.formula}[/] ({e.n_atoms} atoms, charge {e.charge}, 2S+1={e.spin_multiplicity}) "
        f"with {e.method}{' (cached)' if rep.cached else ''}"
    )
    console.print(f"  total energy   {e.energy_hartree:.8f} Eh   ({e.energy_eV:.4f} eV)")
    console.print(f"  SCF energy     {e.scf_energy_hartree:.8f} Eh")
    for k, v in e.components_hartree.items():
        console.print(f"  {k:<14} {v:.8f} Eh")
    if rep.diagnostics:
        d = rep.diagnostics
        if d.s2_uhf is not None:
            console.print(f"  {d.method}: UHF <S²> {d.s2_uhf:.4f} (exact S(S+1) = {d.s2_exact:g})")
        if d.t1_diagnostic is not None and d.d1_diagnostic is not None and d.max_t2_amplitude is not None:
            console.print(
                f"  T1 {d.t1_diagnostic:.4f}   D1 {d.d1_diagnostic:.4f}   max|T2| {d.max_t2_amplitude:.3f}"
            )
        occ = ", ".join(
            f"{lbl} {x:.3f}"
            for lbl, x in zip(d.noon_labels, d.natural_occupations, strict=True)
            if 0.005 < x < 1.995
        )
        console.print(f"  natural occupations  {occ or 'all within 0.005 of 0 or 2'}")
        console.print(f"  [bold]{d.verdict}[/]: {d.advice}")


def _print_rung(rep: CorrelateReport) -> None:
    r = rep.rung
    assert r is not None
    ne, no = r.active_space
    table = Table(
        title=f"{rep.formula}: {r.algorithm}({ne},{no})/{r.basis}, {r.n_qubits} qubits, "
        f"{r.n_determinants:,} determinants{' (cached)' if rep.cached else ''}"
    )
    for col in ("rung", "E (Eh)", "E − E_exact (mEh)", "CPU (s)", "dets"):
        table.add_column(col, justify="left" if col == "rung" else "right")
    for row in r.rungs:
        e, d, dets = row.get("energy_hartree"), row.get("error_mEh"), row.get("determinants")
        table.add_row(
            row["rung"],
            "—" if e is None else f"{e:.8f}",
            "—" if d is None else f"{d:+.4f}",
            f"{row['cpu_s']:.2f}",
            "" if dets is None else f"{dets:,}",
        )
    console.print(table)
    if r.resources:
        q = r.resources
        console.print(
            f"  QPE (double factorisation, target error {1000 * q['target_error_hartree']:g} mEh): "
            f"{q['logical_qubits']} logical qubits, {q['toffoli_gates']:.3e} Toffoli, "
            f"{q['t_gates']:.3e} T gates"
        )
    console.print(f"  {r.verdict}")
    console.print(f"  [bold]{r.statement}[/]; report {rep.report_html}")


def _fragments(given: list[str] | None) -> list[list[int]] | None:
    """``--fragment 0,1,2 --fragment 3,4,5`` as index lists; :class:`SettingsError` if not integers."""
    if not given:
        return None
    try:
        return [[int(i) for i in f.split(",")] for f in given]
    except ValueError:
        raise SettingsError(
            f"--fragment {' '.join(given)}: give comma-separated atom indices, e.g. 0,1,2"
        ) from None


def _basis_pair(cbs: str) -> tuple[str, str]:
    parts = [b.strip() for b in cbs.split(",")]
    if len(parts) != 2 or not all(parts):
        raise SettingsError(f"--cbs {cbs!r}: give two basis sets, e.g. aug-cc-pvdz,aug-cc-pvtz")
    return parts[0], parts[1]


@app.command()
def interaction(
    dimer: Annotated[
        str, typer.Argument(help="XYZ file of the complex (or SMILES with a '.' between fragments)")
    ],
    scheme: Annotated[
        str, typer.Option("--scheme", help="composite (MP2/CBS + ΔCCSD(T)) or single")
    ] = "composite",
    method: Annotated[str, typer.Option("--method", "-m", help="level of the single scheme")] = "mp2",
    basis: BasisOpt = "aug-cc-pvdz",
    fragment: Annotated[
        list[str] | None,
        typer.Option("--fragment", help="atom indices of one monomer, e.g. 0,1,2 (give twice)"),
    ] = None,
    no_cp: Annotated[bool, typer.Option("--no-cp", help="skip the counterpoise correction")] = False,
    cbs: Annotated[
        str, typer.Option("--cbs", help="basis pair of the composite MP2/CBS, X,Y")
    ] = "aug-cc-pvdz,aug-cc-pvtz",
    workers: WorkersOpt = None,
    dask: DaskOpt = None,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Counterpoise-corrected interaction energy of a dimer (kcal/mol; negative = bound)."""
    quiet_libraries()
    from mattwin.api.quantum import interaction as run

    with library_call(), _status(f"interaction energy of {dimer}"):
        rep = run(
            dimer,
            scheme=scheme,
            method=method,
            basis=basis,
            fragments=_fragments(fragment),
            counterpoise=not no_cp,
            cbs_bases=_basis_pair(cbs),
            store=open_store(db),
            workers=workers,
            scheduler=dask,
        )
    if as_json:
        print_json(rep.to_dict())
        return
    r = rep.result
    console.print(
        f"[bold]{rep.formula}[/] {r.scheme} ({', '.join(r.levels)}), "
        f"{'counterpoise-corrected' if r.counterpoise else 'no counterpoise'}"
        f"{' (cached)' if rep.cached else ''}"
    )
    console.print(f"  fragments  {r.fragments}")
    for k, v in r.components_kcal_mol.items():
        console.print(f"  {k:<28} {v:9.3f} kcal/mol")
    console.print(
        f"  [bold]interaction energy {r.interaction_energy_kcal_mol:.3f} kcal/mol[/]"
        f" ({r.interaction_energy_eV:.4f} eV)"
    )


@app.command()
def excite(
    molecule: MolArg,
    method: Annotated[str, typer.Option("--method", "-m", help="tddft, tda or eom-ccsd")] = "tddft",
    functional: Annotated[str, typer.Option("--functional", "-f", help="any PySCF functional")] = "b3lyp",
    basis: BasisOpt = "def2-svp",
    states: Annotated[int, typer.Option("--states", "-n", help="number of excited states")] = 10,
    fwhm: Annotated[float, typer.Option("--fwhm", help="Gaussian broadening of the spectrum, eV")] = 0.3,
    triplets: Annotated[bool, typer.Option("--triplets", help="triplet instead of singlet states")] = False,
    charge: Annotated[int | None, typer.Option(help="total charge, e")] = None,
    report: Annotated[Path, typer.Option("--report", help="folder of the HTML page and CSV files")] = Path(
        "mattwin-excite"
    ),
    workers: WorkersOpt = None,
    dask: DaskOpt = None,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Vertical excitations (eV, nm, oscillator strengths, character) and a broadened absorption spectrum."""
    quiet_libraries()
    from mattwin.api.quantum import excite as run

    with library_call(), _status(f"{method} on {molecule}"):
        rep = run(
            molecule,
            method=method,
            functional=functional,
            basis=basis,
            states=states,
            fwhm_eV=fwhm,
            triplets=triplets,
            charge=charge,
            report_dir=report,
            store=open_store(db),
            workers=workers,
            scheduler=dask,
        )
    if as_json:
        print_json(rep.to_dict())
        return
    res = rep.result
    table = Table(title=f"{rep.formula}: {res.method.upper()} {res.level}{' (cached)' if rep.cached else ''}")
    for col in ("state", "E (eV)", "λ (nm)", "f", "character"):
        table.add_column(col, justify="right" if col != "character" else "left")
    for i, s in enumerate(res.states):
        f = "—" if s["oscillator_strength"] is None else f"{s['oscillator_strength']:.4f}"
        table.add_row(
            f"{s['spin'][0].upper()}{i + 1}",
            f"{s['energy_eV']:.3f}",
            f"{s['wavelength_nm']:.1f}",
            f,
            s["character"],
        )
    console.print(table)
    console.print(
        f"  report {rep.report_html}" + (f"; spectrum {rep.spectrum_csv}" if rep.spectrum_csv else "")
    )
