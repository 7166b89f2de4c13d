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

Quantities are strings with units (pint), read once into typed values
(:class:`~raadsim.units.Quantity`: the value in its canonical unit, finite, inside the range
of :mod:`raadsim.io.limits`, and the text as written, which is what the scenario writes back).
Types are strict: ``weight_kg = true`` or ``count = "8"`` are errors, not coerced.
:func:`load_scenario` turns any problem into one :class:`~raadsim.errors.InputError` naming
the field, the value and what is accepted, before a model is built.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    PlainSerializer,
    PlainValidator,
    PrivateAttr,
    StrictBool,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from ..drugs.catalogue import Catalogue, builtin
from ..drugs.schema import ROUTES, SPECIES
from ..errors import InputError, from_validation_error
from ..model import eeg
from ..model import hypotheses as hyp
from ..model.build import build_model
from ..model.covariates import Covariates
from ..model.inputs import (
    Administration,
    BathExposure,
    Blinding,
    Concomitant,
    ExpectedExperience,
    ModelInputs,
    PerturbationInput,
    Setting,
    TrialContext,
)
from ..model.spec import ModelSpec
from ..perturb.catalogue import validate
from ..units import EXPECT, Kind, Quantity, in_uM, read_quantity
from ..userfiles import read_toml
from . import limits
from .limits import check_range

RODENT_CONDITIONS = ("chronic_stress", "chronic_social_defeat", "cums", "learned_helplessness",
                     "corticosterone", "wistar_kyoto", "flinders_sensitive_line")
CONDITIONS = ("healthy", "mdd", "trd", "bipolar_depression", *RODENT_CONDITIONS)
DEFAULT_WEIGHT_KG = {"human": 70.0, "rat": 0.3, "mouse": 0.025, "culture": 1.0}
SUBJECT_SPECIES = (*SPECIES, "culture")
TIME_RANGE = f"from 1 s to {limits.MAX_TIME_H:g} h (two years)"


