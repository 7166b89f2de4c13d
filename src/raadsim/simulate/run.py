"""Scenario → trajectories (a single subject)."""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from .._version import __version__
from ..drugs.catalogue import Catalogue
from ..errors import InputError
from ..io.scenario import Scenario, select_observables
from ..model import eeg
from ..model.build import build_model
from ..model.spec import ModelSpec
from .engines import output_times
from .simulator import Simulator, default_simulator

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


def _formulations(sc: Scenario, cat: Catalogue) -> dict:
    """The formulation (device) each dose used, for routes that have several."""
    used = {f"dose[{a.index}]": f"{a.drug} {a.route}: {a.formulation}"
            for a in sc.administrations(cat) if a.formulation}
    return {"formulations": used} if used else {}


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
             simulator: Simulator | None = None,
             hypotheses: Mapping[str, str] | None = None) -> Result:
    """Simulate one scenario and return the trajectories of its observables. ``params``
    overrides model parameters (names or patterns, see :func:`expand_params`), including
    the ``eeg.toml`` parameters of the ``eeg.*`` observables (in the unit that file gives).
    ``simulator`` replaces the process-wide one of ``engine``
    (:func:`raadsim.simulate.simulator.default_simulator`). ``hypotheses`` chooses model
    variants (question = variant, :mod:`raadsim.model.hypotheses`) on top of the scenario's
    own ``[model] hypotheses``."""
    sc = sc.with_hypotheses(dict(hypotheses or {}))
    cat = cat or sc.catalogue()
    spec = build_model(sc, cat)
    requested = observables or sc.simulation.observables
    if requested is None:
        names = [*spec.observables, *eeg.OBSERVABLES]
    else:
        select_observables(spec, [o for o in requested if o not in eeg.OBSERVABLES])
        names = list(requested)
    start, end, step = sc.window()
    over = expand_params(spec, params, elsewhere=eeg.parameter_names())
    sim = simulator or default_simulator(engine=engine)
    tr = sim.run(spec, names, output_times(start, end, step), params=over or None,
                 eeg_overrides=eeg.overrides_from(params))
    return Result(
        time_h=tr.time_h,
        values=tr.values,
        units={o: spec.observables[o].unit if o in spec.observables else "1" for o in names},
        scenario=sc,
        engine=tr.engine,
        meta={"raadsim_version": __version__, "scenario_hash": sc.digest(), "engine": tr.engine,
              **_formulations(sc, cat)},
    )
