"""Global sensitivity analysis of one observable at chosen times (SALib).

:func:`run_sensitivity` is the Python API behind ``raadsim sensitivity``. It asks: over the
ranges that the data files record for the model's parameters, which parameters move an
observable (``clinic.madrs`` at 24 h, at 7 d, ...) and by how much?

Methods
    ``morris`` — elementary-effects screening (Morris 1991; Campolongo et al. 2007): ``n``
    random one-at-a-time trajectories through a 4-level grid. Per parameter: ``mu_star`` (mean
    absolute effect of moving the parameter across 2/3 of its range, in the observable's
    unit), ``sigma`` (its spread: non-linearity or interactions) and ``mu_star_conf``
    (bootstrap 95 % half-width). Cost: ``r·(D+1)`` runs for ``r = n`` trajectories and ``D``
    parameters. Use it to screen many parameters.
    ``sobol`` — variance decomposition (Sobol' indices with the Saltelli/Jansen estimators on a
    scrambled Sobol' sequence): ``S1`` (share of the output variance due to the parameter
    alone) and ``ST`` (including all its interactions), each with a bootstrap 95 % half-width.
    Cost: ``N·(D+2)`` runs for ``N = n`` base samples (``N·(2D+2)`` with ``second_order``,
    which adds ``S2``). Use it on the few parameters a Morris screen kept.

Ranges
    Each parameter varies over the range recorded with its provenance (``low``/``high`` of
    the source :class:`~raadsim.provenance.Param`). A model value can be a scaled or converted
    copy of the source value (per-analyte PK, unit conversion, allometry), so the range is
    mapped proportionally: ``model_low = value × low / source.value``. Ranges spanning a
    factor of 10 or more (with ``low > 0``) are sampled uniformly in log space, the others
    uniformly. By default every parameter with a range that enters the model's equations is
    varied; parameters only used while the model is built (the allometric exponent) or by
    another species (rodent read-outs) would have no effect and are listed as skipped.

Runs
    The model is built and compiled once per worker process; each sample is one integration
    from the start of the drug-free pre-equilibration (so parameters also set the baseline) to
    the last requested time. Samples are evaluated in chunks on an executor (serial, processes
    or Dask); sampling is seeded and every sample is simulated independently, so the indices
    do not depend on the executor or the chunking. One extra run at the nominal values gives
    the observable's reference value. A run takes ~7 ms (rtol 1e-9, simulator.SENSITIVITY):
    the default Morris screen of a ketamine scenario (66 parameters, r = 20: 1341 runs) takes
    ~7 s on 2 processes; Sobol' on 12 parameters with N = 256 (3585 runs) ~22 s.
"""

from __future__ import annotations

import fnmatch
import hashlib
import math
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._version import __version__
from ..drugs.catalogue import Catalogue
from ..errors import InputError, ModelError
from ..io.outputs import atomic_dir, write_json
from ..io.scenario import Scenario
from ..model import eeg
from ..model.build import build_model
from ..model.spec import ModelSpec, identifiers
from ..simulate.executors import EXECUTORS, map_chunks
from ..simulate.simulator import SENSITIVITY, default_simulator
from ..units import parse_time

METHODS = ("morris", "sobol")
DEFAULT_N = {"morris": 20, "sobol": 256}
MORRIS_LEVELS = 4
NUM_RESAMPLES = 100
CONF_LEVEL = 0.95
LOG_SPAN = 10.0  # ranges with high/low >= LOG_SPAN are sampled log-uniformly
MIN_CHUNK, MAX_CHUNK = 50, 2000
INDEX_COLUMNS = {"morris": ("mu", "mu_star", "sigma", "mu_star_conf"),
                 "sobol": ("S1", "S1_conf", "ST", "ST_conf")}


@dataclass(frozen=True)
class ParamRange:
    """A varied parameter: nominal value and range in model units, and where they came from."""

    name: str
    layer: str
    unit: str
    value: float
    low: float
    high: float
    scale: str  # "linear" or "log"
    kind: str  # provenance kind: literature, fitted, derived, assumed
    source: str  # the source parameter's name
    source_range: tuple[float, float]  # as recorded, in the source's unit
    source_unit: str
    provenance: str  # one-line provenance summary

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "layer": self.layer, "unit": self.unit, "value": self.value,
                "low": self.low, "high": self.high, "scale": self.scale, "kind": self.kind,
                "source": self.source, "source_low": self.source_range[0],
                "source_high": self.source_range[1], "source_unit": self.source_unit,
                "provenance": self.provenance}


