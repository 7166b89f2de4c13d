"""The figure of a single run (``raadsim run``, ``simulate`` and ``demo``): the report's
multiscale layout (:mod:`raadsim.report.multiscale`) with a time axis chosen by the run's
span and doses (:func:`~raadsim.report.panels.auto_log_time`)."""

from __future__ import annotations

from pathlib import Path

from .multiscale import multiscale_figure
from .panels import auto_log_time, default_observables, fmt_time
from .traces import trace_from_result


def run_observables(result) -> list[str]:
    """What a run figure shows: the scenario's own ``observables`` when it lists them, else
    the cascade's key observables (all of them when none of those was simulated)."""
    requested = getattr(getattr(result.scenario, "simulation", None), "observables", None)
    names = list(result.values)
    return list(requested) if requested else (default_observables(names) or names)


def dose_text(dose) -> str:
    """A dose in words: 'ketamine 0.5 mg/kg IV over 40 min, every 3.5 d × 8'."""
    route = dose.route.upper() if len(dose.route) <= 3 else dose.route
    text = f"{dose.drug} {dose.amount} {route}"
    if dose.infusion is not None:
        text += f" over {dose.infusion}"
    if dose.repeat is not None:
        text += f", every {dose.repeat.every} × {dose.repeat.count}"
    return text


def run_title(result, title: str | None = None) -> str:
    """The figure title: ``title`` or the doses, with the subject and the span."""
    sc = result.scenario
    span = fmt_time(float(result.time_h[-1]))
    cond = getattr(sc.subject, "condition", "")
    who = f"{sc.subject.species}" + (f", {cond}" if cond else "")
    doses = "; ".join(dose_text(d) for d in sc.dose) or "no drug"
    return f"{title or doses}  ({who}; {span})"


def plot_result(result, path: str | Path, title: str | None = None, dpi: int = 150) -> Path:
    """Draw the run figure of a :class:`~raadsim.simulate.run.Result` to ``path``."""
    trace = trace_from_result(result)
    log_time = auto_log_time(float(result.time_h[-1]), trace.doses_h)
    fig = multiscale_figure([trace], run_observables(result), log_time=log_time,
                            title=run_title(result, title))
    path = Path(path)
    fig.savefig(path, dpi=dpi)
    return path
