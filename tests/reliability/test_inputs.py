"""Causes 2, 3, 4, 7 and 8 of issue 19: every quantity is finite, in its dimension and in a
stated range; types are strict; errors name the field before any model is built; user text
is printed as text, never as rich markup."""

from __future__ import annotations

import json
import tomllib

import numpy as np
import pytest

from raadsim import scenario_from_dict, simulate
from raadsim.errors import InputError
from raadsim.io import limits
from raadsim.io.scenario import Scenario, Simulation, hours
from raadsim.io.scenario_dump import scenario_to_dict, scenario_to_toml, trial_to_dict
from raadsim.io.trial_file import TrialDesign, trial_from_dict
from raadsim.units import Quantity, read_quantity

from .cli_check import SCENARIO, TRIAL, check_call, invoke, tree

# (text in SCENARIO, replacement, field the error names, words of what is accepted)
SCENARIO_CASES = [
    # cause 2: non-finite, absurd or unresolvable numbers
    ('amount = "0.5 mg/kg"', 'amount = "nan mg"', "dose[0].amount", "finite number"),
    ('amount = "0.5 mg/kg"', 'amount = "1e308 mg"', "dose[0].amount", "45 mg/kg"),
    ('amount = "0.5 mg/kg"', 'amount = "1e-300 mg"', "dose[0].amount", "0 or from 1e-06"),
    ('amount = "0.5 mg/kg"', 'amount = "46 mg/kg"', "dose[0].amount", "anaesthetic"),
    ('weight_kg = 70', "weight_kg = nan", "subject.weight_kg", "finite"),
    ('weight_kg = 70', "weight_kg = inf", "subject.weight_kg", "finite"),
    ('weight_kg = 70', "weight_kg = 1e308", "subject.weight_kg", "from 2 to 300 kg"),
    ('weight_kg = 70', f"weight_kg = {2**2000}", "subject.weight_kg", "finite"),
    ('weight_kg = 70', 'weight_kg = "1e-300 kg"', "subject.weight_kg", "from 2 to 300 kg"),
    ('weight_kg = 70', 'weight_kg = 70\ncondition = "trd"\n[[bath]]\ndrug = "lsd"\n'
     'concentration = "1 uM"', "bath[0]", "culture"),
    ('infusion = "40 min"', 'infusion = "40 min"\nat = "nan h"', "dose[0].at", "finite"),
    ('infusion = "40 min"', 'infusion = "40 min"\nat = "1e9 h"', "dose[0].at", "17520 h"),
    ('infusion = "40 min"', 'infusion = "40 min"\nrepeat = { every = "nan h", count = 2 }',
     "dose[0].repeat.every", "finite"),
    ('infusion = "40 min"', 'infusion = "40 min"\nrepeat = { every = "1 h", count = 100000 }',
     "dose[0].repeat.count", "from 1 to 1000"),
    ('infusion = "40 min"', 'infusion = "40 min"\nrepeat = { every = "1 d", count = 900 }',
     "dose[0].repeat", "17520 h"),
    ('infusion = "40 min"', 'infusion = "1e-8 s"', "dose[0].infusion", "a bolus"),
    ('end = "2 h"', 'end = "1e9 h"', "simulation.end", "17520 h"),
    ('end = "2 h"', 'end = "inf h"', "simulation.end", "finite"),
    ('output_every = "20 min"', 'output_every = "1e-9 s"', "simulation.output_every",
     "from 1 s"),
    ('end = "2 h"\noutput_every = "20 min"', 'end = "100 d"\noutput_every = "1 min"',
     "simulation.output_every", "100000 output rows"),
    # cause 3: only the field's dimension, with an explicit number
    ('amount = "0.5 mg/kg"', 'amount = "0.5 kg/mg"', "dose[0].amount", "not a unit of"),
    ('amount = "0.5 mg/kg"', 'amount = "mg"', "dose[0].amount", "a finite number, then"),
    ('amount = "0.5 mg/kg"', 'amount = "0.5 mL"', "dose[0].amount", "not a unit of"),
    ('end = "2 h"', 'end = "2 kg"', "simulation.end", "duration"),
    ('end = "2 h"', 'end = "h"', "simulation.end", "a finite number, then"),
    # cause 4: strict types
    ("weight_kg = 70", "weight_kg = true", "subject.weight_kg", "not true or false"),
    ('infusion = "40 min"', 'infusion = "40 min"\nrepeat = { every = "1 h", count = "8" }',
     "dose[0].repeat.count", "whole number"),
    ('infusion = "40 min"', 'infusion = "40 min"\nrepeat = { every = "1 h", count = 2.0 }',
     "dose[0].repeat.count", "whole number"),
    ('amount = "0.5 mg/kg"', "amount = 0.5", "dose[0].amount", "as a string"),
    ('species = "human"', "species = 1", "subject.species", "a string"),
    ('observables = ["plasma.ketamine", "occupancy.nmdar"]', 'observables = "plasma.ketamine"',
     "simulation.observables", "a list"),
    ('amount = "0.5 mg/kg"', 'amount = "0.5 dimensionless"', "dose[0].amount",
     "not a unit of a pure number"),
    ('observables = ["plasma.ketamine", "occupancy.nmdar"]', "observables = []",
     "simulation.observables", "at least one observable"),
    # cause 8: named before the model is built
    ('infusion = "40 min"', 'infusion = "nan min"', "dose[0].infusion", "finite"),
]


