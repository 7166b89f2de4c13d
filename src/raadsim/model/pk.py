"""Layer 1 — pharmacokinetics: dose → plasma and brain concentrations.

For every analyte a dosed drug produces (and its metabolites), in the subject's species:

* Mammillary disposition (``structure = "mammillary"``), amounts in mg::

      A_c' = inputs - CL/Vc·A_c - Q2/Vc·A_c + Q2/V2·A_p1 - Q3/Vc·A_c + Q3/V3·A_p2
      A_p1' = Q2/Vc·A_c - Q2/V2·A_p1          A_p2' = Q3/Vc·A_c - Q3/V3·A_p2

  A fraction ``formation[m]`` of the elimination forms metabolite ``m``.
* Hepatic disposition (``structure = "hepatic"``; Perez-Ruixo 2021 esketamine model): a
  well-stirred liver compartment exchanges with the central one at hepatic blood flow Qh and
  eliminates with ``kel_h`` (other routes) and ``kmet_h`` (forming the named metabolite);
  swallowed doses enter the liver, so first-pass extraction follows from the structure.
* Plasma concentration ``C = 1000·A_c/Vc`` (ng/mL) and unbound brain concentration, an effect
  compartment ``Cb' = ke0·(fu·C − Cb)`` (ng/mL; free brain ≈ free plasma at equilibrium).
* Sampling site: the popPK models are venous, so ``plasma.*`` is venous plasma. ``arterial.*``
  adds the partially mixed infusate of an IV infusion, ``Cart = C + 1000·Rin_c/Q_pk`` with the
  total pharmacokinetic flow ``Q_pk`` of Henthorn 2018 (arterial samples during an infusion
  run above venous ones); after an infusion, and for other routes, ``Cart = C`` (Henthorn
  2018 also found post-infusion venous above arterial, tissue washout that is not modelled).
* Absorption: each route has one or more pathways with bioavailability F, first-order
  absorption ``ka`` from a depot and optionally a zero-order release ``duration``. A pathway
  ``into = "liver"`` enters the hepato-portal compartment, so first pass follows from the
  liver model (oral doses; rodent i.p. doses, which are absorbed mostly by the portal vein).
  A route may have several formulations (intranasal devices, sprays, drops), each with its own
  pathways; a dose names one (``formulation``) or gets the route's default, and the run's
  metadata reports which was used.

Species scaling: parameters are given for a reference weight; ``allometric`` scales flows by
(W/W_ref)^0.75 and volumes by W/W_ref, ``linear`` scales both by W/W_ref.
"""

from __future__ import annotations

from dataclasses import replace

from ..drugs.catalogue import Catalogue
from ..drugs.schema import PK_UNITS, Analyte, Drug, Pathway, SpeciesPK, is_per_kg
from ..errors import InputError
from ..provenance import Param
from .covariates import (
    ANCESTRIES,
    REFERENCE,
    CovariateRule,
    Covariates,
    analyte_effects,
    pathway_effects,
    rule_of,
)
from .inputs import Administration
from .layer import layer_params
from .spec import Event, ModelSpec

LAYER = "pk"
FLOW_PARAMS = {"CL", "Q2", "Q3", "Qh"}
VOLUME_PARAMS = {"Vc", "V2", "V3", "Vh"}
HEPATIC_RATE_PARAMS = {"kel_h", "kmet_h"}
ELIMINATION_PARAMS = {"CL", "Qh", "kel_h", "kmet_h"}  # scaled by elimination_factor


def _scaled(sp: SpeciesPK, key: str, weight: float) -> tuple[float, str, float]:
    """A PK parameter in model units for a subject of ``weight`` kg, how it was scaled, and
    its weight exponent ``b`` (value ∝ W^b)."""
    p = sp.params[key]
    unit = PK_UNITS[key]
    if is_per_kg(p, unit):
        return p.in_unit(f"{unit}/kg") * weight, f"per kg × W ({weight:g} kg)", 1.0
    v = p.in_unit(unit)
    ratio = weight / sp.reference_weight_kg
    ref = f"(W/{sp.reference_weight_kg:g} kg)"
    if sp.scaling == "linear":
        if key in FLOW_PARAMS | VOLUME_PARAMS:
            return v * ratio, f"× {ref}", 1.0
        return v, "", 0.0
    b = layer_params(LAYER)["allometric_exponent_clearance"].value
    if key in FLOW_PARAMS:
        return v * ratio**b, f"× {ref}^{b:g}", b
    if key in VOLUME_PARAMS:
        return v * ratio, f"× {ref}", 1.0
    if key in HEPATIC_RATE_PARAMS:
        return v * ratio ** (b - 1), f"× {ref}^{b - 1:g}", b - 1
    return v, "", 0.0


