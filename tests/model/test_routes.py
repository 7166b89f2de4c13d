"""Routes and formulations: rodent i.p. first pass, s.c./i.m., intranasal formulation input."""

from __future__ import annotations

import pytest

from raadsim.drugs.catalogue import builtin
from raadsim.errors import InputError
from raadsim.io.scenario import scenario_from_dict
from raadsim.simulate.run import simulate


def _run(species: str, dose: dict, end: str = "6 h"):
    sc = scenario_from_dict({"subject": {"species": species}, "dose": [dose],
                             "simulation": {"end": end, "output_every": "2 min"}})
    return simulate(sc, observables=["plasma.ketamine", "plasma.norketamine"])


def _auc(r, obs: str) -> float:
    import numpy as np
    return float(np.trapezoid(r.values[obs], r.time_h))


def test_ip_passes_the_liver_in_rodents() -> None:
    """i.p. ketamine goes partly through the portal vein: less ketamine, more norketamine
    than the same s.c. dose (first pass from the liver compartment, not a fixed F)."""
    ip = _run("rat", {"drug": "ketamine", "amount": "10 mg/kg", "route": "ip"}, "24 h")
    sc = _run("rat", {"drug": "ketamine", "amount": "10 mg/kg", "route": "sc"}, "24 h")
    assert _auc(ip, "plasma.ketamine") < 0.8 * _auc(sc, "plasma.ketamine")
    assert _auc(ip, "plasma.norketamine") > _auc(sc, "plasma.norketamine")


@pytest.mark.parametrize("species,route", [("rat", "im"), ("mouse", "im"), ("human", "sc")])
def test_new_routes_run(species: str, route: str) -> None:
    r = _run(species, {"drug": "ketamine", "amount": "0.5 mg/kg", "route": route})
    assert r.values["plasma.ketamine"].max() > 0


def test_intranasal_formulation_is_an_input_and_reported() -> None:
    dose = {"drug": "ketamine", "amount": "50 mg", "route": "intranasal"}
    default = _run("human", dose)
    spray = _run("human", {**dose, "formulation": "spray"})
    assert default.meta["formulations"] == {"dose[0]": "ketamine intranasal: device"}
    assert spray.meta["formulations"] == {"dose[0]": "ketamine intranasal: spray"}
    ratio = _auc(spray, "plasma.ketamine") / _auc(default, "plasma.ketamine")
    assert ratio == pytest.approx(0.45 / 0.13, rel=0.02)


def test_unknown_formulation_names_field_and_choices() -> None:
    sc = scenario_from_dict({"subject": {"species": "human"}, "dose": [
        {"drug": "ketamine", "amount": "50 mg", "route": "intranasal", "formulation": "foo"}]})
    with pytest.raises(InputError) as e:
        sc.administrations(sc.catalogue())
    msg = str(e.value)
    assert "dose[0].formulation" in msg and "spray" in msg and "drops_children" in msg


def test_formulation_on_a_route_without_formulations_is_an_error() -> None:
    sc = scenario_from_dict({"subject": {"species": "human"}, "dose": [
        {"drug": "ketamine", "amount": "50 mg", "route": "iv", "formulation": "spray"}]})
    with pytest.raises(InputError, match="formulation"):
        sc.administrations(sc.catalogue())


def test_catalogue_formulations_have_sourced_bioavailability() -> None:
    route = builtin().drugs["ketamine"].routes["human"]["intranasal"]
    assert route.default_formulation == "device"
    for name, pathways in route.formulations.items():
        F = pathways[0].F
        assert F is not None and F.provenance.kind == "literature", name


def test_drug_file_default_formulation_must_exist() -> None:
    from raadsim.drugs.schema import parse_drug_file

    pw = {"name": "nasal", "F": {"value": 0.5, "unit": "dimensionless", "description": "F",
                                 "kind": "assumed", "note": "test"}}
    raw = {"name": "x", "formula": "C13H16ClNO",
           "composition": {"s_ketamine": {"value": 1.0, "unit": "dimensionless",
                                          "description": "all", "kind": "assumed",
                                          "note": "test"}},
           "routes": {"human": {"intranasal": {
               "default_formulation": "drops",
               "formulation": {"spray": {"description": "a spray", "pathway": [pw]}}}}}}
    with pytest.raises(InputError, match="default_formulation"):
        parse_drug_file(raw, "mine.toml")
