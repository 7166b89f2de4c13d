"""The drug-file format: analytes (what circulates) and drugs (what is dosed).

A *drug* is what a scenario doses (``ketamine``, ``psilocybin``). Its ``composition`` says
which *analytes* the dose becomes (racemic ketamine is half S- and half R-ketamine;
psilocybin becomes psilocin). An *analyte* has pharmacokinetics per species and an
affinity for each target. Built-in drugs live in ``data/drugs`` and analytes in
``data/analytes``; a user's own compound is one TOML file in the same format, with its
analytes inline under ``[analytes.<name>]``. See ``data/examples/glun2b_antagonist.toml``.

Files are validated by pydantic models of the format (``*Table``): strict types (``infusion =
"no"`` is an error, not true), finite numbers, and the physical range of every parameter
(volumes, clearances and rate constants above 0, bioavailability F and the unbound fraction
fu in (0, 1], ...). Errors name the file and the key (``mine.toml: analytes.x.pk.human.
params.Vc``). The validated tables are then turned into the frozen dataclasses below
(:class:`Analyte`, :class:`Drug`), whose numbers are :class:`~raadsim.provenance.Param`\\ s.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator, model_validator

from ..errors import InputError, from_validation_error
from ..provenance import Param, param_from_table
from ..units import convert
from .chemistry import molar_mass

SPECIES = ("human", "rat", "mouse")
ROUTES = ("iv", "intranasal", "oral", "im", "ip", "sc", "sublingual", "inhaled")
TARGETS = ("nmdar", "ht2a", "trkb", "ampar", "sert")
STRUCTURES = ("mammillary", "hepatic")
SCALINGS = ("allometric", "linear")

# Parameters each PK structure may use, with the model unit each is converted to.
PK_UNITS = {
    "Vc": "L",
    "CL": "L/h",
    "Q2": "L/h",
    "V2": "L",
    "Q3": "L/h",
    "V3": "L",
    "Qh": "L/h",
    "Vh": "L",
    "kel_h": "1/h",
    "kmet_h": "1/h",
    "fu": "dimensionless",
    "ke0": "1/h",
    "elimination_factor": "dimensionless",
}
PK_REQUIRED = {
    "mammillary": {"Vc", "CL", "fu", "ke0"},
    "hepatic": {"Vc", "Qh", "Vh", "kel_h", "kmet_h", "fu", "ke0"},
}
TARGET_UNITS = {"K": "uM", "efficacy": "dimensionless", "koff": "1/h"}
K_BASES = ("unbound_brain", "plasma_total")

Species = Literal["human", "rat", "mouse"]
RouteName = Literal["iv", "intranasal", "oral", "im", "ip", "sc", "sublingual", "inhaled"]
TargetName = Literal["nmdar", "ht2a", "trkb", "ampar", "sert"]

# Physical range of each parameter, in its model unit (or that unit per kg): (low, high, low
# is excluded). The upper (and the volumes' lower) limits are far beyond any drug and keep
# the model's rates within what the solver integrates (CL = 1e308 L/h or Vc = 1e-300 L used
# to run for hours): volumes 0.1 mL to 100 000 L, flows up to 100 000 L/h, rate constants
# up to 10 000 /h (a half-life of 0.25 s, below the 1 s the solver resolves).
POSITIVE = (0.0, math.inf, True)
FRACTION = (0.0, 1.0, True)  # 0 < x <= 1
SHARE = (0.0, 1.0, False)  # 0 <= x <= 1
VOLUME_L = (1e-4, 1e5, False)
FLOW_L_PER_H = (0.0, 1e5, True)
RATE_PER_H = (0.0, 1e4, True)
FACTOR = (0.0, 1e3, True)
PK_RANGES = {**dict.fromkeys(("Vc", "V2", "V3", "Vh"), VOLUME_L),
             **dict.fromkeys(("CL", "Q2", "Q3", "Qh"), FLOW_L_PER_H),
             "ke0": RATE_PER_H, "elimination_factor": FACTOR,
             "kel_h": (0.0, 1e4, False), "kmet_h": (0.0, 1e4, False), "fu": FRACTION}
# K in uM or ng/mL: from 1 fM (or 1 ag/mL) to 1 M (or 1 mg/mL).
TARGET_RANGES = {"K": (1e-9, 1e6, False), "efficacy": SHARE, "koff": RATE_PER_H}
PATHWAY_RANGES = {"F": FRACTION, "ka": RATE_PER_H, "duration": (0.0, 17520.0, True),
                  "device_mg": (0.0, 1e5, True), "later_device_factor": FACTOR}
PATHWAY_UNITS = {"F": "dimensionless", "ka": "1/h", "duration": "h", "device_mg": "mg",
                 "later_device_factor": "dimensionless"}
# Reference weights of a PK model (kg): from a mouse to the heaviest humans.
REFERENCE_WEIGHT_KG = (0.005, 300.0)
# Inline analytes of one drug file: a parent and its metabolites (the catalogue has 11).
MAX_ANALYTES_PER_FILE = 50


# -- the file format (pydantic) ----------------------------------------------------------------
class _Table(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)


class ParamTable(_Table):
    """A parameter table: ``value``, ``unit``, ``description``, optional ``low``/``high`` and
    the provenance (what each ``kind`` needs is checked by
    :class:`~raadsim.provenance.Provenance`)."""

    value: float
    unit: str
    description: str
    kind: Literal["literature", "fitted", "derived", "assumed"]
    source: str | None = None
    quote: str | None = None
    note: str | None = None
    fitted_to: list[str] | None = None
    low: float | None = None
    high: float | None = None

    @model_validator(mode="after")
    def _bounds(self) -> ParamTable:
        lo = -math.inf if self.low is None else self.low
        hi = math.inf if self.high is None else self.high
        if not lo <= self.value <= hi:
            raise InputError("value", self.value, f"a value within [low, high] = [{lo}, {hi}]")
        return self

    def in_range(self, key: str | None, unit: str, bounds: tuple[float, float, bool]) -> None:
        """Check the value, converted to ``unit`` (or ``unit``/kg), against ``bounds``;
        errors name ``key.value`` (``value`` when ``key`` is None)."""
        lo, hi, open_low = bounds
        v = _converted(self, unit, key)
        if not ((v > lo if open_low else v >= lo) and v <= hi):
            low = f"above {lo:g}" if open_low else f"from {lo:g}"
            high = "" if hi == math.inf else f", up to {hi:g}"
            unit_text = "" if unit == "dimensionless" else f" (in {unit})"
            raise InputError(f"{key}.value" if key else "value", self.value,
                             f"a value {low}{high}{unit_text}")

    def table(self) -> dict[str, Any]:
        return self.model_dump(exclude_none=True)


def _converted(p: ParamTable, unit: str, key: str | None) -> float:
    """``p`` in ``unit`` or, for a per-body-weight value, in ``unit``/kg."""
    for u in dict.fromkeys((unit, f"{unit}/kg" if unit != "dimensionless" else unit)):
        if _convertible(p, u):
            return convert(p.value, p.unit, u)
    per_kg = "" if unit == "dimensionless" else f" or {unit}/kg"
    raise InputError(f"{key}.unit" if key else "unit", p.unit,
                     f"a unit convertible to {unit}{per_kg}")


def _convertible(p: ParamTable, unit: str) -> bool:
    try:
        convert(1.0, p.unit, unit)
    except InputError:
        return False
    return True


def _check_params(tables: dict[str, ParamTable | None], units: dict[str, str],
                  ranges: dict[str, tuple[float, float, bool]]) -> None:
    for key, p in tables.items():
        if p is not None:
            p.in_range(key, units[key], ranges[key])


class PKParams(_Table):
    Vc: ParamTable | None = None
    CL: ParamTable | None = None
    Q2: ParamTable | None = None
    V2: ParamTable | None = None
    Q3: ParamTable | None = None
    V3: ParamTable | None = None
    Qh: ParamTable | None = None
    Vh: ParamTable | None = None
    kel_h: ParamTable | None = None
    kmet_h: ParamTable | None = None
    fu: ParamTable | None = None
    ke0: ParamTable | None = None
    elimination_factor: ParamTable | None = None

    @model_validator(mode="after")
    def _ranges(self) -> PKParams:
        _check_params(self.given(), PK_UNITS, PK_RANGES)
        for a, b in (("Q2", "V2"), ("Q3", "V3")):
            if (getattr(self, a) is None) != (getattr(self, b) is None):
                raise InputError(a if getattr(self, a) is None else b, None,
                                 f"both {a} and {b} (a peripheral compartment needs both)")
        return self

    def given(self) -> dict[str, ParamTable]:
        return {k: getattr(self, k) for k in PK_UNITS if getattr(self, k) is not None}


class SpeciesPKTable(_Table):
    structure: Literal["mammillary", "hepatic"] = "mammillary"
    reference_weight_kg: float | None = None
    scaling: Literal["allometric", "linear"] = "allometric"
    params: PKParams = PKParams()
    formation: dict[str, ParamTable] = {}
    hepatic_metabolite: str | None = None
    derive_from: Species | None = None

    @field_validator("formation")
    @classmethod
    def _formation(cls, v: dict[str, ParamTable]) -> dict[str, ParamTable]:
        for met, p in v.items():
            p.in_range(f"formation.{met}", "dimensionless", SHARE)
        if sum(_converted(p, "dimensionless", m) for m, p in v.items()) > 1 + 1e-9:
            raise InputError("formation", sorted(v), "metabolite fractions that sum to at "
                             "most 1")
        return v

    @model_validator(mode="after")
    def _complete(self) -> SpeciesPKTable:
        if self.derive_from is not None:
            own = sorted(self.model_fields_set - {"derive_from", "params", "formation"})
            if own:
                raise InputError(own[0], getattr(self, own[0]), "no such key in a species "
                                 "derived from another (only params and formation)")
            return self
        lo, hi = REFERENCE_WEIGHT_KG
        w = self.reference_weight_kg
        if w is None or not lo <= w <= hi:
            raise InputError("reference_weight_kg", w, f"a weight from {lo:g} to {hi:g} kg")
        missing = PK_REQUIRED[self.structure] - set(self.params.given())
        if missing:
            raise InputError("params", sorted(self.params.given()),
                             f"also {sorted(missing)} (a {self.structure} model)")
        if self.formation and self.structure != "mammillary":
            raise InputError("formation", sorted(self.formation), "no formation fractions "
                             "for a hepatic model (use hepatic_metabolite)")
        if self.hepatic_metabolite is not None and self.structure != "hepatic":
            raise InputError("hepatic_metabolite", self.hepatic_metabolite,
                             "no hepatic_metabolite for a mammillary model (use formation)")
        return self


class TargetTable(_Table):
    role: Literal["agonist", "antagonist", "blocker", "modulator"] = "agonist"
    basis: Literal["unbound_brain", "plasma_total"] = "unbound_brain"
    K: ParamTable
    efficacy: ParamTable | None = None
    koff: ParamTable | None = None

    @model_validator(mode="after")
    def _ranges(self) -> TargetTable:
        # A mass concentration is converted with the molar mass when the model is built.
        self.K.in_range("K", "uM" if _convertible(self.K, "uM") else "ng/mL",
                        TARGET_RANGES["K"])
        _check_params({"efficacy": self.efficacy, "koff": self.koff}, TARGET_UNITS,
                      TARGET_RANGES)
        return self


class AnalyteTable(_Table):
    name: str | None = None
    label: str | None = None
    formula: str
    groups: list[str] = []
    pk: dict[Species, SpeciesPKTable] = {}
    targets: dict[TargetName, TargetTable] = {}

    @model_validator(mode="after")
    def _derived_from_above(self) -> AnalyteTable:
        above: list[str] = []
        for sp, t in self.pk.items():
            if t.derive_from is not None and t.derive_from not in above:
                raise InputError(f"pk.{sp}.derive_from", t.derive_from,
                                 f"a species defined above: {above}")
            above.append(sp)
        return self


class PathwayTable(_Table):
    name: str = "main"
    into: Literal["central", "liver"] = "central"
    F: ParamTable | None = None
    ka: ParamTable | None = None
    duration: ParamTable | None = None
    remainder_of: str | None = None
    device_mg: ParamTable | None = None
    later_device_factor: ParamTable | None = None

    @model_validator(mode="after")
    def _ranges(self) -> PathwayTable:
        _check_params({k: getattr(self, k) for k in PATHWAY_RANGES}, PATHWAY_UNITS,
                      PATHWAY_RANGES)
        return self


class FormulationTable(_Table):
    """One formulation or device of a route (``[routes.<sp>.<route>.formulation.<name>]``):
    its own pathways, e.g. an intranasal spray or drops."""

    description: str
    pathway: list[PathwayTable]


class RouteTable(_Table):
    infusion: bool = False
    pathway: list[PathwayTable] = [PathwayTable()]
    formulation: dict[str, FormulationTable] = {}
    default_formulation: str | None = None

    @model_validator(mode="after")
    def _formulations(self) -> RouteTable:
        if self.formulation and self.default_formulation not in self.formulation:
            raise InputError("default_formulation", self.default_formulation,
                             f"one of the route's formulations: {sorted(self.formulation)}")
        if self.default_formulation is not None and not self.formulation:
            raise InputError("default_formulation", self.default_formulation,
                             "no default_formulation without [formulation.<name>] tables")
        for name, f in self.formulation.items():
            RouteTable._pathways(f.pathway, f"formulation.{name}.")
        return self

    @field_validator("pathway")
    @classmethod
    def _pathway(cls, v: list[PathwayTable]) -> list[PathwayTable]:
        return RouteTable._pathways(v)

    @staticmethod
    def _pathways(v: list[PathwayTable], at: str = "") -> list[PathwayTable]:
        if not v:
            raise InputError(f"{at}pathway", v, "a list of [[pathway]] tables")
        names: list[str] = []
        for i, pw in enumerate(v):
            if pw.name in names:
                raise InputError(f"{at}pathway[{i}].name", pw.name, "a name not used by "
                                 "another pathway of this route")
            if pw.remainder_of is not None and pw.remainder_of not in names:
                raise InputError(f"{at}pathway[{i}].remainder_of", pw.remainder_of,
                                 f"an earlier pathway of this route: {names}")
            names.append(pw.name)
        return v


class CompositionTable(ParamTable):
    molar: bool = False

    @model_validator(mode="after")
    def _fraction(self) -> CompositionTable:
        self.in_range(None, "dimensionless", FRACTION)
        return self

    def table(self) -> dict[str, Any]:
        return self.model_dump(exclude_none=True, exclude={"molar"})


class DrugTable(_Table):
    name: str | None = None
    label: str | None = None
    description: str = ""
    formula: str | None = None
    placebo: bool = False
    composition: dict[str, CompositionTable] = {}
    routes: dict[Species, dict[RouteName, RouteTable]] = {}
    analytes: dict[str, AnalyteTable] = {}
    sources: list[str] | dict[str, Any] | None = None
    session: bool = True  # each dose is a treatment session (False: daily home medication)

    @model_validator(mode="after")
    def _consistent(self) -> DrugTable:
        if len(self.analytes) > MAX_ANALYTES_PER_FILE:
            raise InputError("analytes", f"{len(self.analytes)} analytes",
                             f"at most {MAX_ANALYTES_PER_FILE} analytes in one file")
        if not self.placebo and not self.composition:
            raise InputError("composition", None, "at least one analyte (or placebo = true)")
        if self.formula is None and any(c.molar for c in self.composition.values()):
            raise InputError("formula", None, "a formula when composition is molar")
        return self


def _validated(model: type[_Table], raw: Any, where: str) -> Any:
    if not isinstance(raw, dict):
        raise InputError(where, raw, "a TOML table")
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise from_validation_error(exc, where) from None


# -- what raadsim uses (built from the validated tables) ----------------------------------------
@dataclass(frozen=True)
class SpeciesPK:
    """Disposition of one analyte in one species."""

    structure: str
    reference_weight_kg: float
    scaling: str
    params: dict[str, Param]
    formation: dict[str, Param]  # metabolite -> fraction of elimination (mammillary)
    hepatic_metabolite: str | None  # metabolite formed by kmet_h (hepatic)
    derived_from: str | None = None  # species whose parameters were scaled


@dataclass(frozen=True)
class Target:
    """Binding of one analyte at one target. ``K`` is an unbound brain concentration (uM)."""

    name: str
    params: dict[str, Param]
    role: str  # "agonist", "antagonist", "blocker" or "modulator"
    basis: str = "unbound_brain"  # what concentration K refers to


@dataclass(frozen=True)
class Analyte:
    """A circulating chemical entity."""

    name: str
    label: str
    formula: str
    molar_mass: float
    groups: tuple[str, ...]
    pk: dict[str, SpeciesPK]
    targets: dict[str, Target]


@dataclass(frozen=True)
class Pathway:
    """One way a dose enters the body (e.g. the nasal and the swallowed part of a spray)."""

    name: str
    into: str  # "central" or "liver"
    F: Param | None
    ka: Param | None
    duration: Param | None
    remainder_of: str | None = None
    device_mg: Param | None = None
    later_device_factor: Param | None = None


@dataclass(frozen=True)
class Route:
    """A route of one drug in one species; with ``formulations`` (e.g. intranasal devices),
    ``pathways`` are those of ``default_formulation``."""

    name: str
    infusion: bool
    pathways: tuple[Pathway, ...]
    formulations: dict[str, tuple[Pathway, ...]] = field(default_factory=dict)
    default_formulation: str | None = None
    formulation_descriptions: dict[str, str] = field(default_factory=dict)

    def formulation_of(self, name: str | None) -> str | None:
        """The formulation a dose uses (``name``, or the default; None if the route has
        none)."""
        return self.default_formulation if name is None else name

    def pathways_for(self, formulation: str | None) -> tuple[Pathway, ...]:
        f = self.formulation_of(formulation)
        return self.pathways if f is None else self.formulations[f]


@dataclass(frozen=True)
class Drug:
    """Something a scenario can dose."""

    name: str
    label: str
    description: str
    formula: str | None
    molar_mass: float | None
    placebo: bool
    composition: dict[str, tuple[Param, bool]]  # analyte -> (mass fraction, molar conversion)
    routes: dict[str, dict[str, Route]]  # species -> route -> Route
    source_file: str = ""
    session: bool = True  # each dose is a treatment session (False: daily home medication)

    def species(self) -> list[str]:
        return [s for s in SPECIES if s in self.routes]


def _at(file: str, key: str) -> str:
    """Where a key of a file is, for errors and parameter origins: ``file: key``."""
    return f"{file}: {key}"


def _params(tables: dict[str, ParamTable], file: str, key: str) -> dict[str, Param]:
    return {k: param_from_table(k, t.table(), _at(file, f"{key}.{k}")) for k, t in tables.items()}


def _species_pk(t: SpeciesPKTable, base: SpeciesPK | None, file: str, key: str) -> SpeciesPK:
    """One species' PK; a ``derive_from`` species is ``base`` scaled allometrically, with its
    own sourced overrides (per-kilogram overrides are multiplied by the subject's weight, the
    others replace the base value at the base reference weight)."""
    params = _params(t.params.given(), file, f"{key}.params")
    formation = _params(t.formation, file, f"{key}.formation")
    if base is None:
        weight = float(t.reference_weight_kg or 0.0)  # given: checked by SpeciesPKTable
        return SpeciesPK(t.structure, weight, t.scaling, params, formation,
                         t.hepatic_metabolite)
    return SpeciesPK(base.structure, base.reference_weight_kg, "allometric",
                     {**base.params, **params}, {**base.formation, **formation},
                     base.hepatic_metabolite, derived_from=t.derive_from)


def _analyte(name: str, t: AnalyteTable, file: str, key: str = "") -> Analyte:
    pre = f"{key}." if key else ""
    pk: dict[str, SpeciesPK] = {}
    for sp, spt in t.pk.items():
        base = pk[spt.derive_from] if spt.derive_from is not None else None
        pk[sp] = _species_pk(spt, base, file, f"{pre}pk.{sp}")
    targets = {}
    for tname, tt in t.targets.items():
        tables = {k: v for k, v in (("K", tt.K), ("efficacy", tt.efficacy),
                                    ("koff", tt.koff)) if v is not None}
        targets[tname] = Target(tname, _params(tables, file, f"{pre}targets.{tname}"),
                                tt.role, tt.basis)
    return Analyte(name=name, label=t.label or name, formula=t.formula,
                   molar_mass=molar_mass(t.formula, _at(file, f"{pre}formula")),
                   groups=tuple(t.groups), pk=pk, targets=targets)


def parse_analyte(name: str, raw: Any, file: str) -> Analyte:
    """Build an :class:`Analyte` from its TOML document (``file``: where it was read)."""
    return _analyte(name, _validated(AnalyteTable, raw, file), file)


def _pathway(t: PathwayTable, file: str, key: str) -> Pathway:
    tables = {k: getattr(t, k) for k in PATHWAY_UNITS if getattr(t, k) is not None}
    p = _params(tables, file, key)
    return Pathway(name=t.name, into=t.into, F=p.get("F"), ka=p.get("ka"),
                   duration=p.get("duration"), remainder_of=t.remainder_of,
                   device_mg=p.get("device_mg"), later_device_factor=p.get("later_device_factor"))


def _route(name: str, t: RouteTable, file: str, key: str) -> Route:
    forms = {f: tuple(_pathway(pw, file, f"{key}.formulation.{f}.pathway[{i}]")
                      for i, pw in enumerate(ft.pathway)) for f, ft in t.formulation.items()}
    pathways = (forms[t.default_formulation] if t.default_formulation else
                tuple(_pathway(pw, file, f"{key}.pathway[{i}]") for i, pw in enumerate(t.pathway)))
    return Route(name, t.infusion, pathways, forms, t.default_formulation,
                 {f: ft.description for f, ft in t.formulation.items()})


def _drug(name: str, t: DrugTable, file: str) -> Drug:
    mm = molar_mass(t.formula, _at(file, "formula")) if t.formula else None
    composition = {an: (param_from_table(an, c.table(), _at(file, f"composition.{an}")),
                        c.molar) for an, c in t.composition.items()}
    routes = {sp: {r: _route(r, rt, file, f"routes.{sp}.{r}") for r, rt in rs.items()}
              for sp, rs in t.routes.items()}
    return Drug(name=name, label=t.label or name, description=t.description, formula=t.formula,
                molar_mass=mm, placebo=t.placebo, composition=composition, routes=routes,
                source_file=file, session=t.session)


def parse_drug(name: str, raw: Any, file: str) -> Drug:
    """Build a :class:`Drug` from its TOML document (without its inline analytes: see
    :func:`parse_drug_file`)."""
    return _drug(name, _validated(DrugTable, raw, file), file)


def parse_drug_file(raw: Any, file: str) -> tuple[Drug, dict[str, Analyte]]:
    """A user's drug file: the drug and its inline analytes (``[analytes.<name>]``)."""
    t = _validated(DrugTable, raw, file)
    if t.name is None or not t.name.isidentifier():
        raise InputError(_at(file, "name"), t.name, "a drug name made of letters, digits, _")
    analytes = {an: _analyte(an, at, file, f"analytes.{an}") for an, at in t.analytes.items()}
    return _drug(t.name, t, file), analytes


def is_per_kg(p: Param, unit: str) -> bool:
    """True if ``p`` is expressed per kilogram of body weight."""
    try:
        p.in_unit(unit)
        return False
    except InputError:
        return True
