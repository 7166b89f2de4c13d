"""Assemble the model for a scenario from its layers (pk → targets → circuit → signalling →
synapse → clinic), apply the condition and perturbations, and place the dosing events."""

from __future__ import annotations

import tomllib
from dataclasses import replace
from functools import lru_cache
from importlib import resources
from typing import Protocol

from ..drugs.catalogue import Catalogue
from ..provenance import Param, param_from_table
from . import hypotheses, perturbations
from .dimensions import check_dimensions
from .inputs import ModelInputs
from .layer import REFERENCE_SWITCH, build_layer, model_flags
from .pk import build_bath, build_pk
from .spec import Event, ModelSpec
from .targets import build_targets

# Analyte group with a pressor term (cardiovascular layer): the ketamine enantiomers.
PRESSOR_GROUP = "ketamine"

# Drug-free pre-equilibration before the scenario starts, so that lifelong perturbations
# (knockouts, genotypes, stress) set the baseline and the references (model.layer) read it:
# 90 days. 60 days (15 spine-elimination half-lives) left the slowest case, the eEF2K knockout
# (translation 4x, spine formation through the consolidation chain), drifting: its drug-free
# antidepressant effect moved by 1.1e-3 over four weeks; with 90 days by 8e-6 (measured,
# tests/model/test_drug_free.py).
EQUILIBRATION_H = 2160.0


@lru_cache(maxsize=1)
def condition_params() -> dict[str, dict[str, Param]]:
    path = resources.files("raadsim").joinpath("data", "parameters", "conditions.toml")
    raw = tomllib.loads(path.read_text(encoding="utf-8"))
    return {c: {k: param_from_table(k, v, f"conditions.toml:{c}.{k}") for k, v in t.items()}
            for c, t in raw.items()}


def mechanism_layers(cat: Catalogue, species: str, analytes: list[str]) -> list[str]:
    """The layers read from layer files that a model for ``species`` contains: symptoms and
    behaviour only in animals, blood pressure and cortisol only in humans given a ketamine
    enantiomer."""
    layers = ["network", "psychoactive", "signalling", "synapse"]
    if species != "culture":
        layers.append("clinic")
    if species in ("rat", "mouse"):
        layers.append("behaviour")
    if species == "human" and any(PRESSOR_GROUP in cat.analytes[a].groups for a in analytes):
        layers += ["cardiovascular", "peripheral"]
    return layers


class SupportsModelInputs(Protocol):
    """A parsed scenario (``raadsim.io.scenario.Scenario``): it resolves its own inputs."""

    def model_inputs(self, cat: Catalogue) -> ModelInputs: ...


def build_model(sc: ModelInputs | SupportsModelInputs, cat: Catalogue,
                equilibrate: bool = True) -> ModelSpec:
    """The full model for one scenario (its :class:`ModelInputs`, or a parsed scenario that
    resolves them). Model time 0 is the start of the drug-free pre-equilibration; scenario
    time ``t`` is model time ``t − t_start``."""
    inp = sc if isinstance(sc, ModelInputs) else sc.model_inputs(cat)
    start = inp.start_h
    offset = (EQUILIBRATION_H if equilibrate else 0.0) - start
    adms = [replace(a, times_h=tuple(t + offset for t in a.times_h))
            for a in inp.administrations]
    species = inp.species
    if species == "culture":
        m = build_bath(cat, [(b.drug, b.concentration_uM, b.at_h + offset,
                              None if b.duration_h is None else b.at_h + offset + b.duration_h)
                             for b in inp.baths])
        analytes = [r[len("Cbu_"):] for r in m.rules if r.startswith("Cbu_")]
    else:
        m = build_pk(cat, species, inp.weight_kg, adms, inp.covariates)
        analytes = [s[len("A_c_"):] for s in m.states if s.startswith("A_c_")]
    m.layers.add("pk")
    m.merge(build_targets(cat, analytes))
    flags = model_flags(species, analytes)
    for layer in mechanism_layers(cat, species, analytes):
        m.merge(build_layer(layer, flags))
    for name, p in condition_params()[inp.condition].items():
        m.param(name, p.value, p.unit, "condition", p)
    hypotheses.apply(m, inp.hypotheses, species)
    effects = hypotheses.perturbation_effects(inp.hypotheses)
    if species != "culture":
        for t in sorted({t for a in adms if a.session for t in a.times_h}):
            m.events.append(Event(t, {"ritual": "1"}, "treatment session"))
        first = min((t for a in adms for t in a.times_h), default=None)
        if first is not None and "enrolled" in m.states:  # treatment starts (pill or session)
            m.events.append(Event(first, {"enrolled": "1 - enrolled"}, "start of treatment"))
    if "clinic" in m.layers:  # the trial context (rodents: none; it only matters in humans)
        for name, value in inp.context.inputs().items():
            m.input(name, value, "1")
    if m.references:
        # Drug-free references (e.g. the subject's own spine density) read from the state at
        # the end of the drug-free pre-equilibration, before any dose or timed perturbation.
        m.state(REFERENCE_SWITCH, "0", "1", "references held (end of the drug-free "
                "pre-equilibration)", "perturb")
        m.events.append(Event(offset + start, {REFERENCE_SWITCH: "1"} | {
            r: f"{src} - {r}" for r, src in m.references.items()}, "drug-free reference values"))
    for p in inp.perturbations:
        perturbations.apply(m, p.name, None if p.at_h is None else p.at_h + offset, p.genotype,
                            species, set(condition_params()[inp.condition]),
                            effects.get(p.name))
    m.t_start = -offset
    m.t_reference = offset + start
    m.check()
    check_dimensions(m)
    return m
