"""The fidelity ladder: MLIPs, analytic potentials, later tight binding, DFT and wavefunction methods."""

from mattwin.engines.base import Engine, Evaluation, signature_key
from mattwin.engines.registry import available_engines, get_engine, member_specs

__all__ = ["Engine", "Evaluation", "available_engines", "get_engine", "member_specs", "signature_key"]
