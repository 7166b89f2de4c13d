"""Run evidence records: simulate each distinct scenario or trial once, then measure.

Records that share a scenario (the vehicle arm of many rodent experiments, the single-infusion
trial behind several clinical endpoints) share one simulation. Single-subject scenarios are
spread over an executor (serial, processes or Dask, as for trials); trials run their patients
on the same executor. Results are cached in the process, keyed by the scenario and the
parameter overrides, so tests and repeated calls do not simulate twice.
"""

from __future__ import annotations

import copy
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import InputError, ModelError
from ..io.scenario import read_toml, scenario_from_dict
from ..io.trial_file import trial_from_dict
from ..simulate.executors import map_chunks
from ..simulate.run import simulate
from ..simulate.trial import run_trial
from .measures import Measures, Trajectory, evaluate_quantity
from .records import Record, trial_path

DEFAULT_SIMULATION = {"end": "2 d", "output_every": "10 min"}
Overrides = dict[str, float]
Hypotheses = dict[str, str] | None  # question -> variant (raadsim.model.hypotheses)


@dataclass(frozen=True)
class Outcome:
    """A record's simulated value and whether it meets the published result."""

    record: Record
    simulated: float | None
    passed: bool
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        r = self.record
        return {"id": r.id, "kind": r.kind, "layer": r.layer, "drug": r.drug,
                "species": r.species, "source": r.source, "finding": r.finding,
                "observable": r.observable, "time": r.time, "quantity": r.quantity,
                "expected": r.expected.describe(), "published": r.published,
                "simulated": self.simulated, "passed": self.passed, "error": self.error,
                "known_gap": r.known_gap, "disputed": r.disputed, "context": r.context}


def _merge(base: dict, top: dict) -> dict:
    out = copy.deepcopy(base)
    for k, v in top.items():
        out[k] = _merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k),
                                                                       dict) else v
    return out


def _with_hypotheses(raw: dict, hypotheses: Hypotheses) -> dict:
    """``raw`` (a scenario or trial) with the variants ``hypotheses`` in its ``[model]``."""
    if hypotheses:
        raw = _merge(raw, {"model": {"hypotheses": dict(hypotheses)}})
    return raw


def arm_scenarios(rec: Record, hypotheses: Hypotheses = None) -> dict[str, dict]:
    """Each arm's full scenario (``scenario`` with the arm's fragment on top), with the
    hypothesis variants ``hypotheses``."""
    base = _merge({"subject": {"species": rec.species}, "simulation": DEFAULT_SIMULATION},
                  rec.scenario)
    return {name: _with_hypotheses(_merge(base, frag), hypotheses)
            for name, frag in rec.arms.items()}


def trial_raw(rec: Record, hypotheses: Hypotheses = None) -> dict:
    """The record's trial as a dict (from ``data/evidence/<file>`` or inline), with the
    hypothesis variants ``hypotheses``."""
    if isinstance(rec.trial, str):
        raw = read_toml(trial_path(rec.trial), f"{rec.id}.trial")
    else:
        raw = copy.deepcopy(rec.trial or {})
    return _with_hypotheses(raw, hypotheses)


def _split(overrides: Overrides | None) -> tuple[Overrides, Overrides]:
    """Model parameters vs population settings (keys ``population.…``)."""
    over = overrides or {}
    return ({k: v for k, v in over.items() if not k.startswith("population.")},
            {k: v for k, v in over.items() if k.startswith("population.")})


def _with_population(raw: dict, pop: Overrides) -> dict:
    for dotted, value in pop.items():
        node = raw
        *path, last = dotted.split(".")
        for p in path:
            node = node.setdefault(p, {})
        node[last] = value
    return raw


def _key(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, default=str)


_RUNS: dict[str, Trajectory | str] = {}
_TRIALS: dict[str, tuple[dict, Any] | str] = {}


def clear_cache() -> None:
    _RUNS.clear()
    _TRIALS.clear()


def simulate_group(group: Sequence[tuple[str, dict, Overrides]]
                   ) -> list[tuple[str, Trajectory | str]]:
    """Simulate scenarios (worker function): a Trajectory, or the error message."""

    out: list[tuple[str, Trajectory | str]] = []
    for key, raw, params in group:
        try:
            r = simulate(scenario_from_dict(raw), params=params or None)
            out.append((key, Trajectory(r.time_h, r.values)))
        except (InputError, ModelError, RuntimeError) as exc:
            out.append((key, f"{type(exc).__name__}: {exc}"))
    return out


