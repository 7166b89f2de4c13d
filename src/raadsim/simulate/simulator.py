"""The one simulation path: a built model (:class:`~raadsim.model.spec.ModelSpec`) to
observables in scenario time.

Every caller (single runs, trials, sensitivity analyses, NONMEM predictions, data fits, PEtab
tables, EEG spectra, the app) integrates through a :class:`Simulator`, which owns

* the **compiled-model cache**: one libRoadRunner model per model *structure* (equations,
  states, events; not parameter values), so a new dose, weight or condition reuses it;
* the **reset order** libRoadRunner needs for per-run values (``resetAll`` → set values →
  ``reset`` → set initial states: it fires ``t = 0`` events during ``reset`` with the values
  current then);
* the **clock**: callers give and get scenario time (h); model time starts at the beginning
  of the drug-free pre-equilibration (``spec.t_start`` is the scenario time of model time 0);
* the **tolerances** of a use (single runs, populations, sensitivity) and their **fallbacks**:
  a run CVODE cannot finish is re-run at the next settings, and finally with the SciPy
  reference engine, before it is reported as an error;
* the **EEG post-processing**: ``eeg.*`` observables are computed from the integrated drug
  state relative to the subject's own drug-free state (read at the end of the
  pre-equilibration), so they work in trials and sensitivity analyses too.

A :class:`CompiledModel` can also be made from an SBML file (the PEtab objective), sharing the
reset order, tolerances and fallbacks.
"""

from __future__ import annotations

import hashlib
import math
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TypeVar

import numpy as np

from ..errors import InputError, ModelError
from ..model import eeg
from ..model.spec import ModelParam, ModelSpec, identifiers
from .engines import ScipyEngine, quiet_solver

T = TypeVar("T")


@dataclass(frozen=True)
class Tolerances:
    """CVODE settings of one use, and the settings to retry with when a run fails."""

    rtol: float
    atol: float
    max_steps: int = 100_000
    fallbacks: tuple[tuple[float, float, int], ...] = ()
    reference_engine_fallback: bool = True

    def attempts(self) -> tuple[tuple[float, float, int], ...]:
        return ((self.rtol, self.atol, self.max_steps), *self.fallbacks)


# Single subjects: tight (results compared with the SciPy engine to 1e-6).
SINGLE_RUN = Tolerances(1e-8, 1e-10, 100_000,
                        fallbacks=((1e-9, 1e-11, 200_000), (1e-7, 1e-9, 200_000),
                                   (1e-10, 1e-12, 500_000)))
# The SciPy reference engine (LSODA), against which libRoadRunner is tested.
REFERENCE = Tolerances(1e-10, 1e-12, reference_engine_fallback=False)
# Populations: the MADRS error is bounded in tests/simulate/test_trial.py (see trial.py).
POPULATION = Tolerances(1e-6, 1e-8, 100_000,
                        fallbacks=((1e-7, 1e-9, 200_000), (1e-8, 1e-10, 200_000),
                                   (1e-9, 1e-11, 500_000)))
# Sensitivity analyses: CVODE sometimes stalls (CV_TOO_MUCH_WORK) where max(., 0) kinks of the
# synapse layer meet, at one tolerance and not at its neighbours; every sample that stalled at
# rtol 1e-8 ran in a few ms at 1e-7, 1e-9 or 1e-10 (measured). A run needs < 2000 steps, so
# 20000 makes a stalled run fail in ~0.5 s instead of ~2-6 s.
SENSITIVITY = Tolerances(1e-9, 1e-11, 20_000,
                         fallbacks=((1e-10, 1e-12, 20_000), (1e-7, 1e-9, 100_000)))


def structure_key(spec: ModelSpec) -> str:
    """A hash of the model's equations, states and events, not of its parameter values."""
    blank = replace(spec, inputs=dict.fromkeys(spec.inputs, 0.0),
                    params={k: ModelParam(p.name, 0.0, p.unit, p.layer, p.source)
                            for k, p in spec.params.items()})
    text = "\n".join(line.split("//", 1)[0].rstrip()
                     for line in blank.to_antimony().splitlines())  # comments name values
    return hashlib.sha1(text.encode()).hexdigest()


