"""Small virtual trials for the app, run in a background thread with progress.

:func:`small_trial` turns the app's scenarios into a :class:`~raadsim.io.trial_file.TrialFile`
(one arm per scenario; humans only, as in ``raadsim trial``). :func:`start` runs it with the
serial executor in chunks of a few patients so ``on_chunk`` reports progress, and returns a
job id that :func:`status` reports on. Every arm's model is compiled first under the app's
compute lock (Antimony's loader is global; the trial engine's per-process cache then reuses
the compiled models).
"""

from __future__ import annotations

import itertools
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from ..drugs.catalogue import builtin
from ..errors import InputError, ModelError
from ..io.scenario import Dose, Scenario
from ..io.trial_file import TrialFile, trial_from_dict
from ..simulate import trial as trial_mod
from ..simulate.simulator import POPULATION, default_simulator
from .compute import LOCK

MAX_PATIENTS = 200  # per arm, to stay "small" in a browser session


@dataclass
class Job:
    """A trial running or finished in the background."""

    total: int
    done: int = 0
    result: Any = None
    error: str | None = None
    started: float = field(default_factory=time.perf_counter)
    seconds: float | None = None

    @property
    def finished(self) -> bool:
        return self.result is not None or self.error is not None


_JOBS: dict[str, Job] = {}
_IDS = itertools.count(1)
_JOBS_LOCK = threading.Lock()


def small_trial(arms: dict[str, Scenario], n: int, seed: int, visits: list[str]) -> TrialFile:
    """A trial of ``n`` patients per arm given the arms' doses and perturbations; the
    population's condition is the first arm's."""
    if not 1 <= n <= MAX_PATIENTS:
        raise InputError("trial.n", n, f"a number of patients per arm from 1 to "
                         f"{MAX_PATIENTS}")
    first = next(iter(arms.values()))
    for name, sc in arms.items():
        if sc.subject.species != "human":
            raise InputError(f"scenario {name}: species", sc.subject.species,
                             "human (virtual trials simulate patients)")
    if first.subject.condition in ("healthy", "chronic_stress"):
        raise InputError("condition", first.subject.condition,
                         "a depressive condition for a trial population: mdd, trd or "
                         "bipolar_depression")
    raw = {"population": {"n": n, "seed": seed, "condition": first.subject.condition},
           "trial": {"visits": visits, "output_every": "1 h",
                     "observables": ["clinic.madrs", "synapse.strength"], "arm": [
               {"name": name,
                "dose": [d.model_dump(mode="json", exclude_none=True) for d in sc.dose],
                "perturbation": [p.model_dump(mode="json", exclude_none=True)
                                 for p in sc.perturbation]}
               for name, sc in arms.items()]}}
    tf = trial_from_dict(raw)
    tf.validate_arms(first.catalogue())
    return tf


def placebo_of(sc: Scenario) -> Scenario:
    """The control arm of a scenario: placebo on the same route and schedule (oral if
    placebo has no such route), no perturbations."""

    routes = builtin().drugs["placebo"].routes["human"]
    doses = []
    for d in sc.dose:
        route = d.route if d.route in routes else "oral"
        raw = d.model_dump(exclude_none=True) | {"drug": "placebo", "amount": "0 mg",
                                                 "route": route}
        if not routes[route].infusion:
            raw.pop("infusion", None)
        doses.append(Dose.model_validate(raw))  # validated: amounts are parsed quantities
    return sc.model_copy(update={"dose": doses, "perturbation": []})


def _run(job: Job, tf: TrialFile) -> None:
    try:
        cat = tf.arm_scenario(tf.trial.arm[0]).catalogue()
        with LOCK:  # compile every arm's model now, serialised with the app's simulations
            sim = default_simulator(POPULATION)
            for arm in trial_mod.prepare_arms(tf, cat):
                sim.compiled(arm.spec)
        chunk = max(1, tf.population.n // 10)

        def progress(done: int, total: int) -> None:
            job.done = done

        job.result = trial_mod.run_trial(tf, cat, executor="serial", chunk_size=chunk,
                                         on_chunk=progress)
    except (InputError, ModelError) as exc:
        job.error = str(exc)
    except Exception as exc:  # shown to the user rather than lost in a thread
        job.error = f"{type(exc).__name__}: {exc}"
    finally:
        job.seconds = time.perf_counter() - job.started


def start(tf: TrialFile) -> str:
    """Start ``tf`` in a background thread; return the job id."""
    job = Job(total=tf.population.n * len(tf.trial.arm))
    with _JOBS_LOCK:
        job_id = str(next(_IDS))
        _JOBS[job_id] = job
    threading.Thread(target=_run, args=(job, tf), daemon=True, name=f"trial-{job_id}").start()
    return job_id


def status(job_id: str | None) -> Job | None:
    """The job ``job_id`` (``None`` if unknown)."""
    with _JOBS_LOCK:
        return _JOBS.get(job_id or "")


def wait(job_id: str, timeout: float = 60.0) -> Job:
    """Block until job ``job_id`` finishes (for tests and scripts)."""
    t0 = time.perf_counter()
    while True:
        job = status(job_id)
        if job is None:
            raise KeyError(job_id)
        if job.finished or time.perf_counter() - t0 > timeout:
            return job
        time.sleep(0.05)
