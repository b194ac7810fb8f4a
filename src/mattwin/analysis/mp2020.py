"""pymatgen's MaterialsProject2020Compatibility applied to an engine's energy of a relaxed structure.

Which engines need it was measured (``benchmarks/bench_formation_enthalpy.py``, 548 compounds against
experiment): SevenNet-0 and SevenNet-l3i5 predict uncorrected GGA/GGA+U energies (formation-enthalpy
MAE 0.27 eV/atom raw, 0.13 with MP2020), whereas CHGNet 0.3.0 predicts MP2020-corrected ones (0.14 raw,
0.31 when MP2020 is applied a second time). Engines say so with ``Engine.mp2020_corrected``; the hull
puts every engine on the corrected scale, so that the members of an ensemble agree with each other.
U metals in oxides and fluorides are treated as GGA+U with MP's U values; POTCAR checks are off.
"""

from __future__ import annotations

import warnings
from functools import lru_cache
from typing import Any

from pymatgen.core import Structure

from mattwin.analysis.chemistry import U_METALS, anion


@lru_cache(maxsize=1)
def _compat() -> Any:
    from pymatgen.entries.compatibility import MaterialsProject2020Compatibility

    return MaterialsProject2020Compatibility(check_potcar=False)


def mp2020_correction(structure: Structure, energy_per_atom: float) -> float | None:
    """The MP2020 correction (eV/atom) of ``energy_per_atom`` for ``structure``; None when the scheme
    rejects the entry (it then has no corrected energy); 0 for elements."""
    from pymatgen.entries.computed_entries import ComputedStructureEntry

    compat = _compat()
    symbols = {e.symbol for e in structure.composition.elements}
    a = anion(structure.composition)
    u_on = a in ("O", "F") and bool(symbols & set(U_METALS))
    u_table = compat.u_settings.get(a, {}) if u_on else {}
    params = {
        "run_type": "GGA+U" if u_on else "GGA",
        "hubbards": {el: float(u_table.get(el, 0.0)) for el in symbols} if u_on else {},
    }
    entry = ComputedStructureEntry(structure, energy_per_atom * len(structure), parameters=params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            processed = compat.process_entry(entry)
        except Exception:  # noqa: BLE001 - pymatgen raises CompatibilityError and others
            return None
    return None if processed is None else float(processed.correction_per_atom)