@dataclass
class SensitivityResult:
    """Indices of every varied parameter at every requested time, with the settings."""

    method: str
    observable: str
    unit: str
    at: tuple[str, ...]  # as given
    at_h: tuple[float, ...]  # scenario time (h)
    params: list[ParamRange]
    indices: pd.DataFrame  # one row per parameter × time (see :meth:`table`)
    n: int
    runs: int  # simulations, including the nominal one
    seed: int
    nominal: dict[str, float]  # observable at the nominal parameter values, per time label
    output: dict[str, dict[str, float]]  # mean, sd, min, max of the observable per time
    skipped: dict[str, str] = field(default_factory=dict)  # parameter -> why not varied
    settings: dict[str, Any] = field(default_factory=dict)
    second_order: pd.DataFrame | None = None  # Sobol S2 per pair: at, a, b, S2, S2_conf
    meta: dict[str, Any] = field(default_factory=dict)

    def table(self) -> pd.DataFrame:
        """One row per parameter × time: time, parameter, layer, provenance kind, range and
        the indices (sorted by time, then by importance)."""
        return self.indices.copy()

    def top(self, at: str, k: int = 15) -> pd.DataFrame:
        """The ``k`` most influential parameters at time label ``at``."""
        sub = self.indices[self.indices["at"] == at]
        return sub.head(k).reset_index(drop=True)

    def to_dict(self) -> dict[str, Any]:
        cols = ["parameter", *INDEX_COLUMNS[self.method], "rank"]
        per_time = {}
        for label in self.at:
            sub = self.indices[self.indices["at"] == label]
            per_time[label] = [{c: _jsonable(r[c]) for c in cols}
                               for r in sub.to_dict("records")]
        pairs = None
        if self.second_order is not None:
            pairs = {label: [{k: _jsonable(v) for k, v in r.items() if k != "at"}
                             for r in g.to_dict("records")]
                     for label, g in self.second_order.groupby("at", sort=False)}
        return {
            "settings": self.settings,
            "observable": self.observable, "unit": self.unit, "method": self.method,
            "at": list(self.at), "at_h": list(self.at_h), "n": self.n, "runs": self.runs,
            "seed": self.seed, "nominal": self.nominal, "output": self.output,
            "parameters": [p.to_dict() for p in self.params],
            "skipped": self.skipped, "indices": per_time, "second_order": pairs,
            "meta": self.meta,
        }


def _jsonable(v: Any) -> Any:
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, float | np.floating):
        return None if not math.isfinite(float(v)) else float(v)
    if isinstance(v, np.ndarray | list | tuple):
        return [_jsonable(x) for x in v]
    if isinstance(v, dict):
        return {k: _jsonable(x) for k, x in v.items()}
    return v


# -- parameters and ranges ----------------------------------------------------------------
def _used_names(spec: ModelSpec) -> set[str]:
    """Names that appear in the model's equations (ODEs, rules, events)."""
    exprs = list(spec.odes.values()) + [r.expr for r in spec.rules.values()]
    exprs += [e for ev in spec.events for e in ev.increments.values()]
    out: set[str] = set()
    for e in exprs:
        out |= identifiers(e)
    return out


def param_range(spec: ModelSpec, name: str) -> ParamRange | str:
    """The range of model parameter ``name`` in model units, or why it has none."""
    p = spec.params[name]
    src = p.source
    if src.low is None or src.high is None:
        return "no range recorded"
    if src.value != 0:
        lo, hi = sorted((p.value * src.low / src.value, p.value * src.high / src.value))
    elif p.value == 0:
        lo, hi = float(src.low), float(src.high)
    else:
        return "source value is 0 but the model value is not: the range cannot be mapped"
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi - lo <= 1e-12 * max(abs(hi), 1):
        return f"degenerate range [{lo:g}, {hi:g}]"
    scale = "log" if lo > 0 and hi / lo >= LOG_SPAN else "linear"
    return ParamRange(name, p.layer, p.unit, p.value, lo, hi, scale, src.provenance.kind,
                      src.name, (float(src.low), float(src.high)), src.unit,
                      src.provenance.short())