def values_of(spec: ModelSpec) -> dict[str, float]:
    """Every parameter and input value of ``spec`` (what a compiled model must be told)."""
    return {**{k: p.value for k, p in spec.params.items()}, **spec.inputs}


def sbml_of(spec: ModelSpec) -> str:
    """The model as SBML (Antimony → libantimony)."""
    import antimony

    antimony.clearPreviousLoads()
    if antimony.loadAntimonyString(spec.to_antimony()) < 0:
        raise ModelError(f"antimony could not compile the model: {antimony.getLastError()}")
    return antimony.getSBMLString("raadsim")


# Any state smaller than this in magnitude is set to 0 when an event is applied. Absorption
# depots drained for a week or more decay into the subnormal range (~1e-300, below what a
# double represents at full precision); CVODE's BDF then fails at the next dose with
# CV_TOO_MUCH_ACC or CV_CONV_FAILURE at every tolerance (found with the esketamine label
# regimen: 56 mg on day 1, 84 mg twice weekly, then weekly; the depot of the day-1 dose was at
# -1e-304 when the weekly doses began). 1e-100 of any unit is zero for every quantity here.
FLUSH_BELOW = 1e-100

_FUNCS = {"exp": math.exp, "pow": lambda a, b: float(a) ** b, "max": max, "min": min}


@dataclass(frozen=True)
class EventPlan:
    """The events of a model in model time, as the simulator applies them: at ``at``, each
    state gets ``+ increment`` evaluated on the state just before the event (SBML semantics)."""

    at: tuple[float, ...]
    increments: tuple[tuple[tuple[str, object, tuple[str, ...]], ...], ...]

    @classmethod
    def of(cls, spec: ModelSpec) -> EventPlan:
        events = spec.merged_events()
        return cls(tuple(e.at for e in events), tuple(
            tuple((var, compile(expr, f"<event {e.label}>", "eval"),
                   tuple(sorted(identifiers(expr)))) for var, expr in e.increments.items())
            for e in events))


def event_free(spec: ModelSpec) -> ModelSpec:
    """``spec`` without its events: the simulator places them itself (:class:`EventPlan`)."""
    return replace(spec, events=[])