def _analyte_disposition(m: ModelSpec, a: Analyte, sp: SpeciesPK, weight: float,
                         species: str = "human", cov: Covariates = REFERENCE) -> None:
    n = a.name
    factor = sp.params.get("elimination_factor")
    effects = analyte_effects(n, species)
    for key in sp.params:
        if key == "elimination_factor":
            continue
        value, note, exponent = _scaled(sp, key, weight)
        if exponent:
            m.weight_exponents[f"{key}_{n}"] = exponent
        if factor is not None and key in ELIMINATION_PARAMS:
            value *= factor.in_unit("dimensionless")
            note = f"{note} × elimination_factor {factor.value:g} ({factor.provenance.short()})"
        mine = [e for e in effects if e.parameter == key]
        if mine:
            rule = rule_of(mine)
            m.covariate_rules[f"{key}_{n}"] = rule
            f = rule.factor(cov)
            if f != 1.0:
                value *= f
                note = (f"{note} × {f:.4g} for age {cov.age_years} and ancestry {cov.ancestry} "
                        f"({'; '.join(e.description for e in mine)}: data/parameters/"
                        "covariates.toml)").strip()
        if sp.derived_from:
            note = f"scaled from {sp.derived_from} {note}".strip()
        m.param(f"{key}_{n}", value, PK_UNITS[key], LAYER, sp.params[key], note)
    ac = f"A_c_{n}"
    out = [f"CL_{n}/Vc_{n}*{ac}"] if sp.structure == "mammillary" else []
    ode = [f"Rin_c_{n}"]
    m.state(f"Rin_c_{n}", "0", "mg/h", f"zero-order input rate into central {a.label}", LAYER)
    for i, (q, v) in enumerate((("Q2", "V2"), ("Q3", "V3")), start=1):
        if q in sp.params:
            per = f"A_p{i}_{n}"
            m.state(per, f"{q}_{n}/Vc_{n}*{ac} - {q}_{n}/{v}_{n}*{per}", "mg",
                    f"{a.label} in peripheral compartment {i}", LAYER)
            ode.append(f"{q}_{n}/{v}_{n}*{per}")
            out.append(f"{q}_{n}/Vc_{n}*{ac}")
    if sp.structure == "hepatic":
        ah = f"A_h_{n}"
        m.state(f"Rin_h_{n}", "0", "mg/h", f"zero-order input rate into liver {a.label}", LAYER)
        m.state(ah, f"Rin_h_{n} + Qh_{n}/Vc_{n}*{ac} - Qh_{n}/Vh_{n}*{ah} "
                    f"- (kel_h_{n} + kmet_h_{n})*{ah}",
                "mg", f"{a.label} in the hepato-portal compartment", LAYER)
        ode.append(f"Qh_{n}/Vh_{n}*{ah}")
        out.append(f"Qh_{n}/Vc_{n}*{ac}")
    rhs = " + ".join(ode) + "".join(f" - {o}" for o in out)
    m.state(ac, rhs, "mg", f"{a.label} in the central compartment", LAYER)
    m.rule(f"C_{n}", f"ngmL_per_mgL*{ac}/Vc_{n}", "ng/mL", f"plasma {a.label}", LAYER)
    m.state(f"Cb_{n}", f"ke0_{n}*(fu_{n}*C_{n} - Cb_{n})", "ng/mL",
            f"unbound brain {a.label} (effect compartment)", LAYER)
    m.param(f"MW_{n}", a.molar_mass, "g/mol", LAYER, _molar_mass_param(a))
    m.rule(f"Cbu_{n}", f"Cb_{n}/MW_{n}", "uM", f"unbound brain {a.label}", LAYER)


def _molar_mass_param(a: Analyte) -> Param:
    return Param.model_validate({
        "name": f"MW_{a.name}",
        "value": a.molar_mass,
        "unit": "g/mol",
        "description": f"molar mass of {a.label} ({a.formula})",
        "provenance": {"kind": "derived",
                       "note": f"computed from the formula {a.formula} with IUPAC standard "
                               "atomic weights (raadsim.drugs.chemistry)"},
    })


