"""The ``[escalate]`` table of a campaign: which rungs of the ladder its best candidates climb, how
many candidates, and the CPU budget.

    [escalate]
    rungs = ["ensemble", "phonons"]   # default: chosen (ensemble when the engine is a single model,
                                      # phonons, and the application's property rung)
    application = "structural"        # ionic_conductor | structural | semiconductor (property rung)
    top = 5                           # the decision: the top N by P(stable)
    budget_cpu_h = 1.0                # all rungs together, CPU-hours
    rung_cap_cpu_h = 0.5              # at most this per rung (optional)
    policy = "value"                  # value (cost-aware) or all (every rung on every top candidate)
    md_ps = 2.0                       # the diffusion rung's MD length per temperature, ps
    correlation_auto = false          # add the correlation rung (it applies to transition-metal sites)
    correlation_basis = "def2-svp"    # the correlation rung's basis (CCSD on the cluster model)
    dft = "pyscf-pbc:pbe/gth-dzvp-molopt-sr;k=2;ke=80"  # the band_gap rung's periodic DFT engine
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

from mattwin.errors import CampaignError

#: rung -> what it computes
RUNGS: dict[str, str] = {
    "ensemble": "re-relaxation with the other ensemble members (SevenNet-0, SevenNet-l3i5): E_hull spread",
    "phonons": "harmonic phonons: dynamic stability (imaginary modes)",
    "elastic": "elastic tensor and moduli (structural materials)",
    "diffusion": "NVT MD at two temperatures: carrier D, Arrhenius Ea, 300 K conductivity (ionic conductors)",
    "correlation": "multireference diagnostics on an embedded cluster around a transition-metal site "
    "(CCSD T1/D1 for d0/d10; UHF <S²>, UHF and UMP2 natural occupations for an open d shell, high spin)",
    "band_gap": "periodic Kohn-Sham DFT band gap of the primitive cell (PySCF PBC; semiconductors)",
}
#: application -> its property rung
APPLICATIONS: dict[str, str] = {
    "structural": "elastic",
    "ionic_conductor": "diffusion",
    "semiconductor": "band_gap",
}
#: the band_gap rung's engine: PBE, CP2K's MOLOPT short-range double-zeta-polarised GTH basis (it covers the
#: transition metals; PySCF's gth-dzvp has no Zn, Cd, Fe, Cu, ...), 2x2x2 k-mesh with Gamma, an 80 Hartree
#: density grid. Measured on primitive cells: NaCl gap 4.92 eV (117 s), zinc-blende ZnS 1.95 eV (90 s)
#: (Materials Project PBE: 5.0 and 2.0; measured 8.5 and 3.7)
DEFAULT_DFT = "pyscf-pbc:pbe/gth-dzvp-molopt-sr;k=2;ke=80"
POLICIES = ("value", "all")


@dataclass(frozen=True)
class EscalateConfig:
    """See the module docstring. ``rungs`` empty: chosen from the engine and the application."""

    rungs: tuple[str, ...] = ()
    application: str = ""
    top: int = 5
    budget_cpu_h: float = 1.0
    rung_cap_cpu_h: float | None = None
    policy: str = "value"
    md_ps: float = 2.0
    correlation_auto: bool = False
    correlation_basis: str = "def2-svp"
    dft: str = DEFAULT_DFT

    def __post_init__(self) -> None:
        if isinstance(self.rungs, list):
            object.__setattr__(self, "rungs", tuple(self.rungs))
        if not isinstance(self.rungs, tuple) or not all(isinstance(r, str) for r in self.rungs):
            raise CampaignError(f'escalate: rungs = {self.rungs!r} must be a list of names, e.g. ["phonons"]')
        unknown = [r for r in self.rungs if r not in RUNGS]
        if unknown:
            raise CampaignError(
                f"escalate: unknown rung {', '.join(map(repr, unknown))}; known: {', '.join(RUNGS)}"
            )
        if self.application and self.application not in APPLICATIONS:
            raise CampaignError(
                f"escalate: unknown application (target) {self.application!r}; "
                f"known: {', '.join(APPLICATIONS)}"
            )
        if self.policy not in POLICIES:
            raise CampaignError(f"escalate: policy {self.policy!r} is not one of {', '.join(POLICIES)}")
        if isinstance(self.top, bool) or not isinstance(self.top, int) or self.top < 1:
            raise CampaignError(f"escalate: top = {self.top!r} must be a whole number of at least 1")
        md = self.md_ps
        if (
            isinstance(md, bool)
            or not isinstance(md, int | float)
            or not math.isfinite(md)
            or not 0 < md <= 1000
        ):
            raise CampaignError(f"escalate: md_ps = {md!r} must be a positive MD length in ps (at most 1000)")
        if not isinstance(self.correlation_auto, bool):
            raise CampaignError(
                f"escalate: correlation_auto = {self.correlation_auto!r} must be true or false"
            )
        _check_basis(self.correlation_basis)
        _check_dft(self.dft)
        for key in ("budget_cpu_h", "rung_cap_cpu_h"):
            v = getattr(self, key)
            if v is None and key == "rung_cap_cpu_h":
                continue
            if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v) or v <= 0:
                raise CampaignError(f"escalate: {key} = {v!r} must be a positive number of CPU-hours")

    def resolved_rungs(self, engine: str) -> list[str]:
        """The rungs in ladder order: as named, or ensemble (single-model engine), phonons and the
        application's property rung."""
        if self.rungs:
            return [r for r in RUNGS if r in self.rungs]
        out = [] if engine == "ensemble" else ["ensemble"]
        out.append("phonons")
        if self.application:
            out.append(APPLICATIONS[self.application])
        if self.correlation_auto:
            out.append("correlation")
        return out

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["rungs"] = list(self.rungs)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> EscalateConfig:
        if not isinstance(d, dict):
            raise CampaignError(f"[escalate] must be a table of keys, not {d!r}")
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(d) - known)
        if unknown:
            raise CampaignError(
                f"escalate: unknown keys {', '.join(unknown)}; known: {', '.join(sorted(known))}"
            )
        return cls(**d)


