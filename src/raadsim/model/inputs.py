"""What a model is built from: a subject and what is done to it, as typed values.

The scenario and trial readers (:mod:`raadsim.io`) parse files once into these values (times
in hours, amounts in mg, concentrations in µM); the model builder reads nothing else, so it
never parses a string and never depends on the file formats.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from .covariates import REFERENCE, Covariates


@dataclass(frozen=True)
class Administration:
    """One dose entry, resolved to numbers (times in scenario hours)."""

    index: int
    drug: str
    route: str
    amount_mg: float  # per administration
    times_h: tuple[float, ...]
    infusion_h: float | None = None
    mg_per_kg: float | None = None  # set when the dose was given per kg of body weight
    session: bool = True  # a treatment session (clinic visit, infusion, dosing session)
    formulation: str | None = None  # formulation or device of the route (e.g. intranasal)


@dataclass(frozen=True)
class BathExposure:
    """A drug applied to a culture at a fixed concentration from ``at_h`` (scenario hours),
    and washed out after ``duration_h`` (None: left on)."""

    drug: str
    concentration_uM: float
    at_h: float
    duration_h: float | None = None


@dataclass(frozen=True)
class PerturbationInput:
    """A named perturbation: lifelong (``at_h`` None) or switched on at ``at_h``."""

    name: str
    at_h: float | None = None
    genotype: str | None = None


# The values of each trial-context field (read by the scenario and trial files too).
Blinding = Literal["double_blind", "open_label"]
Setting = Literal["outpatient", "inpatient"]
ExpectedExperience = Literal["none", "psychedelic"]
Concomitant = Literal["none", "continuing_antidepressant", "new_antidepressant"]


@dataclass(frozen=True)
class TrialContext:
    """How a patient is treated and rated, besides the drug (a trial's or scenario's context).

    Each field's effect is in the clinic layer (model/layers/clinic.toml) with its source:

    * ``blinding``: ``open_label`` raises the odds of the non-specific improvement by the
      comparator-vs-placebo-controlled odds ratio 1.79 (``b_open_label``).
    * ``setting``: ``inpatient`` (hospitalised, standard of care) multiplies the session
      expectancy by ``1 + g_inpatient`` (fitted with the other clinic parameters; ASPIRE
      II's placebo arm at 24 h is the calibration record in this setting).
    * ``anaesthesia``: the session is masked by general anaesthesia, so no drug effect is
      perceived (``ctx_anaesthesia`` removes functional unblinding; Lii 2023 is held out).
    * ``expected_experience``: ``psychedelic`` when participants were told they may receive a
      psychedelic; those who then feel nothing lose part of their non-specific improvement
      (``d_disappointment``, Hieronymus 2025).
    * ``psychological_support`` (preparation and integration sessions of psychedelic trials):
      no separate effect is modelled; no source separates it from the other non-specific
      factors, which the trial-specific plateau already contains.
    * ``concomitant``: ``new_antidepressant`` gives every arm daily oral escitalopram 10 mg
      (standing for the newly started antidepressant of the esketamine trials);
      ``continuing_antidepressant`` and ``none`` add nothing (a continued antidepressant is
      part of the baseline).
    """

    blinding: Blinding = "double_blind"
    setting: Setting = "outpatient"
    anaesthesia: bool = False
    expected_experience: ExpectedExperience = "none"
    psychological_support: bool = False
    concomitant: Concomitant = "none"

    def inputs(self) -> dict[str, float]:
        """The context as the clinic layer's switches (0 or 1)."""
        return {"ctx_open_label": float(self.blinding == "open_label"),
                "ctx_inpatient": float(self.setting == "inpatient"),
                "ctx_anaesthesia": float(self.anaesthesia),
                "ctx_psychedelic_expectation": float(self.expected_experience == "psychedelic")}

    def describe(self) -> str:
        return (f"{self.blinding.replace('_', '-')}, {self.setting}"
                + (", under general anaesthesia" if self.anaesthesia else "")
                + (", psychedelic expected" if self.expected_experience == "psychedelic"
                   else "")
                + (", psychological support" if self.psychological_support else "")
                + ("" if self.concomitant == "none" else f", {self.concomitant.replace('_', ' ')}"))


@dataclass(frozen=True)
class ModelInputs:
    """Everything :func:`raadsim.model.build.build_model` needs."""

    species: str
    weight_kg: float
    condition: str
    administrations: tuple[Administration, ...] = ()
    baths: tuple[BathExposure, ...] = ()
    perturbations: tuple[PerturbationInput, ...] = ()
    start_h: float = 0.0  # scenario time where the model clock leaves the pre-equilibration
    context: TrialContext = field(default_factory=TrialContext)
    covariates: Covariates = REFERENCE  # age and ancestry (raadsim.model.covariates)
    # chosen hypothesis variants, (question, variant), defaults left out (model.hypotheses)
    hypotheses: tuple[tuple[str, str], ...] = ()