def _formation(m: ModelSpec, cat: Catalogue, a: Analyte, sp: SpeciesPK) -> None:
    n = a.name
    for met, frac in sp.formation.items():
        fm = m.param(f"fm_{n}_to_{met}", frac.in_unit("dimensionless"), "1", LAYER, frac)
        m.add_to_ode(f"A_c_{met}", f"{fm}*CL_{n}/Vc_{n}*A_c_{n}*{_mass_ratio(m, cat, met, n)}")
    if sp.hepatic_metabolite:
        met = sp.hepatic_metabolite
        m.add_to_ode(f"A_c_{met}", f"kmet_h_{n}*A_h_{n}*{_mass_ratio(m, cat, met, n)}")


def _mass_ratio(m: ModelSpec, cat: Catalogue, met: str, parent: str) -> str:
    """The parameter converting a mass of ``parent`` metabolised into a mass of ``met``."""
    a, b = cat.analytes[met], cat.analytes[parent]
    p = Param.model_validate({
        "name": f"mw_{met}_per_{parent}", "value": a.molar_mass / b.molar_mass, "unit": "1",
        "description": f"molar mass ratio {a.label} / {b.label} (mass formed per mass "
                       "metabolised)",
        "provenance": {"kind": "derived", "note": f"MW {a.molar_mass:.3f} / {b.molar_mass:.3f} "
                       "g/mol from the formulas (raadsim.drugs.chemistry)"}})
    return m.param(p.name, p.value, "1", LAYER, p)


def _pathway_fractions(route_pathways: tuple[Pathway, ...], amount_mg: float,
                       scale: dict[str, float] | None = None
                       ) -> dict[str, tuple[float, str, list[Param]]]:
    """Effective bioavailability of each pathway for this dose, with how it was computed;
    ``scale`` multiplies a pathway's F (covariate effects, capped at 1)."""
    out: dict[str, tuple[float, str, list[Param]]] = {}
    for pw in route_pathways:
        F = pw.F.in_unit("dimensionless") if pw.F else 1.0
        used = [pw.F] if pw.F else []
        how = f"F = {F:g}"
        k = (scale or {}).get(pw.name, 1.0)
        if k != 1.0:
            F = min(1.0, F * k)
            how = f"F = {F:g} (× {k:g}, covariate)"
        if pw.device_mg is not None:
            dev = pw.device_mg.in_unit("mg")
            n_dev = max(1, round(amount_mg / dev)) if amount_mg > 0 else 1
            g = pw.later_device_factor.in_unit("dimensionless") if pw.later_device_factor else 1
            F = F * (1 + (n_dev - 1) * g) / n_dev
            used += [pw.device_mg] + ([pw.later_device_factor] if pw.later_device_factor else [])
            how = f"F = F1·(1 + (n−1)·g)/n with n = {n_dev} devices of {dev:g} mg, g = {g:g}"
        if pw.remainder_of:
            if pw.remainder_of not in out:
                raise InputError("pathway.remainder_of", pw.remainder_of, "an earlier pathway")
            first = out[pw.remainder_of][0]
            F = (1 - first) * F
            how = f"F = (1 − F_{pw.remainder_of}) · {how[4:]}"
        out[pw.name] = (F, how, used)
    return out


def build_pk(cat: Catalogue, species: str, weight_kg: float,
             administrations: list[Administration], covariates: Covariates = REFERENCE
             ) -> ModelSpec:
    """The PK layer for the analytes that ``administrations`` produce, for a subject with
    ``covariates`` (age and ancestry effects of the popPK models)."""
    m = ModelSpec()
    m.covariates = covariates
    conv = layer_params(LAYER)["ngmL_per_mgL"]
    m.param("ngmL_per_mgL", conv.value, conv.unit, LAYER, conv)
    m.param("allometric_exponent_clearance",
            layer_params(LAYER)["allometric_exponent_clearance"].value, "1", LAYER,
            layer_params(LAYER)["allometric_exponent_clearance"])
    analytes: list[str] = []
    for adm in administrations:
        drug = cat.drugs[adm.drug]
        for an in drug.composition:
            for a in [an, *cat.metabolites_of(an, species)]:
                if a not in analytes:
                    analytes.append(a)
    for an in analytes:
        a = cat.analytes[an]
        if species not in a.pk:
            raise InputError("subject.species", species,
                             f"a species with PK for {an}: {sorted(a.pk)}")
        _analyte_disposition(m, a, a.pk[species], weight_kg, species, covariates)
    for an in analytes:
        _formation(m, cat, cat.analytes[an], cat.analytes[an].pk[species])
    for adm in administrations:
        _dosing(m, cat, cat.drugs[adm.drug], species, adm, covariates)
    _total_flow(m, weight_kg)
    _observables(m, cat, analytes)
    return m


