"""Virtual trials: every arm's model compiled once per worker, patients simulated in chunks.

:func:`run_trial` is the Python API behind ``raadsim trial``. A chunk is a range of patients of
one arm; :func:`run_chunk` simulates it and returns the patients' endpoints (small) and the
population bands of the chunk (:class:`~raadsim.simulate.bands.Bands`), never the full
trajectories unless they were asked for. Chunks are merged in any order with identical results.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .._version import __version__
from ..drugs.catalogue import Catalogue
from ..errors import InputError, ModelError
from ..io.trial_file import TrialFile, remission_cutoff, response_fraction
from ..model import eeg
from ..model.build import build_model
from ..model.covariates import REFERENCE
from ..model.spec import ModelSpec
from ..units import parse_time
from . import endpoints
from .bands import Bands
from .engines import output_times
from .executors import map_chunks
from .population import Patient, PopulationModel, patient_parameters
from .prefix import PrefixPlan, prefix_end
from .readout import ReadoutPlan
from .run import select_observables
from .simulator import POPULATION, Prefix, Simulator, default_simulator

# Integration tolerances for populations: simulator.POPULATION (rtol 1e-6, atol 1e-8). The
# MADRS error is at most 1.2e-3 points (measured 2026-12-03 against rtol 1e-10 / atol 1e-12
# over 100 patients per arm of an 8-infusion ketamine course and its saline arm, at every
# output time; benchmarks/trial_throughput.py), far below the rating noise. Events are placed
# exactly (simulator.EventPlan); a 4-h maximum step changed nothing (7.7e-4 vs 6.9e-4 over 60
# patients), so none is set. Looser tolerances buy little: rtol 1e-5 is ~10 % faster for
# 0.06-0.2 points; the step count is set by the infusion switches and transients.
# tests/simulate/test_trial.py::test_trial_tolerances_keep_madrs_within_a_hundredth_of_a_point
# guards the bound (0.01 points). Per-layer absolute tolerances (1e-4 on PK, targets, circuit
# and signalling states) cut the steps by 26 % but saved only ~20 % of the time and raised the
# saline-arm error from 1.5e-3 to 6.7e-3 points (measured 2026-12-02): not adopted. Also
# measured and not adopted (2026-12-02, session 16): CVODE's non-stiff Adams method (9x slower
# for ketamine: 76,000 steps, the fastest PK and target modes are ~50/h); absolute tolerances
# scaled to each state's peak (1e-6 x peak: 13 % faster; 1e-5 x peak: 33 % faster but 0.1
# MADRS points); smoothing the max/min kinks (no fewer steps); and PK solved in closed form
# (sums of exponentials between doses: no fewer steps after the first dose, because the step
# size is set by the target and signalling layers, and round-off at the start of the first
# dose then costs thousands of steps).
MIN_CHUNK, MAX_CHUNK = 100, 1000


@dataclass(frozen=True)
class ArmModel:
    """One arm, resolved: its model, output grid and visit positions."""

    name: str
    stream: int
    spec: ModelSpec
    observables: tuple[str, ...]   # clinic.madrs first; may include eeg.*
    times_h: np.ndarray  # scenario time of each output row (grid and visits, ascending)
    visit_labels: tuple[str, ...]
    visit_rows: tuple[int, ...]
    last_dose_h: float | None  # scenario time of the last administration
    build_weight: float
    # integrate the frontier, evaluate the read-outs (None with eeg.* observables)
    plan: ReadoutPlan | None = None
    # what the drug-free prefix (to the first event or output) depends on, and its end
    prefix: PrefixPlan | None = None
    prefix_end_h: float = 0.0  # model time


@dataclass(frozen=True)
class ChunkTask:
    arm: ArmModel
    population: PopulationModel
    start: int
    stop: int
    response: float
    remission: float
    relapse: bool
    keep_trajectories: bool = False
    overrides: tuple[tuple[str, float], ...] = ()  # parameter values for every patient
    share: bool = True  # integrate patients with the same ODE values once


@dataclass
class ChunkResult:
    arm: str
    start: int
    patients: pd.DataFrame
    bands: Bands
    trajectories: np.ndarray | None = None


def prepare_arms(tf: TrialFile, cat: Catalogue) -> list[ArmModel]:
    """Build every arm's model (for a subject of the population's mean weight)."""
    visits = tf.trial.visit_times_h()
    step = parse_time(tf.trial.output_every, "trial.output_every")
    end = tf.trial.end_h()
    arms = []
    for k, arm in enumerate(tf.trial.arm):
        sc = tf.arm_scenario(arm)
        spec = build_model(sc, cat)
        names = list(tf.trial.observables)
        try:
            select_observables(spec, [o for o in names if o not in eeg.OBSERVABLES])
        except InputError as exc:
            raise InputError("trial.observables", exc.value,
                             exc.accepted + " or an eeg.* observable") from None
        names = ["clinic.madrs", "clinic.madrs_si",
                 *(o for o in names if o not in ("clinic.madrs", "clinic.madrs_si"))]
        grid = output_times(0.0, end, step)
        extra = [v for v in visits if not np.isclose(grid, v).any()]
        times = np.concatenate([grid, extra])
        order = np.argsort(times, kind="stable")
        times = times[order]
        rows = tuple(int(np.flatnonzero(np.isclose(times, v))[0]) for v in visits)
        doses = [t for d in arm.dose for t in d.times_h()]
        plan = (None if any(o in eeg.OBSERVABLES for o in names) else
                ReadoutPlan.of(spec, [spec.observables[o].var for o in names]))
        arms.append(ArmModel(
            name=arm.name, stream=0 if tf.trial.design == "paired" else k + 1, spec=spec,
            observables=tuple(names), times_h=times, visit_labels=tuple(tf.trial.visits),
            visit_rows=rows,
            last_dose_h=max(doses) if doses else None, build_weight=tf.typical_weight_kg(),
            plan=plan, prefix=None if plan is None else PrefixPlan.of(spec),
            prefix_end_h=prefix_end(spec, float(times[0]) - spec.t_start)))
    return arms


def typical_parameters(arm: ArmModel, overrides: dict[str, float] | None = None
                       ) -> dict[str, float]:
    """The arm's parameter values for a typical patient (``overrides`` replace some)."""
    return {k: v.value for k, v in arm.spec.params.items()} | (overrides or {})


