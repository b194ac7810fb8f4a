"""Complete-basis-set extrapolation (pure functions; energies in any one unit).

Correlation energies follow E_X = E_CBS + A X^-3 (Helgaker, Klopper, Koch, Noga, J. Chem. Phys. 106,
9639 (1997)); two basis sets with cardinal numbers X < Y give
E_CBS = (Y^3 E_Y - X^3 E_X) / (Y^3 - X^3). Hartree-Fock energies converge exponentially and are
taken from the larger basis (or extrapolated with Karton & Martin's X^-5 form if asked).
"""

from __future__ import annotations

import re

_ZETA = {"d": 2, "t": 3, "q": 4, "5": 5, "6": 6}


def cardinal_number(basis: str) -> int:
    """Cardinal number X of a correlation-consistent or Karlsruhe basis: cc-pVDZ 2, aug-cc-pVTZ 3,
    cc-pwCVQZ 4, def2-SVP 2, def2-TZVP(P) 3, def2-QZVP(P) 4. Raises ValueError for other names."""
    b = basis.lower().replace("_", "-")
    m = re.search(r"cc-p(?:w?c)?v([dtq56])z", b)
    if m:
        return _ZETA[m.group(1)]
    m = re.match(r"(?:ma-)?def2-([stq])z?vp", b) or re.match(r"(?:ma-)?def2-(s)v", b)
    if m:
        return {"s": 2, "t": 3, "q": 4}[m.group(1)]
    raise ValueError(f"basis {basis!r}: no cardinal number known (use cc-pVXZ or def2 basis sets for CBS)")


def extrapolate_correlation(e_small: float, e_large: float, x: int, y: int, power: float = 3.0) -> float:
    """Two-point X^-power extrapolation of correlation energies from cardinal numbers x < y."""
    if not y > x:
        raise ValueError(f"CBS extrapolation needs two different cardinal numbers, got {x} and {y}")
    return (y**power * e_large - x**power * e_small) / (y**power - x**power)


def extrapolate_hf(e_small: float, e_large: float, x: int, y: int, karton_martin: bool = False) -> float:
    """HF limit: the larger basis (default) or Karton-Martin E_X = E_CBS + A (X+1) exp(-9 sqrt(X))."""
    if not karton_martin:
        return e_large
    import math

    fx = (x + 1) * math.exp(-9 * math.sqrt(x))
    fy = (y + 1) * math.exp(-9 * math.sqrt(y))
    return (e_large * fx - e_small * fy) / (fx - fy)
