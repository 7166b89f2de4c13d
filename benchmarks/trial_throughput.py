"""Trial throughput: patients per second per core, and the ratios between executors.

    python benchmarks/trial_throughput.py               # 10,000 patients x 2 arms x 6 weeks
    python benchmarks/trial_throughput.py --patients 500

Measures, in one run, on examples/ketamine_trial.toml (twice-weekly ketamine vs saline,
6 weeks):

(a) a bare libRoadRunner loop on the same SBML (resetAll → set the same per-patient
    parameters → reset → simulate), serial;
(b) raadsim serial (sampling, simulation, endpoints, streamed bands);
(c) raadsim on a process pool using all cores;
(d) raadsim on a Dask LocalCluster using all cores (skipped without the dask extra);
and, to separate raadsim's parallel overhead from the machine's, (a) on every core at once;
(e) the accuracy of (a) and (b): the largest model-MADRS error of any patient at any output
    time against rtol 1e-10 / atol 1e-12, over ``--accuracy-patients`` per arm;
(f) the bound exact sharing puts on (b) / (a): the bare loop's time over the time of what is
    not shared (distinct ODE-parameter sets, each after a shared drug-free prefix).

The last line reads ``speed vs bare loop: R x; max MADRS error: E (raadsim), E0 (bare);
parallel efficiency: P``.

(a) and (b) run, alternately and ``--repeats`` times (median used), on a subset of patients
(``--serial-patients``, default 400 per arm) to keep the benchmark short; (c) and (d) run the
full trial. Peak memory (max RSS of a worker process) is printed for (c) at n/4 and n patients
to show it does not grow with n.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import resource
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
TRIAL = ROOT / "examples" / "ketamine_trial.toml"


def load(n: int):
    from raadsim.io.trial_file import load_trial

    tf = load_trial(TRIAL)
    cat = tf.catalogue()
    return tf.model_copy(update={"population": tf.population.model_copy(update={"n": n})}), cat


@dataclass
class BareJob:
    """One arm as the bare loop runs it: a plain RoadRunner on the arm's SBML and every
    patient's parameter values."""

    arm: object  # raadsim.simulate.trial.ArmModel
    rr: object  # roadrunner.RoadRunner
    patients: list
    params: list[dict[str, float]]
    grid: list[float]
    selections: list[str]


def bare_jobs(n: int) -> list[BareJob]:
    """The bare loop's inputs for n patients per arm (same SBML, tolerances and patients)."""
    import roadrunner

    from raadsim.simulate.population import PopulationModel, patient_parameters
    from raadsim.simulate.simulator import sbml_of
    from raadsim.simulate.trial import prepare_arms

    tf, cat = load(n)
    pop = PopulationModel.from_spec(tf.population)
    jobs = []
    for arm in prepare_arms(tf, cat):
        rr = roadrunner.RoadRunner(sbml_of(arm.spec))
        rr.integrator.relative_tolerance = 1e-6
        rr.integrator.absolute_tolerance = 1e-8
        base = {k: v.value for k, v in arm.spec.params.items()}
        patients = [pop.patient(arm.stream, i, len(arm.visit_rows)) for i in range(n)]
        params = [patient_parameters(p, base, arm.spec.weight_exponents, arm.spec.per_kg_inputs,
                                     arm.build_weight, arm.spec.covariate_rules)
                  for p in patients]
        jobs.append(BareJob(arm, rr, patients, params, [0.0, *(arm.times_h - arm.spec.t_start)],
                            ["time", *(arm.spec.observables[o].var for o in arm.observables)]))
    return jobs


def _bare_runs(job: BareJob, times: list[float], selections: list[str]):
    """Every patient of ``job`` through resetAll → set values → reset → simulate."""
    rr = job.rr
    for p in job.params:
        rr.resetAll()
        for k, v in p.items():
            rr.setValue(k, v)
        rr.reset()
        yield rr.simulate(times=times, selections=selections)


def bare_loop(n: int, keep: bool = False):
    """Seconds for n patients per arm with a plain roadrunner loop (same SBML and inputs);
    with ``keep``, also the model MADRS of every patient (arm -> patients x times)."""
    from raadsim.simulate.engines import quiet_solver

    jobs = bare_jobs(n)
    madrs: dict[str, list[np.ndarray]] = {}
    t0 = time.perf_counter()
    with quiet_solver():
        for job in jobs:
            for out in _bare_runs(job, job.grid, job.selections):
                if keep:  # column 1: clinic.madrs (the arm's first observable)
                    madrs.setdefault(job.arm.name, []).append(np.asarray(out)[1:, 1])
    elapsed = time.perf_counter() - t0
    return (elapsed, {k: np.array(v) for k, v in madrs.items()}) if keep else elapsed


