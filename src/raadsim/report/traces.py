"""Time courses to draw: one :class:`Trace` per scenario, drug, perturbation or trial arm.

A trace has a central line per observable and, for populations, a band (5th–95th
percentile). Loaders read a :class:`~raadsim.simulate.run.Result`, a run directory
(``timecourse.csv`` in long format, units from ``summary.json``) or a trial's
``timecourse.csv`` (``time_h, observable, arm, mean, sd, p05, p50, p95``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..io.scenario import scenario_from_dict


@dataclass
class Trace:
    """The time courses of one scenario (or arm) on one time grid (hours)."""

    label: str
    time_h: np.ndarray
    values: dict[str, np.ndarray]
    units: dict[str, str] = field(default_factory=dict)
    low: dict[str, np.ndarray] = field(default_factory=dict)
    high: dict[str, np.ndarray] = field(default_factory=dict)
    doses_h: tuple[float, ...] = ()

    def peak(self, name: str) -> float:
        """Largest absolute value of ``name`` (0 when absent)."""
        v = self.values.get(name)
        return float(np.max(np.abs(v))) if v is not None and len(v) else 0.0


def _describe(result) -> str:
    doses = [f"{d.drug} {d.amount} {d.route}" for d in result.scenario.dose]
    return f"{result.scenario.subject.species}: " + (", ".join(doses) or "no drug")


def dose_times(scenario) -> tuple[float, ...]:
    """Administration times (h) of a scenario's doses, sorted."""
    return tuple(sorted(t for d in scenario.dose for t in d.times_h()))


def trace_from_result(result, label: str | None = None) -> Trace:
    """A trace of a single-subject :class:`~raadsim.simulate.run.Result`."""

    return Trace(label or _describe(result), np.asarray(result.time_h),
                 {k: np.asarray(v) for k, v in result.values.items()}, dict(result.units),
                 doses_h=dose_times(result.scenario))


def trace_from_long(df: pd.DataFrame, label: str, units: Mapping[str, str] | None = None,
                    doses_h: tuple[float, ...] = ()) -> Trace:
    """A trace of a long table ``time_h, observable, value`` (``raadsim run`` output)."""
    wide = df.pivot_table(index="time_h", columns="observable", values="value", sort=False)
    wide = wide.sort_index()
    return Trace(label, wide.index.to_numpy(float),
                 {c: wide[c].to_numpy(float) for c in df["observable"].unique()},
                 dict(units or {}), doses_h=doses_h)


def trace_from_run_dir(path: str | Path, label: str | None = None) -> Trace:
    """The trace of a ``raadsim run``/``simulate`` output directory."""
    path = Path(path)
    df = pd.read_csv(path / "timecourse.csv")
    summary = json.loads((path / "summary.json").read_text(encoding="utf-8"))
    units = {k: v.get("unit", "") for k, v in summary.get("observables", {}).items()}
    doses: tuple[float, ...] = ()
    if (path / "scenario.json").exists():

        sc = scenario_from_dict(json.loads((path / "scenario.json").read_text("utf-8")))
        doses = dose_times(sc)
    return trace_from_long(df, label or path.name, units, doses)


def traces_from_trial(df: pd.DataFrame, units: Mapping[str, str] | None = None,
                      doses_h: Mapping[str, tuple[float, ...]] | None = None) -> list[Trace]:
    """One trace per arm of a trial ``timecourse.csv``: the mean with a p05–p95 band."""
    out = []
    for arm, g in df.groupby("arm", sort=False):
        g = g.sort_values("time_h", kind="stable")
        obs = list(dict.fromkeys(g["observable"]))
        first = g[g["observable"] == obs[0]]
        t = first["time_h"].to_numpy(float)
        cols = {o: g[g["observable"] == o] for o in obs}
        out.append(Trace(
            str(arm), t, {o: c["mean"].to_numpy(float) for o, c in cols.items()},
            dict(units or {}), {o: c["p05"].to_numpy(float) for o, c in cols.items()},
            {o: c["p95"].to_numpy(float) for o, c in cols.items()},
            tuple((doses_h or {}).get(str(arm), ()))))
    return out
