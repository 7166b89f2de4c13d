"""The clinic calibration: the clinic layer's fitted parameters, to published trial endpoints.

Every fitted parameter enters only the read-outs of the model (MADRS and the placebo,
non-specific, drug and conventional-antidepressant fractions), never an ODE; this is checked
from the equations (:func:`raadsim.model.readout.split`) before fitting. So each calibration
trial's virtual patients are integrated **once** (:func:`integrate_trials`) and any parameter
vector is scored by evaluating the read-outs and the trial endpoints on the stored states,
vectorised over patients (:class:`FastObjective`, milliseconds per evaluation). The result is
the same as simulating the trials at those values (:func:`full_objective`; a test checks the
two agree), so the fit can explore the whole box with a global optimiser instead of a few
dozen Nelder–Mead steps.

Objective: the sum over calibration records of ``((simulated − published) / se)²`` (the
record's standard error; its tolerance when none is given), i.e. a Gaussian likelihood with
the virtual sample fixed. Optimiser: SciPy's differential evolution with a fixed seed, inside
each parameter's recorded range, then Nelder–Mead from the best point.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from ..drugs.catalogue import builtin
from ..errors import InputError
from ..io.trial_file import TrialFile, remission_cutoff, response_fraction, trial_from_dict
from ..model.build import condition_params
from ..provenance import parameter_file
from ..simulate.executors import map_chunks
from ..simulate.population import PopulationModel, _omega
from ..simulate.simulator import POPULATION, default_simulator
from ..simulate.trial import (
    ArmModel,
    integrate_patient,
    ode_key,
    patient_values,
    prepare_arms,
    run_trial,
    typical_parameters,
)
from .measures import Measures, evaluate_quantity
from .records import Record
from .runner import trial_raw

# name in the fit -> (kind, key): "model" parameters of the clinic layer, "condition"
# parameters (one per condition), "population" settings
PARAMETERS: dict[str, tuple[str, str]] = {
    "p_placebo": ("model", "p_placebo"),
    "g_unblind": ("model", "g_unblind"),
    "g_inpatient": ("model", "g_inpatient"),
    "R50_relief": ("model", "R50_relief"),
    "w_struct": ("model", "w_struct"),
    "Emax_ssri": ("model", "Emax_ssri"),
    "nonspecific_logit_mdd": ("condition", "mdd"),
    "nonspecific_logit_trd": ("condition", "trd"),
    "iiv_sensitivity": ("population", "sensitivity"),
    "iiv_nonspecific": ("population", "nonspecific"),
}
# conditions that share a fitted condition value (bipolar depression: the MDD value)
SHARED_CONDITION = {"bipolar_depression": "mdd"}


def bounds() -> dict[str, tuple[float, float]]:
    """Each fitted parameter's recorded plausible range (``low``/``high`` in its data file)."""
    from ..model.layer import layer_params

    out = {}
    for name, (kind, key) in PARAMETERS.items():
        if kind == "model":
            p = layer_params("clinic")[key]
        elif kind == "condition":
            p = condition_params()[key]["nonspecific_logit"]
        else:
            p = parameter_file("population")[name]
        if p.low is None or p.high is None:
            raise InputError(f"{name}.low/high", None, "a recorded range for a fitted parameter")
        out[name] = (float(p.low), float(p.high))
    return out


def _condition_value(theta: Mapping[str, float], condition: str) -> float | None:
    cond = SHARED_CONDITION.get(condition, condition)
    return theta.get(f"nonspecific_logit_{cond}")


def model_overrides(theta: Mapping[str, float], condition: str) -> dict[str, float]:
    """Model parameter values of ``theta`` for a trial in ``condition``."""
    out = {key: theta[n] for n, (kind, key) in PARAMETERS.items() if kind == "model" and n in theta}
    logit = _condition_value(theta, condition)
    if logit is not None:
        out["nonspecific_logit"] = logit
    return out


def _residual(rec: Record, simulated: float) -> float:
    e = rec.expected
    scale = e.se if e.se is not None else e.scale()
    return (simulated - float(e.value if e.value is not None else np.mean(e.bounds()))) / scale


def _trial_groups(records: Sequence[Record]) -> dict[str, list[Record]]:
    groups: dict[str, list[Record]] = {}
    for r in records:
        if r.trial is None:
            raise InputError(r.id, "single-subject record", "a trial record (clinic fit)")
        groups.setdefault(str(r.trial), []).append(r)
    return groups


