"""Recorded scenarios: scenario.json / trial_file.json read back to the same input."""

from __future__ import annotations

import json
import tomllib

from raadsim import scenario_from_dict
from raadsim.io.scenario_dump import scenario_to_dict, scenario_to_toml, trial_to_dict
from raadsim.io.trial_file import load_trial, trial_from_dict

FULL = {
    "subject": {"species": "human", "weight_kg": 80, "condition": "trd"},
    "dose": [{"drug": "ketamine", "amount": "0.5 mg/kg", "route": "iv", "infusion": "40 min",
              "repeat": {"every": "3.5 d", "count": 3}},
             {"drug": "midazolam", "amount": "0.045 mg/kg", "route": "iv", "at": "7 d"}],
    "perturbation": [{"name": "rapamycin", "at": "-2 h"},
                     {"name": "bdnf_val66met", "genotype": "met/met"}],
    "simulation": {"end": "14 d", "output_every": "30 min",
                   "observables": ["plasma.ketamine", "clinic.madrs"]},
}


def test_scenario_round_trips_through_json_and_toml():
    sc = scenario_from_dict(FULL)
    d = scenario_to_dict(sc)
    assert "bath" not in d and "drug_files" not in d  # empty lists left out
    assert "repeat" not in d["dose"][1]  # unset optional fields left out
    assert scenario_from_dict(json.loads(json.dumps(d))) == sc
    assert scenario_from_dict(tomllib.loads(scenario_to_toml(sc))) == sc


def test_drug_files_made_absolute(tmp_path):
    sc = scenario_from_dict({"drug_files": ["mine.toml"], "dose": []})
    d = scenario_to_dict(sc, base_dir=tmp_path)
    assert d["drug_files"] == [str((tmp_path / "mine.toml").resolve())]
    assert scenario_to_dict(sc)["drug_files"] == ["mine.toml"]


def test_trial_round_trips(root):
    tf = load_trial(root / "examples" / "ketamine_trial.toml")
    back = trial_from_dict(json.loads(json.dumps(trial_to_dict(tf))))
    assert back == tf