Q_PK_REFERENCE_KG = 70.0  # assumed reference weight of Q_pk_total (see its note in pk.toml)


def _total_flow(m: ModelSpec, weight_kg: float) -> None:
    """Total pharmacokinetic flow (Henthorn 2018), scaled like the other flows."""
    params = layer_params(LAYER)
    q, b = params["Q_pk_total"], params["allometric_exponent_clearance"].value
    m.param("Q_pk_total", q.in_unit("L/h") * (weight_kg / Q_PK_REFERENCE_KG) ** b, "L/h",
            LAYER, q, f"× (W/{Q_PK_REFERENCE_KG:g} kg)^{b:g}")
    m.weight_exponents["Q_pk_total"] = b


def _pathway_scale(drug: Drug, route: str, pathways: tuple[Pathway, ...], species: str,
                   cov: Covariates) -> dict[str, float]:
    out = {}
    for pw in pathways:
        effs = pathway_effects(drug.name, route, pw.name, species)
        if effs:
            out[pw.name] = rule_of(effs).factor(cov)
    return out


def _dosing(m: ModelSpec, cat: Catalogue, drug: Drug, species: str, adm: Administration,
            cov: Covariates = REFERENCE) -> None:
    route_def = drug.routes[species][adm.route]
    route = replace(route_def, pathways=route_def.pathways_for(adm.formulation))
    form = f" ({adm.formulation})" if adm.formulation else ""
    dose = m.input(f"dose{adm.index}_mg", adm.amount_mg, "mg")
    if adm.mg_per_kg is not None:
        m.per_kg_inputs[dose] = adm.mg_per_kg
    fractions = _pathway_fractions(route.pathways, adm.amount_mg,
                                   _pathway_scale(drug, adm.route, route.pathways, species, cov))
    # the same fractions for each ancestry (the reference first), for patients of a trial
    by_ancestry = {lv: _pathway_fractions(route.pathways, adm.amount_mg, _pathway_scale(
        drug, adm.route, route.pathways, species, Covariates(cov.age_years, lv)))
        for lv in ANCESTRIES} if any(pathway_effects(drug.name, adm.route, pw.name, species)
                                     for pw in route.pathways) else None
    for an, (frac_p, molar) in drug.composition.items():
        a = cat.analytes[an]
        frac = frac_p.in_unit("dimensionless")
        conv = a.molar_mass / drug.molar_mass if molar and drug.molar_mass else 1.0
        for pw in route.pathways:
            F, how, used = fractions[pw.name]
            key = f"{drug.name}_{adm.route}_{pw.name}_{an}_d{adm.index}"
            src = used[0] if used else frac_p
            note = (f"fraction of the {drug.name}{form} dose reaching {pw.name} as {an}: "
                    f"composition {frac:g}" + (f" × molar mass ratio {conv:.4f}" if molar else "")
                    + f"; {how}")
            fpar = m.param(f"f_{key}", frac * conv * F, "1", LAYER, src, note)
            if by_ancestry is not None:
                ref = by_ancestry["not_asian"][pw.name][0]
                ratios = tuple((lv, by_ancestry[lv][pw.name][0] / ref) for lv in ANCESTRIES[1:]
                               if ref > 0 and by_ancestry[lv][pw.name][0] != ref)
                if ratios:
                    m.covariate_rules[fpar] = CovariateRule(ancestry=ratios)
            target = ("A_h_" if pw.into == "liver" else "A_c_") + an
            rate_target = ("Rin_h_" if pw.into == "liver" else "Rin_c_") + an
            if pw.into == "liver" and target not in m.states:
                raise InputError(f"{drug.source_file}.routes.{species}.{adm.route}", pw.into,
                                 f"'central': {an} has no liver compartment in {species}")
            if pw.ka is not None:
                # one depot per drug, route, pathway and analyte, shared by every dose entry
                # (a schedule written as several entries has the states of one entry)
                route_key = f"{drug.name}_{adm.route}_{pw.name}_{an}"
                depot = f"D_{route_key}"
                ka = m.param(f"ka_{route_key}", pw.ka.in_unit("1/h"), "1/h", LAYER, pw.ka)
                if depot not in m.states:
                    m.state(f"Rin_{depot}", "0", "mg/h", f"zero-order input into {depot}",
                            LAYER)
                    m.state(depot, f"Rin_{depot} - {ka}*{depot}", "mg",
                            f"absorption depot: {drug.label} {adm.route} ({pw.name})", LAYER)
                    m.add_to_ode(target, f"{ka}*{depot}")
                target, rate_target = depot, f"Rin_{depot}"
            if adm.infusion_h:
                duration = adm.infusion_h
                dur = m.input(f"infusion{adm.index}_h", duration, "h")
            elif pw.duration:
                duration = pw.duration.in_unit("h")
                dur = m.param(f"dur_{drug.name}_{adm.route}_{pw.name}_{an}", duration, "h",
                              LAYER, pw.duration)
            else:
                duration, dur = None, ""
            amount = f"{dose}*{fpar}"
            for t in adm.times_h:
                label = f"{drug.name} {adm.route}{form} {pw.name} → {an} at {t:g} h"
                if duration:
                    m.events.append(Event(t, {rate_target: f"{amount}/{dur}"}, label))
                    m.events.append(Event(t + duration, {rate_target: f"-{amount}/{dur}"},
                                          label + " (end)"))
                else:
                    m.events.append(Event(t, {target: amount}, label))


