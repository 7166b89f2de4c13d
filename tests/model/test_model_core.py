"""The model core checks itself: one description per layer, units, literals, perturbations."""

from __future__ import annotations

from dataclasses import replace

import pytest

from raadsim import scenario_from_dict
from raadsim.drugs.catalogue import builtin
from raadsim.errors import ModelError
from raadsim.model import dimensions
from raadsim.model.build import build_model
from raadsim.model.layer import LAYERS, load_layer
from raadsim.model.spec import numeric_literals
from raadsim.perturb.catalogue import GENOTYPES, NEEDS_AT, registry

KETAMINE_IV = {"subject": {"species": "human"},
               "dose": [{"drug": "ketamine", "amount": "0.5 mg/kg", "route": "iv",
                         "infusion": "40 min"}]}


def _every_model():
    """Every drug × species × route, a culture bath, and every perturbation (mouse)."""
    cat = builtin()
    for d, drug in sorted(cat.drugs.items()):
        for sp, routes in drug.routes.items():
            for r in routes:
                yield {"subject": {"species": sp},
                       "dose": [{"drug": d, "amount": "1 mg", "route": r}]}
    yield {"subject": {"species": "culture"}, "bath": [{"drug": "lsd", "concentration": "10 nM"}]}
    for name in registry():
        pert = {"name": name, "at": "1 h"} if name in NEEDS_AT else {"name": name}
        if name in GENOTYPES:
            pert["genotype"] = GENOTYPES[name][-1]
        yield {"subject": {"species": "mouse"}, "perturbation": [pert],
               "dose": [{"drug": "ketamine", "amount": "10 mg/kg", "route": "ip"}]}


MODELS = list(_every_model())


def _spec(raw=KETAMINE_IV):
    sc = scenario_from_dict(raw)
    return build_model(sc, sc.catalogue())


@pytest.mark.parametrize("raw", MODELS, ids=lambda r: str(r.get("dose") or r.get("bath")
                                                           or r)[:60])
def test_every_model_passes_the_unit_check_and_has_no_bare_numbers(raw):
    """Built models are dimension- and scale-checked (build_model raises otherwise), and no
    equation holds a number other than 0, 1 and 2: every other number is a parameter."""
    spec = _spec(raw)
    exprs = {**spec.odes, **{r.name: r.expr for r in spec.rules.values()}}
    exprs |= {f"event {ev.label} → {v}": e for ev in spec.events for v, e in
              ev.increments.items()}
    found = {k: numeric_literals(e) for k, e in exprs.items() if numeric_literals(e)}
    assert not found


def _broken(mutate) -> ModelError:
    spec = _spec()
    mutate(spec)
    dimensions._CHECKED.clear()
    with pytest.raises(ModelError) as info:
        dimensions.check_dimensions(spec)
    return info.value


def test_a_missing_conversion_factor_is_a_scale_error():
    def mutate(spec):
        r = spec.rules["C_s_ketamine"]
        spec.rules["C_s_ketamine"] = replace(r, expr="A_c_s_ketamine/Vc_s_ketamine")
    assert "scale error in rule C_s_ketamine" in str(_broken(mutate))


def test_a_rate_law_without_a_rate_is_a_dimension_error():
    def mutate(spec):
        spec.odes["eef2k"] = "eef2k_present*(1 - phi_rest*B_pyr_total) - eef2k"
    msg = str(_broken(mutate))
    assert "deef2k/dt" in msg and "phi_rest" in msg  # names the equation and its terms


def test_a_mass_concentration_against_a_molar_affinity_is_a_dimension_error():
    def mutate(spec):
        spec.odes["B_pyr_s_ketamine"] = ("k_nmdar*activity_pyr*((Cb_s_ketamine/K_nmdar_s_ketamine)"
                                         "*(1 - B_pyr_total) - B_pyr_s_ketamine)")
    assert "dB_pyr_s_ketamine/dt" in str(_broken(mutate))


def test_a_wrong_declared_unit_is_a_dimension_error():
    def mutate(spec):
        spec.rules["madrs"] = replace(spec.rules["madrs"], unit="1")
    assert "rule madrs" in str(_broken(mutate))


def test_each_layer_is_one_checked_file():
    """Every layer loads from its file; equations name only their own parameters, states and
    rules or declared inputs (checked on load); parameters and equations carry line numbers."""
    for name in LAYERS:
        lay = load_layer(name)
        assert lay.path == f"model/layers/{name}.toml" and lay.summary
        assert all(lay.lines[p] > 0 for p in lay.parameters)
        assert all(eq.line > 0 for eq in lay.equations)
    assert load_layer("signaling") is load_layer("signalling")  # the one vocabulary, aliased


def test_a_perturbation_of_a_parameter_no_model_uses_fails_loudly(monkeypatch):
    """A perturbation whose target the model lacks is an error when the model is built, not a
    silent no-op (perturbations of absent layers, e.g. behaviour in culture, still skip)."""
    reg = dict(registry())
    nbqx = reg["nbqx"]
    effect = next(iter(nbqx.effects.values()))
    bad = replace(nbqx, effects={"no_such_parameter": effect})
    monkeypatch.setitem(reg, "nbqx", bad)
    monkeypatch.setattr("raadsim.model.perturbations.get", lambda name: reg[name])
    raw = {**KETAMINE_IV, "perturbation": [{"name": "nbqx"}]}
    with pytest.raises(ModelError, match="no_such_parameter"):
        _spec(raw)
    unused = replace(nbqx, effects={"w_struct_rodent": effect})  # a clinic parameter of rodents
    monkeypatch.setitem(reg, "nbqx", unused)
    with pytest.raises(ModelError, match="w_struct_rodent"):
        _spec(raw)  # a human model's clinic layer does not use it


def test_every_perturbation_targets_a_parameter_some_layer_defines():
    from raadsim.model.build import condition_params
    from raadsim.model.perturbations import _targets, owner

    conditions = set(condition_params()["trd"])
    for name, p in registry().items():
        for species in ("human", "mouse"):
            for g in GENOTYPES.get(name, (None,)):
                for target, _ in _targets(name, p.effects, g, species):
                    assert owner(target, conditions)


def test_model_documentation_is_generated_from_the_layer_files():
    """docs/model.md is what scripts/model_docs.py writes from today's layer files."""
    from pathlib import Path

    from raadsim.model.layer_docs import model_markdown

    doc = Path(__file__).resolve().parents[2] / "docs" / "model.md"
    assert doc.read_text(encoding="utf-8") == model_markdown(), \
        "docs/model.md is stale: run python scripts/model_docs.py"


def test_explain_names_the_file_and_line_of_each_equation_and_parameter():
    from raadsim.model.explain import explain

    text = explain(_spec(), "signal.mtorc1", depth=1)
    lay = load_layer("signalling")
    line = next(eq.line for eq in lay.equations if eq.name == "mtorc1")
    assert f"model/layers/signalling.toml:{line}" in text
    assert f"model/layers/signalling.toml:{lay.lines['k_mtorc1']}" in text
    k = lay.parameters["k_mtorc1"]
    assert f"recorded range {k.low:g} to {k.high:g} 1/h" in text
