"""Parsing of physical quantities at the API boundary (pint).

Inside the model every number is a plain float in the canonical units below; pint is used
only to read what users write ("0.5 mg/kg", "40 min", "1 uM").

Canonical units: time ``h``, mass of drug ``mg``, per-weight dose ``mg/kg``, body weight
``kg``, concentration ``ng/mL`` (equal to ``ug/L``), molar concentration ``uM``.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

from .errors import InputError

if TYPE_CHECKING:  # pint is imported when a quantity is first parsed (it imports dask)
    import pint


@lru_cache(maxsize=1)
def ureg() -> pint.UnitRegistry:
    """The shared unit registry."""
    import pint

    reg = pint.UnitRegistry()
    reg.define("unit_per_kg = 1 / kilogram")  # not used in the model; keeps pint quiet
    return reg


_KINDS = {
    "time": ("h", "[time]", "a duration such as '40 min', '2 h' or '3.5 d'"),
    "mass": ("mg", "[mass]", "a mass such as '84 mg' or '100 ug'"),
    "mass_per_weight": ("mg/kg", "", "a dose per body weight such as '0.5 mg/kg'"),
    "weight": ("kg", "[mass]", "a body weight such as '70 kg'"),
    "molar": ("uM", "[substance] / [length] ** 3", "a molar concentration such as '1 uM'"),
    "mass_conc": ("ng/mL", "[mass] / [length] ** 3", "a concentration such as '10 ng/mL'"),
}


def _parse(text: object, field: str, expect: str) -> pint.Quantity:
    if isinstance(text, int | float) and not isinstance(text, bool):
        raise InputError(field, text, f"{expect}, with its unit as a string")
    if not isinstance(text, str) or not text.strip():
        raise InputError(field, text, expect)
    try:
        q = ureg().Quantity(text.strip())
    except Exception:  # pint raises several unrelated exception types
        raise InputError(field, text, expect) from None
    if not isinstance(q, ureg().Quantity) or not dict(q.unit_items()):
        raise InputError(field, text, f"{expect} (a unit is required)")
    return q


def _is_mass_per_mass(q: pint.Quantity) -> bool:
    """True for quantities such as mg/kg (dimensionless, but built from two masses)."""
    if not q.dimensionless:
        return False
    reg = ureg()
    exps = dict(q.unit_items())
    num = [u for u, e in exps.items() if e > 0]
    den = [u for u, e in exps.items() if e < 0]
    return (
        len(num) == 1
        and len(den) == 1
        and reg.Quantity(1, num[0]).check("[mass]")
        and reg.Quantity(1, den[0]).check("[mass]")
    )


def parse_time(text: object, field: str, allow_negative: bool = False) -> float:
    """Parse a duration or time point into hours."""
    expect = _KINDS["time"][2]
    q = _parse(text, field, expect)
    if not q.check("[time]"):
        raise InputError(field, text, expect)
    hours = float(q.to("h").magnitude)
    if hours < 0 and not allow_negative:
        raise InputError(field, text, f"{expect}, not negative")
    return hours


def parse_duration(text: object, field: str, example: str) -> float:
    """Parse a strictly positive duration into hours (``example`` is shown on error)."""
    hours = parse_time(text, field)
    if hours <= 0:
        raise InputError(field, text, f"a positive duration such as '{example}'")
    return hours


def parse_dose(text: object, field: str) -> tuple[float, bool]:
    """Parse a dose; return ``(value, per_kg)`` with value in mg or mg/kg."""
    expect = "a dose such as '0.5 mg/kg', '84 mg' or '100 ug'"
    q = _parse(text, field, expect)
    if q.check("[mass]"):
        value, per_kg = float(q.to("mg").magnitude), False
    elif _is_mass_per_mass(q):
        value, per_kg = float(q.to("mg/kg").magnitude), True
    else:
        raise InputError(field, text, expect)
    if value < 0:
        raise InputError(field, text, f"{expect}, not negative")
    return value, per_kg


def parse_concentration_uM(text: object, field: str, molar_mass: float) -> float:
    """Parse a bath concentration (molar or mass) into uM, using ``molar_mass`` in g/mol."""
    expect = "a concentration such as '1 uM' or '250 ng/mL'"
    q = _parse(text, field, expect)
    if q.check("[substance]/[length]**3"):
        value = float(q.to("uM").magnitude)
    elif q.check("[mass]/[length]**3"):
        value = float(q.to("ng/mL").magnitude) / molar_mass  # ng/mL / (g/mol) = umol/L
    else:
        raise InputError(field, text, expect)
    if value < 0:
        raise InputError(field, text, f"{expect}, not negative")
    return value


def parse_weight(value: object, field: str) -> float:
    """Body weight in kg; accepts a number (kg) or a string with a unit."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        w = float(value)
    else:
        q = _parse(value, field, _KINDS["weight"][2])
        if not q.check("[mass]"):
            raise InputError(field, value, _KINDS["weight"][2])
        w = float(q.to("kg").magnitude)
    if not w > 0:
        raise InputError(field, value, "a positive body weight in kg")
    return w


def convert(value: float, unit: str, to: str, field: str = "parameter") -> float:
    """Convert a data-file value from ``unit`` to canonical ``to``."""
    try:
        return float(ureg().Quantity(value, unit).to(to).magnitude)
    except Exception as exc:
        raise InputError(field, f"{value} {unit}", f"a value convertible to {to} ({exc})") from None