def _per_patient(job: BareJob, times: list[float]) -> float:
    """Seconds per patient of the bare loop of ``job`` to ``times``."""
    from raadsim.simulate.engines import quiet_solver

    t0 = time.perf_counter()
    with quiet_solver():
        for _ in _bare_runs(job, times, ["time"]):
            pass
    return (time.perf_counter() - t0) / len(job.params)


def sharing_bound(n: int) -> tuple[float, dict[str, tuple[int, float, float]]]:
    """The most exact sharing can give on this trial: the bare loop's time over the time of
    integrating only what is not shared (one integration per distinct ODE-parameter set, each
    from the end of a shared drug-free prefix), both timed with the bare loop on n patients
    per arm. Returns the bound and, per arm, (distinct sets, s per patient, prefix s)."""
    from raadsim.simulate.trial import ode_key, patient_values, typical_parameters

    total = unshared = 0.0
    arms = {}
    for job in bare_jobs(n):
        arm = job.arm
        typical = typical_parameters(arm)
        distinct = len({ode_key(arm, patient_values(arm, p, typical)) for p in job.patients})
        _per_patient(job, job.grid)  # warm-up
        full = _per_patient(job, job.grid)
        prefix = _per_patient(job, [0.0, arm.prefix_end_h])
        total += n * full
        unshared += distinct * (full - prefix)
        arms[arm.name] = (distinct, full, prefix)
    return total / unshared, arms


def reference_madrs(n: int) -> dict[str, np.ndarray]:
    """Model MADRS of n patients per arm at rtol 1e-10 / atol 1e-12 (the accuracy reference)."""
    from raadsim.simulate.population import PopulationModel
    from raadsim.simulate.simulator import Simulator, Tolerances
    from raadsim.simulate.trial import prepare_arms, simulate_patient, typical_parameters

    tf, cat = load(n)
    pop = PopulationModel.from_spec(tf.population)
    tight = Simulator(tolerances=Tolerances(1e-10, 1e-12))
    out = {}
    for arm in prepare_arms(tf, cat):
        typical = typical_parameters(arm)
        out[arm.name] = np.array([
            simulate_patient(arm, tight, pop.patient(arm.stream, i, len(arm.visit_rows)),
                             typical)[0][:, 0] for i in range(n)])
    return out


def raadsim_madrs(n: int) -> dict[str, np.ndarray]:
    """Model MADRS of n patients per arm as ``raadsim trial`` computes it."""
    from raadsim.simulate.trial import run_trial

    tf, cat = load(n)
    res = run_trial(tf, cat, executor="serial", keep_trajectories=True)
    return {k: v[:, :, 0] for k, v in res.trajectories.items()}


def max_errors(n: int) -> tuple[float, float]:
    """Largest model-MADRS error (points, any patient, any output time) of raadsim and of the
    bare loop against the reference, over n patients per arm."""
    ref = reference_madrs(n)
    ours = raadsim_madrs(n)
    _, bare = bare_loop(n, keep=True)
    e = max(float(np.abs(ours[a] - ref[a]).max()) for a in ref)
    e0 = max(float(np.abs(bare[a] - ref[a]).max()) for a in ref)
    return e, e0


def raadsim_run(n: int, executor: str, workers: int) -> float:
    from raadsim.simulate.trial import run_trial

    tf, cat = load(n)
    # warm-up (not timed): compile the arm models in this process or spawn and compile workers
    run_trial(load(2 * workers)[0], cat, executor=executor, workers=workers, chunk_size=1)
    t0 = time.perf_counter()
    run_trial(tf, cat, executor=executor, workers=workers)
    return time.perf_counter() - t0