def select_params(spec: ModelSpec, params: Sequence[str] | None
                  ) -> tuple[list[ParamRange], dict[str, str]]:
    """The parameters to vary and those left out (name → reason).

    ``None``: every parameter with a range that enters the equations. Otherwise names or
    ``fnmatch`` patterns (as :func:`~raadsim.simulate.run.expand_params`): a pattern that
    matches no parameter, an exact name without a usable range or not in the equations, or a
    pattern whose matches all lack one, is an :class:`InputError`. Matches of a pattern that
    lack a range are skipped."""
    used = _used_names(spec)

    def why_not(name: str) -> ParamRange | str:
        if name not in used:
            return "not in this model's equations (used only when the model is built, or by " \
                   "another species): varying it has no effect"
        return param_range(spec, name)

    chosen: dict[str, ParamRange] = {}
    skipped: dict[str, str] = {}
    if params is None:
        for name in spec.params:
            got = why_not(name)
            if isinstance(got, str):
                if spec.params[name].source.low is not None:
                    skipped[name] = got
            else:
                chosen[name] = got
        if not chosen:
            raise InputError("params", None, "a model with at least one parameter range")
        return list(chosen.values()), skipped
    if isinstance(params, str) or not params:
        raise InputError("params", params, "a list of parameter names or patterns")
    for pattern in params:
        hits = fnmatch.filter(spec.params, pattern)
        if not hits:
            raise InputError("params", pattern, "a parameter name (or pattern) of this "
                             "scenario's model")
        exact = hits == [pattern]
        good = 0
        for name in hits:
            got = why_not(name)
            if isinstance(got, str):
                if exact:
                    raise InputError("params", name, "a parameter with a recorded range "
                                     f"that enters the model's equations ({name}: {got})")
                skipped.setdefault(name, got)
            else:
                chosen[name] = got
                good += 1
        if not good:
            raise InputError("params", pattern, "a pattern matching at least one parameter "
                             f"with a recorded range ({len(hits)} matches, none with one)")
    skipped = {k: v for k, v in skipped.items() if k not in chosen}
    return list(chosen.values()), skipped


def _problem(ranges: Sequence[ParamRange]) -> dict[str, Any]:
    """SALib problem on the sampling scale (log10 for log-scaled parameters)."""
    bounds = [[math.log10(r.low), math.log10(r.high)] if r.scale == "log" else [r.low, r.high]
              for r in ranges]
    return {"num_vars": len(ranges), "names": [r.name for r in ranges], "bounds": bounds}


def _to_model(X: np.ndarray, ranges: Sequence[ParamRange]) -> np.ndarray:
    """Sampling-scale rows → parameter values in model units."""
    out = np.array(X, dtype=float, copy=True)
    for j, r in enumerate(ranges):
        if r.scale == "log":
            out[:, j] = 10.0 ** out[:, j]
        out[:, j] = np.clip(out[:, j], r.low, r.high)  # 10**log10(x) round-off
    return out


# -- evaluation in chunks -----------------------------------------------------------------
@dataclass(frozen=True)
class SensModel:
    """The compiled-once model of one analysis: what to read, and when (model time)."""

    key: str  # scenario digest and model hash
    spec: ModelSpec
    observable: str
    times_h: np.ndarray  # scenario times, ascending, distinct


@dataclass(frozen=True)
class SampleChunk:
    model: SensModel
    names: tuple[str, ...]
    start: int  # index of the first row in the whole sample
    rows: np.ndarray  # parameter values (model units), one row per run


def run_samples(task: SampleChunk) -> tuple[int, np.ndarray, list[int]]:
    """Simulate a block of sample rows (worker function): ``(start, values, retried)`` with
    one row of values per sample and one column per output time; ``retried`` lists the
    samples that needed a fallback tolerance (the simulator retries a run CVODE stalls on, at
    the settings of :data:`raadsim.simulate.simulator.SENSITIVITY`; the retry is
    deterministic, so results stay executor-independent)."""
    m = task.model
    sim = default_simulator(SENSITIVITY)
    out = np.empty((len(task.rows), len(m.times_h)))
    retried = []
    for j, row in enumerate(task.rows):
        params = dict(zip(task.names, row.tolist(), strict=True))
        try:
            tr = sim.run(m.spec, [m.observable], m.times_h, params=params)
        except ModelError as exc:
            raise ModelError(f"sample {task.start + j}: {exc}; parameters {params}") from None
        out[j] = tr.values[m.observable]
        if tr.fallbacks:
            retried.append(task.start + j)
    return task.start, out, retried


