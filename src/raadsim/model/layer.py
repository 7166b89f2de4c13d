"""The mechanism layers, each read from one file: ``model/layers/<name>.toml``.

A layer file holds in one place what a scientist reads as one unit:

* ``[layer]``: its name, a title, a summary in words and the names it takes from other layers
  (``inputs``);
* its equations, in reading order: ``[[state]]`` (``d name/dt = ode``, in the state's unit
  per hour) and ``[[rule]]`` (an assigned variable ``name := expr``), each with its unit and
  description, optionally an ``observable`` and a ``when`` (the models it belongs to, e.g.
  ``["human"]``, ``["rodent"]``, ``["with:midazolam"]``);
* ``[[reference]]`` entries: the subject's own drug-free value of a variable (``of``), read
  from the model's pre-equilibrated state. A reference follows its variable during the drug-free
  pre-equilibration and holds the value it had when the pre-equilibration ended, so it needs
  no hand-derived formula for the baseline of any condition, genotype or knockout;
* the ``[parameters.<name>]`` they use, each with value, unit, range and provenance
  (:mod:`raadsim.provenance`), written next to the first equation that uses it.

Layers whose equations are generated per analyte or computed numerically (``pk``,
``targets``, ``eeg``) say ``equations = "python"``: their file holds the shared parameters and
their equations are in the module of the same name. ``raadsim explain`` and the model
documentation (``docs/model.md``, ``scripts/model_docs.py``) are generated from these files.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..errors import ModelError
from ..provenance import Param, param_from_table
from .spec import ModelSpec, identifiers

# The one vocabulary of layer names, in the order of the cascade.
LAYERS = ("pk", "targets", "network", "psychoactive", "eeg", "signalling", "synapse",
          "clinic", "behaviour", "cardiovascular", "peripheral")
# The switch that freezes the references (0 during the drug-free pre-equilibration, then 1).
REFERENCE_SWITCH = "sw_reference"
# Labels of model constants that belong to no mechanism layer.
OTHER_LABELS = ("condition", "perturb", "culture")
# American spellings and older names accepted at the command line.
ALIASES = {"signaling": "signalling", "behavior": "behaviour", "circuit": "network"}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Observable(_Strict):
    name: str
    description: str
    when: list[str] = Field(default_factory=list)


class _Equation(_Strict):
    name: str
    unit: str
    description: str = Field(min_length=3)
    when: list[str] = Field(default_factory=list)
    observable: _Observable | list[_Observable] | None = None


class _State(_Equation):
    ode: str
    initial: float = 0.0


class _Rule(_Equation):
    expr: str


class _Reference(_Strict):
    name: str
    of: str
    unit: str
    description: str = Field(min_length=3)


class _Header(_Strict):
    name: str
    title: str
    summary: str
    inputs: list[str] = Field(default_factory=list)
    equations: Literal["file", "python"] = "file"


class _LayerFile(_Strict):
    layer: _Header
    state: list[_State] = Field(default_factory=list)
    rule: list[_Rule] = Field(default_factory=list)
    reference: list[_Reference] = Field(default_factory=list)
    parameters: dict[str, dict[str, Any]] = Field(default_factory=dict)


@dataclass(frozen=True)
class Equation:
    """One equation of a layer file: a state's ODE or an assigned rule."""

    kind: Literal["state", "rule"]
    name: str
    expr: str
    unit: str
    description: str
    initial: float
    when: tuple[str, ...]
    observables: tuple[tuple[str, str, tuple[str, ...]], ...]  # (name, description, when)
    line: int


@dataclass(frozen=True)
class Layer:
    """A mechanism layer as its file describes it."""

    name: str
    title: str
    summary: str
    inputs: tuple[str, ...]
    equations: tuple[Equation, ...]
    parameters: dict[str, Param]
    references: tuple[tuple[str, str, str, str], ...]  # (name, of, unit, description)
    generated_in_python: bool
    path: str          # relative to the package, e.g. "model/layers/signalling.toml"
    lines: dict[str, int]  # parameter name -> line of its table in the file

    def applies(self, when: tuple[str, ...], flags: frozenset[str]) -> bool:
        """Whether an entry limited by ``when`` belongs to a model with ``flags``
        (``without:X`` holds when ``with:X`` does not)."""
        for w in when:
            if w.startswith("without:"):
                if "with:" + w[len("without:"):] in flags:
                    return False
            elif w not in flags:
                return False
        return True


def layer_file(name: str) -> str:
    return f"model/layers/{name}.toml"


def _line_numbers(text: str) -> tuple[dict[str, int], dict[tuple[str, str], int]]:
    """Line of each ``[parameters.X]`` table and of each equation's ``name = "X"``."""
    params: dict[str, int] = {}
    eqs: dict[tuple[str, str], int] = {}
    kind = None
    for i, line in enumerate(text.splitlines(), start=1):
        m = re.match(r"\[parameters\.([A-Za-z0-9_]+)\]", line)
        if m:
            params[m.group(1)] = i
            kind = None
        elif line.startswith("[[state]]") or line.startswith("[[rule]]"):
            kind = "state" if "state" in line else "rule"
        elif kind and (m := re.match(r'name\s*=\s*"([A-Za-z0-9_]+)"', line)):
            eqs.setdefault((kind, m.group(1)), i)
            kind = None
    return params, eqs


