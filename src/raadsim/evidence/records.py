"""Published findings and trial endpoints as data: the evidence records.

Every result raadsim is held against is one ``[[record]]`` in ``data/evidence/<layer>.toml``::

    [[record]]
    id = "li2010_mtorc1_rises"
    kind = "validation"                  # calibration (may be fitted to) | validation (never)
    layer = "signalling"                 # pk targets network signalling synapse clinic behaviour
    drug = "ketamine"
    species = "rat"
    source = "li2010"                    # id in data/sources.toml
    quote = "…verbatim, as seen…"
    finding = "One subanaesthetic dose raises PFC mTORC1 signalling within hours."
    observable = "signal.mtorc1"
    time = "peak"                        # a time ("24 h") or peak | trough | course
    quantity = "peak('ketamine')"         # what is measured on the simulation (see measures.py)
    expected = { min = 1.1 }              # value ± tolerance, or a min and/or max
    justification = "why this tolerance"
    scenario = { subject = { species = "rat" } }           # shared by the arms
    arms.ketamine = { dose = [{ drug = "ketamine", amount = "10 mg/kg", route = "ip" }] }

A record runs either ``arms`` (single-subject scenarios; each arm is ``scenario`` with the
arm's fragment on top) or a ``trial`` (a trial file under ``data/evidence/trials/`` or an inline
trial). ``known_gap`` marks a record the model does not reproduce and says why; it does not
change the scorecard (which always reports the simulation) — it makes the test in
``tests/findings`` an expected failure, which fails as soon as the model starts to pass.
"""

from __future__ import annotations

import tomllib
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator, model_validator

from ..errors import InputError
from ..model.layer import ALIASES
from ..model.layer import LAYERS as MODEL_LAYERS
from ..provenance import sources
from ..units import parse_time

# Trial contexts of clinic records, for the validation pass rate by context.
CONTEXTS = ("saline-controlled IV ketamine", "midazolam-controlled", "esketamine with oral "
            "antidepressant", "psychedelic with psychological support", "open-label",
            "conventional antidepressant", "inpatient", "anaesthesia-masked",
            "bipolar depression", "placebo arms")
LAYERS = MODEL_LAYERS  # the one vocabulary of layer names (raadsim.model.layer)
KINDS = ("calibration", "validation")
TIME_WORDS = ("peak", "trough", "course")
EVIDENCE_DIR = "data/evidence"


