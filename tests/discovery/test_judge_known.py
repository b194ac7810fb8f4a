"""The judge stage's use of experiment for known compounds: a candidate polymorph of a composition whose
experimentally stable structure is a reference lies at or above it (truncated-normal estimate within
the engine's polymorph error), a relaxed copy of the known structure is left alone, and a polymorph far
below the known phase is named a likely engine artefact."""

from __future__ import annotations

import numpy as np
import pytest
from pymatgen.core import Lattice, Structure

from mattwin.analysis.hull import PhaseEnergy
from mattwin.discovery.references import ReferencePhase
from mattwin.discovery.results import RankedCandidate
from mattwin.discovery.stages.judge import (
    ReferenceFits,
    _known_polymorphs,
    _mark_relaxed_duplicates,
    _truncated_normal,
)
from mattwin.discovery.stages.state import Candidate
from mattwin.runtime.jobs import Job, Outcome


def _outcome(s: Structure, e: float) -> Outcome:
    job = Job("relax", s, "chgnet")
    result = {"structure": s.as_dict(), "energy_per_atom_eV": e}
    return Outcome(job, job.material_id, "done", result, None, None, False, 0.0)


def test_truncated_normal_is_the_constrained_estimate():
    sigma = 0.025
    mean0, var0 = _truncated_normal(0.0, sigma)
    assert mean0 == pytest.approx(sigma * np.sqrt(2 / np.pi))  # half-normal mean
    assert var0 == pytest.approx(sigma**2 * (1 - 2 / np.pi))
    far, _ = _truncated_normal(0.2, sigma)
    assert far == pytest.approx(0.2, abs=1e-6)  # far above: the engine's own difference
    below, _ = _truncated_normal(-0.3, sigma)  # far below: pushed to just above zero, never below
    assert 0.0 < below < 0.005
    assert _truncated_normal(-0.003, sigma)[0] > 0.01


def _nacl_polymorphs() -> tuple[Structure, Structure, Structure, Structure]:
    """Rock salt, CsCl-type, 1 %-strained rock salt and a wurtzite-like NaCl."""
    rocksalt = Structure.from_spacegroup(
        "Fm-3m", Lattice.cubic(5.64), ["Na", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]]
    )
    cscl = Structure(Lattice.cubic(3.4), ["Na", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    strained = rocksalt.copy()
    strained.apply_strain(0.01)
    wurtzite_like = Structure(
        Lattice.hexagonal(4.2, 6.8),
        ["Na", "Na", "Cl", "Cl"],
        [[1 / 3, 2 / 3, 0], [2 / 3, 1 / 3, 0.5], [1 / 3, 2 / 3, 0.38], [2 / 3, 1 / 3, 0.88]],
    )
    return rocksalt, cscl, strained, wurtzite_like


def test_candidate_polymorphs_of_a_known_stable_compound():
    rocksalt, cscl, strained, wurtzite_like = _nacl_polymorphs()
    ref = ReferencePhase("NaCl rock salt", rocksalt, "measured structure (test)")
    meta = ReferencePhase("NaCl other", cscl.copy(), "test", polymorph_note="metastable polymorph")
    e_known = -3.0
    cands = [
        Candidate(cscl, "t", "random", 1.0),
        Candidate(strained, "t", "random", 1.0),
        Candidate(wurtzite_like, "t", "random", 1.0),
    ]
    energies = [e_known - 0.003, e_known - 0.0005, e_known - 0.2]
    ref_out = [_outcome(rocksalt, e_known)]
    cand_out = [_outcome(c.structure, e) for c, e in zip(cands, energies, strict=True)]
    phases = [
        PhaseEnergy(o.job.material_id, "NaCl", rocksalt.composition, e_known, "reference") for o in ref_out
    ]
    phases += [
        PhaseEnergy(c.key, "NaCl", c.structure.composition, e, "candidate")
        for c, e in zip(cands, energies, strict=True)
    ]
    notes: dict[str, str] = {}
    out, spreads = _known_polymorphs(phases, {}, [ref], ref_out, cands, cand_out, 0.025, notes)
    by_key = {p.key: p.energy_per_atom for p in out}
    near, copy, deep = (c.key for c in cands)
    assert by_key[near] - e_known == pytest.approx(_truncated_normal(-0.003, 0.025)[0])
    assert by_key[near] > e_known + 0.01 and spreads[near] > 0
    assert by_key[copy] == pytest.approx(e_known - 0.0005)  # the known structure itself: unchanged
    assert copy not in notes
    assert e_known < by_key[deep] < e_known + 0.005
    assert "likely an engine artefact" in notes[deep] and "artefact" not in notes[near]
    # a reference marked metastable is not the stable form: nothing changes
    untouched, _ = _known_polymorphs(phases, {}, [meta], ref_out, cands, cand_out, 0.025, {})
    assert [p.energy_per_atom for p in untouched] == [p.energy_per_atom for p in phases]


class _CountingFits(ReferenceFits):
    def __init__(self) -> None:
        super().__init__()
        self.calls: list[tuple[int, int]] = []
        fit = self.matcher.fit

        def counted(a: Structure, b: Structure, **kw: object) -> bool:
            self.calls.append((len(a), len(b)))
            return bool(fit(a, b, **kw))

        self.matcher.fit = counted  # type: ignore[method-assign]


def test_known_phase_match_is_made_once_for_the_rule_and_the_duplicate_marking():
    """The relaxed-duplicate marking reuses the known-polymorph rule's candidate-vs-known-phase fits
    and names the same duplicates as with fresh fits."""
    rocksalt, cscl, strained, _ = _nacl_polymorphs()
    ref = ReferencePhase("NaCl rock salt", rocksalt, "measured structure (test)")
    cands = [Candidate(strained, "t", "random", 1.0), Candidate(cscl, "t", "random", 1.0)]
    energies = [-3.0005, -2.9]
    ref_out = [_outcome(rocksalt, -3.0)]
    cand_out = [_outcome(c.structure, e) for c, e in zip(cands, energies, strict=True)]
    phases = [PhaseEnergy(ref_out[0].job.material_id, "NaCl", rocksalt.composition, -3.0, "reference")]
    phases += [
        PhaseEnergy(c.key, "NaCl", c.structure.composition, e, "candidate")
        for c, e in zip(cands, energies, strict=True)
    ]
    ranked = [
        RankedCandidate(0, c.key, "NaCl", "random", "ok", len(c.structure), structure=c.structure.as_dict())
        for c in cands
    ]
    fits = _CountingFits()
    _known_polymorphs(phases, {}, [ref], ref_out, cands, cand_out, 0.025, {}, fits)
    assert len(fits.calls) == 2  # each candidate against the known rock salt
    shared = _mark_relaxed_duplicates(ranked, [ref], ref_out, fits)
    assert len(fits.calls) == 2  # both asked again of the rock salt: no new fit
    fresh = _mark_relaxed_duplicates(ranked, [ref], ref_out)
    assert [c.duplicate_of for c in shared] == [c.duplicate_of for c in fresh]
    assert [c.duplicate_of for c in shared] == ["reference NaCl rock salt", None]
