"""Assemble the model for a scenario from its layers (pk → targets → circuit → signalling →
synapse → clinic), apply the condition and perturbations, and place the dosing events."""

from __future__ import annotations

import tomllib
from dataclasses import replace
from functools import lru_cache
from importlib import resources

from ..drugs.catalogue import Catalogue
from ..io.scenario import Scenario
from ..perturb import catalogue as perturbations
from ..provenance import Param, param_from_table
from ..units import parse_concentration_uM, parse_time
from .cardiovascular import build_cardiovascular, has_pressor
from .circuit import build_circuit
from .clinic import build_clinic
from .pk import build_bath, build_pk
from .signaling import build_signaling
from .spec import Event, ModelSpec
from .synapse import build_synapse
from .targets import build_targets

# Drug-free pre-equilibration before the scenario starts, so that lifelong perturbations
# (knockouts, genotypes, stress) set the baseline: 60 days, 15 spine-elimination half-lives.
EQUILIBRATION_H = 1440.0


@lru_cache(maxsize=1)
def condition_params() -> dict[str, dict[str, Param]]:
    path = resources.files("raadsim").joinpath("data", "parameters", "conditions.toml")
    raw = tomllib.loads(path.read_text(encoding="utf-8"))
    return {c: {k: param_from_table(k, v, f"conditions.toml:{c}.{k}") for k, v in t.items()}
            for c, t in raw.items()}


def build_model(sc: Scenario, cat: Catalogue, equilibrate: bool = True) -> ModelSpec:
    """The full model for one scenario. Model time 0 is the start of the drug-free
    pre-equilibration; scenario time ``t`` is model time ``t − t_start``."""
    start, _, _ = sc.window()
    offset = (EQUILIBRATION_H if equilibrate else 0.0) - start
    adms = [replace(a, times_h=tuple(t + offset for t in a.times_h))
            for a in sc.administrations(cat)]
    species = sc.subject.species
    if species == "culture":
        baths = [(b.drug, parse_concentration_uM(b.concentration, f"bath[{i}].concentration",
                                                  cat.drugs[b.drug].molar_mass or 300.0),
                  parse_time(b.at, f"bath[{i}].at", allow_negative=True) + offset)
                 for i, b in enumerate(sc.bath)]
        m = build_bath(cat, baths)
        analytes = [r[len("Cbu_"):] for r in m.rules if r.startswith("Cbu_")]
    else:
        m = build_pk(cat, species, sc.subject.weight, adms)
        analytes = [s[len("A_c_"):] for s in m.states if s.startswith("A_c_")]
    m.merge(build_targets(cat, analytes))
    m.merge(build_circuit())
    m.merge(build_signaling())
    m.merge(build_synapse())
    if species != "culture":
        m.merge(build_clinic(species, "midazolam" in analytes))
    if species == "human" and has_pressor(cat, analytes):
        m.merge(build_cardiovascular())
    for name, p in condition_params()[sc.subject.condition].items():
        m.param(name, p.value, p.unit, "condition", p)
    if species != "culture":
        for t in sorted({t for a in adms for t in a.times_h}):
            m.events.append(Event(t, {"ritual": "1"}, "treatment session"))
    for i, p in enumerate(sc.perturbation):
        at = parse_time(p.at, f"perturbation[{i}].at", allow_negative=True) if p.at else None
        perturbations.apply(m, p.name, None if at is None else at + offset, p.genotype, species)
    m.t_start = -offset
    m.check()
    return m
