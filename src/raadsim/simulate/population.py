"""Virtual patients: covariates, genotype, baseline severity and inter-individual variability.

Patient ``i`` of arm ``k`` is drawn from its own random stream, seeded by
``(seed, k, i)`` (``(seed, 0, i)`` for every arm in a ``paired`` design), so a patient is the
same whatever the executor, the chunk size or the number of patients simulated.

What varies, and where its size comes from (``data/parameters/population.toml``):

* body weight → every weight-scaled PK parameter (allometry of the PK layer) and per-kg doses;
* clearance (CL, or hepatic flow Qh) and central volume Vc: log-normal, literature IIV;
* age and ancestry → the covariate effects of the population PK models
  (``data/parameters/covariates.toml``: esketamine hepatic flow above 60 years, Asian and
  Japanese elimination and nasal absorption; :mod:`raadsim.model.covariates`);
* BDNF Val66Met genotype → ``release_genotype`` (activity-dependent BDNF release);
* baseline MADRS (truncated normal by condition) → ``madrs_baseline``;
* drug sensitivity → ``R50_relief`` ÷ exp(eta); placebo responsiveness → ``p_placebo`` × exp(eta);
* rating noise: each visit's rated MADRS = model MADRS + N(0, rating_sd), rounded, 0–60.

Sex is drawn and reported but has no effect (Perez-Ruixo 2021 tested it and did not retain
it); age acts only through the esketamine popPK's hepatic-flow effect.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from ..io.trial_file import GENOTYPES, Distribution, PopulationSpec
from ..model.build import condition_params
from ..model.covariates import REFERENCE, CovariateRule, Covariates
from ..perturb.catalogue import registry
from ..provenance import Param, parameter_file

CLEARANCE_PREFIXES = ("CL_", "Qh_")
VOLUME_PREFIXES = ("Vc_",)


def defaults() -> dict[str, Param]:
    """Population defaults with provenance."""
    return parameter_file("population")


def _omega(cv: float) -> float:
    return math.sqrt(math.log1p(cv * cv))


def _truncnorm(rng: np.random.Generator, d: Distribution) -> float:
    lo = -math.inf if d.min is None else d.min
    hi = math.inf if d.max is None else d.max
    if d.sd == 0:
        return d.mean
    for _ in range(1000):
        x = rng.normal(d.mean, d.sd)
        if lo <= x <= hi:
            return float(x)
    return float(min(max(d.mean, lo), hi))


@dataclass(frozen=True)
class Patient:
    """One virtual patient: covariates, random effects and rating noise per visit."""

    index: int
    weight_kg: float
    age: float
    female: bool
    genotype: str
    madrs_baseline: float  # the rated baseline (what the trial reports and change is from)
    eta_clearance: float
    eta_volume: float
    eta_sensitivity: float
    eta_placebo: float
    rating_noise: tuple[float, ...]
    madrs_true: float = 0.0  # the true severity, the rated baseline less its rating error
    eta_nonspecific: float = 0.0
    si_baseline: float = 0.0  # MADRS item 10 at baseline (0-6)
    z: tuple[float, ...] = ()  # the standard-normal draws behind the etas (sensitivity,
    # placebo, non-specific) and the baseline rating error, for fits that rescale them
    ancestry: str = "not_asian"

    @property
    def covariates(self) -> Covariates:
        return Covariates(self.age, self.ancestry)  # type: ignore[arg-type]


@dataclass(frozen=True)
class PopulationModel:
    """The resolved distributions of a population (spec values, else the defaults)."""

    n: int
    seed: int
    condition: str
    weight: Distribution
    age: Distribution
    female: float
    madrs: Distribution
    genotype: dict[str, float]
    omega: dict[str, float]
    rating_sd: float
    si: Distribution | None = None
    ancestry: tuple[tuple[str, float], ...] = ()  # (asian, fraction), (japanese, fraction)

    @classmethod
    def from_spec(cls, spec: PopulationSpec) -> PopulationModel:
        d = {k: p.value for k, p in defaults().items()}

        cond = spec.condition
        m0 = condition_params()[cond]["madrs_baseline"].value
        depressed = cond != "healthy"
        madrs = spec.madrs_baseline or Distribution(
            mean=m0, sd=d[f"madrs_sd_{cond}"],
            min=d["madrs_inclusion"] if depressed else 0.0, max=60.0)
        het, hom = d["freq_val_met"], d["freq_met_met"]
        genotype = spec.genotype or {"val/val": 1 - het - hom, "val/met": het, "met/met": hom}
        iiv = {"clearance": d["iiv_clearance"], "volume": d["iiv_volume"],
               "sensitivity": d["iiv_sensitivity"], "placebo": d["iiv_placebo"],
               **(spec.iiv or {})}
        si0 = condition_params()[cond]["si_baseline"].value
        return cls(
            n=spec.n, seed=spec.seed, condition=cond,
            weight=spec.weight_kg or Distribution(mean=d["weight_mean"], sd=d["weight_sd"],
                                                  min=45.0, max=150.0),
            age=spec.age or Distribution(mean=d["age_mean"], sd=d["age_sd"], min=18.0, max=75.0),
            female=d["female_fraction"] if spec.female is None else spec.female,
            madrs=madrs, genotype={g: genotype.get(g, 0.0) for g in GENOTYPES},
            omega={**{k: _omega(cv) for k, cv in iiv.items()},
                   "nonspecific": (spec.iiv or {}).get("nonspecific", d["iiv_nonspecific"])},
            rating_sd=d["rating_sd"] if spec.rating_sd is None else spec.rating_sd,
            si=Distribution(mean=si0, sd=d["si_sd"] if si0 > 0 else 0.0, min=0.0, max=6.0),
            ancestry=tuple(sorted((spec.ancestry or {}).items())),
        )

    def patient(self, stream: int, index: int, n_visits: int) -> Patient:
        """Patient ``index`` of random stream ``stream`` (the arm, or 0 when paired)."""
        rng = np.random.default_rng([self.seed, stream, index])
        weight = _truncnorm(rng, self.weight)
        age = _truncnorm(rng, self.age)
        female = bool(rng.random() < self.female)
        geno = GENOTYPES[int(np.searchsorted(np.cumsum(list(self.genotype.values())),
                                             rng.random(), side="right").clip(0, 2))]
        madrs = _truncnorm(rng, self.madrs)
        eta = rng.normal(0.0, 1.0, 4)
        noise = rng.normal(0.0, 1.0, n_visits) * self.rating_sd
        # drawn after the earlier draws, so every earlier quantity of a patient is unchanged
        z_nonspecific, z_error = rng.normal(0.0, 1.0, 2)
        si = _truncnorm(rng, self.si) if self.si is not None else 0.0
        ancestry = "not_asian"
        if self.ancestry:  # drawn last, so a population without ancestries keeps its patients
            u, acc = rng.random(), 0.0
            for level, frac in self.ancestry:
                acc += frac
                if u < acc:
                    ancestry = level
                    break
        return Patient(index, weight, age, female, geno, madrs,
                       float(eta[0] * self.omega["clearance"]),
                       float(eta[1] * self.omega["volume"]),
                       float(eta[2] * self.omega["sensitivity"]),
                       float(eta[3] * self.omega["placebo"]),
                       tuple(float(x) for x in noise),
                       madrs_true=self.true_severity(madrs, float(z_error)),
                       eta_nonspecific=float(z_nonspecific * self.omega["nonspecific"]),
                       si_baseline=float(si),
                       z=(float(eta[2]), float(eta[3]), float(z_nonspecific), float(z_error)),
                       ancestry=ancestry)

    def true_severity(self, rated: float, z_error: float) -> float:
        """The severity behind a rated baseline: the rating error e given the rating B is
        normal with mean k(B - mean) and variance s²(1 - k), k = s²/SD² (s the rating noise,
        SD the baseline SD). Patients rated high are on average rated too high, so they
        improve by regression to the mean."""
        sd, s = self.madrs.sd, self.rating_sd
        if sd <= 0 or s <= 0:
            return rated
        k = min(s * s / (sd * sd), 1.0)
        error = k * (rated - self.madrs.mean) + math.sqrt(s * s * (1 - k)) * z_error
        return float(min(max(rated - error, 0.0), 60.0))


def genotype_release(genotype: str) -> float:
    """Activity-dependent BDNF release of a genotype relative to Val/Val (perturbation data)."""
    if genotype == "val/val":
        return 1.0
    key = "release_genotype_" + genotype.replace("/", "_")
    return registry()["bdnf_val66met"].effects[key].value


@lru_cache(maxsize=64)
def _pk_names(names: tuple[str, ...]) -> tuple[str, ...]:
    """Clearance and central-volume parameters among the weight-scaled PK parameters."""
    return tuple(n for n in names if n.startswith(CLEARANCE_PREFIXES + VOLUME_PREFIXES))


def patient_parameters(p: Patient, params: dict[str, float], weight_exponents: dict[str, float],
                       per_kg_inputs: dict[str, float], build_weight: float,
                       covariate_rules: dict[str, CovariateRule] | None = None,
                       build_covariates: Covariates = REFERENCE) -> dict[str, float]:
    """Parameter values of patient ``p`` for a model built for a ``build_weight`` kg subject
    with ``build_covariates`` whose constants are ``params``."""
    out: dict[str, float] = {}
    ratio = p.weight_kg / build_weight
    for name, b in weight_exponents.items():
        out[name] = params[name] * ratio**b
    f_cl, f_v = math.exp(p.eta_clearance), math.exp(p.eta_volume)
    for name in _pk_names(tuple(weight_exponents)):
        f = f_cl if name.startswith(CLEARANCE_PREFIXES) else f_v
        out[name] = out.get(name, params[name]) * f
    for name, rule in (covariate_rules or {}).items():
        f = rule.relative(p.covariates, build_covariates)
        if f != 1.0:
            out[name] = out.get(name, params[name]) * f
    for name, mg_per_kg in per_kg_inputs.items():
        out[name] = mg_per_kg * p.weight_kg
    out["madrs_baseline"] = p.madrs_true
    out["si_baseline"] = p.si_baseline
    out["eta_nonspecific"] = p.eta_nonspecific
    out["R50_relief"] = params["R50_relief"] * math.exp(-p.eta_sensitivity)
    out["p_placebo"] = params["p_placebo"] * math.exp(p.eta_placebo)
    if "release_genotype" in params:
        out["release_genotype"] = genotype_release(p.genotype)
    return out