class CompiledModel:
    """An SBML model compiled by libRoadRunner.

    Models built by raadsim are compiled without their events, and :meth:`run` applies the
    events itself: it integrates exactly up to each event time, applies the increments, sets
    states below :data:`FLUSH_BELOW` to zero and restarts CVODE there. Events are thus placed
    exactly (never interpolated inside a long step), every discontinuity restarts the solver,
    and models that differ only in their dosing schedule share one compiled model. An SBML
    file with its own events (the PEtab problem) is run with libRoadRunner's event handling
    and the reset order it needs (``resetAll`` → set values → ``reset``: it fires ``t = 0``
    events during ``reset`` with the values current then)."""

    def __init__(self, sbml: str, tolerances: Tolerances = SINGLE_RUN,
                 base_values: Mapping[str, float] | None = None,
                 states: Sequence[str] = (), all_states: Sequence[str] = ()) -> None:
        import roadrunner

        self.sbml = sbml
        self.rr = roadrunner.RoadRunner(sbml)
        self.tolerances = tolerances
        self.base_values = dict(base_values or {})
        self.states = tuple(states)  # what a flush may zero (empty: SBML with its events)
        ids = list(self.rr.model.getGlobalParameterIds())
        self._ids = {name: i for i, name in enumerate(ids)}
        self._columns: dict[tuple[str, ...], np.ndarray | None] = {}
        self._event_free = self.rr.model.getNumEvents() == 0  # SBML events: simulate()
        self._state_index = np.array([ids.index(s) for s in self.states if s in ids], np.int32)
        # every variable that carries the run's state (rate rules and event-set variables)
        self._all_index = np.array([ids.index(s) for s in all_states if s in ids], np.int32)
        self._set_tolerances(*tolerances.attempts()[0])

    def _set_tolerances(self, rtol: float, atol: float, steps: int) -> None:
        integ = self.rr.integrator
        integ.relative_tolerance = rtol
        integ.absolute_tolerance = atol
        integ.setValue("maximum_num_steps", steps)

    def run(self, variables: Sequence[str], times: np.ndarray,
            values: Mapping[str, float] | None = None,
            initial: Mapping[str, float] | None = None,
            events: EventPlan | None = None, start: Prefix | None = None
            ) -> tuple[np.ndarray, int]:
        """``variables`` (columns) at the model ``times`` (ascending, >= 0), with per-run
        ``values`` of parameters and inputs and the ``events`` to apply; returns the array and
        the number of fallback settings that were needed. Raises :class:`ModelError` when
        every setting fails. ``start`` continues from a stored drug-free prefix
        (:meth:`prefix`) instead of integrating from model time 0."""
        return self._with_fallbacks(
            lambda: self._run(variables, times, values, initial, events, start))

    def _with_fallbacks(self, attempt: Callable[[], T]) -> tuple[T, int]:
        """``attempt()`` at the first tolerances that let it finish, and how many fallback
        settings were needed; :class:`ModelError` when every setting fails."""
        attempts = self.tolerances.attempts()
        error = ""
        for k, tol in enumerate(attempts):
            if k:
                self._set_tolerances(*tol)
            try:
                return attempt(), k
            except RuntimeError as exc:
                error = str(exc)
            finally:
                if k:
                    self._set_tolerances(*attempts[0])
        raise ModelError(f"integration failed at every tolerance ({error})")

    def prefix(self, end: float, values: Mapping[str, float] | None = None) -> Prefix:
        """The state at model time ``end`` of an event-free run from 0 with ``values`` (the
        caller makes sure no event falls before ``end``)."""
        def attempt() -> Prefix:
            self._reset(values, None)
            self._simulate(["time"], 0.0, np.array([end]))
            return Prefix(float(end), self.rr.model.getGlobalParameterValues()[self._all_index]
                          .copy())

        return self._with_fallbacks(attempt)[0]

    def values_after_reset(self, values: Mapping[str, float], names: Sequence[str]
                           ) -> dict[str, float]:
        """``names`` at model time 0 after the reset order with per-run ``values`` (for
        quantities of constants only, which need no integration)."""
        self._reset(values, None)
        return {n: float(self.rr.getValue(n)) for n in names}

    def _reset(self, values: Mapping[str, float] | None,
               initial: Mapping[str, float] | None) -> None:
        rr = self.rr
        rr.resetAll()
        if values:
            index = self._column_index(tuple(values))
            if index is None:  # not all are model parameters (an SBML file's species)
                for k, v in values.items():
                    rr.setValue(k, float(v))
            else:  # one call instead of one string lookup per value
                rr.model.setGlobalParameterValues(index, np.fromiter(values.values(), float,
                                                                     len(index)))
        rr.reset()
        for k, v in (initial or {}).items():
            rr.setValue(k, float(v))

    def _run(self, variables: Sequence[str], times: np.ndarray,
             values: Mapping[str, float] | None, initial: Mapping[str, float] | None,
             events: EventPlan | None, start: Prefix | None = None) -> np.ndarray:
        self._reset(values, initial)
        times = np.asarray(times, float)
        t = 0.0
        if start is not None:
            self.rr.model.setGlobalParameterValues(self._all_index, start.state)
            self.rr.model.setTime(start.end)
            t = start.end
        if events is None:
            return self._simulate(variables, t, times)
        out = np.empty((len(times), len(variables)))
        last = float(times[-1]) if len(times) else 0.0
        row = 0
        for at, incs in zip((*events.at, math.inf), (*events.increments, None), strict=True):
            if at < t:  # inside a stored prefix (which ends at or before the first event)
                raise ModelError(f"an event at model time {at} h is inside the stored "
                                 f"prefix (to {t} h)")
            # outputs before the event come from this segment; one at the event time shows
            # the state after it
            k = int(np.searchsorted(times, at, side="left")) if at <= last else len(times)
            stop = min(at, last)
            if k > row or stop > t:
                out[row:k] = self._simulate(variables, t, times[row:k], end=stop)
                row, t = k, stop
            if incs is None or at > last:
                break
            self._apply(incs)
        return out

    def _simulate(self, variables: Sequence[str], t0: float, times: np.ndarray,
                  end: float | None = None) -> np.ndarray:
        """Integrate from the current state at ``t0`` and read ``variables`` at ``times``
        (t0 <= times <= end); the state is left at ``end`` (default: the last time).

        CVODE restarts at ``t0`` and then continues through the output times, as
        ``RoadRunner.simulate`` does; variables that are model parameters (every state and
        read-out of raadsim's models) are read as one array per time, without the per-call
        cost of ``simulate``'s argument handling and selections."""
        end = float(times[-1]) if end is None and len(times) else (t0 if end is None else end)
        columns = self._column_index(variables) if self._event_free else None
        if columns is None:
            return self._simulate_selections(variables, t0, times, end)
        rr, model = self.rr, self.rr.model
        out = np.empty((len(times), len(variables)))
        t, restart = t0, True
        for j, tj in enumerate(times.tolist()):
            if tj > t:
                rr.oneStep(t, tj - t, restart)
                t, restart = tj, False
            out[j] = model.getGlobalParameterValues(columns)
        if end > t:
            rr.oneStep(t, end - t, restart)
        return out

    def _column_index(self, variables: Sequence[str]) -> np.ndarray | None:
        """Indices of ``variables`` among the model parameters (None: not all are)."""
        key = tuple(variables)
        if key not in self._columns:
            ok = all(v in self._ids for v in key)
            self._columns[key] = (np.array([self._ids[v] for v in key], np.int32) if ok
                                  else None)
        return self._columns[key]

    def _simulate_selections(self, variables: Sequence[str], t0: float, times: np.ndarray,
                             end: float) -> np.ndarray:
        """:meth:`_simulate` through ``RoadRunner.simulate`` (any selection, e.g. time)."""
        if end <= t0:
            return np.asarray([[self.rr.getValue(v) for v in variables]] * len(times),
                              float).reshape(len(times), len(variables))
        grid = np.unique(np.r_[t0, times, end])
        arr = np.asarray(self.rr.simulate(times=grid, selections=list(variables)))
        index = np.searchsorted(grid, times)
        return arr[index] if len(times) else np.empty((0, len(variables)))

    def _apply(self, incs) -> None:
        """Apply one event's increments, evaluated on the state just before it, and flush
        states below :data:`FLUSH_BELOW` to zero."""
        rr, model, ids = self.rr, self.rr.model, self._ids
        values = model.getGlobalParameterValues()
        env = {n: (values[ids[n]] if n in ids else rr.getValue(n))
               for _, _, names in incs for n in names}
        changed: dict[int, float] = {}
        for var, code, _ in incs:
            d = eval(code, _FUNCS, env)
            if var in ids:  # two increments may act on one variable: they add up
                i = ids[var]
                changed[i] = changed.get(i, values[i]) + d
            else:
                rr.setValue(var, rr.getValue(var) + d)
        if changed:
            index = np.fromiter(changed, np.int32, len(changed))
            values[index] = np.fromiter(changed.values(), float, len(changed))
            model.setGlobalParameterValues(index, values[index])
        if len(self._state_index):
            states = values[self._state_index]
            tiny = (states != 0.0) & (np.abs(states) < FLUSH_BELOW)
            if tiny.any():
                idx = self._state_index[tiny]
                model.setGlobalParameterValues(idx, np.zeros(len(idx)))


