"""The drug-free prefix of a run, and what it depends on.

Before a model's first event (a dose, a session) nothing is given, so a patient's integration
over the drug-free pre-equilibration depends on fewer parameters than the rest of the run:
the PK states are zero whatever the patient's clearance or volume, and so is everything they
feed. :func:`PrefixPlan.of` derives this from the equations (no list is kept by hand):

1. **Quiescent states**: the largest set of states that start at 0 and whose ODE right-hand
   side is 0 whenever all of them are 0. They stay exactly 0 until the first event.
2. **Drug-free determinants**: the constants that change a non-quiescent right-hand side
   while the quiescent states are 0. Patients equal in these have the same state at the end
   of the prefix, so virtual trials integrate the prefix once per distinct set of them
   (:mod:`raadsim.simulate.trial`) and start every patient's run from the stored state.

Both are found by evaluating the equations at random points (every state, rule and constant
drawn log-uniformly within a factor of 10 of its model value, several points): a term that is
zero at all of them is zero as a function. ``tests/simulate/test_trial.py`` checks that
sharing the prefix gives the results of integrating every patient from the start.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..model.spec import ModelSpec
from .readout import compile_numpy

POINTS = 8  # random points per check


def _compile(source: str):
    return compile_numpy(source, "_rhs")


def _rhs_source(spec: ModelSpec) -> str:
    """A function of a name -> array mapping returning every state's right-hand side."""
    lines = ["def _rhs(v):", "    time = v['time']"]
    lines += [f"    {n} = v[{n!r}]" for n in (*spec.states, *spec.params, *spec.inputs)]
    lines += [f"    {r.name} = {r.expr}" for r in spec.ordered_rules()]
    lines.append("    return {" + ", ".join(f"{s!r}: ({spec.odes.get(s, '0')})"
                                           for s in spec.states) + "}")
    return "\n".join(lines)


@dataclass(frozen=True)
class PrefixPlan:
    """What the drug-free prefix of a model's runs depends on."""

    quiescent: frozenset[str]  # states that are exactly 0 until the first event
    source: str  # the right-hand sides, compiled on use (kept as text so the plan pickles)
    point: dict[str, np.ndarray]  # the random points, quiescent states at 0
    _found: dict[frozenset[str], frozenset[str]] = field(default_factory=dict, compare=False)

    @classmethod
    def of(cls, spec: ModelSpec, seed: int = 0) -> PrefixPlan:
        source = _rhs_source(spec)
        rhs = _compile(source)
        rng = np.random.default_rng(seed)
        consts = {**spec.inputs, **{k: p.value for k, p in spec.params.items()}}
        names = [*spec.states, *consts]
        base = {n: abs(consts.get(n, 0.0)) or 1.0 for n in names}
        point = {n: base[n] * 10.0 ** rng.uniform(-1, 1, POINTS) for n in names}
        point["time"] = rng.uniform(0, 1e4, POINTS)
        zero = {s for s, st in spec.states.items() if st.initial == 0.0}
        with np.errstate(all="ignore"):
            while True:
                out = rhs({**point, **{s: np.zeros(POINTS) for s in zero}})
                keep = {s for s in zero if np.all(np.asarray(out[s]) == 0.0)}
                if keep == zero:
                    break
                zero = keep
        return cls(frozenset(zero), source, {**point, **{s: np.zeros(POINTS) for s in zero}})

    def determinants(self, names: frozenset[str]) -> frozenset[str]:
        """The constants among ``names`` that change a non-quiescent right-hand side while
        the quiescent states are 0 (found once per set of names)."""
        if names not in self._found:
            rhs = _compile(self.source)
            with np.errstate(all="ignore"):
                ref = rhs(self.point)
                live = [s for s in ref if s not in self.quiescent]
                found = set()
                for c in names & set(self.point):
                    moved = rhs({**self.point, c: self.point[c] * 1.7 + 0.3})
                    if any(not np.array_equal(np.asarray(moved[s]), np.asarray(ref[s]),
                                              equal_nan=True) for s in live):
                        found.add(c)
            self._found[names] = frozenset(found)
        return self._found[names]

    def key(self, values: dict[str, float]) -> tuple:
        """What the prefix of a run with per-run ``values`` depends on (equal keys: equal
        prefixes)."""
        dets = self.determinants(frozenset(values))
        return tuple(sorted((k, v) for k, v in values.items() if k in dets))


def prefix_end(spec: ModelSpec, first_output_model_h: float) -> float:
    """Model time the shared prefix runs to: the first event or the first output time,
    whichever comes first."""
    first_event = min((e.at for e in spec.events), default=np.inf)
    return float(min(first_event, first_output_model_h))
