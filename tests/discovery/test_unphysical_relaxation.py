"""A relaxation that ends with atoms pushed into each other (a random start the optimiser could not
untangle) is a failed candidate, not a ranked one: the tiny Li-Na-Cl campaign once ranked a NaLiCl2 with
Cl-Cl at 1.00 Å and ΔHf = +8.9 eV/atom as "ok"."""

from __future__ import annotations

from pymatgen.core import Lattice, Structure

from mattwin.discovery.stages.screen import _unphysical_as_failed
from mattwin.materials.checks import relaxed_structure_problem
from mattwin.runtime.jobs import Job, Outcome


def _squeezed_nacl() -> Structure:
    """Rock-salt NaCl with a second Cl 1.0 Å from the first (Cl2 bonds are 1.99 Å)."""
    s = Structure.from_spacegroup("Fm-3m", Lattice.cubic(5.64), ["Na", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    s.append("Cl", [0.5 + 1.0 / 5.64, 0.5, 0.5])
    return s


def test_real_bonds_pass_and_squeezed_atoms_are_named():
    nacl = Structure.from_spacegroup("Fm-3m", Lattice.cubic(5.64), ["Na", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    assert relaxed_structure_problem(nacl) is None
    # the shortest real bonds: N≡N 1.10 Å in solid nitrogen, O-H 0.97 Å
    n2 = Structure(Lattice.cubic(5.66), ["N", "N"], [[0, 0, 0], [1.10 / 5.66, 0, 0]])
    assert relaxed_structure_problem(n2) is None
    problem = relaxed_structure_problem(_squeezed_nacl())
    assert problem is not None and "Cl-Cl at 1.00 Å" in problem
    collapsed = Structure(Lattice.cubic(1.2), ["Li"], [[0, 0, 0]])
    assert "collapsed" in (relaxed_structure_problem(collapsed) or "")


def test_a_squeezed_relaxation_counts_as_failed_and_a_sound_one_is_kept():
    s = _squeezed_nacl()
    job = Job("relax", s, "emt", {"fmax": 0.05, "max_steps": 100, "relax_cell": True}, label="candidate 0")
    done = Outcome(
        job, job.key, "done", {"structure": s.as_dict(), "energy_per_atom_eV": 5.0}, None, None, False, 1.0
    )
    out = _unphysical_as_failed(done)
    assert not out.ok and out.error_type == "UnphysicalStructureError"
    assert "unphysical structure" in (out.error or "") and "Cl-Cl" in (out.error or "")
    sound = Structure.from_spacegroup(
        "Fm-3m", Lattice.cubic(5.64), ["Na", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]]
    )
    kept = Outcome(job, job.key, "done", {"structure": sound.as_dict()}, None, None, False, 1.0)
    assert _unphysical_as_failed(kept) is kept
