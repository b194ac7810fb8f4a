"""The quantum-algorithm rung (mattwin.quantum): VQE and SQD against the exact (CASCI/FCI) energy of
the same active space, the variational check, the QPE cost estimate, the spec grammar and the cost
guard. Everything runs on the CPU emulators (ffsim, qiskit-aer, PennyLane lightning)."""

from __future__ import annotations

import pytest
from pymatgen.core import Molecule

from mattwin.engines.pyscf import PySCFEngine, parse_spec
from mattwin.errors import CostLimitError, EngineError, MemoryLimitError
from mattwin.quantum import EMULATION_NOTE, guard, rung
from mattwin.quantum.active import Reference
from mattwin.tasks.quantum_rung import quantum_rung

CHEMICAL_ACCURACY_MEH = 1.6
#: SQD of N2 (6e,6o)/6-31G at 2.0 Å, stated tolerances against CASCI. From the noisy device model's
#: samples: chemical accuracy (their spread covers the 400-determinant space). From noiseless LUCJ
#: samples no fixed figure: the LUCJ state from (collapsing) CCSD amplitudes sits on a few
#: configurations, so the subspace it samples is small and its error varies with the sampled strings
#: (8-55 mEh seen, also between machines); the test asks that it is variational and recovers part of
#: the correlation energy (error below Hartree-Fock's), nothing tuned on the observed values.
SQD_NOISY_TOL_MEH = CHEMICAL_ACCURACY_MEH


def _n2(r: float = 2.0) -> Molecule:
    return Molecule(["N", "N"], [[0, 0, 0], [0, 0, r]])


def _rows(res):
    return {r["rung"]: r for r in res.rungs}


@pytest.mark.parametrize(
    ("mol", "spec"),
    [
        (Molecule(["H", "H"], [[0, 0, 0], [0, 0, 0.74]]), "vqe(2,2)/sto-3g"),
        (Molecule(["Li", "H"], [[0, 0, 0], [0, 0, 1.6]]), "vqe(2,4)/sto-3g"),
    ],
)
def test_vqe_is_within_chemical_accuracy_of_casci_and_never_below(mol, spec):
    res = quantum_rung(mol, PySCFEngine(spec))
    assert res.reference is not None and res.reference["solver"] == "CASCI (PySCF FCI)"
    err = res.error_vs_reference_mEh
    assert err is not None and -1e-3 <= err < CHEMICAL_ACCURACY_MEH
    rows = _rows(res)
    # VQE recovers (nearly) all of the space's correlation energy (1.8 mEh in LiH (2,4), 20 in H2)
    assert rows["Hartree-Fock"]["error_mEh"] > 1.0 and err < 0.01 * rows["Hartree-Fock"]["error_mEh"]
    head = next(r for r in res.rungs if r.get("headline"))
    assert head["parameters"] > 0 and head["converged"]
    # the qubit Hamiltonian built from mattwin's integrals gives back the SCF energy on |HF>
    assert res.provenance["hf_energy_check_hartree"] == pytest.approx(res.scf_energy_hartree, abs=1e-8)
    assert res.statement == EMULATION_NOTE and "pennylane" in res.provenance["versions"]


