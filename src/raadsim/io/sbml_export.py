"""SBML Level 3 export of a scenario's model, with units, dosing events and provenance.

The SBML is the one libRoadRunner simulates (Antimony → SBML), enriched with libsbml:

* **units** — every parameter, rate-rule variable and assignment-rule variable carries a
  ``units`` attribute; each raadsim unit string becomes a ``UnitDefinition`` decomposed by
  pint into SBML base units (``ng/mL`` = 1e-3 kg·m⁻³ …). Scores (``points``) and fractions are
  ``dimensionless``. The model's time unit is the hour. Unit *consistency* is not claimed:
  libsbml reports warnings (not errors) for expressions such as Hill functions whose constants
  carry no units.
* **dosing** — doses, infusion starts and stops, and treatment sessions are SBML ``event``\\ s
  at fixed model times (``time >= t``), as in the simulation.
* **provenance** — each parameter's XHTML ``notes`` give its description, unit, layer and
  provenance (source citation, DOI, quote, or the fit/assumption); literature DOIs are also
  ``bqbiol:isDescribedBy`` annotations (identifiers.org).
* **time origin** — model time 0 is the start of raadsim's drug-free pre-equilibration;
  scenario time *t* is model time *t* − ``t_start`` (in the model notes, and in the SED-ML of
  :mod:`raadsim.io.omex`).
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from functools import cache

from .._version import __version__
from ..drugs.catalogue import Catalogue
from ..errors import ModelError
from ..model.build import build_model
from ..model.spec import ModelSpec
from ..provenance import Param, sources
from ..units import ureg
from .scenario import Scenario

XHTML = "http://www.w3.org/1999/xhtml"

# pint base dimension → (SBML base unit kind name, pint base unit)
_BASE = {"[length]": "metre", "[mass]": "kilogram", "[time]": "second",
         "[substance]": "mole", "[current]": "ampere", "[temperature]": "kelvin"}
_DIMENSIONLESS = {"1", "dimensionless", "points", "fraction", ""}


@dataclass(frozen=True)
class ExportedModel:
    """An SBML document and what a user needs to drive it."""

    sbml: str
    spec: ModelSpec
    t_start: float  # scenario time (h) at model time 0
    observables: dict[str, str]  # raadsim observable -> SBML id


def unit_id(unit: str) -> str:
    """An SBML unit id for a raadsim unit string (``ng/mL`` → ``u_ng_per_mL``)."""
    if unit.strip() in _DIMENSIONLESS:
        return "dimensionless"
    out = unit.replace("/", "_per_").replace("*", "_").replace("^", "").replace(" ", "")
    out = "".join(c if c.isalnum() or c == "_" else "_" for c in out)
    return f"u_{out}"


@cache
def _decompose(unit: str) -> tuple[float, tuple[tuple[str, float], ...]]:
    """``unit`` as (factor, ((sbml_kind, exponent), ...)) in SI base units (pint)."""

    q = ureg().Quantity(1.0, unit.replace("uM", "umol/L")).to_base_units()
    dims = []
    for name, exp in q.dimensionality.items():
        if name not in _BASE:
            raise ModelError(f"unit {unit!r} has dimension {name}, which SBML export cannot "
                             "declare")
        dims.append((_BASE[name], float(exp)))
    return float(q.magnitude), tuple(sorted(dims))


def _add_unit_definition(model, unit: str) -> str:
    import libsbml

    uid = unit_id(unit)
    if uid == "dimensionless" or model.getUnitDefinition(uid) is not None:
        return uid
    factor, dims = _decompose(unit)
    ud = model.createUnitDefinition()
    ud.setId(uid)
    ud.setName(unit)
    if not dims:
        dims = (("dimensionless", 1.0),)
    for i, (kind, exp) in enumerate(dims):
        u = ud.createUnit()
        u.setKind(libsbml.UnitKind_forName(kind))
        u.setExponent(exp)
        u.setScale(0)
        # the whole factor goes on the first unit: (m·x)^e → m = factor^(1/e)
        u.setMultiplier(factor ** (1.0 / exp) if i == 0 else 1.0)
    return uid


def _notes(*paragraphs: str) -> str:
    body = "".join(f"<p>{html.escape(p)}</p>" for p in paragraphs if p)
    return f'<body xmlns="{XHTML}">{body}</body>'


def provenance_lines(p: Param) -> list[str]:
    """Human-readable provenance of a parameter: kind, source, quote or note."""
    prov = p.provenance
    lines = [f"provenance: {prov.kind}"]
    if prov.source:
        src = sources().get(prov.source)
        if src is not None:
            ref = src.citation + (f" doi:{src.doi}" if src.doi else "") + \
                (f" {src.url}" if src.url else "")
            lines.append(f"source: {ref}")
        else:
            lines.append(f"source: {prov.source}")
    if prov.quote:
        lines.append(f"quote: {prov.quote}")
    if prov.fitted_to:
        lines.append(f"fitted to: {', '.join(prov.fitted_to)}")
    if prov.note:
        lines.append(f"note: {prov.note}")
    if p.low is not None and p.high is not None:
        lines.append(f"range: {p.low:g} to {p.high:g} {p.unit}")
    return lines


def _describe_by_doi(sbase, doi: str, meta: str) -> None:
    import libsbml

    if not sbase.isSetMetaId():
        sbase.setMetaId(meta)
    cv = libsbml.CVTerm(libsbml.BIOLOGICAL_QUALIFIER)
    cv.setBiologicalQualifierType(libsbml.BQB_IS_DESCRIBED_BY)
    cv.addResource(f"http://identifiers.org/doi/{doi}")
    sbase.addCVTerm(cv)


def to_sbml(sc: Scenario, cat: Catalogue | None = None, equilibrate: bool = True
            ) -> ExportedModel:
    """The scenario's model as an annotated SBML L3V2 document (``equilibrate=False``: no
    drug-free pre-equilibration, model time = scenario time)."""
    import antimony
    import libsbml

    cat = cat or sc.catalogue()
    spec = build_model(sc, cat, equilibrate=equilibrate)
    antimony.clearPreviousLoads()
    if antimony.loadAntimonyString(spec.to_antimony()) < 0:
        raise ModelError(f"antimony could not compile the model: {antimony.getLastError()}")
    doc = libsbml.readSBMLFromString(antimony.getSBMLString("raadsim"))
    model = doc.getModel()
    model.setName("raadsim: " + ", ".join(
        f"{d.drug} {d.amount} {d.route}" for d in sc.dose) if sc.dose else "raadsim")
    model.setTimeUnits(_add_unit_definition(model, "h"))

    srcs = sources()
    for p in spec.params.values():
        el = model.getParameter(p.name)
        el.setUnits(_add_unit_definition(model, p.unit))
        el.setName(p.source.description)
        lines = [p.source.description, f"unit: {p.unit}; layer: {p.layer}",
                 *provenance_lines(p.source)]
        if p.note:
            lines.append(f"model value: {p.note}")
        el.setNotes(_notes(*lines))
        src = srcs.get(p.source.provenance.source or "")
        if src is not None and src.doi:
            _describe_by_doi(el, src.doi, f"meta_{p.name}")
    for name in spec.inputs:
        model.getParameter(name).setNotes(_notes(
            "scenario input (dose amount, weight or switch), constant during a run"))
    for s in spec.states.values():
        el = model.getParameter(s.name)
        el.setUnits(_add_unit_definition(model, s.unit))
        el.setName(s.description)
        kind = ("piecewise constant (changed by events only)"
                if spec.piecewise_constant(s.name) else "state (rate rule)")
        el.setNotes(_notes(s.description, f"unit: {s.unit}; layer: {s.layer}; {kind}"))
    for r in spec.rules.values():
        el = model.getParameter(r.name)
        el.setUnits(_add_unit_definition(model, r.unit))
        el.setName(r.description)
        el.setNotes(_notes(r.description, f"unit: {r.unit}; layer: {r.layer}; "
                           "assignment rule"))
    for i, ev in enumerate(spec.merged_events()):
        e = model.getEvent(f"E{i}")
        if e is None:
            raise ModelError(f"event E{i} missing from the compiled SBML")
        e.setName(ev.label)

    observables = {name: ob.var for name, ob in spec.observables.items()}
    table = "; ".join(f"{k} = {v}" for k, v in observables.items())
    model.setNotes(_notes(
        f"Exported by raadsim {__version__} from the scenario below.",
        (f"Time unit: hour. Model time 0 is the start of a drug-free pre-equilibration of "
         f"{-spec.t_start:g} h; scenario time t is model time t + ({spec.t_start:g}) h.")
        if spec.t_start else "Time unit: hour. Model time is scenario time.",
        f"Observables (raadsim name = SBML id): {table}",
        "Scenario: " + sc.model_dump_json(exclude_defaults=True),
    ))
    text = libsbml.writeSBMLToString(doc)
    return ExportedModel(text, spec, spec.t_start, observables)


@dataclass(frozen=True)
class CheckReport:
    """libsbml consistency check of a document: counts by severity."""

    errors: list[str]
    warnings: int

    @property
    def ok(self) -> bool:
        return not self.errors


def check_sbml(text: str) -> CheckReport:
    """Run libsbml's full consistency checks (including units); errors are listed."""
    import libsbml

    doc = libsbml.readSBMLFromString(text)
    doc.checkConsistency()
    errors, warnings = [], 0
    for i in range(doc.getNumErrors()):
        e = doc.getError(i)
        if e.getSeverity() >= libsbml.LIBSBML_SEV_ERROR:
            errors.append(f"{e.getCategoryAsString()}: {e.getMessage().strip()}")
        else:
            warnings += 1
    return CheckReport(errors, warnings)
