"""Covariate effects of the population PK models: age and ancestry → PK parameters.

The effects, with their sources, are in ``data/parameters/covariates.toml``. Each multiplies
one parameter of the PK layer by a factor of the subject's :class:`Covariates`:

* ``linear_above`` (age): ``1 − slope·max(0, age − threshold)`` (floored at 0.05);
* ``factor`` (ancestry): ``factor`` for the listed ancestries, 1 otherwise.

A single subject's model is built with its own covariates (:mod:`raadsim.model.pk`). A trial
arm is built for the reference subject (no effect) and records, per model parameter, the
effects that act on it (``ModelSpec.covariate_effects``), so each virtual patient's values are
rescaled without recompiling (:func:`raadsim.simulate.population.patient_parameters`). The
bioavailability effect of a route pathway enters the dose fractions, including the remainder
that a later pathway takes (the swallowed part of a nasal spray), so its factor on each
fraction is computed when the model is built, per ancestry.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Literal

from ..errors import InputError
from ..provenance import Param, param_from_table

ANCESTRIES = ("not_asian", "asian", "japanese")
# Numerical guard, not a model value: an age effect never gives less than this factor. It is
# never reached for the ages inputs accept (18-100 years: factor >= 0.42).
FLOOR = 0.05


@dataclass(frozen=True)
class Covariates:
    """What the covariate models read of a subject (None: the reference subject)."""

    age_years: float | None = None
    ancestry: Literal["not_asian", "asian", "japanese"] = "not_asian"


REFERENCE = Covariates()


@dataclass(frozen=True)
class Effect:
    """One covariate effect on one parameter."""

    parameter: str  # PK parameter key (Qh, kel_h, CL, ...) or pathway key (F)
    covariate: str  # "age" or "ancestry"
    form: str  # "linear_above" or "factor"
    description: str
    analyte: str | None = None
    drug: str | None = None
    route: str | None = None
    pathway: str | None = None
    levels: tuple[str, ...] = ()
    threshold: Param | None = None
    slope: Param | None = None
    factor_param: Param | None = None

    def factor(self, c: Covariates) -> float:
        """The multiplier this effect gives subject ``c``."""
        if self.covariate == "age":
            if c.age_years is None:
                return 1.0
            assert self.threshold is not None and self.slope is not None
            excess = max(0.0, c.age_years - self.threshold.in_unit("yr"))
            return max(FLOOR, 1.0 - self.slope.in_unit("1/yr") * excess)
        assert self.factor_param is not None
        return self.factor_param.in_unit("dimensionless") if c.ancestry in self.levels else 1.0

    def params(self) -> list[Param]:
        return [p for p in (self.threshold, self.slope, self.factor_param) if p is not None]


@lru_cache(maxsize=1)
def effects() -> tuple[Effect, ...]:
    """Every covariate effect, read once from the data file."""
    where = "data/parameters/covariates.toml"
    path = resources.files("raadsim").joinpath("data", "parameters", "covariates.toml")
    raw = tomllib.loads(path.read_text(encoding="utf-8"))
    out = []
    for i, e in enumerate(raw.get("effect", [])):
        w = f"{where}:effect[{i}]"
        if e.get("covariate") not in ("age", "ancestry"):
            raise InputError(f"{w}.covariate", e.get("covariate"), "age or ancestry")
        form = {"age": "linear_above", "ancestry": "factor"}[e["covariate"]]
        if e.get("form") != form:
            raise InputError(f"{w}.form", e.get("form"), form)
        levels = tuple(e.get("levels", ()))
        bad = [lv for lv in levels if lv not in ANCESTRIES[1:]]
        if bad:
            raise InputError(f"{w}.levels", bad[0], ", ".join(ANCESTRIES[1:]))

        def par(key: str, _e=e, _w=w) -> Param | None:
            return param_from_table(key, _e[key], f"{_w}.{key}") if key in _e else None

        out.append(Effect(
            parameter=e["parameter"], covariate=e["covariate"], form=form,
            description=e["description"], analyte=e.get("analyte"), drug=e.get("drug"),
            route=e.get("route"), pathway=e.get("pathway"), levels=levels,
            threshold=par("threshold"), slope=par("slope"), factor_param=par("factor")))
    return tuple(out)


def analyte_effects(analyte: str, species: str) -> list[Effect]:
    """Effects on the disposition parameters of ``analyte`` (human popPK models only)."""
    if species != "human":
        return []
    return [e for e in effects() if e.analyte == analyte]


def pathway_effects(drug: str, route: str, pathway: str, species: str) -> list[Effect]:
    """Effects on the bioavailability of one pathway of a drug's route."""
    if species != "human":
        return []
    return [e for e in effects()
            if e.drug == drug and e.route == route and e.pathway == pathway]


def combined(effs: list[Effect], c: Covariates) -> float:
    f = 1.0
    for e in effs:
        f *= e.factor(c)
    return f


@dataclass(frozen=True)
class CovariateRule:
    """How one model parameter depends on the covariates, relative to the reference subject:
    the product of its age effects and a factor per ancestry (missing: 1)."""

    age: tuple[Effect, ...] = ()
    ancestry: tuple[tuple[str, float], ...] = ()

    def factor(self, c: Covariates) -> float:
        f = combined(list(self.age), c)
        return f * dict(self.ancestry).get(c.ancestry, 1.0)

    def relative(self, patient: Covariates, built: Covariates) -> float:
        """The factor for ``patient`` of a model built for ``built``."""
        return self.factor(patient) / self.factor(built)


def rule_of(effs: list[Effect]) -> CovariateRule:
    """The rule of a parameter's effects."""
    age = tuple(e for e in effs if e.covariate == "age")
    anc = {lv: 1.0 for lv in ANCESTRIES[1:]}
    for e in effs:
        if e.covariate == "ancestry":
            for lv in anc:
                anc[lv] *= e.factor(Covariates(ancestry=lv))  # type: ignore[arg-type]
    return CovariateRule(age, tuple((k, v) for k, v in anc.items() if v != 1.0))
