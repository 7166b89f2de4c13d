"""Scenario files (TOML) and their Python API (pydantic models).

A scenario names a subject, doses, optional perturbations and the simulation window::

    [subject]
    species = "human"
    weight_kg = 70
    condition = "trd"

    [[dose]]
    drug = "ketamine"
    amount = "0.5 mg/kg"
    route = "iv"
    infusion = "40 min"
    at = "0 h"
    repeat = { every = "3.5 d", count = 8 }

    [simulation]
    end = "14 d"
    output_every = "10 min"

Quantities are strings with units (pint). :func:`load_scenario` turns any problem into one
:class:`~raadsim.errors.InputError` naming the field, the value and what is accepted.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, StrictBool, ValidationError, field_validator

from ..drugs.catalogue import Catalogue, builtin
from ..drugs.schema import ROUTES, SPECIES
from ..errors import InputError
from ..model.covariates import Covariates
from ..model.inputs import (
    Administration,
    BathExposure,
    ModelInputs,
    PerturbationInput,
    TrialContext,
)
from ..perturb.catalogue import validate
from ..units import (
    parse_concentration_uM,
    parse_dose,
    parse_duration,
    parse_time,
    parse_weight,
)

CONDITIONS = ("healthy", "mdd", "trd", "bipolar_depression", "chronic_stress")
DEFAULT_WEIGHT_KG = {"human": 70.0, "rat": 0.3, "mouse": 0.025, "culture": 1.0}
SUBJECT_SPECIES = (*SPECIES, "culture")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Timed(_Strict):
    """An entry with an ``at`` time point (may be negative, e.g. a pretreatment)."""

    @field_validator("at", check_fields=False)
    @classmethod
    def _at(cls, v: str | None) -> str | None:
        if v is not None:
            parse_time(v, "at", allow_negative=True)
        return v



class Subject(_Strict):
    species: str = "human"
    weight_kg: float | str | None = None
    condition: str = "healthy"
    # covariates of the population PK models (data/parameters/covariates.toml); None: an
    # adult of 60 or younger, the popPK reference
    age_years: float | None = None
    ancestry: Literal["not_asian", "asian", "japanese"] = "not_asian"

    @field_validator("age_years")
    @classmethod
    def _age(cls, v: float | None) -> float | None:
        if v is not None and not (isinstance(v, int | float) and not isinstance(v, bool)
                                  and 18 <= v <= 100):
            raise InputError("subject.age_years", v, "an age in years from 18 to 100")
        return None if v is None else float(v)

    @field_validator("species")
    @classmethod
    def _species(cls, v: str) -> str:
        if v not in SUBJECT_SPECIES:
            raise InputError("species", v, f"one of {', '.join(SUBJECT_SPECIES)}")
        return v

    @field_validator("condition")
    @classmethod
    def _condition(cls, v: str) -> str:
        if v not in CONDITIONS:
            raise InputError("condition", v, f"one of {', '.join(CONDITIONS)}")
        return v

    @field_validator("weight_kg")
    @classmethod
    def _weight(cls, v: float | str | None) -> float | str | None:
        if v is not None:
            parse_weight(v, "weight_kg")
        return v

    @property
    def weight(self) -> float:
        if self.weight_kg is None:
            return DEFAULT_WEIGHT_KG[self.species]
        return parse_weight(self.weight_kg, "weight_kg")


class Repeat(_Strict):
    every: str
    count: int

    @field_validator("every")
    @classmethod
    def _every(cls, v: str) -> str:
        parse_duration(v, "every", "3.5 d")
        return v

    @field_validator("count")
    @classmethod
    def _count(cls, v: int) -> int:
        if v < 1:
            raise InputError("count", v, "a whole number of administrations >= 1")
        return v


class Dose(_Timed):
    drug: str
    amount: str
    route: str
    infusion: str | None = None
    at: str = "0 h"
    repeat: Repeat | None = None

    @field_validator("amount")
    @classmethod
    def _amount(cls, v: str) -> str:
        parse_dose(v, "amount")
        return v

    @field_validator("route")
    @classmethod
    def _route(cls, v: str) -> str:
        if v not in ROUTES:
            raise InputError("route", v, f"one of {', '.join(ROUTES)}")
        return v

    @field_validator("infusion")
    @classmethod
    def _infusion(cls, v: str | None) -> str | None:
        if v is not None:
            parse_duration(v, "infusion", "40 min")
        return v

    def times_h(self) -> tuple[float, ...]:
        t0 = parse_time(self.at, "at", allow_negative=True)
        if self.repeat is None:
            return (t0,)
        step = parse_time(self.repeat.every, "every")
        return tuple(t0 + i * step for i in range(self.repeat.count))


class Bath(_Timed):
    """A drug applied to a cell culture or slice at a fixed concentration (species culture),
    washed out after ``duration`` (default: left on)."""

    drug: str
    concentration: str
    at: str = "0 h"
    duration: str | None = None

    @field_validator("duration")
    @classmethod
    def _duration(cls, v: str | None) -> str | None:
        if v is not None:
            parse_duration(v, "duration", "15 min")
        return v

    @field_validator("concentration")
    @classmethod
    def _conc(cls, v: str) -> str:
        parse_concentration_uM(v, "concentration", 300.0)
        return v


class Perturbation(_Timed):
    name: str
    at: str | None = None
    genotype: str | None = None


class Simulation(_Strict):
    end: str = "7 d"
    output_every: str = "10 min"
    observables: list[str] | None = None

    @field_validator("end")
    @classmethod
    def _end(cls, v: str) -> str:
        parse_duration(v, "end", "14 d")
        return v

    @field_validator("output_every")
    @classmethod
    def _every(cls, v: str) -> str:
        parse_duration(v, "output_every", "10 min")
        return v


class Context(_Strict):
    """How the subject is treated and rated besides the drug (``[context]``); what each field
    does and its source: :class:`raadsim.model.inputs.TrialContext`."""

    blinding: Literal["double_blind", "open_label"] = "double_blind"
    setting: Literal["outpatient", "inpatient"] = "outpatient"
    anaesthesia: StrictBool = False
    expected_experience: Literal["none", "psychedelic"] = "none"
    psychological_support: StrictBool = False
    concomitant: Literal["none", "continuing_antidepressant", "new_antidepressant"] = "none"

    def resolved(self) -> TrialContext:
        return TrialContext(**self.model_dump())


class Scenario(_Strict):
    """A complete scenario: subject, doses, perturbations, simulation window."""

    subject: Subject = Subject()
    context: Context = Context()
    dose: list[Dose] = []
    bath: list[Bath] = []
    perturbation: list[Perturbation] = []
    simulation: Simulation = Simulation()
    drug_files: list[str] = []

    def digest(self) -> str:
        """A stable hash of the scenario content (for run metadata)."""
        blob = json.dumps(self.model_dump(mode="json"), sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()[:16]

    def catalogue(self, base_dir: Path | None = None) -> Catalogue:
        """The built-in catalogue plus this scenario's drug files."""
        cat = builtin()
        for f in self.drug_files:
            p = Path(f)
            if base_dir is not None and not p.is_absolute():
                p = base_dir / p
            cat = cat.with_drug_file(p)
        return cat

    def administrations(self, cat: Catalogue) -> list[Administration]:
        """Doses resolved against the catalogue; errors name the dose entry."""
        out = []
        species = self.subject.species
        if species == "culture" and self.dose:
            raise InputError("dose[0]", self.dose[0].drug,
                             "no doses for species culture: use [[bath]] with a concentration")
        if species != "culture" and self.bath:
            raise InputError("bath[0]", self.bath[0].drug, "bath entries only for species culture")
        for i, b in enumerate(self.bath):
            drug = cat.drug(b.drug, f"bath[{i}].drug")
            if drug.placebo or drug.molar_mass is None:
                raise InputError(f"bath[{i}].drug", b.drug, "an active drug with a formula")
        for i, d in enumerate(self.dose):
            where = f"dose[{i}]"
            drug = cat.drug(d.drug, f"{where}.drug")
            if species not in drug.routes:
                raise InputError(f"{where}.drug", d.drug,
                                 f"a drug with data for {species} (this one: {drug.species()})")
            if d.route not in drug.routes[species]:
                raise InputError(f"{where}.route", d.route,
                                 f"a route {d.drug} allows in {species}: "
                                 f"{', '.join(sorted(drug.routes[species]))}")
            route = drug.routes[species][d.route]
            if d.infusion is not None and not route.infusion:
                raise InputError(f"{where}.infusion", d.infusion,
                                 f"no infusion: {d.route} {d.drug} is given at once")
            value, per_kg = parse_dose(d.amount, f"{where}.amount")
            amount = value * self.subject.weight if per_kg else value
            infusion = parse_time(d.infusion, f"{where}.infusion") if d.infusion else None
            out.append(Administration(i, d.drug, d.route, amount, d.times_h(), infusion,
                                      value if per_kg else None, drug.session))
        return out

    def model_inputs(self, cat: Catalogue) -> ModelInputs:
        """The scenario as the typed values the model builder reads (times in hours,
        amounts in mg, bath concentrations in µM); errors name the entry."""
        start, _, _ = self.window()
        baths = tuple(
            BathExposure(b.drug, parse_concentration_uM(b.concentration,
                                                        f"bath[{i}].concentration",
                                                        cat.drugs[b.drug].molar_mass or 300.0),
                         parse_time(b.at, f"bath[{i}].at", allow_negative=True),
                         None if b.duration is None else parse_duration(
                             b.duration, f"bath[{i}].duration", "15 min"))
            for i, b in enumerate(self.bath))
        perts = tuple(
            PerturbationInput(p.name, parse_time(p.at, f"perturbation[{i}].at",
                                                 allow_negative=True) if p.at else None,
                              p.genotype)
            for i, p in enumerate(self.perturbation))
        return ModelInputs(self.subject.species, self.subject.weight, self.subject.condition,
                           tuple(self.administrations(cat)), baths, perts, start,
                           self.context.resolved(),
                           Covariates(self.subject.age_years, self.subject.ancestry))

    def validate_perturbations(self) -> None:
        """Names, genotypes and times of the perturbations (errors name the entry)."""

        for i, p in enumerate(self.perturbation):
            at = parse_time(p.at, f"perturbation[{i}].at", allow_negative=True) if p.at else None
            validate(p.name, p.genotype, at, f"perturbation[{i}]")

    def window(self) -> tuple[float, float, float]:
        """(start, end, step) in hours; starts before 0 if something happens earlier."""
        times = [t for d in self.dose for t in d.times_h()]
        times += [parse_time(b.at, "at", allow_negative=True) for b in self.bath]
        times += [parse_time(p.at, "at", allow_negative=True) for p in self.perturbation if p.at]
        start = min([0.0, *times])
        end = parse_time(self.simulation.end, "simulation.end")
        step = parse_time(self.simulation.output_every, "simulation.output_every")
        if end <= start:
            raise InputError("simulation.end", self.simulation.end, "a time after the first event")
        return start, end, step


