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
Problems are reported as one :class:`~raadsim.errors.InputError` naming the field.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError, field_validator, model_validator

from ..drugs.catalogue import Catalogue
from ..errors import InputError
from ..provenance import parameter_file
from ..units import parse_duration, parse_time
from .scenario import (
    CONDITIONS,
    Context,
    Dose,
    Perturbation,
    Repeat,
    Scenario,
    Simulation,
    Subject,
    _as_input_error,
    _Strict,
    read_toml,
)

GENOTYPES = ("val/val", "val/met", "met/met")
# A newly started oral antidepressant (context concomitant = "new_antidepressant"): daily oral
# escitalopram 10 mg in every arm, standing for the four antidepressants of the esketamine
# trials (duloxetine, escitalopram, sertraline, venlafaxine XR; TRANSFORM-2), from day 0 to
# the end of the trial.
NEW_ANTIDEPRESSANT = Dose(drug="escitalopram", amount="10 mg", route="oral", at="0 h")
IIV_KEYS = ("clearance", "volume", "sensitivity", "placebo", "nonspecific")
MAX_PATIENTS = 1_000_000


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
        lo = -float("inf") if self.min is None else self.min
        hi = float("inf") if self.max is None else self.max
        if not lo <= self.mean <= hi:
            raise InputError("mean", self.mean, f"a mean within [min, max] = [{lo}, {hi}]")
        return self


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
                raise InputError("population.ancestry", k, "asian or japanese (fractions; the "
                                 "rest are not Asian)")
            if isinstance(x, bool) or not isinstance(x, int | float) or not 0 <= x <= 1:
                raise InputError(f"population.ancestry.{k}", x, "a fraction from 0 to 1")
        if sum(v.values()) > 1 + 1e-9:
            raise InputError("population.ancestry", v, "fractions adding up to at most 1")
        return {k: float(x) for k, x in v.items()}

    @field_validator("n")
    @classmethod
    def _n(cls, v: int) -> int:
        if not 1 <= v <= MAX_PATIENTS:
            raise InputError("n", v, f"a number of patients per arm from 1 to {MAX_PATIENTS}")
        return v

    @field_validator("seed")
    @classmethod
    def _seed(cls, v: int) -> int:
        if v < 0:
            raise InputError("seed", v, "a whole number >= 0")
        return v

    @field_validator("condition")
    @classmethod
    def _condition(cls, v: str) -> str:
        allowed = [c for c in CONDITIONS if c != "chronic_stress"]
        if v not in allowed:
            raise InputError("condition", v, f"one of {', '.join(allowed)}")
        return v

    @field_validator("female")
    @classmethod
    def _female(cls, v: float | None) -> float | None:
        if v is not None and not 0 <= v <= 1:
            raise InputError("female", v, "a fraction from 0 to 1")
        return v

    @field_validator("genotype")
    @classmethod
    def _genotype(cls, v: dict[str, float] | None) -> dict[str, float] | None:
        if v is None:
            return v
        for k, f in v.items():
            if k not in GENOTYPES:
                raise InputError(f"genotype.{k}", k, f"a BDNF Val66Met genotype: {GENOTYPES}")
            if f < 0:
                raise InputError(f"genotype.{k}", f, "a frequency >= 0")
        if abs(sum(v.values()) - 1) > 1e-6:
            raise InputError("genotype", v, "frequencies that sum to 1")
        return v

    @field_validator("iiv")
    @classmethod
    def _iiv(cls, v: dict[str, float] | None) -> dict[str, float] | None:
        for k, cv in (v or {}).items():
            if k not in IIV_KEYS:
                raise InputError(f"iiv.{k}", k, f"one of {', '.join(IIV_KEYS)}")
            if not 0 <= cv <= 3:
                raise InputError(f"iiv.{k}", cv, "a coefficient of variation from 0 to 3 "
                                 "(nonspecific: an SD on the logit scale, 0 to 3)")
        return v

    @field_validator("rating_sd")
    @classmethod
    def _rating_sd(cls, v: float | None) -> float | None:
        if v is not None and not 0 <= v <= 20:
            raise InputError("rating_sd", v, "a rating-noise SD from 0 to 20 MADRS points")
        return v


class Arm(_Strict):
    name: str
    dose: list[Dose] = Field(default_factory=list)
    perturbation: list[Perturbation] = Field(default_factory=list)

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not re.fullmatch(r"[A-Za-z0-9_.\-]+", v):
            raise InputError("name", v, "an arm name of letters, digits, '_', '-' or '.'")
        return v


