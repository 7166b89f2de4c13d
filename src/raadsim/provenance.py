"""Parameters with provenance.

Every number the model uses is a :class:`Param`: value, unit, description and a
:class:`Provenance` that says where it came from. There are four kinds:

``literature``
    Seen in a published source. Names a source id (see ``data/sources.toml``) and a
    verbatim quote or table locator.
``fitted``
    Estimated by raadsim to named data. Names the evidence record ids or data it was fitted to
    and how.
``derived``
    Computed from other sourced values by a stated formula (e.g. a unit or enantiomer ratio).
``assumed``
    An explicit modelling assumption. Says why the value was chosen and what it affects.

Parameters are read from TOML tables of the form::

    [Vc]
    value = 192
    unit = "L"
    description = "Esketamine central volume of distribution"
    kind = "literature"
    source = "perezruixo2021"
    quote = "Table 3: Vc = 192 L"
"""

from __future__ import annotations

import tomllib
from functools import cache, lru_cache
from importlib import resources
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from .errors import InputError
from .units import convert

Kind = Literal["literature", "fitted", "derived", "assumed"]


class Source(BaseModel):
    """A bibliographic source, as it was seen."""

    model_config = ConfigDict(extra="forbid")
    id: str
    citation: str
    doi: str | None = None
    url: str | None = None
    seen_via: str | None = None


class Provenance(BaseModel):
    """Where a number came from."""

    model_config = ConfigDict(extra="forbid")
    kind: Kind
    source: str | None = None
    quote: str | None = None
    note: str | None = None
    fitted_to: list[str] | None = None

    @model_validator(mode="after")
    def _complete(self) -> Provenance:
        if self.kind == "literature" and not (self.source and (self.quote or self.note)):
            raise ValueError("literature provenance needs 'source' and a 'quote' or 'note'")
        if self.kind == "fitted" and not self.fitted_to:
            raise ValueError("fitted provenance needs 'fitted_to' (the records or data used)")
        if self.kind in ("assumed", "derived") and not self.note:
            raise ValueError(f"{self.kind} provenance needs a 'note' saying why/how")
        return self

    def short(self) -> str:
        """One-line human summary, e.g. for tables."""
        if self.kind == "literature":
            src = sources().get(self.source or "")
            return f"literature: {src.citation if src else self.source}"
        if self.kind == "fitted":
            return f"fitted to {', '.join(self.fitted_to or [])}"
        return f"{self.kind}: {self.note}"


class Param(BaseModel):
    """A model parameter: value in ``unit``, with provenance."""

    model_config = ConfigDict(extra="forbid")
    name: str
    value: float
    unit: str
    description: str = Field(min_length=3)
    provenance: Provenance
    low: float | None = None
    high: float | None = None
    origin: str | None = None  # where it was read, e.g. "model/layers/synapse.toml:214"

    def in_unit(self, unit: str) -> float:
        """The value converted to ``unit`` (pint)."""

        if unit == self.unit:
            return float(self.value)
        return convert(self.value, self.unit, unit, field=self.name)


_PARAM_KEYS = {"value", "unit", "description", "low", "high"}


def param_from_table(name: str, table: dict[str, Any], where: str) -> Param:
    """Build a :class:`Param` from a TOML table; errors name the file and the key."""
    if not isinstance(table, dict):
        raise InputError(where, table, "a table with value, unit, description and provenance")
    prov = {k: v for k, v in table.items() if k not in _PARAM_KEYS}
    body = {k: v for k, v in table.items() if k in _PARAM_KEYS}
    try:
        return Param(name=name, provenance=Provenance(**prov), origin=where, **body)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(x) for x in err["loc"]) or "table"
        raise InputError(f"{where}.{loc}", table.get(loc, table), err["msg"]) from None


def _read_package_toml(*parts: str) -> dict[str, Any]:
    path = resources.files("raadsim").joinpath("data", *parts)
    return tomllib.loads(path.read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def sources() -> dict[str, Source]:
    """The bibliography, ``data/sources.toml`` plus ``data/sources/*.toml``, keyed by id."""
    raw = _read_package_toml("sources.toml")
    extra = resources.files("raadsim").joinpath("data", "sources")
    for f in sorted(extra.iterdir(), key=lambda p: p.name) if extra.is_dir() else []:
        if f.name.endswith(".toml"):
            for key, val in tomllib.loads(f.read_text(encoding="utf-8")).items():
                if key in raw:
                    raise InputError(f"data/sources/{f.name}", key, "a source id not yet used")
                raw[key] = val
    return {key: Source(id=key, **val) for key, val in raw.items()}


@cache
def parameter_file(name: str) -> dict[str, Param]:
    """The parameters of ``data/parameters/<name>.toml`` (population, conditions and other
    tables that are not a mechanism layer; layers are ``raadsim.model.layer``)."""
    raw = _read_package_toml("parameters", f"{name}.toml")
    return {
        key: param_from_table(key, table, f"parameters/{name}.toml:{key}")
        for key, table in raw.items()
    }