@dataclass(frozen=True)
class Prefix:
    """A stored drug-free prefix: the model time it ends at and every state variable then."""

    end: float
    state: np.ndarray


@dataclass
class Trajectories:
    """Observables (or model variables) of one run, in scenario time (h)."""

    time_h: np.ndarray
    values: dict[str, np.ndarray]
    engine: str
    fallbacks: int = 0  # how many fallback settings the run needed (0: none)
    meta: dict = field(default_factory=dict)


class Simulator:
    """Integrates built models; see the module docstring for what it owns.

    ``engine`` is ``roadrunner`` (production) or ``scipy`` (the reference engine, same
    equations). Compiled models are kept per structure (the ``cache_size`` most recent).
    """

    def __init__(self, engine: str = "roadrunner", tolerances: Tolerances | None = None,
                 cache_size: int = 16, quiet: bool = True) -> None:
        if engine not in ("roadrunner", "scipy"):
            raise InputError("engine", engine, "roadrunner or scipy")
        self.engine = engine
        self.tolerances = tolerances or (REFERENCE if engine == "scipy" else SINGLE_RUN)
        self.cache_size = cache_size
        self.quiet = quiet
        self._models: OrderedDict[str, CompiledModel] = OrderedDict()
        self.stats = {"compiled": 0, "reused": 0}

    # -- compiled models ---------------------------------------------------------------
    def compiled(self, spec: ModelSpec) -> CompiledModel:
        """The compiled model of ``spec``'s structure (compiled on first use)."""
        key = spec.__dict__.get("_event_free_key")
        if key is None or key[0] != len(spec.events):  # once per spec object
            key = (len(spec.events), structure_key(event_free(spec)))
            spec.__dict__["_event_free_key"] = key
        key = key[1]
        if key in self._models:
            self._models.move_to_end(key)
            self.stats["reused"] += 1
            return self._models[key]
        model = CompiledModel(sbml_of(event_free(spec)), self.tolerances, values_of(spec),
                              [s for s in spec.states if not spec.piecewise_constant(s)],
                              list(spec.states))
        self.stats["compiled"] += 1
        self._models[key] = model
        while len(self._models) > self.cache_size:
            self._models.popitem(last=False)
        return model

    def clear(self) -> None:
        self._models.clear()

    # -- runs --------------------------------------------------------------------------
    def run_variables(self, spec: ModelSpec, variables: Sequence[str], times_h: np.ndarray,
                      params: Mapping[str, float] | None = None,
                      initial: Mapping[str, float] | None = None,
                      start: Prefix | None = None) -> tuple[np.ndarray, int]:
        """Model ``variables`` (columns) at scenario times ``times_h`` (ascending), with
        parameter and input values ``params`` replacing the spec's; also returns the number
        of fallback settings used (``len(attempts)`` when the reference engine was needed).
        ``start`` is a stored drug-free prefix of this run (:meth:`prefix`; the reference
        engine integrates from model time 0 instead, with the same result)."""
        t_model = np.asarray(times_h, float) - spec.t_start
        if len(t_model) and t_model[0] < -1e-9:
            raise ModelError(f"output time {times_h[0]} h is before the model starts "
                             f"({spec.t_start} h)")
        t_model = np.maximum(t_model, 0.0)
        if self.engine == "scipy":

            _, vals = ScipyEngine(spec, rtol=self.tolerances.rtol, atol=self.tolerances.atol
                                  ).run(variables, 0, 0, 1, params=params, initial=initial,
                                        times=t_model)
            return vals, 0
        model = self.compiled(spec)
        values = {k: v for k, v in values_of(spec).items() if model.base_values.get(k) != v}
        values.update(params or {})
        with _maybe_quiet(self.quiet):
            try:
                return model.run(variables, t_model, values, initial, _event_plan(spec),
                                 start)
            except ModelError:
                if not self.tolerances.reference_engine_fallback:
                    raise

        try:
            _, vals = ScipyEngine(spec, rtol=1e-8, atol=1e-10).run(
                variables, 0, 0, 1, params=params, initial=initial, times=t_model)
        except ModelError as exc:
            raise ModelError(f"integration failed with CVODE at every tolerance and with the "
                             f"SciPy reference engine ({exc})") from None
        return vals, len(self.tolerances.attempts())

    def prefix(self, spec: ModelSpec, end_model_h: float,
               params: Mapping[str, float] | None = None) -> Prefix:
        """The state of ``spec`` with ``params`` at model time ``end_model_h``, before any
        event (see :mod:`raadsim.simulate.prefix` for what it depends on)."""
        model = self.compiled(spec)
        values = {k: v for k, v in values_of(spec).items() if model.base_values.get(k) != v}
        values.update(params or {})
        with _maybe_quiet(self.quiet):
            return model.prefix(end_model_h, values)

    def run(self, spec: ModelSpec, observables: Sequence[str], times_h: np.ndarray,
            params: Mapping[str, float] | None = None,
            eeg_overrides: eeg.Overrides = ()) -> Trajectories:
        """The ``observables`` of ``spec`` (its own and ``eeg.*``) at scenario times."""
        names = [o for o in observables if o not in eeg.OBSERVABLES]
        eeg_names = [o for o in observables if o in eeg.OBSERVABLES]
        unknown = [o for o in names if o not in spec.observables]
        if unknown:
            raise InputError("observables", unknown[0],
                             f"an observable of this model: {', '.join(sorted(spec.observables))}")
        variables = [spec.observables[o].var for o in names]
        times_h = np.asarray(times_h, float)
        grid, lead = times_h, 0
        if eeg_names:
            variables += list(eeg.STATE)
            t_ref = self.reference_time_h(spec)
            if not len(times_h) or t_ref < times_h[0] - 1e-9:
                grid, lead = np.r_[t_ref, times_h], 1
        vals, used = self.run_variables(spec, variables, grid, params)
        if eeg_names:
            ref, vals = vals[0], vals[lead:]
        values = {o: vals[:, i] for i, o in enumerate(names)}
        if eeg_names:
            k = len(names)
            state = dict(zip(eeg.STATE, vals[:, k:].T, strict=True))
            reference = dict(zip(eeg.STATE, ref[k:, None], strict=True))
            values |= eeg.observables(state, eeg_names, eeg_overrides, reference)
        label = "libroadrunner" if self.engine == "roadrunner" else self.engine
        return Trajectories(times_h, {o: values[o] for o in observables}, label, used)

    def spectra(self, spec: ModelSpec, times_h: Sequence[float], source: str | None = None
                ) -> tuple[np.ndarray, np.ndarray]:
        """Resting M/EEG power spectra (len(times_h), n_freqs) at scenario times: the whole
        head (default) or one ``source`` of :data:`raadsim.model.eeg.SOURCES`, in units of the
        subject's drug-free spectrum's total 1-90 Hz power (its integral is 1)."""
        times = np.r_[self.reference_time_h(spec), np.asarray(times_h, float)]
        vals, _ = self.run_variables(spec, list(eeg.STATE), times)
        state = dict(zip(eeg.STATE, vals.T, strict=True))
        freqs, P, _ = eeg.source_spectra(state)
        if source is None:
            W, _ = eeg.whole_head(freqs, P, {s: p[0] for s, p in P.items()})
        elif source in P:
            W = P[source]
        else:
            raise InputError("source", source, f"one of {', '.join(eeg.SOURCES)}")
        return freqs, W[1:] / (W[0].sum() * (freqs[1] - freqs[0]))

    @staticmethod
    def reference_time_h(spec: ModelSpec) -> float:
        """A scenario time inside the drug-free steady state (1 h before the references are
        read), where the subject's own drug-free state is taken from."""
        return spec.t_start + max(spec.t_reference - 1.0, 0.0)


