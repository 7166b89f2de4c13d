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
   on both sides within its bounds;
4. writes ``result.hdf5`` (pyPESTO store), ``fit.json`` (best fit, stored values, profile
   intervals), ``waterfall.png`` and ``profiles.png``, atomically.

Why not pyPESTO's own roadrunner importer: with pyPESTO 0.7.0 and libRoadRunner 2.10 we saw
the condition-table dose amounts of this problem reach the wrong dose inputs (the psilocybin
and ayahuasca amounts exchanged), so the importer is not used; optimisation, profiling,
storage and plots are pyPESTO's.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputError, ModelError

THRESHOLD_95 = 0.5 * 3.841458820694124  # χ²₁(0.95)/2


class PetabObjective:
    """Negative log-likelihood and standardised residuals of a PEtab (v1) problem whose
    observables are formulas of model variables and parameters, with numeric noise."""

    def __init__(self, yaml_path: str | Path) -> None:
        import petab.v1 as petab
        import roadrunner
        import sympy as sp

        self.problem = petab.Problem.from_yaml(str(yaml_path))
        p = self.problem
        self.x_ids = list(p.x_free_ids)
        self.scales = [p.parameter_df.loc[i, "parameterScale"] for i in self.x_ids]
        self.rr = roadrunner.RoadRunner(p.sbml_model.to_sbml_str() if hasattr(
            p.sbml_model, "to_sbml_str") else _sbml_text(yaml_path))
        self.rr.integrator.relative_tolerance = 1e-8
        self.rr.integrator.absolute_tolerance = 1e-10
        self.rr.integrator.setValue("maximum_num_steps", 100000)
        model_ids = set(self.rr.model.getGlobalParameterIds())
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

    def unscale(self, x: np.ndarray) -> dict[str, float]:
        return {i: (10 ** v if s == "log10" else math.exp(v) if s == "log" else v)
                for i, v, s in zip(self.x_ids, x, self.scales, strict=True)}

    def simulate(self, x: np.ndarray) -> pd.DataFrame:
        """The measurement table with a ``simulation`` column at parameters ``x``."""
        values = self.unscale(x)
        rows = []
        for cid, group in self.meas.groupby("simulationConditionId", sort=False):
            rr = self.rr
            rr.resetAll()
            for k, v in {**values, **self.conditions[str(cid)]}.items():
                rr.setValue(k, v)
            rr.reset()
            times = np.unique(group["time"].to_numpy(float))
            needed = sorted({n for o in group["observableId"] for n in self.formulas[o][0]})
            grid = np.r_[0.0, times] if times[0] > 0 else times
            try:
                arr = np.asarray(rr.simulate(times=grid, selections=needed))
            except RuntimeError as exc:
                raise ModelError(f"simulation failed at {values}: {exc}") from None
            arr = arr[len(grid) - len(times):]
            for idx, m in group.iterrows():
                j = int(np.searchsorted(times, m["time"]))
                names, f = self.formulas[m["observableId"]]
                args = [arr[j, needed.index(n)] for n in names]
                rows.append((idx, float(f(*args))))
        sim = self.meas.copy()
        sim["simulation"] = pd.Series(dict(rows))
        return sim

    def residuals(self, x: np.ndarray) -> np.ndarray:
        """(simulation − measurement)/σ per measurement; a failed simulation gives 1e3."""
        try:
            sim = self.simulate(x)
        except ModelError:
            return np.full(len(self.meas), 1e3)
        sigma = sim["observableId"].map(self.sigma)
        return ((sim["simulation"] - sim["measurement"]) / sigma).to_numpy(float)

    def nllh(self, x: np.ndarray) -> float:
        """Negative log-likelihood (normal noise), as ``petab.calculate_llh`` defines it."""
        r = self.residuals(x)
        sig = self.meas["observableId"].map(self.sigma).to_numpy(float)
        return float(0.5 * np.sum(np.log(2 * np.pi * sig ** 2) + r ** 2))

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


