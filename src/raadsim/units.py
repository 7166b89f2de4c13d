"""Parsing of physical quantities at the API boundary (pint).

Inside the model every number is a plain float in the canonical units below; pint is used
only to read what users write ("0.5 mg/kg", "40 min", "1 uM").

Canonical units: time ``h``, mass of drug ``mg``, per-weight dose ``mg/kg``, body weight
``kg``, concentration ``ng/mL`` (equal to ``ug/L``), molar concentration ``uM``.

A quantity is written as an explicit finite number followed by a unit of the field's
dimension: ``"mg"`` (no number), ``"nan h"``, ``"1e400 h"`` or ``"0.5 kg/mg"`` (not a dose per
body weight) are each an :class:`~raadsim.errors.InputError`. :func:`read_quantity` returns a
:class:`Quantity`, the typed value the scenario and trial readers store.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Literal

from .errors import InputError

if TYPE_CHECKING:  # pint is imported when a quantity is first parsed (it imports dask)
    import pint

Kind = Literal["time", "dose", "weight", "concentration"]

# Longer texts are not quantities (and are not handed to pint's parser).
MAX_QUANTITY_CHARS = 64
# Denominators of a dose per body weight: body-weight units only, so "0.5 kg/mg" is refused.
BODY_WEIGHT_UNITS = ("kilogram", "gram", "pound")

_NUMBER_UNIT = re.compile(r"\s*([+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)\s*(.*?)\s*")

CANONICAL: dict[Kind, tuple[str, ...]] = {
    "time": ("h",), "dose": ("mg", "mg/kg"), "weight": ("kg",), "concentration": ("uM", "ng/mL"),
}
EXPECT: dict[Kind, str] = {
    "time": "a duration such as '40 min', '2 h' or '3.5 d'",
    "dose": "a dose such as '0.5 mg/kg', '84 mg' or '100 ug'",
    "weight": "a body weight such as '70 kg'",
    "concentration": "a concentration such as '1 uM' or '250 ng/mL'",
}


@lru_cache(maxsize=1)
def ureg() -> pint.UnitRegistry:
    """The shared unit registry."""
    import pint

    reg = pint.UnitRegistry()
    reg.define("unit_per_kg = 1 / kilogram")  # not used in the model; keeps pint quiet
    return reg


@dataclass(frozen=True)
class Quantity:
    """A quantity read from user input: ``value`` in the canonical ``unit`` (``h``, ``mg``,
    ``mg/kg``, ``kg``, ``uM`` or ``ng/mL``), finite and checked; ``given`` is what the user
    wrote, kept to show it and to write the input back exactly."""

    value: float
    unit: str
    given: str | float

    def __str__(self) -> str:
        return str(self.given)


def _number_and_unit(text: object, field: str, expect: str) -> tuple[float, pint.Unit]:
    """``"0.5 mg/kg"`` → ``(0.5, mg/kg)``; the number must be explicit and finite."""
    if isinstance(text, int | float) and not isinstance(text, bool):
        raise InputError(field, text, f"{expect}, with its unit, as a string")
    if not isinstance(text, str):
        raise InputError(field, text, f"{expect}, as a string")
    if len(text) > MAX_QUANTITY_CHARS:
        raise InputError(field, text, f"{expect} (at most {MAX_QUANTITY_CHARS} characters)")
    m = _NUMBER_UNIT.fullmatch(text)
    if m is None:
        raise InputError(field, text, f"{expect}: a finite number, then a unit")
    number = float(m.group(1))
    if not math.isfinite(number):
        raise InputError(field, text, f"{expect}, with a finite number")
    if not m.group(2):
        raise InputError(field, text, f"{expect} (a unit is required)")
    try:
        unit = ureg().parse_units(m.group(2))
    except Exception:  # pint raises several unrelated exception types
        raise InputError(field, text, f"{expect} ({m.group(2)!r} is not a unit)") from None
    return number, unit


def _to(number: float, unit: pint.Unit, canonical: str, text: str, field: str,
        expect: str) -> float:
    value = float(ureg().Quantity(number, unit).to(canonical).magnitude)
    if not math.isfinite(value):
        raise InputError(field, text, f"{expect}, of a finite size")
    return value


def _is_per_body_weight(unit: pint.Unit) -> bool:
    """True for a mass per body-weight unit such as mg/kg or ug/g."""
    items = dict(unit._units)  # pint's public API has no exponent map of a Unit
    num = [u for u, e in items.items() if e == 1]
    den = [u for u, e in items.items() if e == -1]
    return (len(items) == 2 and len(num) == 1 and den in ([b] for b in BODY_WEIGHT_UNITS)
            and ureg().Quantity(1, num[0]).check("[mass]"))


def read_quantity(text: object, field: str, kind: Kind) -> Quantity:
    """Parse ``text`` as a quantity of ``kind`` (see :data:`EXPECT`) into its canonical unit.

    Doses are ``mg`` or ``mg/kg`` (per body weight), concentrations ``uM`` or ``ng/mL``
    (converted to µM once the drug's molar mass is known); a body weight may also be a plain
    number of kilograms. Ranges are checked by the callers, which know the field."""
    expect = EXPECT[kind]
    if isinstance(text, Quantity):  # already read (e.g. a dose copied from another scenario)
        if text.unit not in CANONICAL[kind]:
            raise InputError(field, text.given, expect)
        return text
    if kind == "weight" and isinstance(text, bool):
        raise InputError(field, text, f"{expect} or a number of kg (not true or false)")
    if kind == "weight" and isinstance(text, int | float):
        try:
            kg = float(text)
        except OverflowError:  # an integer beyond the float range
            kg = math.inf
        if not math.isfinite(kg):
            raise InputError(field, text, f"{expect}, finite")
        return Quantity(kg, "kg", text)
    number, unit = _number_and_unit(text, field, expect)
    dims = ureg().Quantity(1, unit)
    canonical = None
    if kind == "time" and dims.check("[time]"):
        canonical = "h"
    elif kind == "weight" and dims.check("[mass]"):
        canonical = "kg"
    elif kind == "dose" and dims.check("[mass]"):
        canonical = "mg"
    elif kind == "dose" and _is_per_body_weight(unit):
        canonical = "mg/kg"
    elif kind == "concentration" and dims.check("[substance]/[length]**3"):
        canonical = "uM"
    elif kind == "concentration" and dims.check("[mass]/[length]**3"):
        canonical = "ng/mL"
    if canonical is None:
        raise InputError(field, text, f"{expect} (not a unit of "
                         f"{format(unit, '~') or 'a pure number'})")
    return Quantity(_to(number, unit, canonical, str(text), field, expect), canonical, str(text))


def parse_time(text: object, field: str, allow_negative: bool = False) -> float:
    """Parse a duration or time point into hours."""
    hours = read_quantity(text, field, "time").value
    if hours < 0 and not allow_negative:
        raise InputError(field, text, f"{EXPECT['time']}, not negative")
    return hours


def parse_duration(text: object, field: str, example: str) -> float:
    """Parse a strictly positive duration into hours (``example`` is shown on error)."""
    hours = parse_time(text, field)
    if hours <= 0:
        raise InputError(field, text, f"a positive duration such as '{example}'")
    return hours


def parse_dose(text: object, field: str) -> tuple[float, bool]:
    """Parse a dose; return ``(value, per_kg)`` with value in mg or mg/kg."""
    q = read_quantity(text, field, "dose")
    if q.value < 0:
        raise InputError(field, text, f"{EXPECT['dose']}, not negative")
    return q.value, q.unit == "mg/kg"


def parse_concentration_uM(text: object, field: str, molar_mass: float) -> float:
    """Parse a bath concentration (molar or mass) into uM, using ``molar_mass`` in g/mol."""
    q = read_quantity(text, field, "concentration")
    if q.value < 0:
        raise InputError(field, text, f"{EXPECT['concentration']}, not negative")
    return in_uM(q, molar_mass)


def in_uM(q: Quantity, molar_mass: float) -> float:
    """A concentration :class:`Quantity` in µM (ng/mL ÷ g/mol = µmol/L)."""
    return q.value if q.unit == "uM" else q.value / molar_mass


def parse_weight(value: object, field: str) -> float:
    """Body weight in kg; accepts a number (kg) or a string with a unit."""
    w = read_quantity(value, field, "weight").value
    if not w > 0:
        raise InputError(field, value, "a positive body weight in kg")
    return w


def convert(value: float, unit: str, to: str, field: str = "parameter") -> float:
    """Convert a data-file value from ``unit`` to canonical ``to``."""
    try:
        return float(ureg().Quantity(value, unit).to(to).magnitude)
    except Exception as exc:
        raise InputError(field, f"{value} {unit}", f"a value convertible to {to} ({exc})") from None
