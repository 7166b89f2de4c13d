"""Which nodes of the mechanism a drug or a perturbation touches directly.

A drug touches the PK nodes of its analytes and metabolites (amounts, concentrations,
totals), the target nodes those concentrations feed (receptor binding, and the occupancies
they sum into) and the
treatment-session signal its dosing events increment (placebo included). A perturbation
touches its switch, every parameter it turns into a switched rule, and the states its
events change (spine ablation). :func:`draw_touched` draws the mechanism diagram with those
nodes highlighted.
"""

from __future__ import annotations

from pathlib import Path

from ..drugs.catalogue import Catalogue
from ..io.scenario import Scenario
from ..model.spec import ModelSpec, identifiers
from .diagram import draw_mechanism, mechanism_graph


def _analytes(cat: Catalogue, drug: str, species: str) -> list[str]:
    out: list[str] = []
    for an in cat.drugs[drug].composition:
        for a in [an, *cat.metabolites_of(an, species)]:
            if a not in out:
                out.append(a)
    return out


def drug_nodes(spec: ModelSpec, cat: Catalogue, drug: str, species: str) -> set[str]:
    """Model variables that ``drug`` touches directly (see the module docstring)."""
    nodes, edges = mechanism_graph(spec)
    layer = {n.name: n.layer for n in nodes}
    suffixes = tuple(f"_{a}" for a in _analytes(cat, drug, species))
    pk = {n for n, la in layer.items() if la == "pk" and n.endswith(suffixes)} if suffixes \
        else set()
    pk |= {b for a, b in edges if a in pk and layer[b] == "pk"}  # totals of the analytes
    bound = {b for a, b in edges if a in pk and layer[b] == "targets"}
    bound |= {b for a, b in edges if a in bound and layer[b] == "targets"}  # occupancy totals
    out = pk | bound
    if "ritual" in spec.states:
        out.add("ritual")
    return out


def perturbation_nodes(spec: ModelSpec, name: str) -> set[str]:
    """Model variables that perturbation ``name`` touches directly."""
    sw = f"sw_{name}"
    out = {sw} if sw in spec.states else set()
    out |= {r.name for r in spec.rules.values() if sw in identifiers(r.expr)}
    for ev in spec.events:
        if ev.label.startswith(name.replace("_", " ")) and sw not in ev.increments:
            out |= set(ev.increments)
    return out


def touched(spec: ModelSpec, sc: Scenario, cat: Catalogue) -> dict[str, set[str]]:
    """``{drug or perturbation name: touched model variables}`` for a scenario."""
    out: dict[str, set[str]] = {}
    species = sc.subject.species
    for drug in dict.fromkeys([*(d.drug for d in sc.dose), *(b.drug for b in sc.bath)]):
        out[drug] = drug_nodes(spec, cat, drug, species)
    for p in sc.perturbation:
        out[p.name] = perturbation_nodes(spec, p.name)
    return out


def draw_touched(spec: ModelSpec, sc: Scenario, cat: Catalogue, path: str | Path) -> Path:
    """The mechanism diagram with every node the scenario's drugs and perturbations touch
    highlighted; the title names them."""
    return draw_highlighted(spec, touched(spec, sc, cat), path)


def draw_highlighted(spec: ModelSpec, parts: dict[str, set[str]] | dict[str, list[str]],
                     path: str | Path) -> Path:
    """The mechanism diagram with the nodes of ``parts`` ({intervention: nodes}, as a run
    directory's model.json records them) highlighted."""
    hl = set().union(*map(set, parts.values())) if parts else set()
    title = ("highlighted: nodes touched by " + ", ".join(parts)) if parts else \
        "mechanism (no drug or perturbation)"
    return draw_mechanism(spec, path, highlight=hl, title=title)
