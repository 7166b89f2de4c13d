"""The SciPy reference engine and helpers of the integration.

:class:`ScipyEngine` integrates the same equations as the production engine (libRoadRunner,
:class:`raadsim.simulate.simulator.CompiledModel`) as Python, with
``scipy.integrate.solve_ivp`` piecewise between events; it verifies the SBML path and is the
last fallback of a run CVODE cannot finish. Callers integrate through
:class:`raadsim.simulate.simulator.Simulator`, never an engine directly.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator, Mapping, Sequence

import numpy as np

from ..errors import ModelError
from ..model.spec import ModelSpec


@contextlib.contextmanager
def quiet_solver() -> Iterator[None]:
    """Silence the C-level output of SUNDIALS while simulating many subjects.

    CVODE prints "t + h = t on the next step" warnings (and carries on) when it shortens its
    step at the kink of ``max(relief, 0)`` after a dose in some virtual patients (e.g. BDNF
    Val/Met, whose drug-free relief sits at 0). Results are unaffected (checked against the
    SciPy engine: 6e-5 MADRS points), but thousands of lines would bury the output. Failures
    still raise; their message is kept in the exception.
    """
    import os
    import sys

    sys.stdout.flush()
    sys.stderr.flush()
    saved = {fd: os.dup(fd) for fd in (1, 2)}  # SUNDIALS' logger writes to stdout
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        for fd in saved:
            os.dup2(devnull, fd)
        yield
    finally:
        for fd, copy in saved.items():
            os.dup2(copy, fd)
            os.close(copy)
        os.close(devnull)


def output_times(start: float, end: float, step: float) -> np.ndarray:
    """Model-time output grid from ``start`` to ``end`` every ``step`` (end included)."""
    n = math.floor((end - start) / step + 1e-9)
    t = start + step * np.arange(n + 1)
    if t[-1] < end - 1e-9:
        t = np.append(t, end)
    return t


class ScipyEngine:
    """Reference integration of the same equations with SciPy (LSODA), piecewise by event."""

    name = "scipy"

    def __init__(self, spec: ModelSpec, rtol: float = 1e-10, atol: float = 1e-12,
                 method: str = "LSODA") -> None:
        spec.check()
        self.spec = spec
        self.rtol, self.atol, self.method = rtol, atol, method
        self.state_names = list(spec.states)
        self.const_names = list(spec.params) + list(spec.inputs)
        rules = spec.ordered_rules()
        lines = ["def _rhs(t, y, c):"]
        lines += [f"    {n} = c[{i}]" for i, n in enumerate(self.const_names)]
        lines += [f"    {n} = y[{i}]" for i, n in enumerate(self.state_names)]
        lines += ["    time = t"]
        lines += [f"    {r.name} = {r.expr}" for r in rules]
        lines.append("    return [" + ", ".join(spec.odes[n] for n in self.state_names) + "]")
        lines.append("")
        lines.append("def _vars(t, y, c, names):")
        lines += [f"    {n} = c[{i}]" for i, n in enumerate(self.const_names)]
        lines += [f"    {n} = y[{i}]" for i, n in enumerate(self.state_names)]
        lines += ["    time = t"]
        lines += [f"    {r.name} = {r.expr}" for r in rules]
        lines.append("    _l = locals()")
        lines.append("    return [_l[n] for n in names]")
        lines.append("")
        lines.append("def _env(t, y, c):")  # every constant, state and rule (for events)
        lines += [f"    {n} = c[{i}]" for i, n in enumerate(self.const_names)]
        lines += [f"    {n} = y[{i}]" for i, n in enumerate(self.state_names)]
        lines += ["    time = t"]
        lines += [f"    {r.name} = {r.expr}" for r in rules]
        lines.append("    return dict(locals())")
        self._src = "\n".join(lines)
        ns: dict[str, object] = {"exp": math.exp, "pow": lambda a, b: float(a) ** b,
                                 "max": max, "min": min}
        exec(compile(self._src, "<raadsim-model>", "exec"), ns)
        self._rhs = ns["_rhs"]
        self._vars = ns["_vars"]
        self._env = ns["_env"]
        self._events = spec.merged_events()
        self._inc = {
            id(ev): [(self.state_names.index(v), compile(e, "<event>", "eval"))
                     for v, e in ev.increments.items()]
            for ev in self._events
        }

    def run(self, variables: Sequence[str], start: float, end: float, step: float,
            params: Mapping[str, float] | None = None,
            initial: Mapping[str, float] | None = None,
            times: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        from scipy.integrate import solve_ivp

        consts = {**{k: p.value for k, p in self.spec.params.items()}, **self.spec.inputs}
        if params:
            consts.update(params)
        c = [consts[n] for n in self.const_names]
        y = np.array([self.spec.states[n].initial for n in self.state_names], dtype=float)
        if initial:
            for k, v in initial.items():
                y[self.state_names.index(k)] = v
        times = output_times(start, end, step) if times is None else np.asarray(times, float)
        start, end = float(times[0]), float(times[-1])
        out = np.empty((len(times), len(variables)))
        funcs = {"exp": math.exp, "pow": lambda a, b: float(a) ** b, "max": max, "min": min}
        t = 0.0
        events = [ev for ev in self._events if ev.at <= end]
        boundaries = [ev.at for ev in events]
        k = 0  # next output index
        for seg_end, ev in [*zip(boundaries, events, strict=False), (end, None)]:
            if seg_end > t:
                mask = (times >= t) & ((times < seg_end) if ev is not None else (times <= end))
                mask &= times >= start
                t_eval = times[mask]
                grid = np.append(t_eval, seg_end) if not len(t_eval) or t_eval[-1] < seg_end \
                    else t_eval
                sol = solve_ivp(self._rhs, (t, seg_end), y, method=self.method, t_eval=grid,
                                args=(c,), rtol=self.rtol, atol=self.atol)
                if not sol.success:
                    raise ModelError(f"SciPy integration failed: {sol.message}")
                for j in range(len(t_eval)):
                    out[k] = self._vars(t_eval[j], sol.y[:, j], c, variables)
                    k += 1
                y = sol.y[:, -1].copy()
                t = seg_end
            if ev is not None:
                # Increments are evaluated on the state before the event (SBML semantics);
                # they may use rules (e.g. a reference or a rule-valued target).
                env = {**funcs, **self._env(t, y, c)}
                incs = [(idx, eval(code, env)) for idx, code in self._inc[id(ev)]]
                for idx, inc in incs:
                    y[idx] += inc
        return times, out[:k]