def test_sqd_n2_stretched_66_within_tolerance_never_below_casci_with_controls():
    res = quantum_rung(_n2(), PySCFEngine("sqd(6,6)/6-31g;shots=1000;seed=1"))
    rows = _rows(res)
    exact = res.reference["energy_hartree"]
    head = rows["SQD, LUCJ samples (noiseless)"]
    assert head["headline"] and 0.0 <= head["error_mEh"] < 0.5 * rows["Hartree-Fock"]["error_mEh"]
    for name, r in rows.items():
        if name.startswith(("SQD", "selected CI")) and r["energy_hartree"] is not None:
            assert r["energy_hartree"] >= exact - 1e-6, name  # variational
    # 400 determinants: random (and noisy) samples, after configuration recovery, cover the whole
    # space and give the exact energy; the LUCJ samples alone do not (reported, not hidden)
    assert rows["SQD, uniform random samples (control)"]["error_mEh"] < 1e-3
    noisy = rows["SQD, LUCJ samples (noisy device model)"]
    assert noisy["shots"] == 1000 and 0.0 <= noisy["error_mEh"] < SQD_NOISY_TOL_MEH
    assert "loses to" in res.verdict and "uniform random" in res.verdict
    # random samples with the subspace capped at the LUCJ run's string counts: no larger
    eq = rows["SQD, uniform random samples, LUCJ subspace size (control)"]
    assert eq["strings"][0] <= head["strings"][0] and eq["strings"][1] <= head["strings"][1]
    # ... and then far worse than LUCJ: per determinant, the LUCJ samples are the better ones
    # (125 mEh vs 39 measured here); random samples win above only by covering more configurations
    assert eq["error_mEh"] > head["error_mEh"]
    # selected CI at the same subspace shape as SQD
    sci = rows["selected CI, equal determinants (control)"]
    assert sci["determinants"] == head["determinants"] and sci["strings"] == head["strings"]
    # RHF-CCSD(T) collapses below the exact energy on the stretched triple bond (not variational)
    assert rows["CCSD(T)"]["error_mEh"] < -20
    prov = res.provenance
    assert prov["sqd"]["shots"] == 1000 and prov["sqd"]["seed"] == 1
    assert prov["noise_model"]["two_qubit_depolarizing"] > 0 and prov["noise_model"]["gate_counts"]["cx"] > 0
    assert {"ffsim", "qiskit-aer", "qiskit-addon-sqd"} <= set(prov["versions"])


def test_a_variational_method_below_the_exact_energy_is_an_error(monkeypatch):
    """With a reference 10 mEh above the true FCI energy, the (correct) VQE energy falls below it:
    the check must refuse the result rather than report it."""
    real = rung.exact_reference

    def too_high(space, bond_dim, name):
        ref = real(space, bond_dim, name)
        assert ref is not None
        return Reference(ref.energy + 0.01, ref.solver, ref.kind, ref.cpu_s)

    monkeypatch.setattr(rung, "exact_reference", too_high)
    h2 = Molecule(["H", "H"], [[0, 0, 0], [0, 0, 0.74]])
    with pytest.raises(rung.VariationalViolationError, match=r"VQE \(UCCSD\) energy .* below the CASCI"):
        quantum_rung(h2, PySCFEngine("vqe(2,2)/sto-3g"))


def test_qpe_cost_of_n2_cc_pvdz_is_hundreds_to_a_thousand_logical_qubits():
    big = quantum_rung(_n2(1.1), PySCFEngine("qpe-cost(10,26)/cc-pvdz"))
    small = quantum_rung(_n2(1.1), PySCFEngine("qpe-cost(6,6)/cc-pvdz"))
    q = big.resources
    assert q is not None and small.resources is not None
    assert 200 <= q["logical_qubits"] <= 2000
    assert 1e8 < q["toffoli_gates"] < 1e11 and q["t_gates"] == 4 * q["toffoli_gates"]
    assert q["target_error_hartree"] == pytest.approx(1.6e-3)
    # a larger active space costs more qubits and more gates
    assert small.resources["logical_qubits"] < q["logical_qubits"]
    assert small.resources["toffoli_gates"] < q["toffoli_gates"]
    assert big.energy_hartree is None and "resource estimate" in big.verdict