class TrialDesign(_Strict):
    visits: list[str]
    response: str = "50%"
    remission: str = "madrs <= 10"
    relapse: str | None = None
    design: Literal["parallel", "paired"] = "parallel"
    control: str | None = None
    output_every: str = "6 h"
    end: str | None = None
    observables: list[str] = Field(default_factory=lambda: ["clinic.madrs"])
    context: Context = Field(default_factory=Context)
    arm: list[Arm]

    @field_validator("visits")
    @classmethod
    def _visits(cls, v: list[str]) -> list[str]:
        if not v:
            raise InputError("visits", v, "at least one visit time such as '1 d'")
        times = [parse_time(x, "visits") for x in v]
        if any(t <= 0 for t in times) or times != sorted(set(times)):
            raise InputError("visits", v, "visit times after 0, ascending and distinct")
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

    @field_validator("output_every")
    @classmethod
    def _every(cls, v: str) -> str:
        parse_duration(v, "output_every", "6 h")
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
    def _control(self) -> TrialDesign:
        names = [a.name for a in self.arm]
        if self.control is not None and self.control not in names:
            raise InputError("control", self.control, f"one of the arms: {', '.join(names)}")
        if self.end is not None and parse_time(self.end, "end") < self.visit_times_h()[-1]:
            raise InputError("end", self.end, "a time at or after the last visit")
        return self

    def visit_times_h(self) -> list[float]:
        return [parse_time(x, "visits") for x in self.visits]

    def end_h(self) -> float:
        return parse_time(self.end, "end") if self.end else self.visit_times_h()[-1]

    def control_arm(self) -> str:
        """The reference arm of the contrasts: ``control``, else the last arm."""
        return self.control or self.arm[-1].name


def response_fraction(text: str) -> float:
    """``"50%"`` → 0.5: the MADRS reduction from baseline that counts as response."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*%\s*", text)
    if not m or not 0 < float(m.group(1)) <= 100:
        raise InputError("response", text, "a reduction from baseline such as '50%'")
    return float(m.group(1)) / 100


def remission_cutoff(text: str) -> float:
    """``"madrs <= 10"`` → 10."""
    m = re.fullmatch(r"\s*madrs\s*<=\s*(\d+(?:\.\d+)?)\s*", text)
    if not m:
        raise InputError("remission", text, "a MADRS cut-off such as 'madrs <= 10'")
    return float(m.group(1))


class TrialFile(_Strict):
    """A virtual trial: one population, several arms."""

    population: PopulationSpec
    trial: TrialDesign
    drug_files: list[str] = Field(default_factory=list)

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
        return Scenario(
            context=self.trial.context,
            subject=Subject(species="human",
                            weight_kg=self.typical_weight_kg() if weight_kg is None else weight_kg,
                            condition=self.population.condition),
            dose=doses, perturbation=arm.perturbation,
            simulation=Simulation(end=f"{self.trial.end_h()} h",
                                  output_every=self.trial.output_every,
                                  observables=self.trial.observables),
            drug_files=self.drug_files)

    def validate_arms(self, cat: Catalogue) -> None:
        """Resolve every arm's doses and perturbations now, so errors name the arm."""
        for i, arm in enumerate(self.trial.arm):
            sc = self.arm_scenario(arm)
            try:
                sc.administrations(cat)
                sc.window()
                sc.validate_perturbations()
                if any(p.name == "bdnf_val66met" for p in arm.perturbation):
                    raise InputError("perturbation", "bdnf_val66met",
                                     "genotypes in [population.genotype], not as an arm "
                                     "perturbation")
            except InputError as exc:
                raise InputError(f"trial.arm[{i}].{exc.field}", exc.value, exc.accepted) from None


def trial_from_dict(raw: dict[str, Any]) -> TrialFile:
    """Validate a trial given as a dict (as read from TOML)."""
    try:
        return TrialFile.model_validate(raw)
    except ValidationError as exc:
        raise _as_input_error(exc) from None


def load_trial(path: str | Path) -> tuple[TrialFile, Catalogue]:
    """Read, validate and resolve a trial file. Raises :class:`InputError` on any problem."""
    path = Path(path)
    raw = read_toml(path, "trial")
    tf = trial_from_dict(raw)
    cat = tf.arm_scenario(tf.trial.arm[0]).catalogue(path.parent)
    tf.validate_arms(cat)
    return tf, cat
