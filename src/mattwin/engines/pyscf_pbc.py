"""The ``pyscf-pbc`` engine: periodic Kohn-Sham DFT of crystals with PySCF PBC (GTH pseudopotentials,
Gaussian GTH basis sets, plane-wave density fitting, Monkhorst-Pack k-mesh including Gamma).

Spec grammar (``get_engine("pyscf-pbc:...")``)::

    pyscf-pbc:FUNCTIONAL/BASIS[;k=N|NxMxL][;pseudo=gth-pbe][;ke=HARTREE]

FUNCTIONAL: lda, pbe, or any functional PySCF knows (hybrids are slow); BASIS: gth-szv, gth-dzv,
gth-dzvp, gth-tzvp, gth-tzv2p; k: the k-mesh (default 3x3x3); pseudo: default gth-pade for LDA and
gth-pbe otherwise; ke: the kinetic-energy cutoff of the density grid in Hartree (default: PySCF's, set
by the basis' steepest exponent at precision 1e-8, which for a semicore pseudopotential such as Na's
is a 131^3 grid for a 2-atom cell, far too slow here). Measured on the NaCl primitive cell: LDA/gth-szv
at Gamma, ke=80 (a 33^3 grid) gap 2.703 eV vs 2.700 at ke=160; PBE/gth-dzvp k=2, ke=40 4.63 eV vs ke=80
5.00 eV (Materials Project PBE: 5.0). Default ``pbe/gth-dzvp;k=3`` (PySCF's grid).
Spin-restricted for even electron counts, spin-unrestricted otherwise (no magnetic ordering is
imposed). Energies eV per cell, forces eV/Å,
stress eV/Å^3 (ASE sign), all analytic (PySCF's KRKS gradients and stress).
Fidelity 3. The band gap it reports is the Kohn-Sham (DFT) gap on the k-mesh, not a quasiparticle gap.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import numpy as np
from ase import units
from ase.calculators.calculator import Calculator, all_changes
from pymatgen.core import Structure

from mattwin.engines.base import Engine, Evaluation
from mattwin.errors import ConvergenceError, EngineError

DEFAULT_MODEL = "pbe/gth-dzvp;k=3"


def parse_pbc_spec(model: str) -> dict[str, Any]:
    """xc, basis, pseudo and k-mesh of a ``pyscf-pbc`` model string."""
    head, *opts = [p.strip() for p in model.lower().split(";")]
    if "/" not in head:
        raise EngineError(f"pyscf-pbc spec {model!r}: write FUNCTIONAL/BASIS, e.g. pbe/gth-dzvp")
    xc, basis = (x.strip() for x in head.split("/", 1))
    from pyscf.dft import libxc

    try:
        libxc.parse_xc(xc)
    except (KeyError, ValueError) as exc:
        raise EngineError(f"pyscf-pbc spec {model!r}: unknown functional {xc!r} ({exc})") from exc
    keys = dict(o.split("=", 1) for o in opts if "=" in o)
    if set(keys) - {"k", "pseudo", "ke"}:
        raise EngineError(
            f"pyscf-pbc spec {model!r}: unknown option(s) {sorted(set(keys) - {'k', 'pseudo', 'ke'})}"
        )
    kk = [int(x) for x in keys.get("k", "3").split("x")]
    kmesh = kk * 3 if len(kk) == 1 else kk
    if len(kmesh) != 3 or min(kmesh) < 1:
        raise EngineError(f"pyscf-pbc spec {model!r}: k must be N or NxMxL with positive integers")
    pseudo = keys.get("pseudo", "gth-pade" if xc in ("lda", "lda,vwn", "svwn") else "gth-pbe")
    out: dict[str, Any] = {"xc": xc, "basis": basis, "pseudo": pseudo, "kmesh": kmesh}
    if "ke" in keys:
        try:
            ke = float(keys["ke"])
        except ValueError:
            ke = -1.0
        if not 5 <= ke <= 2000:
            raise EngineError(
                f"pyscf-pbc spec {model!r}: ke must be a kinetic-energy cutoff in Hartree, "
                "5 to 2000 (e.g. ke=80)"
            )
        out["ke_cutoff"] = ke
    return out


@lru_cache(maxsize=256)
def _element_ok(symbol: str, basis: str, pseudo: str) -> bool:
    from pyscf.pbc import gto

    try:
        return bool(gto.basis.load(basis, symbol)) and bool(gto.pseudo.load(pseudo, symbol))
    except Exception:  # PySCF raises KeyError, RuntimeError or BasisNotFoundError
        return False


class PySCFPBCEngine(Engine):
    """Periodic Kohn-Sham DFT (PySCF PBC); see the module docstring."""

    name = "pyscf-pbc"
    fidelity = 3

    def __init__(self, model: str = DEFAULT_MODEL) -> None:
        self.params = parse_pbc_spec(model)
        p = self.params
        self.model = f"{p['xc']}/{p['basis']};k={'x'.join(map(str, p['kmesh']))};pseudo={p['pseudo']}"
        if "ke_cutoff" in p:
            self.model += f";ke={p['ke_cutoff']:g}"

    @property
    def signature(self) -> dict[str, Any]:
        import pyscf

        return {
            "engine": "pyscf-pbc",
            "package": "pyscf",
            "version": pyscf.__version__,
            "model": self.model,
            "params": {**self.params, "kmesh_type": "Monkhorst-Pack with Gamma", "conv_tol": 1e-8},
        }

    def supported_elements(self) -> frozenset[str]:
        from ase.data import chemical_symbols

        return frozenset(
            s for s in chemical_symbols[1:87] if _element_ok(s, self.params["basis"], self.params["pseudo"])
        )

    def supports(self, structure: Structure) -> str | None:
        if not isinstance(structure, Structure):
            return "the pyscf-pbc engine computes crystals; use the pyscf engine for molecules"
        p = self.params
        missing = sorted(
            {
                e.symbol
                for e in structure.composition.elements
                if not _element_ok(e.symbol, p["basis"], p["pseudo"])
            }
        )
        if missing:
            return f"{self.label}: {p['basis']}/{p['pseudo']} has no parameters for {', '.join(missing)}"
        return None

    def scf(self, structure: Structure, name: str = "") -> Any:
        """The converged k-point SCF object of ``structure`` (raises :class:`ConvergenceError`)."""
        from pyscf.pbc import dft, gto

        from mattwin.engines.pyscf_run import stage

        nm = name or structure.composition.reduced_formula
        p = self.params
        cell = gto.Cell()
        cell.atom = [(s.specie.symbol, tuple(map(float, s.coords))) for s in structure]
        cell.a = np.asarray(structure.lattice.matrix)
        cell.unit, cell.basis, cell.pseudo, cell.verbose = "Angstrom", p["basis"], p["pseudo"], 0
        if "ke_cutoff" in p:
            cell.ke_cutoff = p["ke_cutoff"]
        cell.build()
        if cell.nelectron % 2:  # odd electron count: spin-unrestricted doublet
            cell.spin = 1
            cell.build()
        kpts = cell.make_kpts(p["kmesh"])
        mf = (dft.KRKS if cell.spin == 0 else dft.KUKS)(cell, kpts, xc=p["xc"])
        mf.conv_tol = 1e-8
        stage(f"periodic {p['xc']}/{p['basis']} on {nm}, k-mesh {p['kmesh']}")
        mf.kernel()
        if not mf.converged:
            raise ConvergenceError(
                f"{nm}: periodic {self.model} SCF did not converge in {mf.max_cycle} iterations"
            )
        return mf

    def evaluate(self, structures: Sequence[Structure]) -> list[Evaluation]:
        """Energy (eV per cell), forces ((n, 3) eV/Å) and stress (Voigt eV/Å^3, ASE sign)."""
        out = []
        for s in structures:
            mf = self.scf(s)
            g = mf.nuc_grad_method()
            grad = np.asarray(g.kernel())
            try:
                sigma = np.asarray(g.get_stress())  # (1/V) dE/d(strain), Eh/bohr^3: the ASE sign
            except (NotImplementedError, AttributeError) as exc:
                raise EngineError(
                    f"{s.composition.reduced_formula}: PySCF has no analytic stress for {self.model} "
                    "(hybrid functionals and spin-unrestricted cells); use lda or pbe"
                ) from exc
            st = 0.5 * (sigma + sigma.T) * units.Hartree / units.Bohr**3
            voigt = np.array([st[0, 0], st[1, 1], st[2, 2], st[1, 2], st[0, 2], st[0, 1]])
            out.append(
                Evaluation(
                    energy=float(mf.e_tot) * units.Hartree,
                    forces=-grad * units.Hartree / units.Bohr,
                    stress=voigt,
                    extras={"band_gap_eV": kohn_sham_gap(mf)["gap_eV"]},
                )
            )
        return out

    def calculator(self) -> Calculator:
        return _PBCCalculator(self)


def kohn_sham_gap(mf: Any) -> dict[str, Any]:
    """Kohn-Sham gaps on the SCF k-mesh (eV): ``gap_eV`` (CBM - VBM, may be indirect), ``direct_gap_eV``,
    ``vbm_eV``, ``cbm_eV`` and the k-point indices of the band edges. Spin-unrestricted: both spins."""
    e = mf.mo_energy
    occ = mf.mo_occ
    if isinstance(e, tuple) or (np.ndim(e[0]) == 2):  # KUKS: (2, nk, nmo)
        es = [np.asarray(x) for x in e]
        os_ = [np.asarray(x) for x in occ]
    else:
        es, os_ = [np.asarray(e)], [np.asarray(occ)]
    vb, cb, direct = -np.inf, np.inf, np.inf
    kv = kc = -1
    for ek_all, ok_all in zip(es, os_, strict=True):
        for k, (ek, ok) in enumerate(zip(ek_all, ok_all, strict=True)):
            v, c = ek[ok > 1e-6].max(), ek[ok <= 1e-6].min()
            direct = min(direct, c - v)
            if v > vb:
                vb, kv = v, k
            if c < cb:
                cb, kc = c, k
    h = units.Hartree
    return {
        "gap_eV": float(max(cb - vb, 0.0) * h),
        "direct_gap_eV": float(direct * h),
        "vbm_eV": float(vb * h),
        "cbm_eV": float(cb * h),
        "vbm_k_index": int(kv),
        "cbm_k_index": int(kc),
    }


class _PBCCalculator(Calculator):
    """ASE calculator on :class:`PySCFPBCEngine` (energy, forces, stress)."""

    implemented_properties = ["energy", "forces", "stress"]

    def __init__(self, engine: PySCFPBCEngine, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.engine = engine

    def calculate(
        self, atoms: Any = None, properties: Any = ("energy",), system_changes: Any = all_changes
    ) -> None:
        from mattwin.materials.identity import from_atoms

        super().calculate(atoms, properties, system_changes)
        ev = self.engine.evaluate([from_atoms(self.atoms)])[0]
        self.results.update(energy=ev.energy, forces=ev.forces, stress=ev.stress)