def _event_plan(spec: ModelSpec) -> EventPlan:
    """The spec's events, compiled once per spec object (a trial arm's spec serves every
    patient)."""
    plan = spec.__dict__.get("_event_plan")
    if plan is None or plan[0] != len(spec.events):
        plan = (len(spec.events), EventPlan.of(spec))
        spec.__dict__["_event_plan"] = plan
    return plan[1]


_DEFAULT: dict[tuple[str, Tolerances | None], Simulator] = {}


def default_simulator(tolerances: Tolerances | None = None, engine: str = "roadrunner"
                      ) -> Simulator:
    """The process-wide simulator of a use (worker processes keep their compiled models);
    ``tolerances`` default to SINGLE_RUN (roadrunner) or REFERENCE (scipy)."""
    key = (engine, tolerances)
    if key not in _DEFAULT:
        _DEFAULT[key] = Simulator(engine, tolerances)
    return _DEFAULT[key]


class _maybe_quiet:
    def __init__(self, quiet: bool) -> None:
        self._ctx = None
        if quiet:

            self._ctx = quiet_solver()

    def __enter__(self) -> None:
        if self._ctx is not None:
            self._ctx.__enter__()

    def __exit__(self, *exc) -> None:
        if self._ctx is not None:
            self._ctx.__exit__(*exc)
