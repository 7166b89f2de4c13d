"""Multi-start fitting and profile likelihoods of the PEtab problem with pyPESTO.

``raadsim calibrate --engine pypesto --out DIR`` exports the PEtab problem
(:mod:`raadsim.evidence.petab_problem`) to ``DIR/petab``, then:

1. builds the negative log-likelihood of that problem as PEtab defines it
   (``petab.calculate_llh`` on the measurement, observable and parameter tables), simulating
   ``model.xml`` with libRoadRunner in raadsim's reset order (parameters are set between
   ``resetAll`` and ``reset``, so that condition values reach the dosing events);
2. runs a pyPESTO multi-start optimisation (trust-region least squares, ``ls_trf``, with
   forward finite-difference Jacobians) in log10 parameters, from Latin-hypercube starts in the
   bounds, plus one start at the stored values;
3. computes profile likelihoods of every parameter; a parameter is *identifiable* when its
   profile rises above the 95 % threshold (Δ negative log-likelihood = χ²₁(0.95)/2 = 1.92)
   on both sides within its bounds. The two halves of the 12 profiles are 24 independent
   tasks, run on ``workers`` processes (:class:`pypesto.engine.MultiProcessEngine`); steps
   adapt to the profile (pyPESTO's ``adaptive_step_order_1``) between 0.5 % and 10 % of each
   parameter's log10 range (:func:`profile_options`);
4. writes ``result.hdf5`` (pyPESTO store), ``fit.json`` (best fit, stored values, profile
   intervals), ``waterfall.png`` and ``profiles.png``, atomically.

pyPESTO's objective is ``½Σr²`` (its convention for least-squares objectives: the optimiser
reports that value from the residuals), the negative log-likelihood minus the constant
``½Σ ln(2πσ²)`` (:attr:`PetabObjective.nllh_constant`), which is added back to every reported
value. Its function value and its residuals must agree: the profile's step-size search calls
the function and compares it with the residual-based profile values, so a function returning
the full likelihood (which differs by that constant, −0.69 here) made every profile step
collapse to the minimum step size and the profiles take more than 25 minutes.

Why not pyPESTO's own roadrunner importer: with pyPESTO 0.7.0 and libRoadRunner 2.10 we saw
the condition-table dose amounts of this problem reach the wrong dose inputs (the psilocybin
and ayahuasca amounts exchanged), so the importer is not used; optimisation, profiling,
storage and plots are pyPESTO's.
"""

from __future__ import annotations

import contextlib
import math
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputError, ModelError
from ..io.outputs import write_json
from ..simulate.simulator import SINGLE_RUN, CompiledModel

THRESHOLD_95 = 0.5 * 3.841458820694124  # χ²₁(0.95)/2


