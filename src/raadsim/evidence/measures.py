"""What a record measures on its simulations: the functions of a ``quantity`` expression.

A record's ``quantity`` is an arithmetic expression (evaluated with ``simpleeval``: numbers,
``+ - * / **``, comparisons, ``abs``/``min``/``max`` and the functions below, nothing else).
``obs`` defaults to the record's ``observable`` and ``t`` to its ``time``; times are strings
with units (``"24 h"``, ``"40 min"``) and are read at the first output at or after ``t``.

Single-subject arms (``arms``):

=====================  ==========================================================
``at(arm, obs, t)``    value at time ``t``
``change(arm, obs, t)``  value at ``t`` minus value at 0 h
``peak(arm, obs)``     maximum over the run; ``trough`` the minimum
``peak_after(arm, t, obs)``  maximum from time ``t`` on (e.g. the response to a later dose)
``t_peak(arm, obs)``   time (h) of the maximum; ``t_trough`` of the minimum
``onset(arm, obs, f)``  first time (h) the value reaches ``f`` (default 0.1) of its peak
``offset(arm, obs, f)``  last time (h) the value is at or above ``f`` of its peak
``half_life(arm, obs, t0, t1)``  log-linear half-life (h) between two times
``auc(arm, obs)``      trapezoid area (unit × h)
``effect(arm, control, obs, t)``  ``at(control) − at(arm)``: e.g. less immobility than vehicle
=====================  ==========================================================

Trials (``trial``): ``mean_change(arm, visit)``, ``sd_change(arm, visit)`` (SD of the change),
``si_change(arm, visit)`` (MADRS item 10), ``response(arm, visit)``,
``remission(arm, visit)``, ``difference(arm, control, visit)`` (MADRS change, arm − control),
``cohen_d(arm, control, visit)`` (positive when ``arm`` improves more).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..errors import InputError
from ..simulate.endpoints import contrast
from ..units import parse_time
from .records import TIME_WORDS, Record


@dataclass(frozen=True)
class Trajectory:
    """Observables of one simulated arm (time in hours)."""

    t: np.ndarray
    values: dict[str, np.ndarray]


def _hours(t: str | float, field: str) -> float:
    if isinstance(t, int | float):
        return float(t)
    if t in TIME_WORDS:
        raise InputError(field, t, "a time with a unit (this measure needs a time point)")
    return parse_time(t, field, allow_negative=True)


class Measures:
    """The functions a record's ``quantity`` may call, bound to its simulations."""

    def __init__(self, record: Record, arms: dict[str, Trajectory] | None = None,
                 trial: dict | None = None, patients=None) -> None:
        self.record, self.arms, self.trial, self.patients = record, arms or {}, trial, patients

    # -- single-subject arms -------------------------------------------------------------
    def _series(self, arm: str, obs: str | None) -> tuple[np.ndarray, np.ndarray]:
        if arm not in self.arms:
            raise InputError(f"{self.record.id}.quantity", arm,
                             f"one of the record's arms: {', '.join(self.arms) or '(none)'}")
        tr = self.arms[arm]
        name = obs or self.record.observable
        if name not in tr.values:
            raise InputError(f"{self.record.id}.observable", name,
                             "an observable of the arm's model")
        return tr.t, tr.values[name]

    def at(self, arm: str, obs: str | None = None, t: str | float | None = None) -> float:
        times, v = self._series(arm, obs)
        h = _hours(self.record.time if t is None else t, f"{self.record.id}.time")
        i = int(np.searchsorted(times, h - 1e-9))
        return float(v[min(i, len(times) - 1)])

    def change(self, arm: str, obs: str | None = None, t: str | float | None = None) -> float:
        return self.at(arm, obs, t) - self.at(arm, obs, 0.0)

    def effect(self, arm: str, control: str, obs: str | None = None,
               t: str | float | None = None) -> float:
        return self.at(control, obs, t) - self.at(arm, obs, t)

    def peak(self, arm: str, obs: str | None = None) -> float:
        return float(self._series(arm, obs)[1].max())

    def peak_after(self, arm: str, t: str | float, obs: str | None = None) -> float:
        times, v = self._series(arm, obs)
        h = _hours(t, f"{self.record.id}.quantity")
        keep = times >= h - 1e-9
        if not keep.any():
            raise InputError(f"{self.record.id}.quantity", t, "a time inside the run")
        return float(v[keep].max())

    def trough(self, arm: str, obs: str | None = None) -> float:
        return float(self._series(arm, obs)[1].min())

    def t_peak(self, arm: str, obs: str | None = None) -> float:
        t, v = self._series(arm, obs)
        return float(t[int(np.argmax(v))])

    def t_trough(self, arm: str, obs: str | None = None) -> float:
        t, v = self._series(arm, obs)
        return float(t[int(np.argmin(v))])

    def onset(self, arm: str, obs: str | None = None, fraction: float = 0.1) -> float:
        t, v = self._series(arm, obs)
        return float(t[np.where(v >= fraction * v.max())[0][0]])

    def offset(self, arm: str, obs: str | None = None, fraction: float = 0.1) -> float:
        t, v = self._series(arm, obs)
        return float(t[np.where(v >= fraction * v.max())[0][-1]])

    def half_life(self, arm: str, obs: str | None = None, t0: str = "6 h",
                  t1: str = "12 h") -> float:
        a, b = self.at(arm, obs, t0), self.at(arm, obs, t1)
        dt = _hours(t1, "t1") - _hours(t0, "t0")
        return float(np.log(2) * dt / np.log(a / b))

    def auc(self, arm: str, obs: str | None = None) -> float:
        t, v = self._series(arm, obs)
        return float(np.trapezoid(v, t))

    # -- trials --------------------------------------------------------------------------
    def _visit(self, arm: str, visit: str) -> dict:
        arms = (self.trial or {}).get("arms", {})
        if arm not in arms:
            raise InputError(f"{self.record.id}.quantity", arm,
                             f"an arm of the trial: {', '.join(arms)}")
        if visit not in arms[arm]["visits"]:
            raise InputError(f"{self.record.id}.quantity", visit,
                             f"a visit of the trial: {', '.join(arms[arm]['visits'])}")
        return arms[arm]["visits"][visit]

    def mean_change(self, arm: str, visit: str) -> float:
        return float(self._visit(arm, visit)["madrs_change_mean"])

    def sd_change(self, arm: str, visit: str) -> float:
        """SD of the MADRS change from baseline across the arm's patients."""
        v = self._visit(arm, visit)["madrs_change_sd"]
        return float("nan") if v is None else float(v)

    def si_change(self, arm: str, visit: str) -> float:
        """Mean change of MADRS item 10 (suicidal thoughts) from baseline."""
        return float(self._visit(arm, visit)["si_change_mean"])

    def response(self, arm: str, visit: str) -> float:
        return float(self._visit(arm, visit)["response_rate"])

    def remission(self, arm: str, visit: str) -> float:
        return float(self._visit(arm, visit)["remission_rate"])

    def difference(self, arm: str, control: str, visit: str) -> float:
        return self.mean_change(arm, visit) - self.mean_change(control, visit)

    def cohen_d(self, arm: str, control: str, visit: str) -> float:

        self._visit(arm, visit)  # names a bad arm or visit
        self._visit(control, visit)
        p = self.patients
        c = contrast(p[p.arm == arm], p[p.arm == control], visit, False)["cohens_d"]
        return float("nan") if c is None else -float(c)

    def functions(self) -> dict[str, Callable]:
        names = ("at", "change", "effect", "peak", "peak_after", "trough", "t_peak", "t_trough",
                 "onset", "offset", "half_life", "auc", "mean_change", "sd_change", "si_change",
                 "response", "remission", "difference", "cohen_d")
        return {n: getattr(self, n) for n in names} | {"abs": abs, "min": min, "max": max}


def evaluate_quantity(measures: Measures) -> float:
    """The record's ``quantity`` on its simulations (a float; errors name the record)."""
    from simpleeval import InvalidExpression, SimpleEval

    rec = measures.record
    ev = SimpleEval(functions=measures.functions(), names={})
    try:
        value = ev.eval(rec.quantity)
    except (InvalidExpression, SyntaxError, TypeError, ZeroDivisionError) as exc:
        raise InputError(f"{rec.id}.quantity", rec.quantity,
                         f"an expression over the measures of raadsim.evidence.measures ({exc})"
                         ) from None
    if isinstance(value, bool) or not isinstance(value, int | float | np.floating):
        raise InputError(f"{rec.id}.quantity", rec.quantity, "an expression giving a number")
    return float(value)
