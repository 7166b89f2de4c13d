"""The model as data: states, equations, parameters, events and observables.

Each layer module (``pk``, ``targets``, ...) contributes a :class:`ModelSpec` fragment. The
fragments are merged and emitted as Antimony (compiled to SBML for libRoadRunner) or as
Python for the SciPy reference engine, so both engines integrate the same equations.

Expressions use a small vocabulary shared by Antimony and Python: ``+ - * /``, parentheses,
``pow(a, b)``, ``exp(x)``, ``max(a, b)``, ``min(a, b)`` and ``time`` (hours).
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from typing import Any

from ..errors import ModelError
from ..provenance import Param

_IDENT = re.compile(r"\b[A-Za-z_][A-Za-z0-9_]*\b")
_NUMBER = re.compile(r"(?<![A-Za-z0-9_.])(\d+\.?\d*(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?)")
STRUCTURAL_NUMBERS = {0.0, 1.0, 2.0}
FUNCTIONS = {"pow", "exp", "max", "min", "time"}


def identifiers(expr: str) -> set[str]:
    """Names used in an expression (functions and ``time`` excluded)."""
    return {t for t in _IDENT.findall(expr) if t not in FUNCTIONS}


def _caller_module() -> str:
    """``model/pk.py:120``-style path and line of the code that defined an equation (outside
    spec.py)."""
    frame = sys._getframe(2)
    for _ in range(4):
        if frame is None:
            break
        path = frame.f_code.co_filename.replace("\\", "/")
        if "/raadsim/" in path and not path.endswith("/spec.py"):
            return f"{path.rsplit('/raadsim/', 1)[1]}:{frame.f_lineno}"
        frame = frame.f_back
    return ""


def numeric_literals(expr: str) -> list[str]:
    """Numbers written into an expression other than the structural 0, 1 and 2 (every other
    number must be a parameter with provenance)."""
    return [n for n in _NUMBER.findall(expr) if float(n) not in STRUCTURAL_NUMBERS]


@dataclass(frozen=True)
class ModelParam:
    """A model constant: its value in model units, and the sourced parameter it came from."""

    name: str
    value: float
    unit: str
    layer: str
    source: Param
    note: str = ""  # how the model value was computed from the source (scaling, conversion)


@dataclass(frozen=True)
class State:
    name: str
    initial: float
    unit: str
    description: str
    layer: str
    origin: str = ""  # where the equation is written (a layer file and line, or a module)


@dataclass(frozen=True)
class Rule:
    """An assigned variable: ``name := expr``."""

    name: str
    expr: str
    unit: str
    description: str
    layer: str
    origin: str = ""


@dataclass(frozen=True)
class Event:
    """At ``time >= at``, add ``increments[var]`` (an expression) to each variable."""

    at: float
    increments: dict[str, str]
    label: str


@dataclass(frozen=True)
class Observable:
    name: str  # e.g. "plasma.ketamine"
    var: str  # model variable
    unit: str
    description: str
    layer: str


@dataclass
class ModelSpec:
    """A model, or a fragment of one contributed by one layer."""

    params: dict[str, ModelParam] = field(default_factory=dict)
    states: dict[str, State] = field(default_factory=dict)
    odes: dict[str, str] = field(default_factory=dict)
    rules: dict[str, Rule] = field(default_factory=dict)
    events: list[Event] = field(default_factory=list)
    observables: dict[str, Observable] = field(default_factory=dict)
    # Plain constants that are not physiological parameters (dose amounts, infusion lengths,
    # bath concentrations), with their units.
    inputs: dict[str, float] = field(default_factory=dict)
    input_units: dict[str, str] = field(default_factory=dict)
    # Scenario time (h) at model time 0; event times are in model time.
    t_start: float = 0.0
    # Model time at which the drug-free pre-equilibration ends and the references are read.
    t_reference: float = 0.0
    # Body-weight covariate model: parameter -> exponent b (value ∝ W^b), and dose inputs given
    # per kg (input -> mg/kg). Populations rescale these per patient without recompiling.
    weight_exponents: dict[str, float] = field(default_factory=dict)
    # Covariate model (raadsim.model.covariates): parameter -> CovariateRule, and the
    # covariates the model was built for. Populations rescale these per patient; not written
    # to model.json (a stored model is never re-simulated for other patients).
    covariate_rules: dict[str, Any] = field(default_factory=dict)
    covariates: Any = None
    per_kg_inputs: dict[str, float] = field(default_factory=dict)
    # Mechanism layers the model contains (model.layer.LAYERS).
    layers: set[str] = field(default_factory=set)
    # Held reference states -> the variable whose drug-free value they hold, captured from
    # the pre-equilibrated state (model.layer builds them, model.build places the event).
    references: dict[str, str] = field(default_factory=dict)

    # -- building -----------------------------------------------------------------------
    def param(self, name: str, value: float, unit: str, layer: str, source: Param,
              note: str = "") -> str:
        if name in self.params and self.params[name].value != value:
            raise ModelError(f"parameter {name} defined twice with different values")
        self.params[name] = ModelParam(name, float(value), unit, layer, source, note)
        return name

    def input(self, name: str, value: float, unit: str) -> str:
        """A constant of the scenario (a dose amount, an infusion length) in ``unit``."""
        self.inputs[name] = float(value)
        self.input_units[name] = unit
        return name

    def state(self, name: str, ode: str, unit: str, description: str, layer: str,
              initial: float = 0.0, origin: str = "") -> str:
        if name in self.states:
            raise ModelError(f"state {name} defined twice")
        self.states[name] = State(name, float(initial), unit, description, layer,
                                  origin or _caller_module())
        self.odes[name] = ode
        return name

    def add_to_ode(self, name: str, term: str) -> None:
        """Append ``+ term`` to a state's right-hand side."""
        self.odes[name] = f"{self.odes[name]} + {term}" if self.odes[name] != "0" else term

    def rule(self, name: str, expr: str, unit: str, description: str, layer: str,
             origin: str = "") -> str:
        if name in self.rules:
            raise ModelError(f"rule {name} defined twice")
        self.rules[name] = Rule(name, expr, unit, description, layer, origin or _caller_module())
        return name

    def observable(self, name: str, var: str, unit: str, description: str, layer: str) -> None:
        self.observables[name] = Observable(name, var, unit, description, layer)

    def merge(self, other: ModelSpec) -> ModelSpec:
        for p in other.params.values():
            self.param(p.name, p.value, p.unit, p.layer, p.source, p.note)
        for s in other.states.values():
            self.state(s.name, other.odes[s.name], s.unit, s.description, s.layer, s.initial,
                       s.origin)
        for r in other.rules.values():
            self.rule(r.name, r.expr, r.unit, r.description, r.layer, r.origin)
        self.events.extend(other.events)
        self.observables.update(other.observables)
        self.inputs.update(other.inputs)
        self.input_units.update(other.input_units)
        self.weight_exponents.update(other.weight_exponents)
        self.covariate_rules.update(other.covariate_rules)
        self.covariates = self.covariates or other.covariates
        self.per_kg_inputs.update(other.per_kg_inputs)
        self.layers |= other.layers
        self.references.update(other.references)
        return self

    # -- serialisation (run directories store the model that was run) --------------------
    def to_dict(self) -> dict:
        """The model as plain data (JSON-serialisable): equations, values and provenance."""
        return {
            "params": {k: {"value": p.value, "unit": p.unit, "layer": p.layer, "note": p.note,
                           "source": p.source.model_dump(mode="json")}
                       for k, p in self.params.items()},
            "states": {k: {"initial": s.initial, "unit": s.unit, "description": s.description,
                           "layer": s.layer, "origin": s.origin, "ode": self.odes[k]}
                       for k, s in self.states.items()},
            "rules": [{"name": r.name, "expr": r.expr, "unit": r.unit,
                       "description": r.description, "layer": r.layer, "origin": r.origin}
                      for r in self.rules.values()],
            "events": [{"at": e.at, "increments": dict(e.increments), "label": e.label}
                       for e in self.events],
            "observables": {k: {"var": o.var, "unit": o.unit, "description": o.description,
                                "layer": o.layer} for k, o in self.observables.items()},
            "inputs": dict(self.inputs), "input_units": dict(self.input_units),
            "t_start": self.t_start, "t_reference": self.t_reference,
            "weight_exponents": dict(self.weight_exponents),
            "per_kg_inputs": dict(self.per_kg_inputs), "layers": sorted(self.layers),
            "references": dict(self.references),
        }

    @classmethod
    def from_dict(cls, d: dict) -> ModelSpec:
        """The inverse of :meth:`to_dict`."""
        m = cls()
        for k, p in d["params"].items():
            m.params[k] = ModelParam(k, p["value"], p["unit"], p["layer"],
                                     Param.model_validate(p["source"]), p.get("note", ""))
        for k, s in d["states"].items():
            m.states[k] = State(k, s["initial"], s["unit"], s["description"], s["layer"],
                                s.get("origin", ""))
            m.odes[k] = s["ode"]
        for r in d["rules"]:
            m.rules[r["name"]] = Rule(r["name"], r["expr"], r["unit"], r["description"],
                                      r["layer"], r.get("origin", ""))
        m.events = [Event(e["at"], dict(e["increments"]), e["label"]) for e in d["events"]]
        m.observables = {k: Observable(k, o["var"], o["unit"], o["description"], o["layer"])
                         for k, o in d["observables"].items()}
        m.inputs, m.input_units = dict(d["inputs"]), dict(d["input_units"])
        m.t_start, m.t_reference = d["t_start"], d["t_reference"]
        m.weight_exponents, m.per_kg_inputs = dict(d["weight_exponents"]), dict(
            d["per_kg_inputs"])
        m.layers, m.references = set(d["layers"]), dict(d["references"])
        return m

    # -- checks ---------------------------------------------------------------------------
    def ordered_rules(self) -> list[Rule]:
        """Assignment rules in dependency order (each after the rules it uses)."""
        done: list[Rule] = []
        seen: set[str] = set()
        visiting: set[str] = set()

        def visit(name: str) -> None:
            if name in seen:
                return
            if name in visiting:
                raise ModelError(f"circular assignment rules through {name}")
            visiting.add(name)
            rule = self.rules[name]
            for dep in identifiers(rule.expr):
                if dep in self.rules:
                    visit(dep)
            visiting.discard(name)
            seen.add(name)
            done.append(rule)

        for name in self.rules:
            visit(name)
        return done

    def check(self) -> None:
        """Every name used in an equation is defined exactly once."""
        defined = set(self.params) | set(self.states) | set(self.rules) | set(self.inputs)
        kinds = [set(self.params), set(self.states), set(self.rules), set(self.inputs)]
        for i, a in enumerate(kinds):
            for b in kinds[i + 1:]:
                if a & b:
                    raise ModelError(f"names defined twice: {sorted(a & b)}")
        exprs = list(self.odes.values()) + [r.expr for r in self.rules.values()]
        for ev in self.events:
            exprs.extend(ev.increments.values())
            for var in ev.increments:
                if var not in self.states:
                    raise ModelError(f"event changes {var}, which is not a state")
        for expr in exprs:
            missing = identifiers(expr) - defined
            if missing:
                raise ModelError(f"undefined names {sorted(missing)} in '{expr}'")
        for ob in self.observables.values():
            if ob.var not in defined:
                raise ModelError(f"observable {ob.name} refers to undefined {ob.var}")

    # -- events ---------------------------------------------------------------------------
    def merged_events(self) -> list[Event]:
        """Events grouped by time, increments to the same variable summed (deterministic)."""
        by_time: dict[float, dict[str, list[str]]] = {}
        labels: dict[float, list[str]] = {}
        for ev in self.events:
            slot = by_time.setdefault(ev.at, {})
            labels.setdefault(ev.at, []).append(ev.label)
            for var, inc in ev.increments.items():
                slot.setdefault(var, []).append(f"({inc})")
        return [
            Event(t, {v: " + ".join(incs) for v, incs in by_time[t].items()},
                  "; ".join(labels[t]))
            for t in sorted(by_time)
        ]

    def piecewise_constant(self, name: str) -> bool:
        """A state whose derivative is 0: it changes only at events (an infusion rate, a
        perturbation switch). Emitted as an event-assigned variable, not a rate rule, which
        keeps it out of the integrator's state vector (fewer equations, same trajectories)."""
        return self.odes[name].strip() == "0"

    # -- emission -------------------------------------------------------------------------
    def to_antimony(self, name: str = "raadsim") -> str:
        """The model as Antimony text (compiles to SBML L3)."""
        self.check()
        lines = [f"model {name}()"]
        lines.append("  // ---- parameters (model units; provenance in raadsim data files)")
        for p in self.params.values():
            lines.append(f"  {p.name} = {p.value!r};  // {p.unit} [{p.layer}] "
                         f"{p.source.description}")
        if self.inputs:
            lines.append("  // ---- inputs (dose amounts, switches; constant during a run)")
            for k, v in self.inputs.items():
                lines.append(f"  {k} = {v!r};")
        lines.append("  // ---- states")
        for s in self.states.values():
            lines.append(f"  var {s.name} = {s.initial!r};  // {s.unit} [{s.layer}] "
                         f"{s.description}")
        for s in self.states.values():
            if not self.piecewise_constant(s.name):  # else: changed by events only
                lines.append(f"  {s.name}' = {self.odes[s.name]};")
        lines.append("  // ---- assignment rules")
        for r in self.ordered_rules():
            lines.append(f"  {r.name} := {r.expr};  // {r.unit} [{r.layer}] {r.description}")
        lines.append("  // ---- dosing and perturbation events")
        for i, ev in enumerate(self.merged_events()):
            assigns = ", ".join(f"{v} = {v} + {inc}" for v, inc in ev.increments.items())
            lines.append(
                f"  E{i}: at (time >= {ev.at!r}), t0=false, persistent=true, "
                f"fromTrigger=false: {assigns};  // {ev.label}"
            )
        lines.append("end")
        return "\n".join(lines)
