"""Competing hypotheses as switchable model variants.

Where the literature disagrees, raadsim keeps the alternatives as named variants of one
question (``data/parameters/hypotheses.toml``), each with its sources. A variant is a set of
parameter values with provenance: layer parameters (``set``), an analyte's affinity
(``K_<target>_<analyte>``) or human apparent PK (``Vc_<analyte>``, ``CL_<analyte>``: applied in
human models only, since rodent PK is fitted or scaled separately) and effect sizes of named
perturbations (``perturbation``). The default variant of each question is the model as its
layer files state it (it changes nothing); the file says which evidence picked it. Choose
variants in a scenario or trial file::

    [model]
    hypotheses = { durability = "plasticity_window", hnk = "inactive" }

in Python with ``simulate(sc, hypotheses={...})``, and compare them over the evidence records
with ``raadsim validate --hypotheses all``.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from ..drugs.catalogue import builtin
from ..errors import InputError, ModelError
from ..perturb.catalogue import registry
from ..provenance import Param, param_from_table, sources
from .layer import LAYERS, layer_params
from .spec import ModelParam, ModelSpec

FILE = "data/parameters/hypotheses.toml"
# An analyte's affinity at a target (targets layer, in uM unbound brain concentration).
AFFINITY = r"K_(nmdar|ht2a|trkb|ampar|sert)_[a-z0-9_]+"
# An analyte's human apparent volume or clearance (pk layer; values at the reference weight).
HUMAN_PK = r"(Vc|CL)_([a-z0-9_]+)"
Choices = tuple[tuple[str, str], ...]  # (question, variant), non-default choices only


@dataclass(frozen=True)
class Variant:
    """One account of a question: its parameter values, with provenance."""

    name: str
    summary: str
    sources: tuple[str, ...]
    params: dict[str, Param]                       # layer parameter -> value
    perturbations: dict[str, dict[str, Param]]     # perturbation -> effect key -> value
    relevant: tuple[str, ...] = ()                 # models it can change (any of these)

    def can_change(self, m: ModelSpec, species: str) -> bool:
        """Whether this variant can change anything in model ``m`` (see ``relevant``)."""
        return any(all(_holds(c, m, species) for c in cond.split("+"))
                   for cond in self.relevant)

    def changes(self) -> list[str]:
        """What the variant sets, e.g. ``['k_tag', 'perturbation rapamycin.mtor_block']``."""
        return [*self.params, *(f"perturbation {p}.{k}" for p, e in self.perturbations.items()
                                for k in e)]


@dataclass(frozen=True)
class Question:
    """An open question, its variants and the default the evidence picked."""

    name: str
    question: str
    default: str
    evidence: str
    variants: dict[str, Variant]


CONDITIONS = ("ht2a_agonist", "nmdar_blocker", "drug", "human")


def _holds(cond: str, m: ModelSpec, species: str) -> bool:
    kind, _, arg = cond.partition(":")
    analytes = {s[len("A_c_"):] for s in m.states if s.startswith("A_c_")} | \
        {r[len("Cbu_"):] for r in m.rules if r.startswith("Cbu_")}
    return {"ht2a_agonist": lambda: "act_ht2a" in m.rules,
            "nmdar_blocker": lambda: any(s.startswith("B_pyr_") for s in m.states),
            "drug": lambda: bool(analytes),
            "human": lambda: species == "human",
            "analyte": lambda: arg in analytes,
            "perturbation": lambda: f"sw_{arg}" in m.states}[kind]()


def _variant(qname: str, vname: str, raw: dict[str, Any]) -> Variant:
    where = f"{FILE}:{qname}.variant.{vname}"
    unknown = set(raw) - {"summary", "sources", "set", "perturbation", "relevant"}
    if unknown:
        raise ModelError(f"{where}: unknown keys {sorted(unknown)}")
    params = {k: param_from_table(k, t, f"{where}.set.{k}") for k, t in raw.get("set", {}).items()}
    perts = {p: {k: param_from_table(k, t, f"{where}.perturbation.{p}.{k}")
                 for k, t in eff.items()} for p, eff in raw.get("perturbation", {}).items()}
    srcs = tuple(raw.get("sources", ()))
    missing = [s for s in srcs if s not in sources()]
    if missing:
        raise ModelError(f"{where}: unknown sources {missing}")
    relevant = tuple(raw.get("relevant", ()))
    for cond in (c for r in relevant for c in r.split("+")):
        if cond not in CONDITIONS and cond.partition(":")[0] not in ("analyte", "perturbation"):
            raise ModelError(f"{where}: unknown relevance condition {cond!r}")
    if (params or perts) and not relevant:
        raise ModelError(f"{where}: a variant that changes something says where (relevant)")
    return Variant(vname, " ".join(str(raw.get("summary", "")).split()), srcs, params, perts,
                   relevant)


def _check_targets(qname: str, v: Variant) -> None:
    """Every parameter a variant sets is a layer parameter, every effect one of a named
    perturbation."""
    where = f"{FILE}:{qname}.variant.{v.name}"
    for name in v.params:
        if not (any(name in layer_params(layer) for layer in LAYERS)
                or re.fullmatch(AFFINITY, name) or _human_pk(name)):
            raise ModelError(f"{where}: sets {name}, which no layer file defines (nor is it "
                             "an affinity K_<target>_<analyte> or a human Vc_/CL_<analyte>)")
    reg = registry()
    for pert, eff in v.perturbations.items():
        if pert not in reg or set(eff) - set(reg[pert].effects):
            raise ModelError(f"{where}: perturbation {pert} has no effects {sorted(eff)}")


def _human_pk(name: str) -> bool:
    """Whether ``name`` is a built-in analyte's human apparent volume or clearance."""
    m = re.fullmatch(HUMAN_PK, name)
    if not m:
        return False
    analytes = builtin().analytes
    return m[2] in analytes and "human" in analytes[m[2]].pk \
        and m[1] in analytes[m[2]].pk["human"].params