def test_method_grammar_and_signature():
    s, _ = parse_spec("SQD(6, 6)/6-31G;shots=500;seed=3")
    assert (s.method, s.active, s.shots, s.seed) == ("sqd", (6, 6), 500, 3)
    e = PySCFEngine("sqd(6,6)/6-31g")
    assert e.model == "sqd(6,6)/6-31g;fc=1;df=0;m=200;shots=10000;seed=0;spb=300"
    assert e.signature["params"]["emulation"] == EMULATION_NOTE and "ffsim" in e.signature
    assert PySCFEngine("vqe(2,2)/sto-3g").model.startswith("vqe(2,2)/sto-3g")
    for bad, why in [
        ("sqd/6-31g", "needs an active space"),
        ("qpe-cost/cc-pvdz", "needs an active space"),
        ("sqd(6,6)/6-31g;shots=0", "shots=0 must be an integer >= 1"),
        ("sqd(6,6)/6-31g;seed=x", "seed=x must be an integer"),
        ("sqd(6,6)/6-31g;noise=1", "unknown option"),
    ]:
        with pytest.raises(EngineError, match=why):
            PySCFEngine(bad)
    h2 = Molecule(["H", "H"], [[0, 0, 0], [0, 0, 0.74]])
    with pytest.raises(EngineError, match="resource estimate, not an energy"):
        PySCFEngine("qpe-cost(2,2)/sto-3g").run(h2)
    # as an engine, vqe gives the energy of the rung (the FCI energy of H2/STO-3G at 0.74 Å)
    res = PySCFEngine("vqe(2,2)/sto-3g").run(h2)
    assert res.e_total == pytest.approx(-1.137284, abs=1e-5) and "verdict" in res.info


def test_cost_guard_refuses_before_running():
    with pytest.raises(CostLimitError, match=r"vqe\(12,12\) needs 24 qubits.*stops at 20"):
        guard.check("vqe", 12, (6, 6), "X")
    with pytest.raises(MemoryLimitError, match=r"sqd\(30,30\) needs about [\d,]+ MB \(LUCJ state vector"):
        guard.check("sqd", 30, (15, 15), "X")
    assert guard.check("sqd", 6, (3, 3), "X").memory_MB < 10
    s, _ = parse_spec("sqd(4,4)/sto-3g")
    with pytest.raises(EngineError, match=r"\(4,4\) has more electrons than the molecule \(2\)"):
        rung.precheck(Molecule(["H", "H"], [[0, 0, 0], [0, 0, 0.74]]), s, "H2")
    s, _ = parse_spec("sqd(7,6)/6-31g")
    with pytest.raises(EngineError, match="needs an even number of electrons"):
        rung.precheck(_n2(), s, "N2")
    s, _ = parse_spec("sqd(6,6)/6-31g")
    with pytest.raises(EngineError, match="closed-shell"):
        rung.precheck(Molecule(["O", "O"], [[0, 0, 0], [0, 0, 1.21]], spin_multiplicity=3), s, "O2")
    s, _ = parse_spec("sqd(6,60)/6-31g")
    with pytest.raises(EngineError, match="does not fit: 4 core \\+ 60 active orbitals"):
        rung.precheck(_n2(), s, "N2")
    # noisy sampling is cut to fit its time budget, or skipped below the minimum shot count
    assert guard.noisy_shots(1000, 100, 8)[0] == 1000
    use, est = guard.noisy_shots(10_000, 2000, 20)
    assert use == 0 and est > guard.NOISY_BUDGET_S


def test_dmrg_is_the_reference_where_fci_does_not_fit(monkeypatch):
    from mattwin.quantum import active

    monkeypatch.setattr(active, "FCI_MAX_DETERMINANTS", 1)
    lih = Molecule(["Li", "H"], [[0, 0, 0], [0, 0, 1.6]])
    res = quantum_rung(lih, PySCFEngine("vqe(2,4)/sto-3g;m=50"))
    assert res.reference is not None and res.reference["solver"] == "DMRG-CASCI (block2, M = 50)"
    assert (
        res.provenance["variational_tolerance_mEh"] == pytest.approx(0.1)
        and "block2" in res.provenance["versions"]
    )
    assert abs(res.error_vs_reference_mEh) < 0.1  # DMRG is exact in this 16-determinant space
