"""Fit model parameters to a user's NONMEM-style dataset (``raadsim data fit``).

The observations of the dataset (:func:`raadsim.io.nonmem.measurements`) are the
calibration data. Each requested parameter name or pattern gets one multiplicative factor θ,
applied to every model parameter it matches in every subject's model, so per-subject
covariate scaling (allometry by body weight) is kept. θ is estimated on the log scale by
SciPy's trust-region least squares (bounds ÷10 … ×10) on proportional residuals
``ln(PRED) − ln(DV)`` (observations ≤ 0 are excluded and counted). Each subject's model is
compiled once.

The fit is the user's: nothing is written into raadsim's parameter files (those hold only
values with literature provenance or fits to the package's calibration records).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import InputError, ModelError
from ..io.nonmem import NonmemDataset, measurements
from ..model.build import build_model
from ..simulate.run import expand_params
from ..simulate.simulator import default_simulator


@dataclass
class DataFit:
    factors: dict[str, float]  # pattern -> fitted θ
    values: dict[str, dict[str, float]]  # subject -> model parameter -> fitted value
    table: pd.DataFrame  # ID, time_h, observable, DV, PRED_before, PRED_after (model units)
    n_used: int
    n_excluded: int
    rms_log_before: float
    rms_log_after: float
    success: bool
    message: str


class _Subject:
    def __init__(self, sid, sc, cat, rows: pd.DataFrame, patterns: list[str]) -> None:

        spec = build_model(sc, cat)
        self.spec, self.simulator = spec, default_simulator()
        self.matches = {p: list(expand_params(spec, {p: 1.0})) for p in patterns}
        self.base = {n: spec.params[n].value for ns in self.matches.values() for n in ns}
        self.times = np.unique(rows["time_h"].to_numpy(float))
        self.names = sorted(set(rows["observable"]))
        self.vars = [spec.observables[o].var for o in self.names]
        self.index = [(int(np.searchsorted(self.times, t)), self.names.index(o))
                      for t, o in zip(rows["time_h"], rows["observable"], strict=True)]
        self.sid = sid

    def params(self, theta: dict[str, float]) -> dict[str, float]:
        return {n: self.base[n] * theta[p] for p, ns in self.matches.items() for n in ns}

    def predict(self, theta: dict[str, float]) -> np.ndarray:
        v, _ = self.simulator.run_variables(self.spec, self.vars, self.times,
                                            params=self.params(theta))
        return np.array([v[i, j] for i, j in self.index])


def fit_data(ds: NonmemDataset, patterns: list[str], max_nfev: int = 200,
             progress: Callable[[int, int], None] | None = None) -> DataFit:
    """Fit one factor per parameter pattern to the dataset's observations.
    ``progress(done, total)`` counts the model evaluations against their upper bound (the
    fit usually stops well before it)."""
    from scipy.optimize import least_squares

    if not patterns:
        raise InputError("--param", patterns, "at least one parameter name or pattern")
    meas = measurements(ds)
    if meas.empty:
        raise InputError("dataset", ds.name, "at least one observation (EVID 0, MDV 0)")
    subjects = [_Subject(sid, ds.scenarios[sid], ds.catalogue,
                         meas[meas["subject_id"] == sid], patterns)
                for sid in ds.ids if (meas["subject_id"] == sid).any()]
    obs = np.concatenate([meas.loc[meas["subject_id"] == s.sid, "value"].to_numpy(float)
                          for s in subjects])
    used = obs > 0

    # One evaluation per step and per finite-difference column, plus before and after.
    evaluations, bound = 0, max_nfev * (len(patterns) + 1) + 2

    def predict_all(z: np.ndarray) -> np.ndarray:
        nonlocal evaluations
        theta = {p: math.exp(v) for p, v in zip(patterns, z, strict=True)}
        pred = np.concatenate([s.predict(theta) for s in subjects])
        evaluations += 1
        if progress:
            progress(min(evaluations, bound), bound)
        return pred

    def residuals(z: np.ndarray) -> np.ndarray:
        try:
            pred = predict_all(z)
        except ModelError:
            return np.full(int(used.sum()), 1e3)
        return np.log(np.maximum(pred[used], 1e-300)) - np.log(obs[used])

    z0 = np.zeros(len(patterns))
    before = predict_all(z0)
    res = least_squares(residuals, z0, bounds=(-math.log(10), math.log(10)), method="trf",
                        x_scale=1.0, diff_step=1e-4, max_nfev=max_nfev)
    after = predict_all(res.x)
    theta = {p: math.exp(v) for p, v in zip(patterns, res.x, strict=True)}
    table = pd.DataFrame({
        "ID": np.concatenate([[s.sid] * len(s.index) for s in subjects]),
        "time_h": np.concatenate([[s.times[i] for i, _ in s.index] for s in subjects]),
        "observable": np.concatenate([[s.names[j] for _, j in s.index] for s in subjects]),
        "DV": obs, "PRED_before": before, "PRED_after": after})

    def rms(pred: np.ndarray) -> float:
        return float(np.sqrt(np.mean((np.log(pred[used]) - np.log(obs[used])) ** 2)))

    return DataFit(theta, {str(s.sid): s.params(theta) for s in subjects}, table,
                   int(used.sum()), int((~used).sum()), rms(before), rms(after),
                   bool(res.success), str(res.message))