class PetabObjective:
    """Negative log-likelihood and standardised residuals of a PEtab (v1) problem whose
    observables are formulas of model variables and parameters, with numeric noise."""

    def __init__(self, yaml_path: str | Path) -> None:
        import petab.v1 as petab
        import sympy as sp

        self.problem = petab.Problem.from_yaml(str(yaml_path))
        p = self.problem
        self.x_ids = list(p.x_free_ids)
        self.scales = [p.parameter_df.loc[i, "parameterScale"] for i in self.x_ids]
        self.model = CompiledModel(p.sbml_model.to_sbml_str() if hasattr(
            p.sbml_model, "to_sbml_str") else _sbml_text(yaml_path), SINGLE_RUN)
        model_ids = set(self.model.rr.model.getGlobalParameterIds())
        self.formulas: dict[str, tuple[list[str], Callable]] = {}
        self.sigma: dict[str, float] = {}
        for oid, row in p.observable_df.iterrows():
            expr = petab.math.sympify_petab(row["observableFormula"])
            names = sorted(str(s) for s in expr.free_symbols)
            unknown = [n for n in names if n not in model_ids]
            if unknown:
                raise InputError(f"observable {oid}", unknown, "model ids")
            self.formulas[str(oid)] = (names, sp.lambdify(
                [sp.Symbol(n) for n in names], expr, "numpy"))
            self.sigma[str(oid)] = float(row["noiseFormula"])
        self.meas = p.measurement_df
        self.conditions = {str(c): {k: float(v) for k, v in row.items()}
                           for c, row in p.condition_df.iterrows()}
        self._steps = self._plan()
        self._measured = self.meas["measurement"].to_numpy(float)
        self._sigma = self.meas["observableId"].map(self.sigma).to_numpy(float)

    def unscale(self, x: np.ndarray) -> dict[str, float]:
        return {i: (10 ** v if s == "log10" else math.exp(v) if s == "log" else v)
                for i, v, s in zip(self.x_ids, x, self.scales, strict=True)}

    def _constant_ids(self) -> set[str]:
        """Ids of the model's constant parameters (SBML ``constant="true"``: no rule or event
        changes them, so an observable of these alone needs no integration)."""
        sbml = getattr(getattr(self.problem, "model", None), "sbml_model", None)
        if sbml is None:
            return set()
        return {sbml.getParameter(k).getId() for k in range(sbml.getNumParameters())
                if sbml.getParameter(k).getConstant()}

    def _plan(self) -> list[tuple]:
        """Per simulation condition, what :meth:`simulated` needs (built once: the pandas
        look-ups cost as much as the simulations). Observables of constant parameters only
        (the Tmax and half-life formulas) are evaluated from the model's values after reset,
        which equal the simulated values at any time, so the integration stops at the last
        measurement of a state."""
        constant = self._constant_ids()
        plan = []
        positions = pd.Series(np.arange(len(self.meas)), index=self.meas.index)
        for cid, group in self.meas.groupby("simulationConditionId", sort=False):
            static = [all(n in constant for n in self.formulas[o][0])
                      for o in group["observableId"]]
            dynamic = group[[not s for s in static]]
            times = np.unique(dynamic["time"].to_numpy(float))
            needed = sorted({n for o in dynamic["observableId"] for n in self.formulas[o][0]})
            rows, fixed = [], []
            for (idx, m), is_static in zip(group.iterrows(), static, strict=True):
                names, f = self.formulas[m["observableId"]]
                if is_static:
                    fixed.append((int(positions[idx]), f, names))
                else:
                    j = int(np.searchsorted(times, m["time"]))
                    rows.append((int(positions[idx]), j, f, [needed.index(n) for n in names]))
            plan.append((self.conditions[str(cid)], times, needed, rows, fixed))
        return plan

    def simulated(self, x: np.ndarray) -> np.ndarray:
        """The simulated value of every measurement (in the measurement table's order)."""
        values = self.unscale(x)
        out = np.empty(len(self.meas))
        for condition, times, needed, rows, fixed in self._steps:
            run_values = {**values, **condition}
            if fixed:
                now = self.model.values_after_reset(run_values, sorted(
                    {n for _, _, names in fixed for n in names}))
                for pos, f, names in fixed:
                    out[pos] = float(f(*(now[n] for n in names)))
            if not rows:
                continue
            try:
                arr, _ = self.model.run(needed, times, run_values)
            except ModelError as exc:
                raise ModelError(f"simulation failed at {values}: {exc}") from None
            for pos, j, f, cols in rows:
                out[pos] = float(f(*(arr[j, c] for c in cols)))
        return out

    def simulate(self, x: np.ndarray) -> pd.DataFrame:
        """The measurement table with a ``simulation`` column at parameters ``x``."""
        sim = self.meas.copy()
        sim["simulation"] = self.simulated(x)
        return sim

    def residuals(self, x: np.ndarray) -> np.ndarray:
        """(simulation − measurement)/σ per measurement; a failed simulation gives 1e3."""
        try:
            sim = self.simulated(x)
        except ModelError:
            return np.full(len(self.meas), 1e3)
        return (sim - self._measured) / self._sigma

    def nllh(self, x: np.ndarray) -> float:
        """Negative log-likelihood (normal noise), as ``petab.calculate_llh`` defines it."""
        r = self.residuals(x)
        sig = self.meas["observableId"].map(self.sigma).to_numpy(float)
        return float(0.5 * np.sum(np.log(2 * np.pi * sig ** 2) + r ** 2))

    @property
    def nllh_constant(self) -> float:
        """``½Σ ln(2πσ²)``: the negative log-likelihood is ``½Σr²`` plus this constant."""
        sig = self.meas["observableId"].map(self.sigma).to_numpy(float)
        return float(0.5 * np.sum(np.log(2 * np.pi * sig ** 2)))

    def petab_nllh(self, x: np.ndarray) -> float:
        """The same, computed by petab itself (used by the tests as a cross-check)."""
        import petab.v1 as petab

        sim = self.simulate(x).rename(columns={"measurement": "_m"})
        sim = sim.drop(columns=["_m"])
        return -petab.calculate_llh(self.meas, sim, self.problem.observable_df,
                                    self.problem.parameter_df)

    def x_nominal(self) -> np.ndarray:
        df = self.problem.parameter_df
        return np.array([math.log10(df.loc[i, "nominalValue"]) if s == "log10"
                         else df.loc[i, "nominalValue"] for i, s in zip(
                             self.x_ids, self.scales, strict=True)])

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        df = self.problem.parameter_df
        lo = [math.log10(df.loc[i, "lowerBound"]) if s == "log10" else df.loc[i, "lowerBound"]
              for i, s in zip(self.x_ids, self.scales, strict=True)]
        hi = [math.log10(df.loc[i, "upperBound"]) if s == "log10" else df.loc[i, "upperBound"]
              for i, s in zip(self.x_ids, self.scales, strict=True)]
        return np.array(lo), np.array(hi)