def pypesto_problem(obj: PetabObjective):
    """The pyPESTO problem: least-squares objective with finite-difference derivatives."""
    import pypesto

    base = pypesto.Objective(fun=lambda x: obj.nllh(np.asarray(x)),
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

    @property
    def identifiable(self) -> dict[str, bool]:
        return {k: lo is not None and hi is not None for k, (lo, hi) in self.intervals.items()}


def fit(yaml_path: str | Path, n_starts: int = 10, profiles: bool = True, seed: int = 0,
        log: Callable[[str], None] = print):
    """Multi-start fit (and profiles) of the PEtab problem; returns (pyPESTO result, summary)."""
    try:
        import pypesto.optimize as optimize
        import pypesto.profile as profile
        from pypesto.startpoint import LatinHypercubeStartpoints
    except ImportError:
        raise InputError("--engine", "pypesto", "pyPESTO to be installed: "
                         "pip install 'raadsim[pypesto]'") from None
    if n_starts < 1:
        raise InputError("--starts", n_starts, "a number of starts >= 1")
    obj = PetabObjective(yaml_path)
    problem = pypesto_problem(obj)
    x0 = obj.x_nominal()
    problem.set_x_guesses(x0[None, :])
    np.random.seed(seed)  # pyPESTO's start points draw from NumPy's global generator
    opt = optimize.ScipyOptimizer(method="ls_trf", options={"max_nfev": 60})
    log(f"multi-start: {n_starts} starts (one at the stored values), {len(x0)} parameters")
    problem.startpoint_method = LatinHypercubeStartpoints()
    result = optimize.minimize(problem, optimizer=opt, n_starts=n_starts,
                               progress_bar=False, filename=None)
    best = result.optimize_result.list[0]
    # pyPESTO's least-squares fval is ½Σr²; the likelihood adds ½Σ ln(2πσ²)
    const = obj.nllh(x0) - 0.5 * float(np.sum(obj.residuals(x0) ** 2))
    log(f"best negative log-likelihood {best.fval + const:.4f} "
        f"(stored values: {obj.nllh(x0):.4f})")
    intervals: dict[str, tuple[float | None, float | None]] = {}
    if profiles:
        log("profile likelihoods …")
        options = profile.ProfileOptions(min_step_size=0.01, max_step_size=0.25,
                                         ratio_min=math.exp(-THRESHOLD_95 - 0.5),
                                         default_step_size=0.05)
        inner = optimize.ScipyOptimizer(method="ls_trf", options={"max_nfev": 20})
        result = profile.parameter_profile(problem, result, optimizer=inner,
                                           profile_options=options, progress_bar=False,
                                           filename=None)
        for i, name in enumerate(obj.x_ids):
            prof = result.profile_result.list[0][i]
            intervals[name] = profile_interval(prof.x_path[i], prof.fval_path, best.fval)
    summary = FitSummary(
        best=dict(zip(obj.x_ids, (10 ** np.asarray(best.x)).tolist(), strict=True)),
        stored=dict(zip(obj.x_ids, (10 ** x0).tolist(), strict=True)),
        fval_best=float(best.fval) + const, fval_stored=obj.nllh(x0),
        fvals=[float(r.fval) + const for r in result.optimize_result.list],
        intervals=intervals)
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

    from ..io.outputs import write_json

    write_result(result, str(out / "result.hdf5"), overwrite=True, problem=True,
                 optimize=True, profile=bool(summary.intervals), sample=False)
    write_json(out / "fit.json", {
        "best": summary.best, "stored": summary.stored, "nllh_best": summary.fval_best,
        "nllh_stored": summary.fval_stored, "nllh_starts": summary.fvals,
        "profile_95": {k: {"low": lo, "high": hi, "identifiable": summary.identifiable[k]}
                       for k, (lo, hi) in summary.intervals.items()},
    })
    ax = vis.waterfall(result)
    ax.figure.savefig(out / "waterfall.png", dpi=120, bbox_inches="tight")
    plt.close("all")
    if summary.intervals:
        axes = vis.profiles(result, show_bounds=True)
        fig = np.ravel(axes)[0].figure
        fig.savefig(out / "profiles.png", dpi=110, bbox_inches="tight")
        plt.close("all")
