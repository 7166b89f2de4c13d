"""Observed vs predicted for a NONMEM-style dataset (:mod:`raadsim.io.nonmem`): every ID is
simulated at its observation times, through the one simulator."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..drugs.catalogue import Catalogue
from ..errors import InputError
from ..io.nonmem import NonmemDataset, NonmemMapping, conversion_factors, read_dataset
from ..io.scenario import Scenario
from ..model.build import build_model
from ..simulate.executors import map_chunks
from ..simulate.run import expand_params
from ..simulate.simulator import default_simulator


# -- predictions ------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Task:
    sid: Any
    scenario: Scenario
    times_h: tuple[float, ...]
    variables: tuple[str, ...]
    engine: str
    params: dict[str, float] | None
    catalogue: Catalogue


def _predict_one(task: _Task) -> tuple[Any, np.ndarray]:
    """Model values (model units) of ``task.variables`` at ``task.times_h`` (one ID)."""
    spec = build_model(task.scenario, task.catalogue)
    over = expand_params(spec, task.params)
    vals, _ = default_simulator(engine=task.engine).run_variables(
        spec, list(task.variables), np.asarray(task.times_h, float), params=over or None)
    return task.sid, vals


def predict(data: NonmemDataset | str | Path | pd.DataFrame,
            mapping: NonmemMapping | str | Path | None = None, *,
            cat: Catalogue | None = None, executor: str = "serial", workers: int | None = None,
            engine: str = "roadrunner", params: Mapping[str, float] | None = None
            ) -> pd.DataFrame:
    """Simulate every ID at its observation times: observed vs predicted.

    ``data`` is a :class:`NonmemDataset` or a CSV path / DataFrame read with ``mapping``
    (see :func:`read_dataset`). Each ID's scenario is built and integrated once (one model per
    ID), on ``executor`` (``serial``, ``processes`` or ``dask``, see
    :func:`raadsim.simulate.executors.map_chunks`); results do not depend on the executor.
    ``params`` overrides model parameters for every ID (names or patterns).

    Returns one row per observation, in file order, with columns ``ID, TIME`` (file unit),
    ``time_h, CMT, observable, DV, PRED, unit, line``: ``DV`` and ``PRED`` are both in the
    mapped DV ``unit``.
    """
    if not isinstance(data, NonmemDataset):
        if mapping is None:
            raise InputError("mapping", None, "a mapping (NonmemMapping or TOML file) to read "
                             "the dataset with")
        data = read_dataset(data, mapping, cat)
    if engine not in ("roadrunner", "scipy"):
        raise InputError("engine", engine, "roadrunner or scipy")
    ds = data
    factors = conversion_factors(ds)
    o = ds.observations
    tasks, columns = [], {}
    for sid in ds.ids:
        rows = o[o["ID"] == sid]
        if rows.empty:
            continue
        names = list(factors[sid][0])
        times = tuple(float(t) for t in np.unique(rows["time_h"].to_numpy(float)))
        tasks.append(_Task(sid, ds.scenarios[sid], times,
                           tuple(factors[sid][0][n][0] for n in names), engine,
                           dict(params) if params else None, ds.catalogue))
        columns[sid] = (names, times)
    values = dict(map_chunks(_predict_one, tasks, executor, workers))
    pred = np.full(len(o), np.nan)
    for k, r in enumerate(o.itertuples(index=False)):
        names, times = columns[r.ID]
        i = int(np.searchsorted(times, r.time_h))
        model_value = values[r.ID][i, names.index(r.observable)]
        pred[k] = model_value / factors[r.ID][1][r.CMT]
    out = o[["ID", "TIME", "time_h", "CMT", "observable", "DV"]].copy()
    out["PRED"] = pred
    out["unit"] = o["unit"]
    out["line"] = o["line"]
    return out.reset_index(drop=True)
