"""Honesty checks: every number in the model has provenance."""

from __future__ import annotations

from importlib import resources

import pytest

from raadsim import scenario_from_dict
from raadsim.drugs.catalogue import builtin
from raadsim.model.build import build_model, condition_params
from raadsim.model.layer import LAYERS, layer_params
from raadsim.perturb.catalogue import registry
from raadsim.provenance import parameter_file, sources

SPECIES_ROUTES = [(d, sp, r) for d, drug in sorted(builtin().drugs.items())
                  for sp, routes in drug.routes.items() for r in routes]


def _all_params():
    cat = builtin()
    for a in cat.analytes.values():
        for sp in a.pk.values():
            yield from sp.params.values()
            yield from sp.formation.values()
        for t in a.targets.values():
            yield from t.params.values()
    for d in cat.drugs.values():
        for frac, _ in d.composition.values():
            yield frac
        for routes in d.routes.values():
            for r in routes.values():
                for pw in r.pathways:
                    yield from (p for p in (pw.F, pw.ka, pw.duration, pw.device_mg,
                                            pw.later_device_factor) if p is not None)
    for layer in LAYERS:
        yield from layer_params(layer).values()
    yield from parameter_file("population").values()
    for cond in condition_params().values():
        yield from cond.values()
    for pert in registry().values():
        yield from pert.effects.values()


def test_the_layer_list_is_the_layer_files():
    """The honesty checks enumerate LAYERS; it must name every layer file (none skipped)."""
    files = {f.name[: -len(".toml")] for f in resources.files("raadsim").joinpath(
        "model", "layers").iterdir() if f.name.endswith(".toml")}
    assert files == set(LAYERS)


def test_every_data_parameter_has_complete_provenance():
    """Parsing enforces it (literature: source + quote/note; fitted: fitted_to; assumed and
    derived: a note); here we check that literature sources exist in the bibliography."""
    bib = sources()
    n = 0
    for p in _all_params():
        n += 1
        prov = p.provenance
        if prov.kind == "literature":
            assert prov.source in bib, f"{p.name}: unknown source {prov.source}"
        if prov.source is not None:
            assert prov.source in bib, f"{p.name}: unknown source {prov.source}"
        if prov.kind == "fitted":
            assert prov.fitted_to
    assert n > 250


@pytest.mark.parametrize(("drug", "species", "route"), SPECIES_ROUTES)
def test_every_model_parameter_carries_its_source(drug, species, route):
    """Every constant in every built model (each drug × species × route) points to a sourced
    parameter record."""
    dose = {"drug": drug, "amount": "1 mg", "route": route}
    sc = scenario_from_dict({"subject": {"species": species}, "dose": [dose]})
    spec = build_model(sc, sc.catalogue())
    assert spec.layers <= set(LAYERS)
    for p in spec.params.values():
        assert p.source.provenance.kind in ("literature", "fitted", "derived", "assumed")
        assert p.source.description


def test_missing_provenance_is_rejected(tmp_path):
    """A parameter without provenance cannot be loaded."""
    from raadsim.errors import InputError
    from raadsim.provenance import param_from_table

    with pytest.raises(InputError):
        param_from_table("x", {"value": 1, "unit": "L", "description": "a volume"}, "t")
    with pytest.raises(InputError):
        param_from_table("x", {"value": 1, "unit": "L", "description": "a volume",
                               "kind": "literature", "source": "kamp2020"}, "t")
    with pytest.raises(InputError):
        param_from_table("x", {"value": 1, "unit": "L", "description": "a volume",
                               "kind": "fitted"}, "t")
