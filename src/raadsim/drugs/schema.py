"""The drug-file format: analytes (what circulates) and drugs (what is dosed).

A *drug* is what a scenario doses (``ketamine``, ``psilocybin``). Its ``composition`` says
which *analytes* the dose becomes (racemic ketamine is half S- and half R-ketamine;
psilocybin becomes psilocin). An *analyte* has pharmacokinetics per species and an
affinity for each target. Built-in drugs live in ``data/drugs`` and analytes in
``data/analytes``; a user's own compound is one TOML file in the same format, with its
analytes inline under ``[analytes.<name>]``. See ``data/examples/glun2b_antagonist.toml``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..errors import InputError
from ..provenance import Param, param_from_table
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


def _table(raw: Any, where: str) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise InputError(where, raw, "a TOML table")
    return raw


def _check_keys(raw: dict[str, Any], allowed: set[str], where: str) -> None:
    unknown = sorted(set(raw) - allowed)
    if unknown:
        raise InputError(f"{where}.{unknown[0]}", raw[unknown[0]], f"one of {sorted(allowed)}")


def _param(raw: dict[str, Any], key: str, where: str, unit: str | None = None) -> Param:
    if key not in raw:
        raise InputError(f"{where}.{key}", None, "a parameter table (value, unit, provenance)")
    p = param_from_table(key, raw[key], f"{where}.{key}")
    if unit is not None:
        p.in_unit(unit)  # raises InputError if the unit is incompatible
    return p


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
    name: str
    infusion: bool
    pathways: tuple[Pathway, ...]


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


def parse_analyte(name: str, raw: dict[str, Any], where: str) -> Analyte:
    """Build an :class:`Analyte` from its TOML table."""
    raw = _table(raw, where)
    _check_keys(raw, {"name", "label", "formula", "groups", "pk", "targets"}, where)
    formula = raw.get("formula")
    mm = molar_mass(formula, f"{where}.formula")
    pk: dict[str, SpeciesPK] = {}
    for sp, spraw in _table(raw.get("pk", {}), f"{where}.pk").items():
        w = f"{where}.pk.{sp}"
        if sp not in SPECIES:
            raise InputError(w, sp, f"a species among {SPECIES}")
        spraw = _table(spraw, w)
        _check_keys(
            spraw,
            {"structure", "reference_weight_kg", "scaling", "params", "formation",
             "hepatic_metabolite", "derive_from"},
            w,
        )
        base = spraw.get("derive_from")
        if base is not None:
            if base not in pk:
                raise InputError(f"{w}.derive_from", base, f"a species defined above: {sorted(pk)}")
            pk[sp] = _derived_species(pk[base], spraw, w)
            continue
        structure = spraw.get("structure", "mammillary")
        if structure not in STRUCTURES:
            raise InputError(f"{w}.structure", structure, f"one of {STRUCTURES}")
        scaling = spraw.get("scaling", "allometric")
        if scaling not in SCALINGS:
            raise InputError(f"{w}.scaling", scaling, f"one of {SCALINGS}")
        praw = _table(spraw.get("params", {}), f"{w}.params")
        _check_keys(praw, set(PK_UNITS), f"{w}.params")
        params = {k: param_from_table(k, praw[k], f"{w}.params.{k}") for k in praw}
        for k, p in params.items():
            _check_param_unit(p, PK_UNITS[k], f"{w}.params.{k}")
        missing = PK_REQUIRED[structure] - set(params)
        if missing:
            raise InputError(f"{w}.params", sorted(params), f"also {sorted(missing)}")
        for pair in (("Q2", "V2"), ("Q3", "V3")):
            if (pair[0] in params) != (pair[1] in params):
                raise InputError(f"{w}.params", sorted(params), f"both {pair[0]} and {pair[1]}")
        formation = {
            met: _param(_table(spraw.get("formation", {}), f"{w}.formation"), met,
                        f"{w}.formation", "dimensionless")
            for met in spraw.get("formation", {})
        }
        ref_w = spraw.get("reference_weight_kg")
        if not isinstance(ref_w, int | float) or ref_w <= 0:
            raise InputError(f"{w}.reference_weight_kg", ref_w, "a positive number (kg)")
        pk[sp] = SpeciesPK(
            structure=structure,
            reference_weight_kg=float(ref_w),
            scaling=scaling,
            params=params,
            formation=formation,
            hepatic_metabolite=spraw.get("hepatic_metabolite"),
        )
    targets: dict[str, Target] = {}
    for tname, traw in _table(raw.get("targets", {}), f"{where}.targets").items():
        w = f"{where}.targets.{tname}"
        if tname not in TARGETS:
            raise InputError(w, tname, f"a target among {TARGETS}")
        traw = _table(traw, w)
        role = traw.get("role", "agonist")
        if role not in ("agonist", "antagonist", "blocker", "modulator"):
            raise InputError(f"{w}.role", role, "agonist, antagonist, blocker or modulator")
        basis = traw.get("basis", "unbound_brain")
        if basis not in K_BASES:
            raise InputError(f"{w}.basis", basis, f"one of {K_BASES}")
        ptabs = {k: v for k, v in traw.items() if k not in ("role", "basis")}
        _check_keys(ptabs, set(TARGET_UNITS), w)
        tparams = {k: param_from_table(k, ptabs[k], f"{w}.{k}") for k in ptabs}
        for k, p in tparams.items():
            if k == "K":
                try:
                    p.in_unit("uM")
                except InputError:
                    p.in_unit("ng/mL")  # mass concentration, converted with the molar mass
            else:
                p.in_unit(TARGET_UNITS[k])
        targets[tname] = Target(name=tname, role=role, params=tparams, basis=basis)
        if "K" not in targets[tname].params:
            raise InputError(f"{w}.K", None, "an affinity K (unbound concentration, e.g. uM)")
    groups = raw.get("groups", [])
    if not isinstance(groups, list) or not all(isinstance(g, str) for g in groups):
        raise InputError(f"{where}.groups", groups, "a list of group names")
    return Analyte(
        name=name,
        label=str(raw.get("label", name)),
        formula=formula,
        molar_mass=mm,
        groups=tuple(groups),
        pk=pk,
        targets=targets,
    )


def _derived_species(base: SpeciesPK, spraw: dict[str, Any], where: str) -> SpeciesPK:
    """PK of another species scaled from ``base`` (allometry), with sourced overrides.

    Overrides whose unit is per kilogram (e.g. ``L/h/kg``) are multiplied by the subject's
    weight; the others replace the base value at the base reference weight.
    """
    praw = _table(spraw.get("params", {}), f"{where}.params")
    _check_keys(praw, set(PK_UNITS), f"{where}.params")
    params = dict(base.params)
    for k in praw:
        params[k] = param_from_table(k, praw[k], f"{where}.params.{k}")
        _check_param_unit(params[k], PK_UNITS[k], f"{where}.params.{k}")
    formation = dict(base.formation)
    for met, fraw in _table(spraw.get("formation", {}), f"{where}.formation").items():
        formation[met] = param_from_table(met, fraw, f"{where}.formation.{met}")
    return SpeciesPK(
        structure=base.structure,
        reference_weight_kg=base.reference_weight_kg,
        scaling="allometric",
        params=params,
        formation=formation,
        hepatic_metabolite=base.hepatic_metabolite,
        derived_from=spraw["derive_from"],
    )


def _check_param_unit(p: Param, unit: str, where: str) -> None:
    """Accept ``unit`` or ``unit/kg`` (per body weight)."""
    try:
        p.in_unit(unit)
    except InputError:
        try:
            p.in_unit(f"{unit}/kg" if unit != "dimensionless" else unit)
        except InputError:
            raise InputError(where, f"{p.value} {p.unit}", f"a value in {unit} or {unit}/kg"
                             ) from None


def is_per_kg(p: Param, unit: str) -> bool:
    """True if ``p`` is expressed per kilogram of body weight."""
    try:
        p.in_unit(unit)
        return False
    except InputError:
        return True


def _parse_pathway(raw: dict[str, Any], where: str) -> Pathway:
    raw = _table(raw, where)
    _check_keys(
        raw,
        {"name", "into", "F", "ka", "duration", "remainder_of", "device_mg",
         "later_device_factor"},
        where,
    )
    into = raw.get("into", "central")
    if into not in ("central", "liver"):
        raise InputError(f"{where}.into", into, "'central' or 'liver'")

    def opt(key: str, unit: str) -> Param | None:
        return _param(raw, key, where, unit) if key in raw else None

    return Pathway(
        name=str(raw.get("name", "main")),
        into=into,
        F=opt("F", "dimensionless"),
        ka=opt("ka", "1/h"),
        duration=opt("duration", "h"),
        remainder_of=raw.get("remainder_of"),
        device_mg=opt("device_mg", "mg"),
        later_device_factor=opt("later_device_factor", "dimensionless"),
    )


def parse_drug(name: str, raw: dict[str, Any], where: str) -> Drug:
    """Build a :class:`Drug` from its TOML document (without inline analytes)."""
    raw = _table(raw, where)
    _check_keys(
        raw,
        {"name", "label", "description", "formula", "placebo", "composition", "routes",
         "analytes", "sources", "session"},
        where,
    )
    formula = raw.get("formula")
    mm = molar_mass(formula, f"{where}.formula") if formula else None
    composition: dict[str, tuple[Param, bool]] = {}
    for an, craw in _table(raw.get("composition", {}), f"{where}.composition").items():
        w = f"{where}.composition.{an}"
        craw = dict(_table(craw, w))
        molar = bool(craw.pop("molar", False))
        if molar and mm is None:
            raise InputError(f"{where}.formula", None, "a formula when composition is molar")
        composition[an] = (param_from_table(an, craw, w), molar)
    routes: dict[str, dict[str, Route]] = {}
    for sp, sraw in _table(raw.get("routes", {}), f"{where}.routes").items():
        if sp not in SPECIES:
            raise InputError(f"{where}.routes.{sp}", sp, f"a species among {SPECIES}")
        routes[sp] = {}
        for rname, rraw in _table(sraw, f"{where}.routes.{sp}").items():
            w = f"{where}.routes.{sp}.{rname}"
            if rname not in ROUTES:
                raise InputError(w, rname, f"a route among {ROUTES}")
            rraw = _table(rraw, w)
            _check_keys(rraw, {"infusion", "pathway"}, w)
            pws = rraw.get("pathway", [{}])
            if not isinstance(pws, list) or not pws:
                raise InputError(f"{w}.pathway", pws, "a list of [[pathway]] tables")
            routes[sp][rname] = Route(
                name=rname,
                infusion=bool(rraw.get("infusion", False)),
                pathways=tuple(_parse_pathway(p, f"{w}.pathway[{i}]") for i, p in enumerate(pws)),
            )
    placebo = bool(raw.get("placebo", False))
    if not placebo and not composition:
        raise InputError(f"{where}.composition", None, "at least one analyte (or placebo = true)")
    return Drug(
        name=name,
        label=str(raw.get("label", name)),
        description=str(raw.get("description", "")),
        formula=formula,
        molar_mass=mm,
        placebo=placebo,
        composition=composition,
        routes=routes,
        source_file=where,
        session=_strict_bool(raw.get("session", True), f"{where}.session"),
    )


def _strict_bool(value: Any, where: str) -> bool:
    if not isinstance(value, bool):
        raise InputError(where, value, "true or false")
    return value
