"""The scenario form: values → scenario, and every error shown next to its field."""

from __future__ import annotations

import pytest

from raadsim.app import form
from raadsim.errors import InputError


def test_defaults_are_a_valid_scenario():
    sc, _ = form.scenario_of(form.DEFAULTS)
    assert sc.subject.condition == "trd" and str(sc.dose[0].infusion) == "40 min"
    sc_b, _ = form.scenario_of(form.DEFAULTS_B)
    assert sc_b.dose[0].drug == "psilocybin" and sc_b.dose[0].infusion is None


def test_schedule_perturbation_and_genotype():
    raw = form.form_to_dict({**form.DEFAULTS, "every": "3.5 d", "count": 4.0,
                             "perturbations": ["rapamycin", "bdnf_val66met"],
                             "pert_at": "-1 h", "genotype": "met/met", "weight": "80 kg"})
    assert raw["dose"][0]["repeat"] == {"every": "3.5 d", "count": 4}
    assert raw["perturbation"] == [{"name": "rapamycin", "at": "-1 h"},
                                   {"name": "bdnf_val66met", "at": "-1 h",
                                    "genotype": "met/met"}]
    sc, _ = form.validate(raw)
    assert sc.subject.weight == 80 and len(sc.dose[0].times_h()) == 4


@pytest.mark.parametrize(("change", "field", "words"), [
    ({"amount": "0.5"}, "amount", "a unit is required"),
    ({"amount": "-1 mg"}, "amount", "dose"),
    ({"weight": "70 m"}, "weight", "body weight"),
    ({"every": "3.5 d"}, "count", "number of doses"),
    ({"count": 3}, "every", "interval"),
    ({"every": "3.5 d", "count": 2.5}, "count", "whole number"),
    ({"every": "soon", "count": 2}, "every", "duration"),
    ({"infusion": "abc"}, "infusion", "duration"),
    ({"route": "oral", "infusion": "40 min"}, "infusion", "no infusion"),
    ({"drug": "lsd"}, "route", "oral"),
    ({"species": "mouse", "drug": "midazolam", "route": "iv"}, "drug",
     "a drug with data for mouse"),
    ({"perturbations": ["spine_ablation"]}, "pert_at", "a time for spine_ablation"),
    ({"perturbations": ["lithium"], "pert_at": "yesterday"}, "pert_at", "duration"),
    ({"end": "1 kg"}, "end", "duration"),
    ({"output_every": "1 s", "end": "28 d"}, "output_every", "output rows"),
])
def test_errors_name_the_form_field(change, field, words):
    with pytest.raises(InputError) as info:
        form.scenario_of({**form.DEFAULTS, **change})
    assert form.field_of(info.value) == field, info.value
    assert words in form.message(info.value)


def test_choices():
    assert "midazolam" not in form.drug_options("mouse")
    assert {"ketamine", "lsd", "psilocybin"} <= set(form.drug_options("human"))
    assert form.route_options("lsd", "human") == ["oral"]
    assert form.route_options("nope", "human") == []
    assert form.infusion_allowed("ketamine", "human", "iv")
    assert not form.infusion_allowed("ketamine", "human", "intranasal")
    assert form.visit_times("1 d, 7 d,") == ["1 d", "7 d"]
    with pytest.raises(InputError):
        form.visit_times("1 d, later")