def _sbml_text(yaml_path: str | Path) -> str:
    return (Path(yaml_path).parent / "model.xml").read_text(encoding="utf-8")


def _half_chi2(obj: PetabObjective, x) -> float:
    return float(0.5 * np.sum(obj.residuals(np.asarray(x)) ** 2))


def pypesto_problem(obj: PetabObjective):
    """The pyPESTO problem: least-squares objective with finite-difference derivatives.

    Its function value is ``½Σr²`` = negative log-likelihood − ``obj.nllh_constant``, the
    value pyPESTO's least-squares optimisers report, so that function values and optimiser
    results are on one scale (the profile's step search compares the two)."""
    import pypesto

    base = pypesto.Objective(fun=lambda x: _half_chi2(obj, x),
                             res=lambda x: obj.residuals(np.asarray(x)))
    fd = pypesto.objective.FD(base, grad=True, sres=True, hess=False,
                              delta_fun=1e-5, delta_res=1e-5, method="forward")
    lb, ub = obj.bounds()
    return pypesto.Problem(fd, lb, ub, x_names=obj.x_ids, x_scales=obj.scales)


@dataclass
class FitSummary:
    best: dict[str, float]
    stored: dict[str, float]
    fval_best: float
    fval_stored: float
    fvals: list[float]
    intervals: dict[str, tuple[float | None, float | None]]
    #: lowest negative log-likelihood found along each profile (≥ ``fval_best`` when the
    #: multi-start found the optimum; lower means a better fit was found while profiling)
    profile_min: dict[str, float] = field(default_factory=dict)
    #: wall time of the multi-start and of the profiles, in seconds
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def identifiable(self) -> dict[str, bool]:
        return {k: lo is not None and hi is not None for k, (lo, hi) in self.intervals.items()}


def profile_options(step: float = 0.05):
    """pyPESTO profile options: adaptive steps from ``step``/10 to 2·``step`` (default
    ``step``) of each parameter's log10 range (with the default 0.05, a range of 2 decades
    gives steps of 0.01–0.2), walked until the negative log-likelihood rises 0.5 above the
    95 % threshold or the bound is reached."""
    import pypesto.profile as profile

    if not 0 < step <= 0.5:
        raise InputError("profile step", step, "a fraction of the parameter range in (0, 0.5]")
    return profile.ProfileOptions(
        default_step_size_absolute=0.0, default_step_size_relative=step,
        min_step_size_relative=step / 10, max_step_size_relative=2 * step,
        ratio_min=math.exp(-THRESHOLD_95 - 0.5), step_size_precheck_mode="off")


def _engine(workers: int):
    from pypesto.engine import MultiProcessEngine, SingleCoreEngine

    if workers < 1:
        raise InputError("--workers", workers, "a number of worker processes >= 1")
    return SingleCoreEngine() if workers == 1 else MultiProcessEngine(n_procs=workers)