@pytest.mark.parametrize(("old", "new", "field", "words"), SCENARIO_CASES)
def test_bad_scenario_values_one_line_naming_the_field(tmp_path, old, new, field, words):
    assert old in SCENARIO
    (tmp_path / "s.toml").write_text(SCENARIO.replace(old, new, 1))
    before = tree(tmp_path)
    call = invoke(["run", str(tmp_path / "s.toml"), "--out", str(tmp_path / "out")])
    assert check_call(call, tmp_path, before, None, None) != "ok"
    assert call.lines[0].startswith(f"error: {field}: got "), call.output
    assert words in call.output, call.output


TRIAL_CASES = [
    ("n = 2", "n = true", "population.n", "whole number"),
    ("n = 2", 'n = "8"', "population.n", "whole number"),
    ("n = 2", "n = 10000000", "population.n", "from 1 to 1000000"),
    ("seed = 7", 'seed = "7"', "population.seed", "whole number"),
    ("seed = 7", f"seed = {2**70}", "population.seed", "9223372036854775807"),
    ('condition = "trd"', 'condition = "trd"\nfemale = "0.5"', "population.female", "number"),
    ('condition = "trd"', 'condition = "trd"\ngenotype = { "val/val" = "1" }',
     "population.genotype.val/val", "number"),
    ('condition = "trd"', 'condition = "trd"\nweight_kg = { mean = nan, sd = 1 }',
     "population.weight_kg.mean", "finite"),
    ('condition = "trd"', 'condition = "trd"\nweight_kg = { mean = 70, sd = 10, min = 0.1 }',
     "population.weight_kg.min", "from 2 to 300 kg"),
    ('condition = "trd"', 'condition = "trd"\nage = { mean = 40, sd = 1e308 }',
     "population.age.sd", "standard deviation"),
    ('visits = ["1 h", "2 h"]', 'visits = ["nan h"]', "trial.visits[0]", "finite"),
    ('visits = ["1 h", "2 h"]', 'visits = ["2 h", "1 h"]', "trial.visits", "ascending"),
    ('output_every = "1 h"', 'output_every = "1e-9 s"', "trial.output_every", "from 1 s"),
    # cause 8: a bad dose in an arm names the arm's dose, not the solver
    ('amount = "0.5 mg/kg"', 'amount = "1e308 mg"', "trial.arm[0].dose[0].amount", "45 mg/kg"),
    ('amount = "0.5 mg/kg"', 'amount = "nan mg"', "trial.arm[0].dose[0].amount", "finite"),
    ('infusion = "40 min"', 'infusion = "nan min"', "trial.arm[0].dose[0].infusion", "finite"),
    ('route = "iv"', 'route = "oral"', "trial.arm[0].dose[0].infusion", "no infusion"),
]


@pytest.mark.parametrize(("old", "new", "field", "words"), TRIAL_CASES)
def test_bad_trial_values_one_line_naming_the_field(tmp_path, old, new, field, words):
    assert old in TRIAL
    (tmp_path / "t.toml").write_text(TRIAL.replace(old, new, 1))
    before = tree(tmp_path)
    call = invoke(["trial", str(tmp_path / "t.toml"), "--out", str(tmp_path / "out"),
                   "--executor", "serial"])
    assert check_call(call, tmp_path, before, None, None) != "ok"
    assert call.lines[0].startswith(f"error: {field}: got "), call.output
    assert words in call.output, call.output


def test_a_lightest_patient_dose_is_checked_too():
    raw = tomllib.loads(TRIAL.replace('amount = "0.5 mg/kg"', 'amount = "140 mg"'))
    raw["population"]["weight_kg"] = {"mean": 70, "sd": 10, "min": 3, "max": 100}
    with pytest.raises(InputError, match=r"trial\.arm\[0\]\.dose\[0\]\.amount.*3 kg subject"):
        trial_from_dict(raw).validate_arms(Scenario().catalogue())