def _as_input_error(exc: ValidationError) -> InputError:
    err = exc.errors()[0]
    loc = []
    for part in err["loc"]:
        if isinstance(part, int) and loc:
            loc[-1] = f"{loc[-1]}[{part}]"
        else:
            loc.append(str(part))
    field = ".".join(loc) or "scenario"
    cause = err.get("ctx", {}).get("error")
    if isinstance(cause, InputError):
        if loc and cause.field.startswith(loc[-1] + "."):  # the validator named a sub-key
            field = ".".join([*loc[:-1], cause.field])
        elif loc and err["type"] == "value_error" and cause.field != loc[-1] \
                and "." not in cause.field and "[" not in cause.field:
            field = ".".join([*loc, cause.field])  # a model validator named one of its keys
        return InputError(field, cause.value, cause.accepted)
    if err["type"] == "extra_forbidden":
        return InputError(field, err.get("input"), "no such key (check the spelling)")
    if err["type"] == "missing":
        return InputError(field, None, "a value (this field is required)")
    return InputError(field, err.get("input"), err["msg"])


def scenario_from_dict(raw: dict[str, Any]) -> Scenario:
    """Validate a scenario given as a dict (as read from TOML)."""
    try:
        return Scenario.model_validate(raw)
    except ValidationError as exc:
        raise _as_input_error(exc) from None


def read_toml(path: Path, what: str) -> dict[str, Any]:
    """The parsed TOML file ``path`` (a ``what`` file); problems as one :class:`InputError`."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(what, str(path), "an existing TOML file") from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError(str(path), "(file)", f"valid TOML ({exc})") from None
    except UnicodeDecodeError:
        raise InputError(str(path), "(file)", "a UTF-8 text file") from None


def load_scenario(path: str | Path) -> tuple[Scenario, Catalogue]:
    """Read, validate and resolve a scenario file. Raises :class:`InputError` on any problem."""
    path = Path(path)
    sc = scenario_from_dict(read_toml(path, "scenario"))
    cat = sc.catalogue(path.parent)
    sc.administrations(cat)  # resolve now so errors surface before any simulation
    sc.window()
    sc.validate_perturbations()
    return sc, cat