def patient_values(arm: ArmModel, p: Patient, typical: dict[str, float],
                   overrides: dict[str, float] | None = None) -> dict[str, float]:
    """The parameter and input values of patient ``p`` that differ from the arm's model."""
    return {**(overrides or {}), **patient_parameters(
        p, typical, arm.spec.weight_exponents, arm.spec.per_kg_inputs, arm.build_weight,
        arm.spec.covariate_rules, arm.spec.covariates or REFERENCE)}


def ode_key(arm: ArmModel, values: dict[str, float]) -> tuple:
    """What a patient's integration depends on: the values that enter the ODEs (patients with
    the same key have the same integrated states)."""
    assert arm.plan is not None
    dyn = arm.plan.ode_constants
    return tuple(sorted((k, v) for k, v in values.items() if k in dyn))


def integrate_patient(arm: ArmModel, sim: Simulator, values: dict[str, float],
                      start: Prefix | None = None) -> tuple[dict[str, np.ndarray], int]:
    """The integrated variables of the arm's read-out plan for one set of values, and how
    many fallback integration settings the simulator needed; ``start`` is a stored prefix
    of the same drug-free determinants."""
    assert arm.plan is not None
    vals, used = sim.run_variables(arm.spec, arm.plan.integrated, arm.times_h, values,
                                   start=start)
    return dict(zip(arm.plan.integrated, vals.T, strict=True)), used


def readouts(arm: ArmModel, integrated: dict[str, np.ndarray], typical: dict[str, float],
             values: dict[str, float]) -> np.ndarray:
    """The arm's observables (columns) from integrated variables and a patient's values."""
    assert arm.plan is not None
    out = arm.plan.evaluate(integrated, arm.spec.inputs | typical | values)
    return np.column_stack([out[arm.spec.observables[o].var] for o in arm.observables])


