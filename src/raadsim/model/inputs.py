"""What a model is built from: a subject and what is done to it, as typed values.

The scenario and trial readers (:mod:`raadsim.io`) parse files once into these values (times
in hours, amounts in mg, concentrations in µM); the model builder reads nothing else, so it
never parses a string and never depends on the file formats.
"""

from __future__ import annotations

from dataclasses import dataclass


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


@dataclass(frozen=True)
class BathExposure:
    """A drug applied to a culture at a fixed concentration from ``at_h`` (scenario hours)."""

    drug: str
    concentration_uM: float
    at_h: float


@dataclass(frozen=True)
class PerturbationInput:
    """A named perturbation: lifelong (``at_h`` None) or switched on at ``at_h``."""

    name: str
    at_h: float | None = None
    genotype: str | None = None


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
