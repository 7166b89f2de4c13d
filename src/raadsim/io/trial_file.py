"""Trial files (TOML) and their Python API: a virtual population and the arms it is given.

::

    [population]
    n = 500                 # patients per arm
    seed = 7
    condition = "trd"

    [trial]
    visits = ["40 min", "4 h", "1 d", "3 d", "7 d", "14 d"]
    response = "50%"
    remission = "madrs <= 10"
    relapse = "response lost"

    [[trial.arm]]
    name = "ketamine"
    [[trial.arm.dose]]
    drug = "ketamine"
    amount = "0.5 mg/kg"
    route = "iv"
    infusion = "40 min"

Population defaults (covariates, variability, genotype frequencies, rating noise) come from
``data/parameters/population.toml`` with their provenance; every one can be overridden.
Values are strictly typed, finite and inside the ranges of :mod:`raadsim.io.limits`; every
arm is checked as a scenario (:func:`~raadsim.io.scenario.check_scenario`) before anything is
simulated. Problems are reported as one :class:`~raadsim.errors.InputError` naming the field.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, PrivateAttr, ValidationError, field_validator, model_validator

from ..drugs.catalogue import Catalogue
from ..errors import InputError, from_validation_error
from ..provenance import parameter_file
from ..units import parse_time
from . import limits
from .limits import MAX_PATIENTS, check_range
from .scenario import (
    CONDITIONS,
    RODENT_CONDITIONS,
    Context,
    Dose,
    Duration,
    ModelOptions,
    Perturbation,
    Repeat,
    Scenario,
    Simulation,
    Subject,
    _FromFile,
    _Strict,
    check_scenario,
    hours,
    read_toml,
)

GENOTYPES = ("val/val", "val/met", "met/met")
# A newly started oral antidepressant (context concomitant = "new_antidepressant"): daily oral
# escitalopram 10 mg in every arm, standing for the four antidepressants of the esketamine
# trials (duloxetine, escitalopram, sertraline, venlafaxine XR; TRANSFORM-2), from day 0 to
# the end of the trial.
NEW_ANTIDEPRESSANT = Dose(drug="escitalopram", amount="10 mg", route="oral", at="0 h")
IIV_KEYS = ("clearance", "volume", "sensitivity", "placebo", "nonspecific")
__all__ = ["MAX_PATIENTS", "TrialFile", "load_trial", "trial_from_dict"]


class Distribution(_Strict):
    """A normal distribution truncated to ``[min, max]`` (by resampling)."""

    mean: float
    sd: float
    min: float | None = None
    max: float | None = None

    @model_validator(mode="after")
    def _check(self) -> Distribution:
        if self.sd < 0:
            raise InputError("sd", self.sd, "a standard deviation >= 0")
        lo = -math.inf if self.min is None else self.min
        hi = math.inf if self.max is None else self.max
        if not lo <= self.mean <= hi:
            raise InputError("mean", self.mean, f"a mean within [min, max] = [{lo}, {hi}]")
        return self

    def within(self, lo: float, hi: float, unit: str) -> Distribution:
        """This distribution checked against the plausible range ``[lo, hi]`` and truncated
        to it where ``min`` or ``max`` is not given."""
        for key in ("mean", "min", "max"):
            v = getattr(self, key)
            if v is not None:
                check_range(key, v, v, lo, hi, unit, "a value")
        check_range("sd", self.sd, self.sd, 0.0, hi - lo, unit, "a standard deviation")
        return self.model_copy(update={"min": lo if self.min is None else self.min,
                                       "max": hi if self.max is None else self.max})


_DISTRIBUTION_RANGES = {"weight_kg": (*limits.WEIGHT_RANGE_KG["human"], "kg"),
                        "age": (*limits.AGE_RANGE, "years"),
                        "madrs_baseline": (*limits.MADRS_RANGE, "MADRS points")}


class PopulationSpec(_Strict):
    n: int
    seed: int = 0
    condition: str = "trd"
    weight_kg: Distribution | None = None
    age: Distribution | None = None
    female: float | None = None
    madrs_baseline: Distribution | None = None
    genotype: dict[str, float] | None = None
    # fractions of Asian (not Japanese) and Japanese patients; the rest are not Asian
    ancestry: dict[str, float] | None = None
    iiv: dict[str, float] | None = None
    rating_sd: float | None = None

    @field_validator("ancestry")
    @classmethod
    def _ancestry(cls, v: dict[str, float] | None) -> dict[str, float] | None:
        if v is None:
            return v
        for k, x in v.items():
            if k not in ("asian", "japanese"):
                raise InputError("ancestry", k, "asian or japanese (fractions; the "
                                 "rest are not Asian)")
            if isinstance(x, bool) or not isinstance(x, int | float) or not 0 <= x <= 1:
                raise InputError(f"ancestry.{k}", x, "a fraction from 0 to 1")
        if sum(v.values()) > 1 + 1e-9:
            raise InputError("ancestry", v, "fractions adding up to at most 1")
        return {k: float(x) for k, x in v.items()}

    @field_validator("n")
    @classmethod
    def _n(cls, v: int) -> int:
        return int(check_range("n", v, v, 1, MAX_PATIENTS, "", "a number of patients per arm"))

    @field_validator("seed")
    @classmethod
    def _seed(cls, v: int) -> int:
        return int(check_range("seed", v, v, 0, limits.MAX_SEED, "", "a whole number"))

    @field_validator("condition")
    @classmethod
    def _condition(cls, v: str) -> str:
        allowed = [c for c in CONDITIONS if c not in RODENT_CONDITIONS]
        if v not in allowed:
            raise InputError("condition", v, f"one of {', '.join(allowed)}")
        return v

    @field_validator("weight_kg", "age", "madrs_baseline")
    @classmethod
    def _plausible(cls, v: Distribution | None, info) -> Distribution | None:
        if v is None:
            return v
        lo, hi, unit = _DISTRIBUTION_RANGES[info.field_name]
        try:
            return v.within(lo, hi, unit)
        except InputError as exc:
            raise InputError(f"{info.field_name}.{exc.field}", exc.value, exc.accepted
                             ) from None

    @field_validator("female")
    @classmethod
    def _female(cls, v: float | None) -> float | None:
        if v is not None:
            check_range("female", v, v, 0.0, 1.0, "", "a fraction")
        return v

    @field_validator("genotype")
    @classmethod
    def _genotype(cls, v: dict[str, float] | None) -> dict[str, float] | None:
        if v is None:
            return v
        for k, f in v.items():
            if k not in GENOTYPES:
                raise InputError(f"genotype.{k}", k, f"a BDNF Val66Met genotype: {GENOTYPES}")
            check_range(f"genotype.{k}", f, f, 0.0, 1.0, "", "a frequency")
        if abs(sum(v.values()) - 1) > 1e-6:
            raise InputError("genotype", v, "frequencies that sum to 1")
        return v

    @field_validator("iiv")
    @classmethod
    def _iiv(cls, v: dict[str, float] | None) -> dict[str, float] | None:
        for k, cv in (v or {}).items():
            if k not in IIV_KEYS:
                raise InputError(f"iiv.{k}", k, f"one of {', '.join(IIV_KEYS)}")
            check_range(f"iiv.{k}", cv, cv, 0.0, limits.MAX_IIV_CV, "",
                        "a coefficient of variation")
        return v

    @field_validator("rating_sd")
    @classmethod
    def _rating_sd(cls, v: float | None) -> float | None:
        if v is not None:
            check_range("rating_sd", v, v, 0.0, limits.MAX_RATING_SD, "MADRS points",
                        "a rating-noise SD")
        return v


class Arm(_Strict):
    name: str
    dose: list[Dose] = Field(default_factory=list)
    perturbation: list[Perturbation] = Field(default_factory=list)

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not re.fullmatch(r"[A-Za-z0-9_.\-]{1,64}", v):
            raise InputError("name", v, "an arm name of 1 to 64 letters, digits, '_', '-' or "
                             "'.'")
        return v


class TrialDesign(_Strict):
    visits: list[str]
    response: str = "50%"
    remission: str = "madrs <= 10"
    relapse: str | None = None
    design: Literal["parallel", "paired"] = "parallel"
    control: str | None = None
    output_every: Duration = hours("6 h", 6.0)
    end: Duration | None = None
    observables: list[str] = Field(default_factory=lambda: ["clinic.madrs"])
    context: Context = Field(default_factory=Context)
    arm: list[Arm]
    _visits_h: tuple[float, ...] = PrivateAttr(default=())

    @field_validator("visits")
    @classmethod
    def _visits(cls, v: list[str]) -> list[str]:
        if not v:
            raise InputError("visits", v, "at least one visit time such as '1 d'")
        if len(v) > limits.MAX_OUTPUT_POINTS:
            raise InputError("visits", f"{len(v)} visits",
                             f"at most {limits.MAX_OUTPUT_POINTS} visits")
        for i, x in enumerate(v):
            t = parse_time(x, f"visits[{i}]")
            check_range(f"visits[{i}]", x, t, 0.0, limits.MAX_TIME_H, "h", "a visit time",
                        lo_open=True)
        return v

    @field_validator("response")
    @classmethod
    def _response(cls, v: str) -> str:
        response_fraction(v)
        return v

    @field_validator("remission")
    @classmethod
    def _remission(cls, v: str) -> str:
        remission_cutoff(v)
        return v

    @field_validator("relapse")
    @classmethod
    def _relapse(cls, v: str | None) -> str | None:
        if v is not None and v != "response lost":
            raise InputError("relapse", v, "'response lost' (or leave it out)")
        return v

    @field_validator("arm")
    @classmethod
    def _arms(cls, v: list[Arm]) -> list[Arm]:
        if not v:
            raise InputError("arm", v, "at least one [[trial.arm]]")
        names = [a.name for a in v]
        if len(set(names)) != len(names):
            raise InputError("arm", names, "distinct arm names")
        return v

    @model_validator(mode="after")
    def _schedule(self) -> TrialDesign:
        times = tuple(parse_time(x, "visits") for x in self.visits)
        if list(times) != sorted(set(times)):
            raise InputError("visits", self.visits, "visit times ascending and distinct")
        self._visits_h = times
        names = [a.name for a in self.arm]
        if self.control is not None and self.control not in names:
            raise InputError("control", self.control, f"one of the arms: {', '.join(names)}")
        if self.end is not None and self.end.value < times[-1]:
            raise InputError("end", self.end.given, "a time at or after the last visit")
        rows = self.end_h() / self.output_every.value + len(times)
        if rows > limits.MAX_OUTPUT_POINTS:
            raise InputError("output_every", self.output_every.given,
                             f"an interval giving at most {limits.MAX_OUTPUT_POINTS} output "
                             f"rows up to {self.end_h():g} h")
        return self

    def visit_times_h(self) -> list[float]:
        return list(self._visits_h)

    def end_h(self) -> float:
        return self.end.value if self.end is not None else self._visits_h[-1]

    def control_arm(self) -> str:
        """The reference arm of the contrasts: ``control``, else the last arm."""
        return self.control or self.arm[-1].name


def response_fraction(text: str) -> float:
    """``"50%"`` → 0.5: the MADRS reduction from baseline that counts as response."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*%\s*", text)
    if not m or not 0 < float(m.group(1)) <= 100:
        raise InputError("response", text, "a reduction from baseline such as '50%' "
                         "(above 0 to 100 %)")
    return float(m.group(1)) / 100