def _check_basis(basis: object) -> None:
    """A basis set name PySCF knows (checked on O, which every basis of the rung must have)."""
    if not isinstance(basis, str) or not basis.strip():
        raise CampaignError(
            f"escalate: correlation_basis = {basis!r} must be a basis set name, e.g. def2-svp"
        )
    import warnings

    from pyscf.gto import basis as pyscf_basis

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pyscf_basis.load(basis.strip().lower(), "O")
    except (KeyError, RuntimeError, ValueError, OSError):
        raise CampaignError(
            f"escalate: correlation_basis = {basis!r} is not a basis set PySCF knows; e.g. def2-svp"
        ) from None


def _check_dft(spec: object) -> None:
    """A periodic DFT engine spec (``pyscf-pbc:XC/BASIS[;k=N][;ke=HARTREE]``) the engine accepts."""
    from mattwin.errors import EngineError

    if not isinstance(spec, str) or not spec.strip().lower().startswith("pyscf-pbc:"):
        raise CampaignError(
            f"escalate: dft = {spec!r} must be a periodic DFT engine, pyscf-pbc:XC/BASIS;k=N "
            f"(e.g. {DEFAULT_DFT})"
        )
    from mattwin.engines.pyscf_pbc import parse_pbc_spec

    try:
        parse_pbc_spec(spec.split(":", 1)[1])
    except EngineError as exc:
        raise CampaignError(f"escalate: dft = {spec!r}: {exc}") from None


def with_escalation(
    config: Any, rungs: list[str] | None, top: int | None = None, budget_cpu_h: float | None = None
) -> Any:
    """``config`` (a CampaignConfig) with its ``[escalate]`` settings overridden by CLI flags (None: kept)."""
    if not rungs and top is None and budget_cpu_h is None:
        return config
    base = config.escalate.to_dict() if config.escalate is not None else {}
    changes = {"rungs": tuple(rungs) if rungs else None, "top": top, "budget_cpu_h": budget_cpu_h}
    base.update({k: v for k, v in changes.items() if v is not None})
    return config.replace(escalate=EscalateConfig.from_dict(base))