def _observables(m: ModelSpec, cat: Catalogue, analytes: list[str]) -> None:
    groups: dict[str, list[str]] = {}
    for an in analytes:
        a = cat.analytes[an]
        m.observable(f"plasma.{an}", f"C_{an}", "ng/mL", f"plasma {a.label}", LAYER)
        m.observable(f"brain.{an}", f"Cb_{an}", "ng/mL", f"unbound brain {a.label}", LAYER)
        m.rule(f"Cart_{an}", f"C_{an} + ngmL_per_mgL*Rin_c_{an}/Q_pk_total", "ng/mL",
               f"arterial plasma {a.label} (venous plus the partially mixed infusate)", LAYER)
        m.observable(f"arterial.{an}", f"Cart_{an}", "ng/mL", f"arterial plasma {a.label}",
                     LAYER)
        for g in a.groups:
            groups.setdefault(g, []).append(an)
    for g, members in groups.items():
        if g in analytes:
            continue
        for where, var in (("plasma", "C"), ("brain", "Cb"), ("arterial", "Cart")):
            name = f"{where}_total_{g}"
            m.rule(name, " + ".join(f"{var}_{x}" for x in members), "ng/mL",
                   f"{where} {g} (sum of {', '.join(members)})", LAYER)
            m.observable(f"{where}.{g}", name, "ng/mL", f"{where} {g} (all forms)", LAYER)


def build_bath(cat: Catalogue, baths: list[tuple[str, float, float, float | None]]
               ) -> ModelSpec:
    """In vitro exposure: each drug's analytes at a fixed unbound concentration from ``at``
    until it is washed out at ``end`` (None: never).

    ``baths`` holds (drug, concentration in uM of the drug, model time it is applied, model
    time it is washed out). Washout is a step to zero: medium exchange (minutes) is taken as
    faster than every modelled process downstream (an assumption; the exchange kinetics of
    the washout experiments were not found).
    """
    m = ModelSpec()
    for i, (drug_name, conc_uM, at, end) in enumerate(baths):
        drug = cat.drugs[drug_name]
        for an, (frac_p, _molar) in drug.composition.items():
            a = cat.analytes[an]
            sw = f"sw_bath{i}_{an}"
            m.state(sw, "0", "1", f"bath {drug.label} on", "culture")
            m.events.append(Event(at, {sw: "1"}, f"bath {drug.label} applied"))
            if end is not None:
                m.events.append(Event(end, {sw: "-1"}, f"bath {drug.label} washed out"))
            m.input(f"bath{i}_{an}_uM", conc_uM * frac_p.in_unit("dimensionless"), "uM")
            prev = m.rules.pop(f"Cbu_{an}").expr + " + " if f"Cbu_{an}" in m.rules else ""
            m.rule(f"Cbu_{an}", f"{prev}bath{i}_{an}_uM*{sw}", "uM",
                   f"bath concentration of {a.label}", "culture")
    return m
