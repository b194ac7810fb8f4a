"""The ``pyscf`` engine: molecules and clusters with Hartree-Fock, any PySCF/libxc density functional
(with D3/D4 dispersion through pyscf-dispersion), MP2 (density-fitted by default), CCSD, CCSD(T),
CASCI/CASSCF and DMRG-CASCI/DMRG-CASSCF (block2), in any PySCF basis or extrapolated to the
complete basis set. Fidelity 3 for HF/DFT, 4 for correlated methods.

Spec grammar (``get_engine("pyscf:...")``)::

    pyscf:METHOD[(NE,NO)][-DISP]/BASIS[;key=value;...]

    METHOD  hf | mp2 | ccsd | ccsd(t) | casci | casscf | dmrg-casci | dmrg-casscf | a functional
            (b3lyp, pbe0, cam-b3lyp, wb97x, ... anything PySCF's libxc parser takes) | the quantum
            rung sqd | vqe | qpe-cost (emulated, with classical controls: :mod:`mattwin.quantum`)
    (NE,NO) active space of the CAS/DMRG methods: electrons, orbitals; ccsd(t)(6,6) correlates
            only that space (the others frozen), for comparisons with CASCI in the same space
    DISP    dispersion of a functional: d3bj, d3zero, d3bjm, d3zerom, d4
    BASIS   any PySCF basis (cc-pvdz, aug-cc-pvtz, def2-svp, 6-31g*), or cbs(SMALL,LARGE): HF in the
            larger basis + two-point X^-3 extrapolated correlation energy (no forces)
    keys    fc=0|1 frozen core (default 1), df=0|1 density fitting (default 1 for DFT and MP2,
            0 for HF, CC and CAS), m=N DMRG bond dimension (default 200); for sqd: shots=N
            (default 10000), seed=N (default 0), spb=N samples per SQD batch (default 300)

Examples: ``pyscf:ccsd(t)/cc-pvdz``, ``pyscf:b3lyp-d3bj/def2-svp``,
``pyscf:mp2/cbs(aug-cc-pvdz,aug-cc-pvtz)``, ``pyscf:dmrg-casci(6,6)/cc-pvdz;m=150``.
Default: ``b3lyp-d3bj/def2-svp``.

Charge and spin come from the pymatgen ``Molecule`` (``charge``, ``spin_multiplicity``): singlets run
restricted (RHF/RKS and the R- correlated methods), other multiplicities unrestricted (UHF/UKS, UMP2,
UCCSD(T)). ``molecule.properties["point_charges"]`` ((n, 4): x, y, z in Å, charge in e) embeds the
molecule in point charges (cluster models). Energies in eV, forces in eV/Å at the engine boundary.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from functools import lru_cache
from typing import Any

import numpy as np
from ase import units
from ase.calculators.calculator import Calculator, all_changes
from pymatgen.core import Molecule, Structure

from mattwin.analysis.cbs import cardinal_number, extrapolate_correlation
from mattwin.engines.base import Engine, Evaluation
from mattwin.engines.pyscf_run import QUANTUM_METHODS, WAVEFUNCTION_METHODS, QCResult, Settings, compute
from mattwin.errors import EngineError
from mattwin.materials.molecules import molecule_formula

DEFAULT_MODEL = "b3lyp-d3bj/def2-svp"
DISPERSIONS = ("d3bj", "d3zero", "d3bjm", "d3zerom", "d4")
HARTREE_EV = units.Hartree
_CAS = re.compile(
    r"^(casci|casscf|dmrg-casci|dmrg-casscf|ccsd|ccsd\(t\)|sqd|vqe|qpe-cost)\(\s*(\d+)\s*,\s*(\d+)\s*\)$"
)
_INT_KEYS = {"m": 1, "shots": 1, "seed": 0, "spb": 1}


def _max_memory_mb() -> int:
    import psutil

    return int(min(0.6 * psutil.virtual_memory().available / 1e6, 64000))


def _parse_method(text: str, spec: str) -> tuple[str, str | None, tuple[int, int] | None]:
    method, disp, active = text.strip().lower(), None, None
    m = _CAS.match(method)
    if m:
        return m.group(1), None, (int(m.group(2)), int(m.group(3)))
    for d in DISPERSIONS:
        if method.endswith("-" + d):
            method, disp = method[: -len(d) - 1], d
            break
    if method in WAVEFUNCTION_METHODS:
        if method.endswith("cas") or method.startswith(("cas", "dmrg")) or method in QUANTUM_METHODS:
            raise EngineError(f"pyscf spec {spec!r}: {method} needs an active space, e.g. {method}(6,6)")
        if disp and method != "hf":
            raise EngineError(f"pyscf spec {spec!r}: dispersion applies to HF and DFT only")
        return method, disp, active
    from pyscf.dft import libxc

    try:
        libxc.parse_xc(method)
    except (KeyError, ValueError) as exc:
        raise EngineError(
            f"pyscf spec {spec!r}: {method!r} is neither a wavefunction method "
            f"({', '.join(WAVEFUNCTION_METHODS)}) nor a functional PySCF knows ({exc})"
        ) from exc
    return method, disp, active


def _int_options(keys: dict[str, str], model: str) -> dict[str, int]:
    out = {}
    for k, lo in _INT_KEYS.items():
        if k in keys:
            try:
                out[k] = int(keys[k])
            except ValueError:
                out[k] = lo - 1
            if out[k] < lo:
                raise EngineError(f"pyscf spec {model!r}: option {k}={keys[k]} must be an integer >= {lo}")
    return out


def parse_spec(model: str) -> tuple[Settings, tuple[str, ...]]:
    """Settings and the basis sets (one, or two for ``cbs(SMALL,LARGE)``) of a model string."""
    head, *opts = [p.strip() for p in model.split(";")]
    if "/" not in head:
        raise EngineError(f"pyscf spec {model!r}: write METHOD/BASIS, e.g. ccsd(t)/cc-pvdz")
    mtext, basis = head.split("/", 1)
    method, disp, active = _parse_method(mtext, model)
    basis = basis.strip().lower()
    bases: tuple[str, ...] = (basis,)
    m = re.match(r"^cbs\(([^,]+),([^,]+)\)$", basis)
    if m:
        bases = (m.group(1).strip(), m.group(2).strip())
        try:
            if not cardinal_number(bases[0]) < cardinal_number(bases[1]):
                raise ValueError("the first basis must be the smaller one")
        except ValueError as exc:
            raise EngineError(f"pyscf spec {model!r}: {exc}") from exc
    keys = dict(o.split("=", 1) for o in opts if "=" in o)
    unknown = set(keys) - {"fc", "df", *_INT_KEYS} or {o for o in opts if "=" not in o and o}
    if unknown:
        raise EngineError(
            f"pyscf spec {model!r}: unknown option(s) {sorted(unknown)}; use fc=, df=, m= "
            "(sqd: shots=, seed=, spb=)"
        )
    ints = _int_options(keys, model)
    is_dft = method not in WAVEFUNCTION_METHODS
    s = Settings(
        method=method,
        basis=bases[-1],
        dispersion=disp,
        frozen_core=keys.get("fc", "1") != "0",
        density_fit=keys.get("df", "1" if (is_dft or method == "mp2") else "0") != "0",
        active=active,
        bond_dim=ints.get("m", 200),
        max_memory_mb=_max_memory_mb(),
        shots=ints.get("shots", 10_000),
        seed=ints.get("seed", 0),
        samples_per_batch=ints.get("spb", 300),
    )
    if len(bases) > 1 and not s.is_correlated:
        raise EngineError(f"pyscf spec {model!r}: CBS extrapolation is for correlated methods")
    return s, bases


def canonical_model(s: Settings, bases: Sequence[str]) -> str:
    """The spec string of ``s`` with every option written out (the ``model`` of the signature)."""
    basis = f"cbs({bases[0]},{bases[1]})" if len(bases) > 1 else bases[0]
    opts = f"fc={int(s.frozen_core)};df={int(s.density_fit)}"
    if s.method.startswith("dmrg") or s.method in ("sqd", "vqe"):
        opts += f";m={s.bond_dim}"
    if s.method == "sqd":
        opts += f";shots={s.shots};seed={s.seed};spb={s.samples_per_batch}"
    return f"{s.label.rsplit('/', 1)[0]}/{basis};{opts}"


class PySCFEngine(Engine):
    """PySCF (molecules and clusters); see the module docstring for the spec grammar."""

    name = "pyscf"

    def __init__(self, model: str = DEFAULT_MODEL) -> None:
        self.settings, self.bases = parse_spec(model)
        self.model = canonical_model(self.settings, self.bases)
        self.fidelity = 4 if self.settings.is_correlated else 3

    def derive(self, method: str | None = None, basis: str | None = None) -> PySCFEngine:
        """The same settings (frozen core, DF, dispersion) with another method and/or basis."""
        mtext = method or self.model.split("/", 1)[0]
        opts = self.model.split(";", 1)[1]
        b = basis or (f"cbs({self.bases[0]},{self.bases[1]})" if len(self.bases) > 1 else self.bases[0])
        if method and (method in WAVEFUNCTION_METHODS) != (self.settings.method in WAVEFUNCTION_METHODS):
            opts = f"fc={int(self.settings.frozen_core)}"
        return PySCFEngine(f"{mtext}/{b};{opts}")

    @property
    def signature(self) -> dict[str, Any]:
        import pyscf

        s = self.settings
        params: dict[str, Any] = {
            "method": s.method,
            "basis": list(self.bases),
            "cbs": "HF(larger basis) + X^-3 correlation" if len(self.bases) > 1 else None,
            "dispersion": s.dispersion,
            "frozen_core": s.frozen_core,
            "density_fit": s.density_fit,
            "active_space": list(s.active) if s.active else None,
            "charge_spin": "Molecule.charge, spin_multiplicity; R for singlets, U otherwise",
            "conv_tol": s.conv_tol,
        }
        sig = {"engine": "pyscf", "package": "pyscf", "version": pyscf.__version__, "model": self.model}
        if s.method.startswith("dmrg"):
            from importlib.metadata import version

            params["bond_dim"] = s.bond_dim
            sig["block2"] = version("block2")
        if s.dispersion:
            from importlib.metadata import version

            sig["pyscf-dispersion"] = version("pyscf-dispersion")
        if s.method in QUANTUM_METHODS:
            from mattwin.quantum import EMULATION_NOTE
            from mattwin.quantum.rung import _versions

            sig.update(_versions())
            params["emulation"] = EMULATION_NOTE
            if s.method == "sqd":
                params.update(shots=s.shots, seed=s.seed, samples_per_batch=s.samples_per_batch)
        sig["params"] = params
        return sig

    @property
    def has_forces(self) -> bool:
        """Analytic gradients: HF, DFT, MP2 without DF, CCSD, CCSD(T), in a single basis."""
        s = self.settings
        return len(self.bases) == 1 and (
            s.method in ("hf", "ccsd", "ccsd(t)") or s.is_dft or (s.method == "mp2" and not s.density_fit)
        )

    def supported_elements(self) -> frozenset[str]:
        return _elements_with_basis(self.bases)

    def supports(self, structure: Structure | Molecule) -> str | None:  # type: ignore[override]
        if not isinstance(structure, Molecule):
            return (
                "the pyscf engine computes molecules and clusters; cut a cluster from the crystal "
                "(mattwin.materials.cluster.cut_cluster) or use the periodic DFT band-gap task"
            )
        missing = sorted(
            {e.symbol for e in structure.composition.elements if not _has_basis(self.bases, e.symbol)}
        )
        if missing:
            return f"{self.label}: basis {'/'.join(self.bases)} has no functions for {', '.join(missing)}"
        return None

    def run(self, mol: Molecule, name: str = "", ghost: Sequence[int] = (), grad: bool = False) -> QCResult:
        """Energy (hartree) of ``mol`` at this level, CBS-extrapolated for ``cbs(...)`` bases;
        ``ghost``: atoms with basis functions only (counterpoise); ``grad``: analytic gradient."""
        name = name or molecule_formula(mol)
        if grad and not self.has_forces:
            raise EngineError(f"{name}: {self.label} has no analytic forces in mattwin")
        if len(self.bases) == 1:
            return compute(mol, self.settings, name, ghost, grad)
        small = compute(mol, replace(self.settings, basis=self.bases[0]), name, ghost)
        large = compute(mol, self.settings, name, ghost)
        x, y = cardinal_number(self.bases[0]), cardinal_number(self.bases[1])
        corr = extrapolate_correlation(small.e_total - small.e_scf, large.e_total - large.e_scf, x, y)
        out = QCResult(large.e_scf + corr, large.e_scf, info=large.info)
        out.components = {
            "e_corr_cbs": corr,
            f"e_corr_{self.bases[0]}": small.e_total - small.e_scf,
            f"e_corr_{self.bases[1]}": large.e_total - large.e_scf,
            f"e_scf_{self.bases[0]}": small.e_scf,
        }
        return out

    def evaluate(self, structures: Sequence[Structure | Molecule]) -> list[Evaluation]:  # type: ignore[override]
        """Energy (eV) and forces ((n, 3) eV/Å; NaN where the method has no analytic gradient) of
        molecules; stress is zero (no cell). extras: energy components (eV) and diagnostics."""
        out = []
        for mol in structures:
            if not isinstance(mol, Molecule):
                raise EngineError(f"{mol.composition.reduced_formula}: {self.supports(mol)}")
            res = self.run(mol, grad=self.has_forces)
            forces = (
                -np.asarray(res.gradient) * HARTREE_EV / units.Bohr
                if res.gradient is not None
                else np.full((len(mol), 3), np.nan)
            )
            extras = {f"{k}_eV": v * HARTREE_EV for k, v in res.components.items()}
            extras.update({"e_scf_eV": res.e_scf * HARTREE_EV, **res.info})
            out.append(Evaluation(res.e_total * HARTREE_EV, forces, np.zeros(6), extras))
        return out

    def calculator(self) -> Calculator:
        return PySCFCalculator(self)


def _has_basis(bases: Sequence[str], symbol: str) -> bool:
    from pyscf import gto

    for b in bases:
        try:
            if not gto.basis.load(b, symbol):
                return False
        except Exception:  # PySCF raises BasisNotFoundError, KeyError or RuntimeError
            return False
    return True


@lru_cache(maxsize=16)
def _elements_with_basis(bases: tuple[str, ...]) -> frozenset[str]:
    from ase.data import chemical_symbols

    return frozenset(s for s in chemical_symbols[1:87] if _has_basis(bases, s))


class PySCFCalculator(Calculator):
    """ASE calculator on a :class:`PySCFEngine`: energy (eV) and, where the method has analytic
    gradients, forces (eV/Å). Charge and multiplicity from ``atoms.info`` (``charge``,
    ``spin_multiplicity``); periodic cells are ignored (the atoms are a molecule or cluster)."""

    implemented_properties = ["energy", "forces"]

    def __init__(self, engine: PySCFEngine, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.engine = engine

    def calculate(
        self, atoms: Any = None, properties: Any = ("energy",), system_changes: Any = all_changes
    ) -> None:
        from mattwin.materials.molecules import molecule_from_atoms

        super().calculate(atoms, properties, system_changes)
        mol = molecule_from_atoms(self.atoms)
        want = "forces" in properties
        res = self.engine.run(mol, grad=want)
        self.results["energy"] = res.e_total * HARTREE_EV
        if res.gradient is not None:
            self.results["forces"] = -res.gradient * HARTREE_EV / units.Bohr
