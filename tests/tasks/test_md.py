"""MD of EMT copper (cheap, analytic) against known behaviour: NVE conserves energy, a crystal's MSD
stays bounded, a liquid diffuses, the MTK barostat finds the equilibrium volume of a triclinic cell;
a SIGKILLed run resumes from its checkpoint and continues exactly; lockstep replicas give the
one-by-one answers; an ensemble whose members disagree stops the run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from typing import Any

import numpy as np
import pytest
from ase.build import bulk
from pymatgen.core import Structure

from mattwin.analysis import diffusion as dif
from mattwin.engines.emt import EMTEngine
from mattwin.engines.ensemble import EnsembleEngine
from mattwin.errors import MDError
from mattwin.materials.identity import from_atoms
from mattwin.runtime.jobs import Job
from mattwin.runtime.runner import run_jobs
from mattwin.store import Store
from mattwin.tasks.md import md
from mattwin.tasks.md_batch import md_batch
from mattwin.tasks.md_state import load_checkpoint, read_trajectory

EMT = EMTEngine()


def _cu(a: float = 3.61, n: int = 2, cubic: bool = True) -> Structure:
    return from_atoms(bulk("Cu", "fcc", a=a, cubic=cubic).repeat(n))


def test_nve_conserves_energy(tmp_path):
    r = md(_cu(), EMT, ensemble="nve", temperature_K=600, steps=1000, timestep_fs=2.0, workdir=tmp_path)
    traj = read_trajectory(tmp_path / "trajectory.extxyz")
    e_tot = (traj.info["epot_eV"] + traj.info["ekin_eV"]) / r.n_atoms
    # velocity Verlet at 2 fs: no drift and fluctuations far below kT (52 meV at 600 K)
    assert abs(r.conserved_drift_meV_per_atom_per_ps) < 0.2  # type: ignore[arg-type]
    assert np.ptp(e_tot) < 2e-3  # eV/atom
    assert 150 < r.mean_temperature_K < 450  # equipartition halves the initial 600 K


def test_crystal_msd_stays_bounded_and_liquid_diffuses(tmp_path):
    solid = md(_cu(), EMT, temperature_K=300, steps=1500, workdir=tmp_path / "s")
    traj = read_trajectory(tmp_path / "s" / "trajectory.extxyz")
    u = dif.unwrap(traj.positions, traj.cells)
    assert dif.msd(u)[1:].max() < 0.08  # Å^2: thermal vibration only (<u^2> ~ 0.015 Å^2 at 300 K)
    fit = dif.diffusion_coefficient(u, solid.frame_interval_ps)
    assert fit.D_cm2_s < 2e-7

    # a liquid: the disordered copper at 2500 K (EMT Cu melts near 1300 K)
    atoms = bulk("Cu", "fcc", a=3.70, cubic=True).repeat(2)
    atoms.rattle(0.35, seed=2)
    liquid = md(from_atoms(atoms), EMT, temperature_K=2500, steps=1500, workdir=tmp_path / "l")
    traj = read_trajectory(tmp_path / "l" / "trajectory.extxyz")
    u = dif.unwrap(traj.positions, traj.cells)[15:]
    fit = dif.diffusion_coefficient(u, liquid.frame_interval_ps)
    assert fit.D_cm2_s > 3 * fit.D_err_cm2_s  # significantly positive
    assert 1e-5 < fit.D_cm2_s < 1e-3  # liquid metals: 1e-5 to 1e-4 cm^2/s


def test_npt_barostat_expands_a_compressed_triclinic_cell(tmp_path):
    from ase.filters import FrechetCellFilter
    from ase.optimize import BFGS

    ref = bulk("Cu", "fcc", a=3.61)
    ref.calc = EMT.calculator()
    BFGS(FrechetCellFilter(ref), logfile=None).run(fmax=1e-3)
    v0 = ref.get_volume()  # EMT's 0 K volume per atom
    s = _cu(a=3.50, n=3, cubic=False)  # primitive fcc cell: triclinic, 60 degree angles
    r = md(s, EMT, ensemble="npt", temperature_K=300, steps=2000, timestep_fs=2.0, workdir=tmp_path)
    traj = read_trajectory(tmp_path / "trajectory.extxyz")
    v = traj.info["volume_A3"] / len(s)
    assert v[0] < 0.94 * v0  # started 7 % compressed
    assert np.mean(v[len(v) // 2 :]) == pytest.approx(v0, rel=0.03)  # relaxed to about the equilibrium
    assert r.pressure_GPa == 0.0 and r.std_volume_A3 > 0
    angles = Structure(traj.cells[-1], ["Cu"], [[0, 0, 0]]).lattice.angles
    assert np.allclose(angles, 60.0, atol=4.0)  # still the triclinic primitive cell


_KILL_SCRIPT = """
import sys
from ase.build import bulk
from mattwin.materials.identity import from_atoms
from mattwin.runtime.jobs import Job
from mattwin.runtime.runner import run_jobs
from mattwin.store import Store
s = from_atoms(bulk("Cu", "fcc", a=3.61, cubic=True).repeat(2))
params = {"ensemble": "nve", "temperature_K": 800.0, "steps": 1500, "sample_every": 10}
run_jobs([Job("md", s, "emt", params)], Store(sys.argv[1]))
"""


def _job() -> Job:
    params = {"ensemble": "nve", "temperature_K": 800.0, "steps": 1500, "sample_every": 10}
    return Job("md", _cu(), "emt", params)


def test_run_killed_with_sigkill_resumes_and_continues_exactly(tmp_path):
    db = tmp_path / "md.db"
    store = Store(str(db))
    workdir = store.runs_dir / _job().key
    proc = subprocess.Popen([sys.executable, "-c", _KILL_SCRIPT, str(db)], stderr=subprocess.PIPE)
    deadline = time.time() + 300
    while time.time() < deadline and proc.poll() is None:
        ck = load_checkpoint(workdir) if (workdir / "checkpoint.npz").exists() else None
        if ck is not None and ck.step >= 300:
            break
        time.sleep(0.2)
    assert proc.poll() is None, "the run finished before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    before = read_trajectory(workdir / "trajectory.extxyz")
    assert 30 <= before.n_frames < 150 and store.lookup(_job().key) is None

    out = run_jobs([_job()], store)[0]
    assert out.ok, out.error
    res: dict[str, Any] = out.result  # type: ignore[assignment]
    assert res["steps_done"] == 1500 and res["resumed_from_step"] >= 300
    after = read_trajectory(workdir / "trajectory.extxyz")
    assert after.n_frames == 151 and np.array_equal(after.info["step"], np.arange(0, 1501, 10))
    kept = before.n_frames - 1  # the last frame may have been written after the last checkpoint
    assert np.array_equal(after.positions[:kept], before.positions[:kept])
    # the continuation is the uninterrupted run (velocity Verlet is deterministic)
    fresh = Store(str(tmp_path / "fresh.db"))
    assert run_jobs([_job()], fresh)[0].ok
    whole = read_trajectory(fresh.runs_dir / _job().key / "trajectory.extxyz")
    assert np.allclose(whole.positions, after.positions, atol=1e-7)


def test_lockstep_replicas_give_the_one_by_one_answers_with_one_call_per_step(tmp_path):
    temps = (300.0, 700.0, 1100.0)
    jobs = [Job("md", _cu(), "emt", {"temperature_K": t, "steps": 100, "ensemble": "nvt"}) for t in temps]
    together = run_jobs(jobs, Store(str(tmp_path / "a.db")), batch=True)
    alone = run_jobs(jobs, Store(str(tmp_path / "b.db")), batch=False)
    for x, y in zip(together, alone, strict=True):
        assert x.ok and y.ok
        assert x.result["mean_total_energy_eV_per_atom"] == pytest.approx(  # type: ignore[index]
            y.result["mean_total_energy_eV_per_atom"],
            abs=1e-9,  # type: ignore[index]
        )
    stats: dict[str, float] = {}
    params = [{"temperature_K": t, "steps": 50 + 25 * i} for i, t in enumerate(temps)]
    results = list(md_batch([_cu()] * 3, EMT, params, [tmp_path / f"r{i}" for i in range(3)], stats=stats))
    assert sorted(r[0] for r in results) == [0, 1, 2] and all(
        not isinstance(r[1], Exception) for r in results
    )
    assert stats["model_calls"] == 101  # the initial forces plus one call per step of the longest run


class _SofterEMT(EMTEngine):
    """EMT with forces scaled by 0.7: a second 'model' that disagrees with EMT by 30 % of the force."""

    name = "emt-soft"

    @property
    def signature(self) -> dict[str, Any]:
        return {**super().signature, "model": "EMT x0.7"}

    def evaluate(self, structures):  # type: ignore[no-untyped-def]
        from dataclasses import replace

        return [replace(ev, forces=0.7 * ev.forces) for ev in super().evaluate(structures)]


def test_ensemble_spread_above_the_threshold_stops_the_run(tmp_path):
    ens = EnsembleEngine([EMTEngine(), _SofterEMT()])
    stopped = md(_cu(), ens, temperature_K=600, steps=400, trust_force_std_eV_A=0.08, workdir=tmp_path / "a")
    assert stopped.stopped_untrusted and stopped.steps_done < 400
    assert stopped.force_std_max_eV_A > 0.08 and stopped.n_untrusted_frames >= 1  # type: ignore[operator]
    flagged = md(
        _cu(),
        ens,
        temperature_K=600,
        steps=400,
        trust_force_std_eV_A=0.08,
        trust_action="flag",
        workdir=tmp_path / "b",
    )
    assert not flagged.stopped_untrusted and flagged.steps_done == 400 and flagged.n_untrusted_frames >= 1
    calm = md(_cu(), ens, temperature_K=600, steps=100, workdir=tmp_path / "c")  # default threshold 0.5 eV/Å
    assert not calm.stopped_untrusted and 0 < calm.force_std_mean_eV_A < 0.5  # type: ignore[operator]


def test_real_ensemble_records_the_member_force_spread(tmp_path):
    si = Structure.from_spacegroup("Fd-3m", [[5.43, 0, 0], [0, 5.43, 0], [0, 0, 5.43]], ["Si"], [[0, 0, 0]])
    ens = EnsembleEngine(["chgnet", "sevenn:7net-0"])
    r = md(si, ens, temperature_K=300, steps=20, sample_every=5, workdir=tmp_path)
    # near equilibrium CHGNet and SevenNet-0 agree on Si forces to well under 0.2 eV/Å, but not exactly
    assert 0 < r.force_std_mean_eV_A < 0.2 and not r.stopped_untrusted  # type: ignore[operator]
    assert [m["engine"] for m in r.engine_signature["members"]] == ["chgnet", "sevenn"]


def test_bad_settings_raise_a_typed_error_naming_the_input():
    with pytest.raises(MDError, match="ensemble 'nxt'"):
        md(_cu(), EMT, ensemble="nxt", steps=10)
    with pytest.raises(MDError, match="timestep"):
        md(_cu(), EMT, timestep_fs=50.0, steps=10)
