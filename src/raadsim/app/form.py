"""The scenario form: its fields, their choices, form values → a scenario, errors → fields.

Validation is the package's own (:func:`raadsim.scenario_from_dict` and the checks
:func:`raadsim.load_scenario` makes); an :class:`~raadsim.errors.InputError` names a
scenario field (``dose[0].amount``) that :func:`field_of` maps to the form field showing it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ..drugs.catalogue import Catalogue, builtin
from ..errors import InputError
from ..io.scenario import Scenario, scenario_from_dict
from ..perturb.catalogue import DESCRIPTIONS, GENOTYPES
from ..units import parse_time

SPECIES = ("human", "rat", "mouse")
MAX_POINTS = 20_000  # output rows per simulation, to keep the page responsive


@dataclass(frozen=True)
class Field:
    """One form field: its key, label, kind ('text', 'number', 'select', 'multi') and help."""

    key: str
    label: str
    kind: str
    placeholder: str = ""  # short enough to fit the box (tests/app checks it)
    hint: str = ""  # the longer explanation, as the field's tooltip


FIELDS: tuple[Field, ...] = (
    Field("species", "species", "select"),
    Field("condition", "condition", "select"),
    Field("weight", "body weight", "text", "e.g. 70 kg", "empty: the species' default"),
    Field("drug", "drug", "select"),
    Field("amount", "dose", "text", "e.g. 0.5 mg/kg", "e.g. 0.5 mg/kg, 84 mg, 100 ug"),
    Field("route", "route", "select"),
    Field("infusion", "infusion over", "text", "e.g. 40 min", "IV only, e.g. 40 min"),
    Field("every", "repeat every", "text", "e.g. 3.5 d", "empty: one dose"),
    Field("count", "number of doses", "number", "e.g. 8"),
    Field("perturbations", "perturbations", "multi"),
    Field("pert_at", "perturbation from", "text", "e.g. -1 h", "empty: lifelong"),
    Field("genotype", "BDNF genotype", "select"),
    Field("end", "simulate until", "text", "e.g. 7 d"),
    Field("output_every", "output every", "text", "e.g. 10 min"),
)
FIELD_KEYS = tuple(f.key for f in FIELDS)

DEFAULTS: dict[str, Any] = {
    "species": "human", "condition": "trd", "weight": "", "drug": "ketamine",
    "amount": "0.5 mg/kg", "route": "iv", "infusion": "40 min", "every": "", "count": None,
    "perturbations": [], "pert_at": "", "genotype": "val/met", "end": "7 d",
    "output_every": "10 min",
}
DEFAULTS_B: dict[str, Any] = {**DEFAULTS, "drug": "psilocybin", "amount": "25 mg",
                              "route": "oral", "infusion": ""}

# the last part of a scenario field name → the form field that shows its error
_FIELD_OF = {"species": "species", "condition": "condition", "weight_kg": "weight",
             "drug": "drug", "amount": "amount", "route": "route", "infusion": "infusion",
             "every": "every", "count": "count", "repeat": "every", "name": "perturbations",
             "genotype": "genotype", "end": "end", "output_every": "output_every"}


def catalogue() -> Catalogue:
    return builtin()


def drug_options(species: str, cat: Catalogue | None = None) -> list[str]:
    """Drugs with data for ``species``."""
    cat = cat or catalogue()
    return sorted(n for n, d in cat.drugs.items() if species in d.routes)


def route_options(drug: str, species: str, cat: Catalogue | None = None) -> list[str]:
    """Routes ``drug`` allows in ``species`` (empty if the drug has no data for it)."""
    cat = cat or catalogue()
    d = cat.drugs.get(drug)
    return sorted(d.routes.get(species, {})) if d else []


def infusion_allowed(drug: str, species: str, route: str, cat: Catalogue | None = None
                     ) -> bool:
    cat = cat or catalogue()
    d = cat.drugs.get(drug)
    r = d.routes.get(species, {}).get(route) if d else None
    return bool(r and r.infusion)


def perturbation_options() -> list[tuple[str, str]]:
    """(name, description) of every perturbation."""
    return sorted(DESCRIPTIONS.items())


def genotype_options() -> tuple[str, ...]:
    return GENOTYPES["bdnf_val66met"]


def _text(v: Any) -> str:
    return "" if v is None else str(v).strip()


def form_to_dict(values: dict[str, Any]) -> dict[str, Any]:
    """The scenario dict (as a TOML file would give it) of the form's values."""
    v = {**DEFAULTS, **{k: x for k, x in values.items() if k in FIELD_KEYS}}
    subject: dict[str, Any] = {"species": _text(v["species"]),
                               "condition": _text(v["condition"])}
    if _text(v["weight"]):
        subject["weight_kg"] = _text(v["weight"])
    dose: dict[str, Any] = {"drug": _text(v["drug"]), "amount": _text(v["amount"]),
                            "route": _text(v["route"])}
    if _text(v["infusion"]):
        dose["infusion"] = _text(v["infusion"])
    every, count = _text(v["every"]), v["count"]
    if every or count not in (None, ""):
        if not every:
            raise InputError("dose[0].repeat.every", None, "an interval such as '3.5 d' "
                             "with a number of doses")
        if count in (None, ""):
            raise InputError("dose[0].repeat.count", None, "a number of doses >= 1 with "
                             "'repeat every'")
        try:
            n = int(float(count))
        except (TypeError, ValueError):
            raise InputError("dose[0].repeat.count", count, "a whole number >= 1") from None
        if n != float(count):
            raise InputError("dose[0].repeat.count", count, "a whole number >= 1")
        dose["repeat"] = {"every": every, "count": n}
    raw: dict[str, Any] = {"subject": subject, "dose": [dose],
                           "simulation": {"end": _text(v["end"]),
                                          "output_every": _text(v["output_every"])}}
    perts = []
    for name in v["perturbations"] or []:
        p: dict[str, Any] = {"name": name}
        if _text(v["pert_at"]):
            p["at"] = _text(v["pert_at"])
        if name in GENOTYPES:
            p["genotype"] = _text(v["genotype"])
        perts.append(p)
    if perts:
        raw["perturbation"] = perts
    return raw