def simulate_patient(arm: ArmModel, sim: Simulator, p: Patient,
                     typical: dict[str, float], overrides: dict[str, float] | None = None
                     ) -> tuple[np.ndarray, int]:
    """Trajectories of the arm's observables for patient ``p`` (rows = output times), and
    how many fallback integration settings the simulator needed (0: none)."""
    values = patient_values(arm, p, typical, overrides)
    if arm.plan is None:
        tr = sim.run(arm.spec, arm.observables, arm.times_h, params=values)
        return np.column_stack([tr.values[o] for o in arm.observables]), tr.fallbacks
    integrated, used = integrate_patient(arm, sim, values)
    return readouts(arm, integrated, typical, values), used


# Observables with a known range get linear histogram bins (finer quantiles).
KNOWN_RANGES = {"clinic.madrs": (0.0, 60.0), "clinic.madrs_si": (0.0, 6.0)}


def new_bands(arm: ArmModel) -> Bands:
    return Bands(len(arm.times_h), len(arm.observables),
                 [KNOWN_RANGES.get(o) for o in arm.observables])


def run_chunk(task: ChunkTask) -> ChunkResult:
    """Simulate patients ``[start, stop)`` of one arm."""
    arm = task.arm
    sim = default_simulator(POPULATION)
    n_visits = len(arm.visit_rows)
    traj = np.empty((task.stop - task.start, len(arm.times_h), len(arm.observables)))
    rows = []
    overrides = dict(task.overrides)
    typical = typical_parameters(arm, overrides)
    shared: dict[tuple, tuple[dict[str, np.ndarray], int]] = {}
    prefixes: dict[tuple, Prefix] = {}
    for j, i in enumerate(range(task.start, task.stop)):
        p = task.population.patient(arm.stream, i, n_visits)
        try:
            if arm.plan is None or not task.share:
                traj[j], fallbacks = simulate_patient(arm, sim, p, typical, overrides)
            else:  # integrate once per distinct set of ODE values (exact sharing), from
                # a drug-free prefix integrated once per set of its determinants
                values = patient_values(arm, p, typical, overrides)
                key = ode_key(arm, values)
                if key not in shared:
                    assert arm.prefix is not None
                    pre = arm.prefix.key(values)
                    if pre not in prefixes:
                        prefixes[pre] = sim.prefix(arm.spec, arm.prefix_end_h, values)
                    shared[key] = integrate_patient(arm, sim, values, prefixes[pre])
                integrated, fallbacks = shared[key]
                traj[j] = readouts(arm, integrated, typical, values)
        except ModelError as exc:
            raise ModelError(f"arm {arm.name}, patient {i}: {exc}") from None
        row = endpoints.patient_row(arm, p, traj[j][:, 0], task.response, task.remission,
                                    task.relapse, si=traj[j][:, 1])
        rows.append(row | {"integration_fallbacks": fallbacks})
    bands = new_bands(arm)
    bands.add(traj)
    return ChunkResult(arm.name, task.start, pd.DataFrame(rows), bands,
                       traj if task.keep_trajectories else None)


@dataclass
class TrialResult:
    """A finished trial: per-arm summaries, contrasts, patients and population bands."""

    trial: TrialFile
    arms: list[ArmModel]
    summary: dict
    patients: pd.DataFrame
    timecourse: pd.DataFrame
    trajectories: dict[str, np.ndarray] | None = None
    meta: dict = field(default_factory=dict)

    def to_xarray(self):
        """An ``xarray.Dataset`` with dims ``arm × patient × visit`` (rated and model MADRS,
        per-patient covariates) and, when trajectories were kept, ``arm × patient × time``
        for every observable."""
        import xarray as xr

        pts = self.patients.set_index(["arm", "patient"]).sort_index()
        names = [a.name for a in self.arms]
        n = self.trial.population.n
        visits = self.trial.trial.visits
        coords = {"arm": names, "patient": np.arange(n), "visit": visits}
        data = {}
        for var in ("madrs_rated", "madrs_model"):
            cols = [f"{var}@{v}" for v in visits]
            data[var] = (("arm", "patient", "visit"),
                         pts[cols].to_numpy().reshape(len(names), n, len(visits)))
        for col in ("weight_kg", "age", "female", "madrs_baseline"):
            data[col] = (("arm", "patient"), pts[col].to_numpy().reshape(len(names), n))
        ds = xr.Dataset(data, coords=coords)
        if self.trajectories:
            arm0 = self.arms[0]
            t = arm0.times_h
            for k, obs in enumerate(arm0.observables):
                ds[obs] = (("arm", "patient", "time_h"),
                           np.stack([self.trajectories[a][:, :, k] for a in names]))
            ds = ds.assign_coords(time_h=t)
        return ds