# -- parsed once, into typed values -------------------------------------------------------------
def test_scenarios_hold_checked_values_in_canonical_units():
    sc = scenario_from_dict(tomllib.loads(SCENARIO))
    d = sc.dose[0]
    assert d.amount == Quantity(0.5, "mg/kg", "0.5 mg/kg")
    assert d.infusion.value == pytest.approx(2 / 3) and d.infusion.unit == "h"
    assert str(d.infusion) == "40 min" and sc.subject.weight == 70.0
    assert sc.model_inputs(sc.catalogue()).administrations[0].amount_mg == 35.0


def test_defaults_are_what_their_text_reads():
    for default in (Simulation().end, Simulation().output_every, hours("0 h", 0.0),
                    TrialDesign.model_fields["output_every"].default):
        assert read_quantity(default.given, "x", "time") == default


def test_dumps_read_back_identically():
    raw = tomllib.loads(SCENARIO)
    raw["subject"]["weight_kg"] = "80 kg"
    raw["dose"][0]["repeat"] = {"every": "3.5 d", "count": 2}
    raw["perturbation"] = [{"name": "rapamycin", "at": "-2 h"}]
    sc = scenario_from_dict(raw)
    assert scenario_from_dict(json.loads(json.dumps(scenario_to_dict(sc)))) == sc
    assert scenario_from_dict(tomllib.loads(scenario_to_toml(sc))) == sc
    assert scenario_to_dict(sc)["dose"][0]["infusion"] == "40 min"  # the text, as written
    tf = trial_from_dict(tomllib.loads(TRIAL))
    assert trial_from_dict(json.loads(json.dumps(trial_to_dict(tf)))) == tf


def test_the_limits_are_named_constants():
    assert limits.MAX_OUTPUT_POINTS == 100_000 and limits.RESOLUTION_H == 1 / 3600
    assert limits.max_mg_per_kg("human") == 45.0
    with pytest.raises(InputError, match=r"from 0\.04 to 1 kg"):
        scenario_from_dict({"subject": {"species": "rat", "weight_kg": 70}})
    with pytest.raises(InputError, match="no body weight for species culture"):
        scenario_from_dict({"subject": {"species": "culture", "weight_kg": 1}})


def test_the_shortest_infusion_delivers_the_whole_dose():
    """An infusion is at least 1 s (shorter: an error), and 1 s delivers what a bolus does
    (an infusion of 1e-8 s used to deliver nothing)."""

    def auc(infusion: str | None) -> float:
        dose = {"drug": "ketamine", "amount": "0.5 mg/kg", "route": "iv"}
        if infusion:
            dose["infusion"] = infusion
        sc = scenario_from_dict({"dose": [dose], "simulation": {
            "end": "6 h", "output_every": "1 min", "observables": ["plasma.ketamine"]}})
        r = simulate(sc)
        return float(np.trapezoid(r.values["plasma.ketamine"], r.time_h))

    assert auc("1 s") == pytest.approx(auc(None), rel=0.02)
    with pytest.raises(InputError, match=r"dose\[0\]\.infusion.*a bolus"):
        auc("0.5 s")


# -- cause 7: user text is never rich markup -----------------------------------------------------
@pytest.mark.parametrize(("old", "new", "shown"), [
    ('drug = "ketamine"', 'drug = "[/]"', "'[/]'"),
    ('drug = "ketamine"', 'drug = "[bold red]x[/bold red]"', "'[bold red]x[/bold red]'"),
    ('species = "human"', 'species = "culture"', "use [[bath]] with a concentration"),
])
def test_markup_in_user_text_is_printed_as_text(tmp_path, old, new, shown):
    text = SCENARIO.replace(old, new, 1)
    if "culture" in new:
        text = text.replace("weight_kg = 70\n", "")
    (tmp_path / "s.toml").write_text(text)
    before = tree(tmp_path)
    call = invoke(["run", str(tmp_path / "s.toml"), "--out", str(tmp_path / "out")])
    check_call(call, tmp_path, before, None, None)
    assert shown in call.output


def test_markup_in_paths_arm_names_and_visits(tmp_path):
    (tmp_path / "s.toml").write_text(SCENARIO)
    out = tmp_path / "a[" / "]b [bold]"
    call = invoke(["run", str(tmp_path / "s.toml"), "--out", str(out)])
    assert call.code == 0 and f"wrote {out}/timecourse.csv" in call.output
    for old, new in (('name = "ketamine"', 'name = "[/]"'),
                     ('visits = ["1 h", "2 h"]', 'visits = ["[/]"]')):
        (tmp_path / "t.toml").write_text(TRIAL.replace(old, new))
        call = invoke(["trial", str(tmp_path / "t.toml"), "--out", str(tmp_path / "t")])
        assert call.code == 2 and "'[/]'" in call.output and len(call.lines) == 1