def validate(raw: dict[str, Any]) -> tuple[Scenario, Catalogue]:
    """The scenario and its catalogue, checked as :func:`raadsim.load_scenario` checks a
    file, plus a cap on the number of output rows."""
    sc = scenario_from_dict(raw)
    cat = sc.catalogue()
    sc.administrations(cat)
    start, end, step = sc.window()
    sc.validate_perturbations()
    if (end - start) / step > MAX_POINTS:
        raise InputError("simulation.output_every", sc.simulation.output_every,
                         f"an interval giving at most {MAX_POINTS} output rows "
                         f"(e.g. {(end - start) / MAX_POINTS * 60:.0f} min or longer)")
    return sc, cat


def scenario_of(values: dict[str, Any]) -> tuple[Scenario, Catalogue]:
    """Form values → validated scenario (raises :class:`InputError`)."""
    return validate(form_to_dict(values))


def field_of(exc: InputError) -> str:
    """The form field that shows ``exc`` (``'general'`` if none does)."""
    last = re.sub(r"\[\d+\]", "", exc.field).split(".")[-1]
    if last == "at":
        return "pert_at" if exc.field.startswith("perturbation") else "general"
    return _FIELD_OF.get(last, "general")


def message(exc: InputError) -> str:
    """The error without the scenario field name: 'got '0.5'; expected a dose such as …'."""
    got = "no value" if exc.value is None else f"got {exc.value!r}"
    return f"{got}; expected {exc.accepted}"


def visit_times(text: str) -> list[str]:
    """'1 d, 7 d' → ['1 d', '7 d'] (each checked as a time)."""
    out = [s.strip() for s in (text or "").split(",") if s.strip()]
    for s in out:
        parse_time(s, "trial.visits")
    return out