def _trial_file(rec: Record, theta: Mapping[str, float] | None = None) -> TrialFile:
    raw = trial_raw(rec)
    if theta is not None:
        iiv = raw.setdefault("population", {}).setdefault("iiv", {})
        for n, (kind, key) in PARAMETERS.items():
            if kind == "population" and n in theta:
                iiv[key] = theta[n]
    return trial_from_dict(raw)


# -- the reference: simulate the trials ----------------------------------------------------
def full_objective(records: Sequence[Record], theta: Mapping[str, float],
                   executor: str = "processes") -> float:
    """The objective by simulating every calibration trial at ``theta`` (slow)."""
    total = 0.0
    for recs in _trial_groups(records).values():
        tf = _trial_file(recs[0], theta)
        res = run_trial(tf, executor=executor, strict_overrides=False,
                        overrides=model_overrides(theta, tf.population.condition))
        for r in recs:
            m = Measures(r, trial=res.summary, patients=res.patients)
            total += _residual(r, evaluate_quantity(m)) ** 2
    return total


# -- integrate once ------------------------------------------------------------------------
@dataclass(frozen=True)
class _IntegrateTask:
    arm: ArmModel
    population: PopulationModel
    start: int
    stop: int


def _integrate_chunk(task: _IntegrateTask) -> tuple[str, int, np.ndarray]:
    """Integrated read-out inputs of patients ``[start, stop)`` (patients × variables × rows),
    with patients of equal ODE values integrated once."""
    arm = task.arm
    assert arm.plan is not None
    sim = default_simulator(POPULATION)
    typical = typical_parameters(arm)
    out = np.empty((task.stop - task.start, len(arm.plan.integrated), len(arm.times_h)))
    shared: dict[tuple, np.ndarray] = {}
    for j, i in enumerate(range(task.start, task.stop)):
        p = task.population.patient(arm.stream, i, len(arm.visit_rows))
        values = patient_values(arm, p, typical)
        key = ode_key(arm, values)
        if key not in shared:
            integrated, _ = integrate_patient(arm, sim, values)
            shared[key] = np.stack([integrated[n] for n in arm.plan.integrated])
        out[j] = shared[key]
    return arm.name, task.start, out


@dataclass
class ArmStates:
    """One arm's patients: integrated read-out inputs and what the fit rescales."""

    arm: ArmModel
    integrated: dict[str, np.ndarray]  # variable -> (patients, rows)
    constants: dict[str, np.ndarray | float]  # read-out constants independent of the fit
    z_sensitivity: np.ndarray
    eta_placebo: np.ndarray
    z_nonspecific: np.ndarray
    omega_sensitivity: float | None  # set by the trial file (not fitted) or None
    omega_nonspecific: float | None
    baseline: np.ndarray  # rated baseline, rounded
    noise: np.ndarray  # (patients, visits)


@dataclass
class TrialStates:
    trial: TrialFile
    condition: str
    arms: list[ArmStates]
    records: list[Record]


FIT_DEPENDENT = ("R50_relief", "p_placebo", "eta_nonspecific", "nonspecific_logit")


def _check_readout_only(arm: ArmModel) -> None:
    assert arm.plan is not None
    fitted = {k for kind, k in PARAMETERS.values() if kind == "model"} | {"nonspecific_logit"}
    dynamic = sorted(fitted & arm.plan.ode_constants)
    if dynamic:
        raise InputError("clinic fit", dynamic[0],
                         "a parameter that enters only the read-outs (it enters an ODE)")