def _todo_singles(records: Sequence[Record], model_over: Overrides, hypotheses: Hypotheses
                  ) -> list[tuple[str, dict, Overrides]]:
    todo: dict[str, tuple[str, dict, Overrides]] = {}
    for rec in records:
        for raw in arm_scenarios(rec, hypotheses).values():
            key = _key([raw, model_over])
            if key not in _RUNS:
                todo[key] = (key, raw, model_over)
    return list(todo.values())


def _run_singles(records: Sequence[Record], model_over: Overrides, executor: str,
                 workers: int | None, address: str | None, hypotheses: Hypotheses,
                 step: Callable[[int], None] = lambda n: None) -> None:

    items = _todo_singles(records, model_over, hypotheses)
    if not items:
        return
    n_groups = 1 if executor == "serial" else 4 * (workers or 2)
    size = max(1, math.ceil(len(items) / n_groups))
    groups = [items[i:i + size] for i in range(0, len(items), size)]
    for res in map_chunks(simulate_group, groups, executor, workers, address):
        _RUNS.update(res)
        step(len(res))


def _run_trials(records: Sequence[Record], model_over: Overrides, pop_over: Overrides,
                executor: str, workers: int | None, address: str | None,
                hypotheses: Hypotheses, step: Callable[[int], None] = lambda n: None) -> None:

    for rec in records:
        if rec.trial is None:
            continue
        raw = _with_population(trial_raw(rec, hypotheses), pop_over)
        key = _key([raw, model_over])
        if key in _TRIALS:
            continue
        try:
            res = run_trial(trial_from_dict(raw), executor=executor, workers=workers,
                            dask_address=address, overrides=model_over or None)
            _TRIALS[key] = (res.summary, res.patients)
        except (InputError, ModelError) as exc:
            _TRIALS[key] = f"{type(exc).__name__}: {exc}"
        step(1)


def measure(rec: Record, overrides: Overrides | None = None,
            hypotheses: Hypotheses = None) -> Outcome:
    """Evaluate one record on already simulated (cached) runs."""
    model_over, pop_over = _split(overrides)
    try:
        if rec.trial is not None:
            got = _TRIALS[_key([_with_population(trial_raw(rec, hypotheses), pop_over),
                                model_over])]
            if isinstance(got, str):
                return Outcome(rec, None, False, got)
            m = Measures(rec, trial=got[0], patients=got[1])
        else:
            arms: dict[str, Trajectory] = {}
            for name, raw in arm_scenarios(rec, hypotheses).items():
                got1 = _RUNS[_key([raw, model_over])]
                if isinstance(got1, str):
                    return Outcome(rec, None, False, f"arm {name}: {got1}")
                arms[name] = got1
            m = Measures(rec, arms=arms)
        value = evaluate_quantity(m)
    except InputError as exc:
        return Outcome(rec, None, False, str(exc))
    passed = not math.isnan(value) and rec.expected.check(value)
    return Outcome(rec, value, passed)


def run_records(records: Sequence[Record], executor: str = "serial",
                workers: int | None = None, overrides: Overrides | None = None,
                progress: Callable[[str], None] | None = None,
                address: str | None = None, hypotheses: Hypotheses = None,
                on_step: Callable[[int, int], None] | None = None) -> list[Outcome]:
    """Simulate what ``records`` need (each distinct scenario once) and measure them.
    ``executor``: serial, processes or dask (``address``: a scheduler, or a LocalCluster).
    ``hypotheses``: model variants (question -> variant) for every record.
    ``on_step(done, total)`` counts simulations: single-subject scenarios, then trials."""
    model_over, pop_over = _split(overrides)
    singles = [r for r in records if r.trial is None]
    n_trials = len({_key([_with_population(trial_raw(r, hypotheses), pop_over), model_over])
                    for r in records if r.trial is not None} - set(_TRIALS))
    total, done = len(_todo_singles(singles, model_over, hypotheses)) + n_trials, 0

    def step(n: int) -> None:
        nonlocal done
        done += n
        if on_step:
            on_step(min(done, total), total)

    if progress:
        progress(f"{len(singles)} single-subject records")
    _run_singles(singles, model_over, executor, workers, address, hypotheses, step)
    if progress:
        progress(f"{len(records) - len(singles)} trial records")
    _run_trials(records, model_over, pop_over, executor, workers, address, hypotheses, step)
    return [measure(r, overrides, hypotheses) for r in records]