def _check_names(lay: Layer) -> None:
    """Every name an equation uses is defined in the layer or declared as an input, and every
    declared input and parameter is used."""
    defined = set(lay.parameters) | {e.name for e in lay.equations} | \
        {r[0] for r in lay.references}
    used: set[str] = {r[1] for r in lay.references}
    for eq in lay.equations:
        names = identifiers(eq.expr)
        used |= names
        unknown = sorted(names - defined - set(lay.inputs))
        if unknown:
            raise ModelError(f"{lay.path}:{eq.line}: {eq.name} uses {unknown}, which the layer "
                             "neither defines nor declares in [layer].inputs")
    if lay.generated_in_python:
        return
    for kind, names in (("input", lay.inputs), ("parameter", lay.parameters)):
        unused = sorted(set(names) - used)
        if unused:
            raise ModelError(f"{lay.path}: {kind}s {unused} are declared but no equation uses "
                             "them")


def load_layer(name: str) -> Layer:
    """The layer ``name`` (or an alias of it) read and checked from its file."""
    return _load_layer(ALIASES.get(name, name))


@cache
def _load_layer(name: str) -> Layer:
    if name not in LAYERS:
        raise ModelError(f"unknown layer {name!r} (layers: {', '.join(LAYERS)})")
    path = layer_file(name)
    text = resources.files("raadsim").joinpath(path).read_text(encoding="utf-8")
    try:
        raw = _LayerFile.model_validate(tomllib.loads(text))
    except (ValidationError, tomllib.TOMLDecodeError) as exc:
        raise ModelError(f"{path}: {exc}") from None
    if raw.layer.name != name:
        raise ModelError(f"{path}: [layer].name is {raw.layer.name!r}, expected {name!r}")
    plines, elines = _line_numbers(text)
    params = {k: param_from_table(k, v, f"{path}:parameters.{k}").model_copy(
        update={"origin": f"{path}:{plines.get(k, 0)}"}) for k, v in raw.parameters.items()}
    eqs = []
    for kind, entries in (("state", raw.state), ("rule", raw.rule)):
        for e in entries:
            obs = e.observable if isinstance(e.observable, list) else \
                [e.observable] if e.observable else []
            eqs.append(Equation(
                kind, e.name, e.ode if isinstance(e, _State) else e.expr, e.unit,
                e.description, e.initial if isinstance(e, _State) else 0.0, tuple(e.when),
                tuple((o.name, o.description, tuple(o.when)) for o in obs),
                elines.get((kind, e.name), 0)))
    eqs.sort(key=lambda e: e.line)
    if raw.layer.equations == "python" and eqs:
        raise ModelError(f"{path}: equations = 'python' but the file has equations")
    refs = tuple((r.name, r.of, r.unit, r.description) for r in raw.reference)
    lay = Layer(name, raw.layer.title, raw.layer.summary.strip(), tuple(raw.layer.inputs),
                tuple(eqs), params, refs, raw.layer.equations == "python", path, plines)
    _check_names(lay)
    return lay


def layer_params(name: str) -> dict[str, Param]:
    """The parameters of a layer (value in its own unit, with provenance)."""
    return load_layer(name).parameters


def build_layer(name: str, flags: frozenset[str]) -> ModelSpec:
    """The layer's model fragment for a model with ``flags`` (the species, ``rodent``,
    ``with:<analyte>`` for each analyte present)."""
    lay = load_layer(name)
    m = ModelSpec()
    used: set[str] = set()
    for eq in lay.equations:
        if not lay.applies(eq.when, flags):
            continue
        used |= identifiers(eq.expr)
        where = f"{lay.path}:{eq.line}"
        if eq.kind == "state":
            m.state(eq.name, eq.expr, eq.unit, eq.description, name, initial=eq.initial,
                    origin=where)
        else:
            m.rule(eq.name, eq.expr, eq.unit, eq.description, name, origin=where)
        for obs, desc, when in eq.observables:
            if lay.applies(when, flags):
                m.observable(obs, eq.name, eq.unit, desc, name)
    for ref, of, unit, desc in lay.references:
        held = m.state(f"{ref}_held", "0", unit, f"{desc}, held from the end of the drug-free "
                       "pre-equilibration", name, initial=1.0)
        m.rule(ref, f"{of} + ({held} - {of})*{REFERENCE_SWITCH}", unit,
               f"{desc} (follows {of} until the drug-free pre-equilibration ends)", name)
        m.references[held] = of
    for pname, p in lay.parameters.items():
        if pname in used:
            m.param(pname, p.value, p.unit, name, p)
    m.layers.add(name)
    return m


def model_flags(species: str, analytes: list[str]) -> frozenset[str]:
    """The ``when`` flags of a model for ``species`` containing ``analytes``."""
    flags = {species} | {f"with:{a}" for a in analytes}
    if species in ("rat", "mouse"):
        flags.add("rodent")
    return frozenset(flags)
