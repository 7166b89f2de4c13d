"""Small helpers shared by the mechanism layer modules."""

from __future__ import annotations

from ..provenance import layer_params
from .spec import ModelSpec


def use_params(m: ModelSpec, layer: str, names: list[str] | None = None) -> None:
    """Register a layer's parameters (``data/parameters/<layer>.toml``) in the model.

    Each is converted to its own unit (the data file's unit is the model unit for mechanism
    layers, which are dimensionless or per hour).
    """
    table = layer_params(layer)
    for name in names or list(table):
        p = table[name]
        m.param(name, p.value, p.unit, layer, p)


def hill(x: str, half: str, n: str) -> str:
    """Expression of the Hill function x^n/(half^n + x^n), safe for slightly negative x."""
    xp = f"pow(max({x}, 0), {n})"
    return f"{xp}/(pow({half}, {n}) + {xp})"