def integrate_trials(records: Sequence[Record], executor: str = "processes",
                     workers: int | None = None, log: Callable[[str], None] = print
                     ) -> list[TrialStates]:
    """Integrate every calibration trial's patients once."""
    out: list[TrialStates] = []
    cat = builtin()
    for recs in _trial_groups(records).values():
        tf = _trial_file(recs[0])
        arms = prepare_arms(tf, cat)
        pop = PopulationModel.from_spec(tf.population)
        tasks = []
        for arm in arms:
            if arm.plan is None:
                raise InputError(recs[0].id, "eeg observables", "a trial without eeg.* outputs")
            _check_readout_only(arm)
            size = max(1, math.ceil(pop.n / 4))
            tasks += [_IntegrateTask(arm, pop, s, min(s + size, pop.n))
                      for s in range(0, pop.n, size)]
        chunks: dict[str, list[tuple[int, np.ndarray]]] = {a.name: [] for a in arms}
        for name, start, arr in map_chunks(_integrate_chunk, tasks, executor, workers, None):
            chunks[name].append((start, arr))
        spec_iiv = tf.population.iiv or {}
        states = []
        for arm in arms:
            assert arm.plan is not None
            arr = np.concatenate([a for _, a in sorted(chunks[arm.name], key=lambda c: c[0])])
            patients = [pop.patient(arm.stream, i, len(arm.visit_rows)) for i in range(pop.n)]
            typical = typical_parameters(arm)
            per = [patient_values(arm, p, typical) for p in patients]
            consts: dict[str, np.ndarray | float] = {}
            fitted = {key for kind, key in PARAMETERS.values() if kind == "model"}
            for k in arm.plan.constants:
                if k in FIT_DEPENDENT or k in fitted:  # set from theta at each evaluation
                    continue
                col = np.array([v.get(k, np.nan) for v in per])
                consts[k] = col[:, None] if not np.isnan(col).any() else (
                    arm.spec.inputs | typical)[k]
            states.append(ArmStates(
                arm, {n: arr[:, k, :] for k, n in enumerate(arm.plan.integrated)}, consts,
                np.array([p.z[0] for p in patients])[:, None],
                np.array([p.eta_placebo for p in patients])[:, None],
                np.array([p.z[2] for p in patients])[:, None],
                _omega(spec_iiv["sensitivity"]) if "sensitivity" in spec_iiv else None,
                spec_iiv.get("nonspecific"),
                np.clip(np.round([p.madrs_baseline for p in patients]), 0, 60),
                np.array([p.rating_noise for p in patients])))
        out.append(TrialStates(tf, tf.population.condition, states, list(recs)))
        log(f"integrated {tf.population.n} patients x {len(arms)} arms for "
            f"{', '.join(r.id for r in recs)}")
    return out


# -- evaluate many times -------------------------------------------------------------------
def _arm_readouts(a: ArmStates, theta: Mapping[str, float], condition: str,
                  typical: dict[str, float]) -> tuple[np.ndarray, np.ndarray]:
    assert a.arm.plan is not None
    cv = theta.get("iiv_sensitivity")
    om_s = a.omega_sensitivity if a.omega_sensitivity is not None else (
        _omega(cv) if cv is not None else None)
    om_n = a.omega_nonspecific if a.omega_nonspecific is not None else theta.get(
        "iiv_nonspecific")
    p = typical | model_overrides(theta, condition)
    consts: dict[str, np.ndarray | float] = {**a.arm.spec.inputs, **p, **a.constants}
    eta_s = a.z_sensitivity * om_s if om_s is not None else None
    if eta_s is None:
        raise InputError("clinic fit", "iiv_sensitivity", "a fitted or trial-file value")
    consts["R50_relief"] = p["R50_relief"] * np.exp(-eta_s)
    consts["p_placebo"] = p["p_placebo"] * np.exp(a.eta_placebo)
    if om_n is None:
        om_n = float(parameter_file("population")["iiv_nonspecific"].value)
    consts["eta_nonspecific"] = a.z_nonspecific * om_n
    out = a.arm.plan.evaluate(a.integrated, consts)
    spec = a.arm.spec
    return out[spec.observables["clinic.madrs"].var], out[spec.observables["clinic.madrs_si"].var]


