"""Dimension and scale check of a model's equations, with pint, when the model is built.

Every parameter, input, state and rule carries a unit. Each equation is evaluated twice at one
representative point (parameters and inputs at their values, each state at its initial value
plus one half, ``time`` at 1 h): once with pint quantities and once with plain floats, as the
engines evaluate it. The check fails when

* two terms of a sum, or the arguments of ``max``/``min``, have different dimensions, or the
  argument of ``exp`` or an exponent is not dimensionless (pint raises);
* a rule's result does not have its declared unit, or a state's right-hand side is not the
  state's unit per hour, or an event increment is not the state's unit;
* the pint result, expressed in the declared unit, differs in magnitude from the plain-float
  result: a unit conversion factor is missing or wrong (e.g. ``A/Vc`` in mg/L declared as
  ng/mL).

Bare numbers are dimensionless, except a bare zero, which takes the unit of what it is
compared with or added to. ``points`` (a clinical rating) is its own dimension.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import cache
from typing import TYPE_CHECKING, Any

from ..errors import ModelError
from .spec import ModelSpec, identifiers

if TYPE_CHECKING:
    import pint


@cache
def _pint():
    """pint, imported when a model is first checked (importing it imports dask)."""
    import pint

    return pint

_ALIASES = {"1": "dimensionless", "points": "score_point", "point": "score_point"}


@cache
def _registry() -> pint.UnitRegistry:
    reg = _pint().UnitRegistry()
    reg.define("score_point = [clinical_score]")
    return reg


def _unit(text: str) -> pint.Unit:
    try:
        return _registry().Unit(_ALIASES.get(text.strip(), text))
    except Exception as exc:  # pint raises several exception types
        raise ModelError(f"unit {text!r} is not a unit pint knows ({exc})") from None


def _q(value: float, unit: str) -> pint.Quantity:
    return _registry().Quantity(value, _unit(unit))


def _as_quantity(x: Any, like: Any) -> Any:
    """A bare zero takes the unit of ``like``; other bare numbers stay dimensionless."""
    if isinstance(like, _pint().Quantity) and not isinstance(x, _pint().Quantity) and x == 0:
        return _registry().Quantity(0.0, like.units)
    return x


def _max(a: Any, b: Any) -> Any:
    a, b = _as_quantity(a, b), _as_quantity(b, a)
    return a if a >= b else b


def _min(a: Any, b: Any) -> Any:
    a, b = _as_quantity(a, b), _as_quantity(b, a)
    return a if a <= b else b


def _exponent(n: Any) -> float:
    if isinstance(n, _pint().Quantity):
        if not n.dimensionless:
            raise _pint().DimensionalityError(n.units, "dimensionless")
        return float(n.to("dimensionless").magnitude)
    return float(n)


def _pow(a: Any, n: Any) -> Any:
    return a ** _exponent(n)


def _exp(x: Any) -> Any:
    return math.exp(_exponent(x))


_QUANTITY_FUNCS: dict[str, Callable[..., Any]] = {"max": _max, "min": _min, "pow": _pow,
                                                   "exp": _exp}
_FLOAT_FUNCS: dict[str, Callable[..., Any]] = {"max": max, "min": min,
                                                "pow": lambda a, b: float(a) ** b,
                                                "exp": math.exp}


def _eval(expr: str, funcs: dict[str, Callable[..., Any]], env: dict[str, Any]) -> Any:
    return eval(expr, {"__builtins__": {}, **funcs}, env)


def _magnitude_in(q: Any, unit: pint.Unit) -> float:
    if not isinstance(q, _pint().Quantity):
        q = _registry().Quantity(q, "dimensionless")
    return float(q.to(unit).magnitude)


def _structure_key(spec: ModelSpec) -> tuple:
    return (tuple(sorted(spec.odes.items())),
            tuple(sorted((r.name, r.expr, r.unit) for r in spec.rules.values())),
            tuple(sorted((p.name, p.unit) for p in spec.params.values())),
            tuple(sorted(spec.input_units.items())),
            tuple(sorted((s.name, s.unit) for s in spec.states.values())),
            tuple(sorted((v, e) for ev in spec.events for v, e in ev.increments.items())))


_CHECKED: set[tuple] = set()


def check_dimensions(spec: ModelSpec) -> None:
    """Raise :class:`ModelError` naming the equation and its terms on any dimension or scale
    error (see the module docstring). Each model structure is checked once per process."""
    key = _structure_key(spec)
    if key in _CHECKED:
        return
    missing = sorted(set(spec.inputs) - set(spec.input_units))
    if missing:
        raise ModelError(f"inputs without a unit: {missing}")
    qenv: dict[str, Any] = {"time": _q(1.0, "h")}
    fenv: dict[str, Any] = {"time": 1.0}
    for p in spec.params.values():
        qenv[p.name], fenv[p.name] = _q(p.value, p.unit), p.value
    for name, value in spec.inputs.items():
        qenv[name], fenv[name] = _q(value, spec.input_units[name]), value
    for s in spec.states.values():
        v = s.initial + 0.5
        qenv[s.name], fenv[s.name] = _q(v, s.unit), v

    def evaluate(where: str, expr: str, unit: pint.Unit) -> None:
        try:
            q = _eval(expr, _QUANTITY_FUNCS, qenv)
            f = _eval(expr, _FLOAT_FUNCS, fenv)
            got = _magnitude_in(q, unit)
        except _pint().DimensionalityError as exc:
            terms = ", ".join(f"{n} [{_describe(qenv[n])}]" for n in sorted(identifiers(expr))
                              if n in qenv)
            raise ModelError(f"dimension error in {where}: {expr!r} ({exc}); terms: {terms}"
                             ) from None
        except ZeroDivisionError:
            return  # a singular representative point says nothing about the units
        if not math.isclose(got, f, rel_tol=1e-9, abs_tol=1e-12):
            raise ModelError(f"scale error in {where}: {expr!r} is {got:g} {unit} with units "
                             f"but {f:g} as the engines compute it (a conversion factor is "
                             "missing or wrong)")
        return

    per_hour = _unit("1/h")
    for rule in spec.ordered_rules():
        unit = _unit(rule.unit)
        evaluate(f"rule {rule.name} [{rule.unit}]", rule.expr, unit)
        qenv[rule.name] = _eval(rule.expr, _QUANTITY_FUNCS, qenv)
        fenv[rule.name] = _eval(rule.expr, _FLOAT_FUNCS, fenv)
        if not isinstance(qenv[rule.name], _pint().Quantity):
            qenv[rule.name] = _registry().Quantity(qenv[rule.name], unit)
    for name, ode in spec.odes.items():
        if ode.strip() == "0":
            continue
        s = spec.states[name]
        evaluate(f"d{name}/dt [{s.unit}/h]", ode, _unit(s.unit) * per_hour)
    for ev in spec.events:
        for var, inc in ev.increments.items():
            evaluate(f"event '{ev.label}' on {var} [{spec.states[var].unit}]", inc,
                     _unit(spec.states[var].unit))
    _CHECKED.add(key)


def _describe(q: Any) -> str:
    return (f"{q.units:~}" or "1") if isinstance(q, _pint().Quantity) else "number"