class Expected(BaseModel):
    """The published result as a pass criterion: ``value ± tolerance`` or a range."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    value: float | None = None
    tolerance: float | None = None
    rel_tolerance: float | None = None
    min: float | None = None
    max: float | None = None
    se: float | None = None  # standard error of the published value (the likelihood of fits)

    @model_validator(mode="after")
    def _one_form(self) -> Expected:
        has_value = self.value is not None
        has_range = self.min is not None or self.max is not None
        if has_value == has_range:
            raise ValueError("give either 'value' with 'tolerance'/'rel_tolerance', or "
                             "'min' and/or 'max'")
        if has_value and (self.tolerance is None) == (self.rel_tolerance is None):
            raise ValueError("'value' needs exactly one of 'tolerance' or 'rel_tolerance'")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError("'min' is larger than 'max'")
        return self

    def bounds(self) -> tuple[float, float]:
        """The accepted interval (inclusive)."""
        if self.value is not None:
            tol = self.tolerance if self.tolerance is not None else abs(
                self.value) * float(self.rel_tolerance or 0)
            return self.value - tol, self.value + tol
        return (-float("inf") if self.min is None else self.min,
                float("inf") if self.max is None else self.max)

    def check(self, simulated: float) -> bool:
        lo, hi = self.bounds()
        return lo <= simulated <= hi

    def describe(self) -> str:
        if self.value is not None:
            if self.tolerance is not None:
                return f"{self.value:g} ± {self.tolerance:g}"
            return f"{self.value:g} ± {100 * float(self.rel_tolerance or 0):g} %"
        if self.min is not None and self.max is not None:
            return f"{self.min:g} to {self.max:g}"
        return f"≥ {self.min:g}" if self.min is not None else f"≤ {self.max:g}"

    def scale(self) -> float:
        """Half-width of the accepted interval (for standardised calibration residuals)."""
        lo, hi = self.bounds()
        if lo == -float("inf") or hi == float("inf"):
            raise ValueError("one-sided criteria have no scale")
        return (hi - lo) / 2


class Record(BaseModel):
    """One published finding or trial endpoint, with the simulation that tests it."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    id: str
    kind: Literal["calibration", "validation"]
    layer: str
    drug: str
    species: Literal["human", "rat", "mouse", "culture"]
    source: str
    quote: str
    finding: str
    observable: str
    time: str
    quantity: str
    expected: Expected
    justification: str
    published: str | None = None
    scenario: dict[str, Any] = {}
    arms: dict[str, dict[str, Any]] = {}
    trial: str | dict[str, Any] | None = None
    known_gap: str | None = None
    disputed: str | None = None
    context: str | None = None  # the trial context (CONTEXTS), for pass rates by context
    file: str = ""

    @field_validator("layer")
    @classmethod
    def _layer(cls, v: str) -> str:
        if v not in LAYERS:
            raise ValueError(f"unknown layer {v!r}; one of {', '.join(LAYERS)}")
        return v

    @field_validator("context")
    @classmethod
    def _context(cls, v: str | None) -> str | None:
        if v is not None and v not in CONTEXTS:
            raise ValueError(f"unknown context {v!r}; one of {', '.join(CONTEXTS)}")
        return v

    @field_validator("source")
    @classmethod
    def _source_exists(cls, v: str) -> str:
        if v not in sources():
            raise ValueError(f"unknown source {v!r}; add it to data/sources.toml first")
        return v

    @field_validator("quote", "finding", "justification")
    @classmethod
    def _not_blank(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("must not be empty")
        return v

    @field_validator("time")
    @classmethod
    def _time(cls, v: str) -> str:
        if v not in TIME_WORDS:
            parse_time(v, "time", allow_negative=True)
        return v

    @model_validator(mode="after")
    def _arms_or_trial(self) -> Record:
        if bool(self.arms) == (self.trial is not None):
            raise ValueError("give either 'arms' (single-subject scenarios) or 'trial'")
        return self


def _evidence_files() -> list[Path]:
    root = resources.files("raadsim").joinpath(EVIDENCE_DIR)
    return sorted(Path(str(p)) for p in root.iterdir() if p.name.endswith(".toml"))


def trial_path(name: str) -> Path:
    """Path of a trial file referenced by a record (``trials/<name>.toml``)."""
    return Path(str(resources.files("raadsim").joinpath(EVIDENCE_DIR, name)))


def parse_records(raw: dict[str, Any], file: str) -> list[Record]:
    """Validate the ``[[record]]`` entries of one evidence file."""
    out = []
    for i, entry in enumerate(raw.get("record", [])):
        where = f"{file}: record[{i}]" + (f" ({entry['id']})" if "id" in entry else "")
        try:
            out.append(Record(**entry, file=file))
        except ValidationError as exc:
            err = exc.errors()[0]
            loc = ".".join(str(p) for p in err["loc"])
            raise InputError(f"{where}.{loc}" if loc else where, err.get("input"),
                             err["msg"]) from None
    return out


@cache
def load_records() -> tuple[Record, ...]:
    """All evidence records shipped with raadsim (ids are unique)."""
    records: list[Record] = []
    for path in _evidence_files():
        with path.open("rb") as f:
            records += parse_records(tomllib.load(f), path.name)
    seen: set[str] = set()
    for r in records:
        if r.id in seen:
            raise InputError(f"{r.file}: record id", r.id, "a unique id")
        seen.add(r.id)
    return tuple(records)


def select(records: tuple[Record, ...] | list[Record], kind: str | None = None,
           layer: str | None = None, drug: str | None = None,
           ids: list[str] | None = None) -> list[Record]:
    """Records matching every given filter; a filter value nothing matches is an InputError."""
    layer = ALIASES.get(layer, layer) if layer is not None else None
    for name, value, allowed in (("kind", kind, KINDS), ("layer", layer, LAYERS),
                                 ("drug", drug, sorted({r.drug for r in records}))):
        if value is not None and value not in allowed:
            raise InputError(f"--{name}", value, f"one of {', '.join(allowed)}")
    by_id = {r.id: r for r in records}
    for i in ids or []:
        if i not in by_id:
            raise InputError("record id", i, "the id of an evidence record")
    return [r for r in records
            if (kind is None or r.kind == kind) and (layer is None or r.layer == layer)
            and (drug is None or r.drug == drug) and (ids is None or r.id in ids)]


def calibration_records(ids: list[str]) -> list[Record]:
    """The records a fit may use: every id must be a ``calibration`` record.

    This is the only way the fitting code reaches records, so a validation record can never
    enter an objective (``tests/evidence/test_honesty.py``)."""
    chosen = select(load_records(), ids=ids)
    bad = [r.id for r in chosen if r.kind != "calibration"]
    if bad:
        raise InputError("calibration records", bad[0],
                         "a record of kind 'calibration' (validation records are never fitted)")
    return chosen
