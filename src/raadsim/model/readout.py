"""Which part of a model is integrated and which is algebra on its result.

A model's assignment rules fall in two groups. **Dynamic** rules are used, directly or through
other rules, by an ODE or an event increment: changing a parameter they use changes the
integrated states. **Read-out** rules are used by nothing that is integrated (MADRS, the
placebo fraction, the antidepressant effect): they can be evaluated after the integration, on
the stored states, for any values of the parameters only they use.

:func:`split` derives the two groups from the equations themselves (no list is kept by hand),
so a rate law edited in a layer file moves between them automatically. Virtual trials use it
to integrate once per distinct set of ODE parameters and apply each patient's read-out
parameters afterwards; the clinic calibration uses it to evaluate thousands of parameter
values on one set of integrated patients (:mod:`raadsim.simulate.readout`).
"""

from __future__ import annotations

from dataclasses import dataclass

from .spec import ModelSpec, Rule, identifiers


@dataclass(frozen=True)
class ReadoutSplit:
    """The integrated and the read-out parts of one model."""

    dynamic: frozenset[str]  # every name an ODE or event uses (states, rules, constants)
    rules: tuple[Rule, ...]  # read-out rules, in dependency order
    frontier: tuple[str, ...]  # states and dynamic rules the read-out rules use
    constants: frozenset[str]  # parameters and inputs used only by read-out rules

    def is_readout(self, name: str) -> bool:
        """True if ``name`` (a parameter or input) changes only read-out values."""
        return name in self.constants


def _closure(spec: ModelSpec, roots: set[str]) -> set[str]:
    seen: set[str] = set()
    todo = list(roots)
    while todo:
        n = todo.pop()
        if n in seen:
            continue
        seen.add(n)
        if n in spec.rules:
            todo.extend(identifiers(spec.rules[n].expr))
    return seen


def split(spec: ModelSpec) -> ReadoutSplit:
    """Split ``spec`` into what must be integrated and the read-outs of the integration."""
    roots: set[str] = set(spec.states)
    for expr in spec.odes.values():
        roots |= identifiers(expr)
    for ev in spec.events:
        roots |= set(ev.increments)
        for inc in ev.increments.values():
            roots |= identifiers(inc)
    dynamic = _closure(spec, roots)
    readout = [r for r in spec.ordered_rules() if r.name not in dynamic]
    used: set[str] = set()
    for r in readout:
        used |= identifiers(r.expr)
    constants = set(spec.params) | set(spec.inputs)
    frontier = sorted(n for n in used if n in dynamic and (n in spec.states or n in spec.rules))
    return ReadoutSplit(frozenset(dynamic), tuple(readout), tuple(frontier),
                        frozenset(n for n in used & constants if n not in dynamic))
