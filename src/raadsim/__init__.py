"""raadsim: multiscale simulation of rapid-acting antidepressants.

Quick use::

    import raadsim

    sc = raadsim.load_scenario("examples/ketamine_single_trd.toml")
    result = raadsim.simulate(sc)
    result.to_pandas()                 # one column per observable, indexed by time_h
    raadsim.plot(result, "figure.png")

    trial = raadsim.load_trial("examples/ketamine_trial.toml")
    outcome = raadsim.run_trial(trial, executor="serial")
    outcome.to_xarray()                # arm × patient × visit

A loaded scenario or trial carries its catalogue (the built-in drugs plus its drug files),
so nothing else needs passing around. ``import raadsim`` stays light: the solver, plotting
and Dask load when first used.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._version import __version__
from .errors import InputError
from .io.scenario import Scenario, load_scenario, scenario_from_dict
from .simulate.run import Result, simulate

if TYPE_CHECKING:
    from .io.trial_file import TrialFile, load_trial, trial_from_dict
    from .simulate.trial import TrialResult

__all__ = [
    "InputError",
    "Result",
    "Scenario",
    "TrialFile",
    "__version__",
    "load_scenario",
    "load_trial",
    "plot",
    "run_trial",
    "save",
    "scenario_from_dict",
    "simulate",
    "trial_from_dict",
]


# Trial files load on first use: their module parses quantities (pint, which imports dask).
_LAZY = {"TrialFile": "io.trial_file", "load_trial": "io.trial_file",
         "trial_from_dict": "io.trial_file"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module 'raadsim' has no attribute {name!r}")


def run_trial(trial: TrialFile, n: int | None = None, **options: Any) -> TrialResult:
    """Run a virtual trial, with ``n`` patients per arm instead of the file's if given (see
    :func:`raadsim.simulate.trial.run_trial` for ``options``: ``executor="serial" |
    "processes" | "dask"``, ``workers``, ``keep_trajectories``, ...)."""
    from .io.limits import MAX_PATIENTS
    from .simulate.trial import run_trial as _run_trial

    if n is not None:
        if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= MAX_PATIENTS:
            raise InputError("n", n, f"a whole number of patients from 1 to {MAX_PATIENTS}")
        trial = trial.model_copy(update={"population": trial.population.model_copy(
            update={"n": n})})
    return _run_trial(trial, **options)


def plot(result: Result | TrialResult, path: str | Path) -> Path:
    """Draw the figure ``raadsim run`` (a :class:`Result`) or ``raadsim trial`` (a trial
    result) writes, to ``path`` (any format matplotlib writes: .png, .svg, .pdf)."""
    path = Path(path)
    if isinstance(result, Result):
        from .report.figures import plot_result

        plot_result(result, path)
    else:
        from .report.trial_figure import plot_trial

        plot_trial(result.timecourse, path, result.trial.trial.visit_times_h())
    return path


def save(result: Result | TrialResult, out: str | Path) -> Path:
    """Write the output directory ``raadsim run`` or ``raadsim trial`` writes (time course,
    summary, figure, the scenario or trial and its model) to ``out``."""
    from .report.artifacts import write_run, write_trial

    if isinstance(result, Result):
        return write_run(result, out, base_dir=result.scenario.base_dir)
    return write_trial(result, out, base_dir=result.trial.base_dir)