def peak_worker_rss_mb(n: int, workers: int) -> float:
    """Max RSS of any worker process of a process-pool trial of n patients (own interpreter)."""
    code = (f"import resource, sys; sys.path.insert(0, {str(ROOT / 'benchmarks')!r});"
            "import trial_throughput as b;"
            "from raadsim.simulate.trial import run_trial;"
            f"tf, cat = b.load({n}); run_trial(tf, cat, executor='processes', workers={workers});"
            # the pool is kept for the next call: stop it so its workers count as children
            "from raadsim.simulate.executors import shutdown_pool; shutdown_pool();"
            "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    return int(out.stdout.strip().splitlines()[-1]) / 1024


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--patients", type=int, default=10_000, help="patients per arm")
    ap.add_argument("--serial-patients", type=int, default=400,
                    help="patients per arm for the serial measurements (a) and (b)")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--repeats", type=int, default=3,
                    help="repeats of the serial measurements (a) and (b); medians are used")
    ap.add_argument("--accuracy-patients", type=int, default=200,
                    help="patients per arm for the accuracy comparison (0: skip)")
    ap.add_argument("--no-dask", action="store_true")
    ap.add_argument("--no-memory", action="store_true")
    args = ap.parse_args()
    n, ns, w = args.patients, min(args.serial_patients, args.patients), args.workers
    arms = 2

    # (a) and (b) alternate, ``--repeats`` times each; the median is used (this machine's
    # speed drifts by about 10 % between minutes, which a single short run would carry).
    runs_a, runs_b = [], []
    for _ in range(args.repeats):
        runs_a.append(bare_loop(ns))
        runs_b.append(raadsim_run(ns, "serial", 1))
    ta, tb = float(np.median(runs_a)), float(np.median(runs_b))
    # the machine's own scaling: w bare loops at once, one per process
    with multiprocessing.get_context("spawn").Pool(w) as pool:
        t_par = pool.map(bare_loop, [ns] * w)
    rate_par = float(np.mean([arms * ns / t for t in t_par]))
    tc = raadsim_run(n, "processes", w)
    rate = {"(a) bare roadrunner loop": arms * ns / ta,
            "(b) raadsim serial": arms * ns / tb,
            f"(c) process pool, {w} cores": arms * n / tc / w}
    td = None
    if not args.no_dask:
        try:
            td = raadsim_run(n, "dask", w)
            rate[f"(d) Dask LocalCluster, {w} workers"] = arms * n / td / w
        except Exception as exc:
            print(f"(d) Dask skipped: {exc}")
    print(f"\ntrial: {TRIAL.name}, {n} patients x {arms} arms; serial runs on {ns} per arm")
    print(f"{'executor':40s} {'patients/s/core':>16s}")
    for k, v in rate.items():
        print(f"{k:40s} {v:16.1f}")
    if args.repeats > 1:
        for label, runs in (("(a)", runs_a), ("(b)", runs_b)):
            r = sorted(arms * ns / t for t in runs)
            print(f"{label} over {args.repeats} repeats: {r[0]:.1f} to {r[-1]:.1f} "
                  "patients/s/core (median above)")
    print(f"{w} bare loops at once, one per process: {rate_par:.1f} patients/s/core each")
    b = rate["(b) raadsim serial"]
    print("\nratios")
    print(f"  raadsim serial / bare loop            {b / rate['(a) bare roadrunner loop']:.3f}"
          "   (target >= 0.85)")
    print(f"  parallel efficiency, processes        {rate[f'(c) process pool, {w} cores'] / b:.3f}"
          f"   (per-core rate / serial rate; target >= 0.85 on 2 cores)")
    hw = rate_par / rate["(a) bare roadrunner loop"]
    print(f"  the machine: {w} bare loops at once / one {hw:.3f}"
          "   (the efficiency the hardware allows)")
    print(f"  process pool / {w} bare loops at once  "
          f"{rate[f'(c) process pool, {w} cores'] / rate_par:.3f}   (raadsim's own parallel cost)")
    if td is not None:
        print(f"  parallel efficiency, Dask             "
              f"{rate[f'(d) Dask LocalCluster, {w} workers'] / b:.3f}")
    print(f"\nwall time, {n} x {arms} arms on {w} processes: {tc:.1f} s   (target <= 60 s "
          f"for 10,000 x 2 on 2 cores)")
    if td is not None:
        print(f"wall time on Dask: {td:.1f} s")
    floor = arms * n / (rate["(a) bare roadrunner loop"] * w)
    print(f"floor set by the bare loop alone (same SBML, {w} perfectly parallel cores): "
          f"{floor:.1f} s; process pool / floor {tc / floor:.2f}")
    if not args.no_memory:
        small, big = peak_worker_rss_mb(max(n // 4, 1), w), peak_worker_rss_mb(n, w)
        print(f"peak worker RSS: {small:.0f} MB at n = {max(n // 4, 1)}, {big:.0f} MB at "
              f"n = {n} (ratio {big / small:.2f}; flat = 1)")
    print(f"main process peak RSS: "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    bound, per_arm = sharing_bound(min(ns, 100))
    print("\nwhat exact sharing can give at most (bare-loop timings, "
          f"{min(ns, 100)} patients per arm):")
    for name, (d, full, prefix) in per_arm.items():
        print(f"  {name:12s} {d} distinct ODE-parameter sets; {1e3 * full:.1f} ms per patient, "
              f"of which the drug-free prefix {1e3 * prefix:.1f} ms")
    print(f"  bound on speed vs bare loop: {bound:.2f} x   (raadsim cannot exceed it by "
          "sharing alone)")
    na = min(args.accuracy_patients, n)
    e = e0 = float("nan")
    if na:
        e, e0 = max_errors(na)
        print(f"\naccuracy over {na} patients per arm against rtol 1e-10 / atol 1e-12 "
              "(model MADRS, every output time)")
    speed = b / rate["(a) bare roadrunner loop"]
    eff = rate[f"(c) process pool, {w} cores"] / b
    print(f"speed vs bare loop: {speed:.2f} x; max MADRS error: {e:.2g} (raadsim), "
          f"{e0:.2g} (bare); parallel efficiency: {eff:.2f}")


if __name__ == "__main__":
    main()