@contextlib.contextmanager
def _quiet_petab_alias():
    """Pickling the objective for worker processes touches the ``petab._lambdifygenerated``
    alias, which petab deprecates with one warning per pickle (thousands in a profile run)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=DeprecationWarning,
                                message=r"Accessing `petab\._lambdifygenerated` is deprecated")
        yield


def fit(yaml_path: str | Path, n_starts: int = 10, profiles: bool = True, seed: int = 0,
        log: Callable[[str], None] = print, workers: int = 1,
        profile_parameters: list[str] | None = None, inner_max_nfev: int = 20,
        profile_step: float = 0.05):
    """Multi-start fit (and profiles) of the PEtab problem; returns (pyPESTO result, summary).

    ``workers`` processes run the starts and the profile halves (1: in this process);
    ``profile_parameters`` (default: all) names the parameters to profile; the optimisation
    of the other 11 parameters at each profile point (trust-region least squares, relative
    tolerances 1e-6) stops after at most ``inner_max_nfev`` residual evaluations (it starts
    from the point extrapolated from the previous two, and converges in a few);
    ``profile_step`` sets the profile steps (:func:`profile_options`)."""
    try:
        import pypesto.optimize as optimize
        import pypesto.profile as profile
        from pypesto.startpoint import LatinHypercubeStartpoints
    except ImportError:
        raise InputError("--engine", "pypesto", "pyPESTO to be installed: "
                         "pip install 'raadsim[pypesto]'") from None
    if n_starts < 1:
        raise InputError("--starts", n_starts, "a number of starts >= 1")
    if inner_max_nfev < 1:
        raise InputError("inner_max_nfev", inner_max_nfev, "a number of evaluations >= 1")
    engine = _engine(workers)
    options = profile_options(profile_step) if profiles else None
    obj = PetabObjective(yaml_path)
    unknown = sorted(set(profile_parameters or []) - set(obj.x_ids))
    if unknown:
        raise InputError("profile parameter", unknown[0], ", ".join(obj.x_ids))
    problem = pypesto_problem(obj)
    x0 = obj.x_nominal()
    problem.set_x_guesses(x0[None, :])
    np.random.seed(seed)  # pyPESTO's start points draw from NumPy's global generator
    opt = optimize.ScipyOptimizer(method="ls_trf", options={"max_nfev": 60})
    log(f"multi-start: {n_starts} starts (one at the stored values), {len(x0)} parameters, "
        f"{workers} worker{'s' if workers > 1 else ''}")
    problem.startpoint_method = LatinHypercubeStartpoints()
    t0 = time.perf_counter()
    with _quiet_petab_alias():
        result = optimize.minimize(problem, optimizer=opt, n_starts=n_starts, engine=engine,
                                   progress_bar=False, filename=None)
    seconds = {"multistart": time.perf_counter() - t0}
    best = result.optimize_result.list[0]
    # pyPESTO's fval is ½Σr²; the likelihood adds ½Σ ln(2πσ²)
    const = obj.nllh_constant
    log(f"best negative log-likelihood {best.fval + const:.4f} "
        f"(stored values: {obj.nllh(x0):.4f}; {seconds['multistart']:.0f} s)")
    intervals: dict[str, tuple[float | None, float | None]] = {}
    profile_min: dict[str, float] = {}
    if profiles:
        names = profile_parameters or obj.x_ids
        index = [obj.x_ids.index(n) for n in names]
        log(f"profile likelihoods of {len(index)} parameters …")
        # tolerances of 1e-6 instead of scipy's 1e-8: a third fewer evaluations, the same
        # intervals to 7 digits (the profile values need ~1e-3)
        inner = optimize.ScipyOptimizer(method="ls_trf", tol=1e-6, options={
            "max_nfev": inner_max_nfev, "xtol": 1e-6, "gtol": 1e-6})
        t0 = time.perf_counter()
        with _quiet_petab_alias():
            result = profile.parameter_profile(problem, result, optimizer=inner,
                                               engine=engine, profile_index=index,
                                               profile_options=options,
                                               progress_bar=False, filename=None)
        seconds["profiles"] = time.perf_counter() - t0
        for i in index:
            name = obj.x_ids[i]
            prof = result.profile_result.list[-1][i]
            intervals[name] = profile_interval(prof.x_path[i], prof.fval_path, best.fval)
            profile_min[name] = float(np.min(prof.fval_path)) + const
        log(f"profiles: {seconds['profiles']:.0f} s")
        better = {k: v for k, v in profile_min.items() if v < best.fval + const - 1e-3}
        if better:
            log("warning: the profiles of " + ", ".join(better) + " found a lower negative "
                "log-likelihood than the multi-start (down to "
                f"{min(better.values()):.4f}); use more --starts")
    summary = FitSummary(
        best=dict(zip(obj.x_ids, (10 ** np.asarray(best.x)).tolist(), strict=True)),
        stored=dict(zip(obj.x_ids, (10 ** x0).tolist(), strict=True)),
        fval_best=float(best.fval) + const, fval_stored=obj.nllh(x0),
        fvals=[float(r.fval) + const for r in result.optimize_result.list],
        intervals=intervals, profile_min=profile_min, seconds=seconds)
    return result, summary


def profile_interval(x_path: np.ndarray, fvals: np.ndarray, fbest: float
                     ) -> tuple[float | None, float | None]:
    """95 % profile-likelihood interval (linear scale); ``None`` on a side where the profile
    stays below the threshold up to the bound (not identifiable on that side)."""
    x = np.asarray(x_path, float)
    d = np.asarray(fvals, float) - fbest
    order = np.argsort(x)
    x, d = x[order], d[order]
    i0 = int(np.argmin(d))
    lo = hi = None
    below = d <= THRESHOLD_95
    left = np.where(~below[:i0])[0]
    if len(left):
        j = left[-1]
        lo = float(10 ** np.interp(THRESHOLD_95, [d[j + 1], d[j]], [x[j + 1], x[j]]))
    right = np.where(~below[i0:])[0]
    if len(right):
        j = i0 + right[0]
        hi = float(10 ** np.interp(THRESHOLD_95, [d[j - 1], d[j]], [x[j - 1], x[j]]))
    return lo, hi


def write_fit(result, summary: FitSummary, out: Path) -> None:
    """``result.hdf5``, ``fit.json``, ``waterfall.png`` and (with profiles) ``profiles.png``
    into the directory ``out`` (already temporary; the caller renames it into place)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import pypesto.visualize as vis
    from pypesto.store import write_result


    write_result(result, str(out / "result.hdf5"), overwrite=True, problem=True,
                 optimize=True, profile=bool(summary.intervals), sample=False)
    write_json(out / "fit.json", {
        "best": summary.best, "stored": summary.stored, "nllh_best": summary.fval_best,
        "nllh_stored": summary.fval_stored, "nllh_starts": summary.fvals,
        "profile_95": {k: {"low": lo, "high": hi, "identifiable": summary.identifiable[k],
                           "nllh_min": summary.profile_min.get(k)}
                       for k, (lo, hi) in summary.intervals.items()},
        "seconds": summary.seconds,
    })
    ax = vis.waterfall(result)
    ax.figure.savefig(out / "waterfall.png", dpi=120, bbox_inches="tight")
    plt.close("all")
    if summary.intervals:
        names = list(result.problem.x_names)
        axes = vis.profiles(result, show_bounds=True,
                            profile_indices=[names.index(k) for k in summary.intervals])
        # pyPESTO labels the bottom row only: name every panel (log10 values on the x axes)
        for ax, name in zip(np.ravel(axes), summary.intervals, strict=False):
            verdict = "identifiable" if summary.identifiable[name] else "not identifiable"
            ax.set_title(f"{name} ({verdict})", fontsize=9)
            ax.set_xlabel(f"log10 {name}", fontsize=8)
            # the 95 % threshold, as a likelihood ratio
            ax.axhline(math.exp(-THRESHOLD_95), color="grey", ls="--", lw=0.8)
        fig = np.ravel(axes)[0].figure
        fig.tight_layout()
        fig.savefig(out / "profiles.png", dpi=110, bbox_inches="tight")
        plt.close("all")
