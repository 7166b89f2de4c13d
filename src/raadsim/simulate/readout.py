"""Read-outs evaluated after the integration, vectorised over patients and parameter values.

A :class:`ReadoutPlan` is built from a model's :func:`~raadsim.model.readout.split`: the
variables to integrate (the frontier of the read-outs, plus any dynamic variable asked for)
and the read-out rules needed by the requested variables, compiled once into a NumPy function.
Its values are those of the integrated model to round-off (the same equations, evaluated on
the same integrated states), for scalars or arrays of any shape (patients × times).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from ..errors import ModelError
from ..model.readout import split
from ..model.spec import ModelSpec, identifiers

_NUMPY = {"exp": np.exp, "pow": np.power, "max": np.maximum, "min": np.minimum,
          "sqrt": np.sqrt}


@lru_cache(maxsize=256)
def compile_numpy(source: str, name: str):
    """The function ``name`` defined by ``source``, with the equations' functions as NumPy
    ufuncs (so it evaluates arrays of any shape)."""
    ns: dict[str, object] = dict(_NUMPY)
    exec(compile(source, f"<raadsim-{name}>", "exec"), ns)
    return ns[name]


@dataclass(frozen=True)
class ReadoutPlan:
    """How to get ``variables`` of a model: integrate ``integrated``, then evaluate."""

    variables: tuple[str, ...]  # requested model variables (states or rules)
    integrated: tuple[str, ...]  # variables the integration must return
    constants: tuple[str, ...]  # parameters and inputs the evaluated rules use
    ode_constants: frozenset[str]  # the model's constants the integration depends on
    source: str  # the compiled read-out function (kept as text so the plan pickles)

    @classmethod
    def of(cls, spec: ModelSpec, variables: Sequence[str]) -> ReadoutPlan:
        s = split(spec)
        rules = {r.name: r for r in s.rules}
        need: set[str] = set()
        todo = [v for v in variables if v in rules]
        while todo:
            n = todo.pop()
            if n not in need:
                need.add(n)
                todo.extend(d for d in identifiers(rules[n].expr) if d in rules)
        ordered = [r for r in s.rules if r.name in need]
        timed = [r.name for r in ordered if re.search(r"\btime\b", r.expr)]
        if timed:
            raise ModelError(f"read-out rule {timed[0]} uses time; read-outs are functions "
                             "of the integrated states and constants only")
        used = set().union(*(identifiers(r.expr) for r in ordered)) if ordered else set()
        consts = set(spec.params) | set(spec.inputs)
        integrated = sorted({*(v for v in variables if v not in rules),
                             *(n for n in used if n not in rules and n not in consts)})
        constants = tuple(sorted(used & consts))
        lines = ["def _readout(v):"]
        lines += [f"    {n} = v[{n!r}]" for n in (*integrated, *constants)]
        lines += [f"    {r.name} = {r.expr}" for r in ordered]
        lines.append("    return {" + ", ".join(f"{n!r}: {n}" for n in variables) + "}")
        return cls(tuple(variables), tuple(integrated), constants,
                   frozenset(consts & s.dynamic), "\n".join(lines))

    def evaluate(self, integrated: Mapping[str, np.ndarray], constants: Mapping[str, object]
                 ) -> dict[str, np.ndarray]:
        """The requested variables from integrated values and constants (scalars or arrays
        broadcasting against the integrated arrays)."""
        fn = compile_numpy(self.source, "_readout")
        out = fn({**integrated, **{k: constants[k] for k in self.constants}})
        base = np.shape(next(iter(integrated.values()))) if integrated else ()
        shape = np.broadcast_shapes(base, *(np.shape(v) for v in out.values()))
        return {k: np.broadcast_to(np.asarray(v, float), shape) for k, v in out.items()}
