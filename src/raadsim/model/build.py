"""Assemble the model for a scenario from its layers."""

from __future__ import annotations

from dataclasses import replace

from ..drugs.catalogue import Catalogue
from ..io.scenario import Scenario
from ..perturb import catalogue as perturbations
from .pk import build_pk
from .spec import ModelSpec
from .targets import build_targets


def build_model(sc: Scenario, cat: Catalogue) -> ModelSpec:
    """The full model (PK → targets → ...) for one scenario, with its dosing events."""
    start, _, _ = sc.window()
    # The model clock starts at 0 at the scenario's first event (times can be negative in a
    # scenario, e.g. a pretreatment at "-2 h"); results are shifted back by ``t_start``.
    adms = [replace(a, times_h=tuple(t - start for t in a.times_h))
            for a in sc.administrations(cat)]
    m = build_pk(cat, sc.subject.species, sc.subject.weight, adms)
    m.t_start = start
    analytes = [s[len("A_c_"):] for s in m.states if s.startswith("A_c_")]
    m.merge(build_targets(cat, analytes))
    for i, p in enumerate(sc.perturbation):
        perturbations.get(p.name, f"perturbation[{i}].name").apply(m, p.model_dump())
    m.check()
    return m