def default_chunk_size(runs: int, workers: int) -> int:
    """About four chunks per worker, of 50 to 2000 runs."""
    return max(MIN_CHUNK, min(MAX_CHUNK, math.ceil(runs / (4 * max(workers, 1)))))


def evaluate(model: SensModel, names: Sequence[str], rows: np.ndarray, executor: str,
             workers: int | None, address: str | None, chunk_size: int | None = None,
             progress: Callable[[int, int], None] | None = None
             ) -> tuple[np.ndarray, list[int]]:
    """The observable at every output time for every row (rows × times), on an executor,
    and the rows that needed a fallback tolerance."""
    n_workers = 1 if executor == "serial" else (workers or os.cpu_count() or 1)
    size = chunk_size or default_chunk_size(len(rows), n_workers)
    tasks = [SampleChunk(model, tuple(names), s, rows[s:s + size])
             for s in range(0, len(rows), size)]
    Y = np.full((len(rows), len(model.times_h)), np.nan)
    retried: list[int] = []
    done = 0
    for start, values, again in map_chunks(run_samples, tasks, executor, workers, address):
        Y[start:start + len(values)] = values
        retried += again
        done += len(values)
        if progress:
            progress(done, len(rows))
    return Y, sorted(retried)


# -- the analysis -------------------------------------------------------------------------
def _check_times(sc: Scenario, at: Sequence[str]) -> list[float]:

    if isinstance(at, str) or not at:
        raise InputError("at", at, "one or more time points such as '24 h' or '7 d'")
    start, end, _ = sc.window()
    hours = []
    for text in at:
        t = parse_time(text, "at", allow_negative=True)
        if not start - 1e-9 <= t <= end + 1e-9:
            raise InputError("at", text, f"a time within the scenario's window, {start:g} h "
                             f"to {end:g} h (simulation.end = {sc.simulation.end})")
        hours.append(t)
    if len({round(t, 9) for t in hours}) != len(hours):
        raise InputError("at", list(at), "distinct time points")
    return hours


def _check_n(method: str, n: int | None) -> int:
    n = DEFAULT_N[method] if n is None else n
    if isinstance(n, bool) or not isinstance(n, int | np.integer):
        raise InputError("n", n, "a whole number")
    if method == "morris" and n < 2:
        raise InputError("n", n, "a number of Morris trajectories >= 2")
    if method == "sobol" and (n < 2 or n & (n - 1)):
        raise InputError("n", n, "a number of Sobol' base samples that is a power of 2 "
                         "(such as 64, 256 or 1024)")
    return int(n)


def _sample(method: str, problem: dict, n: int, seed: int, second_order: bool) -> np.ndarray:
    if method == "morris":
        from SALib.sample import morris

        return morris.sample(problem, n, num_levels=MORRIS_LEVELS, seed=seed)
    from SALib.sample import sobol

    return sobol.sample(problem, n, calc_second_order=second_order, scramble=True, seed=seed)