def remission_cutoff(text: str) -> float:
    """``"madrs <= 10"`` → 10."""
    m = re.fullmatch(r"\s*madrs\s*<=\s*(\d+(?:\.\d+)?)\s*", text)
    if not m or not float(m.group(1)) <= limits.MADRS_RANGE[1]:
        raise InputError("remission", text, "a MADRS cut-off such as 'madrs <= 10' (0 to 60)")
    return float(m.group(1))


# Scenario fields an arm takes from [trial]: their errors are named there.
_FROM_TRIAL = {"simulation.end": "trial.end", "simulation.output_every": "trial.output_every",
               "simulation.observables": "trial.observables"}


class TrialFile(_FromFile):
    """A virtual trial: one population, several arms."""

    population: PopulationSpec
    trial: TrialDesign
    model: ModelOptions = Field(default_factory=ModelOptions)
    drug_files: list[str] = Field(default_factory=list)

    def with_hypotheses(self, choices: dict[str, str] | None) -> TrialFile:
        """This trial with the hypothesis variants ``choices`` on top of its own."""
        if not choices:
            return self
        merged = {**self.model.hypotheses, **choices}
        return self.model_copy(update={"model": ModelOptions(hypotheses=merged)})

    def typical_weight_kg(self) -> float:
        """The population's mean body weight (the subject every arm's model is built for)."""
        if self.population.weight_kg is not None:
            return self.population.weight_kg.mean
        return parameter_file("population")["weight_mean"].in_unit("kg")

    def arm_scenario(self, arm: Arm, weight_kg: float | None = None) -> Scenario:
        """The single-subject scenario of one arm for a subject of ``weight_kg`` (default: the
        population's mean weight, the typical patient)."""
        doses = list(arm.dose)
        if self.trial.context.concomitant == "new_antidepressant":
            doses.append(NEW_ANTIDEPRESSANT.model_copy(update={
                "repeat": Repeat(every="1 d", count=max(1, math.ceil(self.trial.end_h() / 24)))}))
        try:
            return Scenario(
                context=self.trial.context,
                subject=Subject(species="human",
                                weight_kg=self.typical_weight_kg() if weight_kg is None
                                else weight_kg,
                                condition=self.population.condition),
                dose=doses, perturbation=arm.perturbation, model=self.model,
                simulation=Simulation(end=f"{self.trial.end_h()!r} h",
                                      output_every=self.trial.output_every,
                                      observables=self.trial.observables),
                drug_files=self.drug_files).attach(
                    self._base_dir, None if self._catalogue is None else self._catalogue[1])
        except ValidationError as exc:
            raise from_validation_error(exc) from None

    def _weights_kg(self) -> list[float]:
        """The typical patient's weight and, when lower, the lightest patient's."""
        w = self.population.weight_kg
        lightest = w.min if w is not None and w.min is not None else None
        return [self.typical_weight_kg(), *([lightest] if lightest is not None else [])]

    def validate_arms(self, cat: Catalogue) -> None:
        """Check every arm as a scenario now (for the typical and the lightest patient), so
        errors name the arm before anything is simulated."""
        for i, arm in enumerate(self.trial.arm):
            try:
                if any(p.name == "bdnf_val66met" for p in arm.perturbation):
                    raise InputError("perturbation", "bdnf_val66met",
                                     "genotypes in [population.genotype], not as an arm "
                                     "perturbation")
                for w in self._weights_kg():
                    check_scenario(self.arm_scenario(arm, w), cat)
            except InputError as exc:
                field = _FROM_TRIAL.get(exc.field, f"trial.arm[{i}].{exc.field}")
                raise InputError(field, exc.value, exc.accepted) from None


def trial_from_dict(raw: dict[str, Any]) -> TrialFile:
    """Validate a trial given as a dict (as read from TOML)."""
    try:
        return TrialFile.model_validate(raw)
    except ValidationError as exc:
        raise from_validation_error(exc) from None


def load_trial(path: str | Path) -> TrialFile:
    """Read, validate and resolve a trial file; the trial carries its catalogue
    (``tf.catalogue()``). Raises :class:`InputError` on any problem."""
    path = Path(path)
    tf = trial_from_dict(read_toml(path, "trial"))
    cat = tf.catalogue(path.parent)
    tf.validate_arms(cat)
    return tf.attach(path.parent, cat)