class _Strict(BaseModel):
    """Unknown keys, non-finite numbers and coerced types (``"8"`` for 8) are errors."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)


def _quantity(kind: Kind, check: Callable[[Quantity, str], None]) -> Any:
    """A pydantic field type: text read as a :class:`Quantity` of ``kind`` and checked by
    ``check(q, field)``; written back as the text."""

    def read(value: object, info: ValidationInfo) -> Quantity:
        field = info.field_name or kind
        q = read_quantity(value, field, kind)
        check(q, field)
        return q

    return Annotated[Quantity, PlainValidator(read), PlainSerializer(lambda q: q.given)]


def _time_point(q: Quantity, field: str) -> None:
    check_range(field, q.given, q.value, -limits.MAX_TIME_H, limits.MAX_TIME_H, "h",
                f"{EXPECT['time']}, a time")


def _duration(q: Quantity, field: str) -> None:
    if not limits.RESOLUTION_H <= q.value <= limits.MAX_TIME_H:
        raise InputError(field, q.given, f"{EXPECT['time']}, {TIME_RANGE}"
                         + (" (shorter: leave it out, a bolus)" if field == "infusion" and
                            0 <= q.value < limits.RESOLUTION_H else ""))


def _amount(q: Quantity, field: str) -> None:
    if q.value < 0 or 0 < q.value < limits.MIN_DOSE:  # the upper limit depends on the
        raise InputError(field, q.given, f"{EXPECT['dose']}: 0 or from "  # species
                         f"{limits.MIN_DOSE:g} {q.unit}")


def _concentration(q: Quantity, field: str) -> None:
    if q.value < 0:
        raise InputError(field, q.given, f"{EXPECT['concentration']}, not negative")
    if q.unit == "uM":  # ng/mL: checked once the molar mass is known (Scenario.baths)
        _check_uM(field, q.given, q.value)


def _check_uM(field: str, given: object, uM: float) -> None:
    if not (uM == 0 or limits.MIN_BATH_UM <= uM <= limits.MAX_BATH_UM):
        raise InputError(field, given, f"a concentration of 0 or from {limits.MIN_BATH_UM:g} "
                         f"to {limits.MAX_BATH_UM:g} uM")


def _weight(q: Quantity, field: str) -> None:
    """Nothing: the range depends on the species (Subject._weight_range)."""


def hours(text: str, value: float) -> Quantity:
    """A default time written as ``text`` (``value`` is what :func:`read_quantity` reads
    from it: tests/reliability checks that they agree)."""
    return Quantity(value, "h", text)


TimePoint = _quantity("time", _time_point)
Duration = _quantity("time", _duration)
DoseAmount = _quantity("dose", _amount)
BodyWeight = _quantity("weight", _weight)
Concentration = _quantity("concentration", _concentration)


def _one_of(field: str, value: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise InputError(field, value, f"one of {', '.join(allowed)}")
    return value


class Subject(_Strict):
    species: str = "human"
    weight_kg: BodyWeight | None = None
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
            raise InputError("age_years", v, "an age in years from 18 to 100")
        return None if v is None else float(v)

    @field_validator("species")
    @classmethod
    def _species(cls, v: str) -> str:
        return _one_of("species", v, SUBJECT_SPECIES)

    @field_validator("condition")
    @classmethod
    def _condition(cls, v: str) -> str:
        return _one_of("condition", v, CONDITIONS)

    @model_validator(mode="after")
    def _weight_range(self) -> Subject:
        w = self.weight_kg
        if w is None:
            return self
        if self.species == "culture":
            raise InputError("weight_kg", w.given, "no body weight for species culture "
                             "(leave weight_kg out)")
        lo, hi = limits.WEIGHT_RANGE_KG[self.species]
        check_range("weight_kg", w.given, w.value, lo, hi, "kg",
                    f"a {self.species} body weight")
        return self

    @property
    def weight(self) -> float:
        """Body weight in kg (the species' default when not given)."""
        return DEFAULT_WEIGHT_KG[self.species] if self.weight_kg is None else self.weight_kg.value


class Repeat(_Strict):
    every: Duration
    count: int

    @field_validator("count")
    @classmethod
    def _count(cls, v: int) -> int:
        check_range("count", v, v, 1, limits.MAX_ADMINISTRATIONS, "",
                    "a whole number of administrations")
        return v


class Dose(_Strict):
    drug: str
    amount: DoseAmount
    route: str
    infusion: Duration | None = None
    formulation: str | None = None  # formulation or device (routes that have several)
    at: TimePoint = hours("0 h", 0.0)
    repeat: Repeat | None = None

    @field_validator("route")
    @classmethod
    def _route(cls, v: str) -> str:
        return _one_of("route", v, ROUTES)

    @model_validator(mode="after")
    def _last_dose(self) -> Dose:
        last = self.times_h()[-1]
        if self.repeat is not None and last > limits.MAX_TIME_H:
            raise InputError("repeat", self.repeat.model_dump(),
                             f"a schedule whose last dose is at most {limits.MAX_TIME_H:g} h "
                             f"after time 0 (this one: {last:g} h)")
        return self

    def times_h(self) -> tuple[float, ...]:
        """Scenario time (h) of every administration of this entry."""
        t0 = self.at.value
        if self.repeat is None:
            return (t0,)
        step = self.repeat.every.value
        return tuple(t0 + i * step for i in range(self.repeat.count))


class Bath(_Strict):
    """A drug applied to a cell culture or slice at a fixed concentration (species culture),
    washed out after ``duration`` (default: left on)."""

    drug: str
    concentration: Concentration
    at: TimePoint = hours("0 h", 0.0)
    duration: Duration | None = None


class Perturbation(_Strict):
    name: str
    at: TimePoint | None = None
    genotype: str | None = None


class Simulation(_Strict):
    end: Duration = hours("7 d", 168.0)
    output_every: Duration = hours("10 min", 10 / 60)
    observables: list[str] | None = None

    @field_validator("observables")
    @classmethod
    def _some_observables(cls, v: list[str] | None) -> list[str] | None:
        if v is not None and not v:
            raise InputError("observables", v, "at least one observable such as "
                             "'plasma.ketamine' (or no observables key: all of them)")
        return v


class Context(_Strict):
    """How the subject is treated and rated besides the drug (``[context]``); what each field
    does and its source: :class:`raadsim.model.inputs.TrialContext`."""

    blinding: Blinding = "double_blind"
    setting: Setting = "outpatient"
    anaesthesia: StrictBool = False
    expected_experience: ExpectedExperience = "none"
    psychological_support: StrictBool = False
    concomitant: Concomitant = "none"

    def resolved(self) -> TrialContext:
        return TrialContext(**self.model_dump())


class ModelOptions(_Strict):
    """``[model]``: the hypothesis variants to use (question = variant; the others keep their
    default), see :mod:`raadsim.model.hypotheses`."""

    hypotheses: dict[str, str] = {}

    @field_validator("hypotheses")
    @classmethod
    def _known(cls, v: dict[str, str]) -> dict[str, str]:
        hyp.resolve(v, "hypotheses")
        return v

    def resolved(self) -> tuple[tuple[str, str], ...]:
        return hyp.resolve(self.hypotheses)


class _FromFile(_Strict):
    """A file's content (scenario or trial) that remembers the folder it was read from and the
    catalogue resolved from its ``drug_files`` (which each subclass declares)."""

    if TYPE_CHECKING:
        drug_files: list[str]
    _base_dir: Path | None = PrivateAttr(default=None)
    _catalogue: tuple[tuple[str, ...], Catalogue] | None = PrivateAttr(default=None)

    def __eq__(self, other: object) -> bool:
        """Equal content (where the file was read from does not count)."""
        return type(other) is type(self) and self.__dict__ == other.__dict__

    __hash__ = _Strict.__hash__

    @property
    def base_dir(self) -> Path | None:
        """The folder of the file this was read from (None if built in Python)."""
        return self._base_dir

    def drug_file_paths(self, base_dir: Path | None = None) -> list[Path]:
        """The drug files, relative paths taken from ``base_dir`` (default: the file's
        folder)."""
        return drug_file_paths(self.drug_files, base_dir or self._base_dir)

    def catalogue(self, base_dir: Path | None = None) -> Catalogue:
        """The built-in catalogue plus the drug files (relative paths from ``base_dir``,
        default the file's folder); the one the loader checked is kept."""
        kept = self._catalogue
        if base_dir is None and kept is not None and kept[0] == tuple(self.drug_files):
            return kept[1]
        return catalogue_of(self.drug_files, base_dir or self._base_dir)

    def attach(self, base_dir: Path | None, cat: Catalogue | None = None) -> Self:
        """Remember the folder relative drug files are read from and, optionally, the
        catalogue resolved from them; returns ``self``."""
        self._base_dir = base_dir
        self._catalogue = None if cat is None else (tuple(self.drug_files), cat)
        return self


class Scenario(_FromFile):
    """A complete scenario: subject, doses, perturbations, simulation window. A scenario read
    by :func:`load_scenario` remembers its folder and carries its catalogue (the built-in
    drugs plus its drug files): ``raadsim.simulate(raadsim.load_scenario(path))``."""

    subject: Subject = Subject()
    context: Context = Context()
    model: ModelOptions = ModelOptions()
    dose: list[Dose] = []
    bath: list[Bath] = []
    perturbation: list[Perturbation] = []
    simulation: Simulation = Simulation()
    drug_files: list[str] = []

    @model_validator(mode="after")
    def _consistent(self) -> Scenario:
        self._check_species_entries()
        self._check_doses()
        self.window()
        return self

    def _check_species_entries(self) -> None:
        if self.subject.species == "culture" and self.dose:
            raise InputError("dose[0]", self.dose[0].drug,
                             "no doses for species culture: use [[bath]] with a concentration")
        if self.subject.species != "culture" and self.bath:
            raise InputError("bath[0]", self.bath[0].drug, "bath entries only for species "
                             "culture")

    def _check_doses(self) -> None:
        """Each dose within its per-weight limit; all administrations within the limit."""
        species, weight = self.subject.species, self.subject.weight
        for i, d in enumerate(self.dose):
            limit = limits.max_mg_per_kg(species)
            per_kg = d.amount.value if d.amount.unit == "mg/kg" else d.amount.value / weight
            if per_kg > limit:
                extra = "" if d.amount.unit == "mg/kg" else \
                    f"; {limit * weight:g} mg for this {weight:g} kg subject"
                raise InputError(f"dose[{i}].amount", d.amount.given,
                                 f"a dose up to {limit:g} mg/kg for a {species} "
                                 f"({limits.MAX_DOSE_MULTIPLE} times the anaesthetic dose of "
                                 f"ketamine){extra}")
        n = sum(len(d.times_h()) for d in self.dose)
        if n > limits.MAX_ADMINISTRATIONS:
            raise InputError("dose", f"{n} administrations",
                             f"at most {limits.MAX_ADMINISTRATIONS} administrations in all")

    def digest(self) -> str:
        """A stable hash of the scenario content (for run metadata)."""
        blob = json.dumps(self.model_dump(mode="json"), sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()[:16]

    def administrations(self, cat: Catalogue) -> list[Administration]:
        """Doses resolved against the catalogue; errors name the dose entry."""
        species, out = self.subject.species, []
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
            if d.infusion is not None and not drug.routes[species][d.route].infusion:
                raise InputError(f"{where}.infusion", d.infusion.given,
                                 f"no infusion: {d.route} {d.drug} is given at once")
            route = drug.routes[species][d.route]
            if d.formulation is not None and d.formulation not in route.formulations:
                raise InputError(f"{where}.formulation", d.formulation,
                                 f"a formulation of {d.drug} {d.route} in {species}: "
                                 f"{', '.join(sorted(route.formulations)) or '(none)'}")
            per_kg = d.amount.unit == "mg/kg"
            amount = d.amount.value * self.subject.weight if per_kg else d.amount.value
            out.append(Administration(i, d.drug, d.route, amount, d.times_h(),
                                      None if d.infusion is None else d.infusion.value,
                                      d.amount.value if per_kg else None, drug.session,
                                      route.formulation_of(d.formulation)))
        return out

    def baths(self, cat: Catalogue) -> list[BathExposure]:
        """Bath entries resolved against the catalogue (concentrations in µM)."""
        out = []
        for i, b in enumerate(self.bath):
            drug = cat.drug(b.drug, f"bath[{i}].drug")
            if drug.placebo or drug.molar_mass is None:
                raise InputError(f"bath[{i}].drug", b.drug, "an active drug with a formula")
            uM = in_uM(b.concentration, drug.molar_mass)
            _check_uM(f"bath[{i}].concentration", b.concentration.given, uM)
            out.append(BathExposure(b.drug, uM, b.at.value,
                                    None if b.duration is None else b.duration.value))
        return out

    def model_inputs(self, cat: Catalogue) -> ModelInputs:
        """The scenario as the typed values the model builder reads (times in hours,
        amounts in mg, bath concentrations in µM); errors name the entry."""
        perts = tuple(PerturbationInput(p.name, None if p.at is None else p.at.value,
                                        p.genotype) for p in self.perturbation)
        return ModelInputs(self.subject.species, self.subject.weight, self.subject.condition,
                           tuple(self.administrations(cat)), tuple(self.baths(cat)), perts,
                           self.window()[0], self.context.resolved(),
                           Covariates(self.subject.age_years, self.subject.ancestry),
                           self.model.resolved())

    def with_hypotheses(self, choices: dict[str, str] | None) -> Scenario:
        """This scenario with the hypothesis variants ``choices`` on top of its own."""
        if not choices:
            return self
        merged = {**self.model.hypotheses, **choices}
        hyp.resolve(merged)
        return self.model_copy(update={"model": ModelOptions(hypotheses=merged)})

    def validate_perturbations(self) -> None:
        """Names, genotypes and times of the perturbations (errors name the entry)."""
        for i, p in enumerate(self.perturbation):
            validate(p.name, p.genotype, None if p.at is None else p.at.value,
                     f"perturbation[{i}]")

    def window(self) -> tuple[float, float, float]:
        """(start, end, step) in hours; starts before 0 if something happens earlier. The
        end must follow the first event and the grid have at most
        :data:`~raadsim.io.limits.MAX_OUTPUT_POINTS` points."""
        times = [t for d in self.dose for t in d.times_h()]
        times += [b.at.value for b in self.bath]
        times += [p.at.value for p in self.perturbation if p.at is not None]
        start = min([0.0, *times])
        sim = self.simulation
        end, step = sim.end.value, sim.output_every.value
        if end <= start:
            raise InputError("simulation.end", sim.end.given, "a time after the first event "
                             f"({start:g} h)")
        if (end - start) / step > limits.MAX_OUTPUT_POINTS:
            raise InputError("simulation.output_every", sim.output_every.given,
                             f"an interval giving at most {limits.MAX_OUTPUT_POINTS} output "
                             f"rows from {start:g} h to {end:g} h (at least "
                             f"{(end - start) / limits.MAX_OUTPUT_POINTS * 3600:.3g} s)")
        return start, end, step


def drug_file_paths(files: list[str], base_dir: Path | None = None) -> list[Path]:
    """Drug-file paths, relative ones taken from ``base_dir``."""
    return [p if base_dir is None or p.is_absolute() else base_dir / p for p in map(Path, files)]


def catalogue_of(files: list[str], base_dir: Path | None = None) -> Catalogue:
    """The built-in catalogue plus the drug ``files`` (relative to ``base_dir``)."""
    cat = builtin()
    for p in drug_file_paths(files, base_dir):
        cat = cat.with_drug_file(p)
    return cat


def select_observables(spec: ModelSpec, requested: list[str] | None) -> list[str]:
    """The observables of ``spec`` that a run reports: ``requested`` (each must exist), or
    all of them."""
    if requested is None:
        return list(spec.observables)
    missing = [o for o in requested if o not in spec.observables]
    if missing:
        raise InputError("simulation.observables", missing[0],
                         f"an observable of this scenario: {', '.join(sorted(spec.observables))}")
    return list(requested)


def check_scenario(sc: Scenario, base_dir: Path | None = None) -> Catalogue:
    """Everything every command checks before it simulates, exports or explains ``sc``:
    drug files, drugs, routes, concentrations, perturbations and observables (the model is
    built, not integrated). Returns the scenario's catalogue."""
    cat = sc.catalogue(base_dir)
    sc.validate_perturbations()
    spec = build_model(sc, cat)
    requested = sc.simulation.observables
    if requested is not None:
        select_observables(spec, [o for o in requested if o not in eeg.OBSERVABLES])
    return cat


def scenario_from_dict(raw: dict[str, Any]) -> Scenario:
    """Validate a scenario given as a dict (as read from TOML)."""
    try:
        return Scenario.model_validate(raw)
    except ValidationError as exc:
        raise from_validation_error(exc) from None


def load_scenario(path: str | Path) -> Scenario:
    """Read, validate and resolve a scenario file (:func:`check_scenario`); the scenario
    carries its catalogue (``sc.catalogue()``). Raises :class:`InputError` on any problem."""
    path = Path(path)
    sc = scenario_from_dict(read_toml(path, "scenario"))
    return sc.attach(path.parent, check_scenario(sc, path.parent))
