"""The trial report describes the model the trial ran: its typical patient is the population's
mean weight, not a 70 kg default."""

from __future__ import annotations

from raadsim.drugs.catalogue import builtin
from raadsim.io.trial_file import trial_from_dict
from raadsim.report.trial_report import _arm_models
from raadsim.simulate.trial import prepare_arms

TRIAL = {"population": {"n": 4, "weight_kg": {"mean": 95.0, "sd": 10.0, "min": 60, "max": 140}},
         "trial": {"visits": ["1 d"], "arm": [{"name": "ketamine", "dose": [
             {"drug": "ketamine", "amount": "0.5 mg/kg", "route": "iv", "infusion": "40 min"}]}]}}


def test_report_parameters_are_those_of_the_trials_typical_patient():
    """(For trial directories that did not record their models, which are rebuilt.)"""
    tf = trial_from_dict(TRIAL)
    ran = prepare_arms(tf, builtin())[0].spec
    reported = _arm_models(tf)[0][3]
    assert ran.params["Qh_s_ketamine"].value == reported.params["Qh_s_ketamine"].value
    assert ran.inputs["dose0_mg"] == reported.inputs["dose0_mg"] == 0.5 * 95.0