def default_chunk_size(n: int, n_arms: int, workers: int) -> int:
    """About four chunks per worker, of 100 to 1000 patients (memory is bounded by the
    chunk, not by n)."""
    return max(MIN_CHUNK, min(MAX_CHUNK, math.ceil(n * n_arms / (4 * max(workers, 1)))))


def run_trial(tf: TrialFile, cat: Catalogue | None = None, executor: str = "processes",
              workers: int | None = None, chunk_size: int | None = None,
              dask_address: str | None = None, keep_trajectories: bool = False,
              on_chunk: Callable[[int, int], None] | None = None,
              overrides: dict[str, float] | None = None, share: bool = True,
              strict_overrides: bool = True,
              hypotheses: dict[str, str] | None = None) -> TrialResult:
    """Run a virtual trial. ``executor`` is ``serial``, ``processes`` (all cores by default) or
    ``dask`` (a LocalCluster, or the scheduler at ``dask_address``). ``on_chunk(done, total)``
    reports progress in patients. ``overrides`` set typical parameter values (calibration).
    ``share=False`` integrates every patient even when another has the same ODE values
    (identical results to round-off; for tests and benchmarks). ``strict_overrides=False``
    skips overrides an arm's model does not have (one parameter set given to trials of
    different designs, as in the clinic calibration). ``hypotheses`` chooses model variants
    (:mod:`raadsim.model.hypotheses`) on top of the trial file's ``[model]``."""
    tf = tf.with_hypotheses(hypotheses)
    import os

    cat = cat or tf.catalogue()
    arms = prepare_arms(tf, cat)
    pop = PopulationModel.from_spec(tf.population)
    known = set().union(*(a.spec.params for a in arms))
    unknown = sorted(set(overrides or {}) - known)
    if unknown and strict_overrides:
        raise InputError("overrides", unknown[0], "a parameter of the model")
    workers = workers or os.cpu_count() or 1
    if chunk_size is not None and chunk_size < 1:
        raise InputError("chunk_size", chunk_size, "a number of patients >= 1")
    size = chunk_size or default_chunk_size(pop.n, len(arms), 1 if executor == "serial"
                                            else workers)
    tasks = [ChunkTask(arm, pop, s, min(s + size, pop.n),
                       response_fraction(tf.trial.response),
                       remission_cutoff(tf.trial.remission), tf.trial.relapse is not None,
                       keep_trajectories, tuple(sorted(
                           (k, v) for k, v in (overrides or {}).items() if k in arm.spec.params)),
                       share)
             for arm in arms for s in range(0, pop.n, size)]
    bands = {a.name: new_bands(a) for a in arms}
    frames: list[pd.DataFrame] = []
    traj = ({a.name: np.empty((pop.n, len(a.times_h), len(a.observables))) for a in arms}
            if keep_trajectories else None)
    done = 0
    for res in map_chunks(run_chunk, tasks, executor, workers, dask_address):
        bands[res.arm].merge(res.bands)
        frames.append(res.patients)
        if traj is not None and res.trajectories is not None:
            traj[res.arm][res.start:res.start + len(res.trajectories)] = res.trajectories
        done += len(res.patients)
        if on_chunk:
            on_chunk(done, pop.n * len(arms))
    patients = pd.concat(frames, ignore_index=True)
    order = {a.name: k for k, a in enumerate(arms)}
    patients = patients.sort_values(["arm", "patient"], key=lambda s: s.map(order)
                                    if s.name == "arm" else s).reset_index(drop=True)
    summary = endpoints.summarise(tf, arms, patients)
    summary["meta"] = {"raadsim_version": __version__, "patients_per_arm": pop.n,
                       "seed": pop.seed, "design": tf.trial.design,
                       "integration": {"rtol": POPULATION.rtol, "atol": POPULATION.atol}}
    timecourse = endpoints.band_table(arms, bands)
    return TrialResult(tf, arms, summary, patients, timecourse, traj, summary["meta"])