def _summary(tf: TrialFile, arms: list[ArmStates], curves: list[tuple[np.ndarray, np.ndarray]]
             ) -> tuple[dict, object]:
    """The parts of a trial summary the records read (``endpoints.summarise`` on the same
    ratings gives the same numbers), and a lazy patients table for ``cohen_d``."""
    r = response_fraction(tf.trial.response)
    cut = remission_cutoff(tf.trial.remission)
    summary: dict = {"arms": {}}
    changes: dict[str, dict[str, np.ndarray]] = {}
    for a, (madrs, si) in zip(arms, curves, strict=True):
        visits = {}
        changes[a.arm.name] = {}
        si0 = a.constants.get("si_baseline")
        for k, (label, row) in enumerate(zip(a.arm.visit_labels, a.arm.visit_rows,
                                             strict=True)):
            rated = np.clip(np.round(madrs[:, row] + a.noise[:, k]), 0, 60)
            change = rated - a.baseline
            changes[a.arm.name][label] = change
            n = len(change)
            visits[label] = {
                "madrs_mean": float(rated.mean()),
                "madrs_change_mean": float(change.mean()),
                "madrs_change_sd": float(change.std(ddof=1)) if n > 1 else None,
                "response_rate": float((rated <= (1 - r) * a.baseline).mean()),
                "remission_rate": float((rated <= cut).mean()),
                "si_mean": float(si[:, row].mean()),
                "si_change_mean": float((si[:, row] - np.ravel(si0)).mean())
                if si0 is not None else float("nan"),
            }
        summary["arms"][a.arm.name] = {"visits": visits}
    return summary, changes


class _Patients:
    """The minimal patients table of :meth:`Measures.cohen_d` (arm and change per visit)."""

    def __init__(self, changes: dict[str, dict[str, np.ndarray]]) -> None:
        import pandas as pd

        frames = [pd.DataFrame({"arm": arm, **{f"change@{v}": c for v, c in ch.items()},
                                **{f"response@{v}": np.zeros(len(c), bool)
                                   for v, c in ch.items()}})
                  for arm, ch in changes.items()]
        self.frame = pd.concat(frames, ignore_index=True)


class FastObjective:
    """The objective on integrated patients: read-outs and endpoints only."""

    def __init__(self, trials: list[TrialStates]) -> None:
        self.trials = trials
        self._typical = [[typical_parameters(a.arm) for a in t.arms] for t in trials]

    def values(self, theta: Mapping[str, float]) -> dict[str, float]:
        """Each record's simulated value at ``theta``."""
        out = {}
        for t, typ in zip(self.trials, self._typical, strict=True):
            curves = [_arm_readouts(a, theta, t.condition, ty)
                      for a, ty in zip(t.arms, typ, strict=True)]
            summary, changes = _summary(t.trial, t.arms, curves)
            patients = _Patients(changes).frame if any(
                "cohen_d" in r.quantity for r in t.records) else None
            for r in t.records:
                out[r.id] = evaluate_quantity(Measures(r, trial=summary, patients=patients))
        return out

    def residuals(self, theta: Mapping[str, float]) -> dict[str, float]:
        recs = {r.id: r for t in self.trials for r in t.records}
        return {k: _residual(recs[k], v) for k, v in self.values(theta).items()}

    def __call__(self, theta: Mapping[str, float]) -> float:
        return float(sum(v * v for v in self.residuals(theta).values()))


def fit(records: Sequence[Record], start: Mapping[str, float], executor: str = "processes",
        log: Callable[[str], None] = print, seed: int = 20, maxiter: int = 150
        ) -> dict[str, float]:
    """Differential evolution (fixed seed) inside :func:`bounds`, then Nelder–Mead from its
    best point; ``start`` seeds the population."""
    from scipy.optimize import differential_evolution, minimize

    trials = integrate_trials(records, executor=executor, log=log)
    f = FastObjective(trials)
    names = list(PARAMETERS)
    box = bounds()
    lo, hi = np.array([box[n][0] for n in names]), np.array([box[n][1] for n in names])

    def g(x: np.ndarray) -> float:
        if np.any(x < lo) or np.any(x > hi):
            return 1e6
        return f(dict(zip(names, x, strict=True)))

    x0 = np.clip([start[n] for n in names], lo, hi)
    res = differential_evolution(g, list(zip(lo, hi, strict=True)), seed=seed,
                                 maxiter=maxiter, popsize=15, tol=1e-6, polish=False, x0=x0,
                                 init="sobol")
    log(f"differential evolution: objective {res.fun:.6g} after {res.nfev} evaluations")
    nm = minimize(g, res.x, method="Nelder-Mead",
                  options={"maxiter": 2000, "xatol": 1e-4, "fatol": 1e-6})
    best = nm.x if nm.fun <= res.fun else res.x
    log(f"Nelder-Mead: objective {min(nm.fun, res.fun):.6g}")
    return dict(zip(names, (float(v) for v in best), strict=True))