@cache
def questions() -> dict[str, Question]:
    """Every question with its variants, read and checked from the data file."""
    text = resources.files("raadsim").joinpath(FILE).read_text(encoding="utf-8")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ModelError(f"{FILE}: {exc}") from None
    out = {}
    for qname, raw in data.items():
        variants = {v: _variant(qname, v, t) for v, t in raw.get("variant", {}).items()}
        q = Question(qname, " ".join(raw["question"].split()), raw["default"],
                     " ".join(raw["evidence"].split()), variants)
        if q.default not in variants:
            raise ModelError(f"{FILE}:{qname}: default {q.default!r} is not a variant")
        if variants[q.default].changes():
            raise ModelError(f"{FILE}:{qname}: the default variant must change nothing (the "
                             "layer files are the default)")
        if len(variants) < 2:
            raise ModelError(f"{FILE}:{qname}: a question needs at least two variants")
        for v in variants.values():
            _check_targets(qname, v)
        out[qname] = q
    return out


def resolve(choices: Mapping[str, str] | None, field: str = "model.hypotheses") -> Choices:
    """Checked choices, defaults dropped (sorted; errors name the question and the value)."""
    qs = questions()
    out = []
    for qname, vname in (choices or {}).items():
        if qname not in qs:
            raise InputError(field, qname, f"a question: {', '.join(qs)}")
        q = qs[qname]
        if not isinstance(vname, str) or vname not in q.variants:
            raise InputError(f"{field}.{qname}", vname, f"one of {', '.join(q.variants)}")
        if vname != q.default:
            out.append((qname, vname))
    return tuple(sorted(out))


def chosen(choices: Choices) -> list[Variant]:
    qs = questions()
    return [qs[q].variants[v] for q, v in choices]


def perturbation_effects(choices: Choices) -> dict[str, dict[str, Param]]:
    """Effect sizes of perturbations that the chosen variants replace."""
    out: dict[str, dict[str, Param]] = {}
    for v in chosen(choices):
        for p, eff in v.perturbations.items():
            out.setdefault(p, {}).update(eff)
    return out


def apply(m: ModelSpec, choices: Choices, species: str) -> None:
    """Set the chosen variants' parameter values in ``m`` (in the unit the model uses). A
    parameter of a layer the model does not contain is skipped (e.g. the clinic in a culture),
    and a human PK parameter outside a human model."""
    for v in chosen(choices):
        for name, p in v.params.items():
            if re.fullmatch(HUMAN_PK, name) and species != "human":
                continue
            if name in m.params:
                old = m.params[name]
                unit = "uM" if re.fullmatch(AFFINITY, name) else old.source.unit
                m.params[name] = ModelParam(name, p.in_unit(unit), old.unit, old.layer, p,
                                            f"hypothesis variant {v.name}")


def describe(choices: Choices) -> str:
    """``durability = plasticity_window, hnk = inactive`` (or ``defaults``)."""
    return ", ".join(f"{q} = {v}" for q, v in choices) or "defaults"
