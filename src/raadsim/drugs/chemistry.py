"""Molar masses from molecular formulas (IUPAC standard atomic weights, abridged values)."""

from __future__ import annotations

import re

from ..errors import InputError

# IUPAC 2021 abridged standard atomic weights (conventional values), g/mol.
ATOMIC_WEIGHT = {
    "H": 1.008,
    "C": 12.011,
    "N": 14.007,
    "O": 15.999,
    "F": 18.998,
    "P": 30.974,
    "S": 32.06,
    "Cl": 35.45,
    "Br": 79.904,
    "I": 126.90,
}

_TOKEN = re.compile(r"([A-Z][a-z]?)(\d*)")


def molar_mass(formula: str, field: str = "formula") -> float:
    """Molar mass (g/mol) of a Hill-style formula such as ``C13H16ClNO``."""
    if not isinstance(formula, str) or not formula:
        raise InputError(field, formula, "a molecular formula such as 'C13H16ClNO'")
    pos, total = 0, 0.0
    for m in _TOKEN.finditer(formula):
        if m.start() != pos or m.group(1) not in ATOMIC_WEIGHT:
            raise InputError(
                field, formula, f"a molecular formula of elements {sorted(ATOMIC_WEIGHT)}"
            )
        total += ATOMIC_WEIGHT[m.group(1)] * (int(m.group(2)) if m.group(2) else 1)
        pos = m.end()
    if pos != len(formula):
        raise InputError(field, formula, "a molecular formula such as 'C13H16ClNO'")
    return total
