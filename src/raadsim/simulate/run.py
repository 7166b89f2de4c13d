"""Scenario → trajectories (a single subject)."""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from .. import __version__
from ..drugs.catalogue import Catalogue
from ..errors import InputError
from ..io.scenario import Scenario
from ..model import eeg
from ..model.build import build_model
from ..model.spec import ModelSpec
from .engines import RoadRunnerEngine, ScipyEngine

EngineName = Literal["roadrunner", "scipy"]


@dataclass
class Result:
    """Trajectories of the observables of one run (time in hours from the scenario's 0)."""

    time_h: np.ndarray
    values: dict[str, np.ndarray]
    units: dict[str, str]
    scenario: Scenario
    engine: str
    meta: dict = field(default_factory=dict)

    def to_long(self) -> pd.DataFrame:
        """Long table with columns ``time_h, observable, value``."""
        frames = [pd.DataFrame({"time_h": self.time_h, "observable": name, "value": v})
                  for name, v in self.values.items()]
        return pd.concat(frames, ignore_index=True)

    def summary(self) -> dict:
        """Per observable: peak, time of peak and AUC (trapezoid, unit × h), plus metadata."""
        obs = {}
        for name, v in self.values.items():
            i = int(np.argmax(v))
            obs[name] = {
                "unit": self.units[name],
                "peak": float(v[i]),
                "time_of_peak_h": float(self.time_h[i]),
                "auc": float(np.trapezoid(v, self.time_h)),
            }
        return {"observables": obs, "meta": self.meta}


def select_observables(spec: ModelSpec, requested: list[str] | None) -> list[str]:
    if requested is None:
        return list(spec.observables)
    missing = [o for o in requested if o not in spec.observables]
    if missing:
        raise InputError("simulation.observables", missing[0],
                         f"an observable of this scenario: {', '.join(sorted(spec.observables))}")
    return list(requested)


def expand_params(spec: ModelSpec, params: Mapping[str, float] | None,
                  elsewhere: Sequence[str] = ()) -> dict[str, float]:
    """Map parameter names or ``fnmatch`` patterns (``ka_psilocybin_oral_*``) to the model's
    parameter names; a name or pattern that matches nothing (neither the model nor the
    names in ``elsewhere``, e.g. the post-processing EEG parameters) is an InputError."""
    out: dict[str, float] = {}
    for pattern, value in (params or {}).items():
        hits = fnmatch.filter(spec.params, pattern)
        if not hits and not fnmatch.filter(elsewhere, pattern):
            raise InputError("parameter override", pattern, "a parameter name (or pattern) of "
                             "this scenario's model")
        out.update(dict.fromkeys(hits, float(value)))
    return out


def simulate(sc: Scenario, cat: Catalogue | None = None, engine: EngineName = "roadrunner",
             observables: list[str] | None = None,
             params: Mapping[str, float] | None = None,
             engine_factory: Callable[[ModelSpec], Any] | None = None) -> Result:
    """Simulate one scenario and return the trajectories of its observables. ``params``
    overrides model parameters (names or patterns, see :func:`expand_params`), including
    the ``eeg.toml`` parameters of the ``eeg.*`` observables (in the unit that file gives).
    ``engine_factory(spec)`` replaces the engine (anything with ``name`` and the engines'
    ``run``), e.g. a cache of compiled models (``raadsim.app.compute``)."""
    cat = cat or sc.catalogue()
    spec = build_model(sc, cat)
    requested = observables or sc.simulation.observables
    # eeg.* observables are computed after integration from the drug state (model/eeg.py)
    eeg_names = list(eeg.OBSERVABLES) if requested is None else \
        [o for o in requested if o in eeg.OBSERVABLES]
    names = select_observables(spec, None if requested is None else
                               [o for o in requested if o not in eeg.OBSERVABLES])
    start, end, step = sc.window()
    over = expand_params(spec, params, elsewhere=eeg.parameter_names())
    if engine_factory is not None:
        eng = engine_factory(spec)
    else:
        eng = RoadRunnerEngine(spec) if engine == "roadrunner" else ScipyEngine(spec)
    variables = [spec.observables[o].var for o in names] + (list(eeg.STATE) if eeg_names else [])
    t, vals = eng.run(variables, start - spec.t_start, end - spec.t_start, step,
                      params=over or None)
    values = {o: vals[:, i] for i, o in enumerate(names)}
    if eeg_names:
        values |= eeg.observables(dict(zip(eeg.STATE, vals[:, len(names):].T, strict=True)),
                                  eeg_names, eeg.overrides_from(params))
    order = requested or list(values)
    return Result(
        time_h=t + spec.t_start,
        values={o: values[o] for o in order},
        units={o: spec.observables[o].unit if o in spec.observables else "1" for o in order},
        scenario=sc,
        engine=eng.name,
        meta={"raadsim_version": __version__, "scenario_hash": sc.digest(), "engine": eng.name},
    )