def _analyse(method: str, problem: dict, X: np.ndarray, y: np.ndarray, seed: int,
             second_order: bool) -> dict[str, np.ndarray]:
    import warnings

    with warnings.catch_warnings(), np.errstate(divide="ignore", invalid="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        if method == "morris":
            from SALib.analyze import morris

            si = morris.analyze(problem, X, y, num_resamples=NUM_RESAMPLES,
                                conf_level=CONF_LEVEL, num_levels=MORRIS_LEVELS, seed=seed)
            return {k: np.asarray(si[k], float) for k in INDEX_COLUMNS["morris"]}
        from SALib.analyze import sobol

        # A Generator, not the int: SALib 1.6 tests ``if seed:`` and leaves seed 0 unseeded.
        si = sobol.analyze(problem, y, calc_second_order=second_order,
                           num_resamples=NUM_RESAMPLES, conf_level=CONF_LEVEL,
                           seed=np.random.default_rng(seed))
        out = {k: np.asarray(si[k], float) for k in INDEX_COLUMNS["sobol"]}
        if second_order:
            out["S2"] = np.asarray(si["S2"], float)
            out["S2_conf"] = np.asarray(si["S2_conf"], float)
        return out


def run_sensitivity(sc: Scenario, cat: Catalogue, observable: str, at: list[str],
                    method: str = "morris", n: int | None = None,
                    params: list[str] | None = None, executor: str = "processes",
                    workers: int | None = None, address: str | None = None, seed: int = 0,
                    progress: Callable[[int, int], None] | None = None,
                    second_order: bool = False, chunk_size: int | None = None
                    ) -> SensitivityResult:
    """Global sensitivity of ``observable`` at the times ``at`` (scenario time, e.g. "24 h")
    to the model parameters with recorded ranges.

    ``method``: ``morris`` (``n`` trajectories, default 20) or ``sobol`` (``n`` base samples,
    a power of 2, default 256). ``params``: names or ``fnmatch`` patterns (default: every
    parameter with a range). ``executor``: serial, processes or dask (``address``: a
    scheduler). ``progress(done, total)`` reports runs. Inputs are checked before any run."""
    if method not in METHODS:
        raise InputError("method", method, f"one of {', '.join(METHODS)}")
    n = _check_n(method, n)
    if executor not in EXECUTORS:
        raise InputError("executor", executor, f"one of {', '.join(EXECUTORS)}")
    if workers is not None and (isinstance(workers, bool) or workers < 1):
        raise InputError("workers", workers, "a number of processes >= 1")
    if chunk_size is not None and chunk_size < 1:
        raise InputError("chunk_size", chunk_size, "a number of runs >= 1")
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise InputError("seed", seed, "a whole number >= 0")
    if second_order and method != "sobol":
        raise InputError("second_order", second_order, "False for the Morris method")
    hours = _check_times(sc, at)
    spec = build_model(sc, cat)
    if observable not in spec.observables and observable not in eeg.OBSERVABLES:
        raise InputError("observable", observable,
                         f"an observable of this scenario: {', '.join(sorted(spec.observables))}"
                         " or an eeg.* observable")
    ranges, skipped = select_params(spec, params)

    t0 = time.perf_counter()
    problem = _problem(ranges)
    X = _sample(method, problem, n, int(seed), second_order)
    rows = np.vstack([_to_model(X, ranges), [[r.value for r in ranges]]])  # + nominal run
    digest = hashlib.sha1(spec.to_antimony().encode()).hexdigest()[:16]
    model = SensModel(f"{sc.digest()}:{digest}", spec, observable,
                      np.array(sorted(set(hours))))
    Y, retried = evaluate(model, problem["names"], rows, executor, workers, address, chunk_size,
                 progress)
    wall = time.perf_counter() - t0
    if not np.isfinite(Y).all():
        bad = int(np.flatnonzero(~np.isfinite(Y).all(axis=1))[0])
        raise ModelError(f"sample {bad}: the observable is not finite")
    col = {round(t, 9): k for k, t in enumerate(sorted(set(hours)))}

    frames = []
    nominal: dict[str, float] = {}
    output: dict[str, dict[str, float]] = {}
    pairs = []
    for label, t in zip(at, hours, strict=True):
        y = Y[:-1, col[round(t, 9)]]
        nominal[label] = float(Y[-1, col[round(t, 9)]])
        output[label] = {"mean": float(y.mean()), "sd": float(y.std(ddof=1)),
                         "min": float(y.min()), "max": float(y.max())}
        si = _analyse(method, problem, X, y, int(seed), second_order)
        df = pd.DataFrame({
            "at": label, "time_h": t, "parameter": problem["names"],
            "layer": [r.layer for r in ranges], "kind": [r.kind for r in ranges],
            "unit": [r.unit for r in ranges], "value": [r.value for r in ranges],
            "low": [r.low for r in ranges], "high": [r.high for r in ranges],
            "scale": [r.scale for r in ranges],
            **{c: si[c] for c in INDEX_COLUMNS[method]},
        })
        if "S2" in si:
            names = problem["names"]
            pairs += [{"at": label, "a": names[i], "b": names[j], "S2": si["S2"][i, j],
                       "S2_conf": si["S2_conf"][i, j]}
                      for i in range(len(names)) for j in range(i + 1, len(names))]
        key = "mu_star" if method == "morris" else "ST"
        df = df.sort_values(key, ascending=False, kind="stable", na_position="last")
        df["rank"] = np.arange(1, len(df) + 1)
        frames.append(df)
    indices = pd.concat(frames, ignore_index=True)

    from importlib.metadata import version

    settings = {"method": method, "observable": observable, "at": list(at), "n": n,
                "seed": int(seed), "parameters": len(ranges),
                "requested": None if params is None else list(params),
                "num_levels": MORRIS_LEVELS if method == "morris" else None,
                "second_order": second_order, "num_resamples": NUM_RESAMPLES,
                "conf_level": CONF_LEVEL, "log_span": LOG_SPAN,
                "integration": [{"rtol": a, "atol": b, "max_steps": c}
                                for a, b, c in SENSITIVITY.attempts()],
                "runs_formula": ("r·(D+1)" if method == "morris"
                                 else "N·(2D+2)" if second_order else "N·(D+2)")}
    meta = {"raadsim_version": __version__, "salib_version": version("SALib"),
            "scenario_hash": sc.digest(), "model_hash": digest, "executor": executor,
            "workers": workers, "wall_s": round(wall, 3), "retried_samples": retried}
    unit = spec.observables[observable].unit if observable in spec.observables else "1"
    return SensitivityResult(method, observable, unit,
                             tuple(at), tuple(hours), list(ranges), indices, n, len(rows),
                             int(seed), nominal, output, skipped, settings,
                             pd.DataFrame(pairs) if second_order else None, meta)


# -- output -------------------------------------------------------------------------------
def plot_sensitivity(result: SensitivityResult, path: Path, top: int = 15) -> None:
    """Horizontal bars per time point for the ``top`` parameters: ST and S1 (Sobol) or
    mu_star (Morris), with their 95 % confidence half-widths."""
    from matplotlib.figure import Figure

    k = min(top, len(result.params))
    fig = Figure(figsize=(5.2 * len(result.at), 0.32 * k + 1.6))
    axes = fig.subplots(1, len(result.at),
                             squeeze=False)
    for ax, label in zip(axes[0], result.at, strict=True):
        sub = result.top(label, k).iloc[::-1]
        y = np.arange(len(sub))
        if result.method == "sobol":
            ax.barh(y + 0.2, sub["ST"], 0.4, xerr=sub["ST_conf"], label="ST (total)",
                    color="tab:blue", error_kw={"lw": 0.8})
            ax.barh(y - 0.2, sub["S1"], 0.4, xerr=sub["S1_conf"], label="S1 (first order)",
                    color="tab:orange", error_kw={"lw": 0.8})
            ax.set_xlabel("Sobol' index (share of variance)")
        else:
            ax.barh(y, sub["mu_star"], 0.6, xerr=sub["mu_star_conf"], color="tab:blue",
                    label="mu* (± 95 % CI)", error_kw={"lw": 0.8})
            ax.plot(sub["sigma"], y, "k|", ms=8, label="sigma")
            ax.set_xlabel(f"Morris mu* ({result.unit})")
        ax.set_yticks(y, sub["parameter"], fontsize=8)
        ax.set_title(f"{result.observable} at {label} (nominal "
                     f"{result.nominal[label]:.3g})", fontsize=10)
        ax.axvline(0, color="0.6", lw=0.6)
        ax.legend(fontsize=7, loc="lower right")
    fig.suptitle(f"{result.method.capitalize()} sensitivity, n = {result.n}, "
                 f"{result.runs} runs", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def write_sensitivity(result: SensitivityResult, out: Path) -> Path:
    """``sensitivity.csv``, ``sensitivity.json`` and ``sensitivity.png`` in ``out`` (written
    atomically: a failure leaves no partial directory)."""
    with atomic_dir(out) as tmp:
        result.table().to_csv(tmp / "sensitivity.csv", index=False, float_format="%.8g")
        write_json(tmp / "sensitivity.json", result.to_dict())
        plot_sensitivity(result, tmp / "sensitivity.png")
    return Path(out)
