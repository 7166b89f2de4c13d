"""The one simulation path: cache by structure, clock, fallbacks and eeg.* everywhere."""

from __future__ import annotations

import numpy as np
import pytest

from raadsim import scenario_from_dict, simulate
from raadsim.errors import ModelError
from raadsim.io.trial_file import trial_from_dict
from raadsim.model.build import build_model
from raadsim.simulate import simulator as simmod
from raadsim.simulate.simulator import Simulator
from raadsim.simulate.trial import run_trial

KETAMINE = {"drug": "ketamine", "amount": "0.5 mg/kg", "route": "iv", "infusion": "40 min"}


def _spec(**subject):
    sc = scenario_from_dict({"subject": {"species": "human", **subject}, "dose": [KETAMINE],
                             "simulation": {"end": "1 d"}})
    return build_model(sc, sc.catalogue())


def test_structure_is_compiled_once_and_values_are_set_per_run():
    sim = Simulator()
    a, b = _spec(weight_kg=60), _spec(weight_kg=100, condition="mdd")
    ya = sim.run(a, ["plasma.ketamine", "clinic.madrs"], np.array([0.5, 24.0]))
    yb = sim.run(b, ["plasma.ketamine", "clinic.madrs"], np.array([0.5, 24.0]))
    assert sim.stats == {"compiled": 1, "reused": 1}
    fresh = Simulator().run(b, ["plasma.ketamine", "clinic.madrs"], np.array([0.5, 24.0]))
    for k in fresh.values:  # a reused compiled model gives what a fresh one gives
        np.testing.assert_allclose(yb.values[k], fresh.values[k], rtol=1e-6)
    assert yb.values["plasma.ketamine"][0] > ya.values["plasma.ketamine"][0]  # 100 kg dose


def test_a_run_cvode_cannot_finish_is_retried_then_given_to_the_reference_engine(monkeypatch):
    spec = _spec()
    times = np.array([1.0, 6.0])
    good = Simulator().run(spec, ["clinic.madrs"], times)
    calls = {"n": 0}
    original = simmod.CompiledModel._run

    def flaky(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("CV_TOO_MUCH_WORK")
        return original(self, *args, **kwargs)

    monkeypatch.setattr(simmod.CompiledModel, "_run", flaky)
    retried = Simulator().run(spec, ["clinic.madrs"], times)
    assert retried.fallbacks == 1
    np.testing.assert_allclose(retried.values["clinic.madrs"], good.values["clinic.madrs"],
                               rtol=1e-6)

    def broken(self, *args, **kwargs):
        raise RuntimeError("CV_TOO_MUCH_ACC")

    monkeypatch.setattr(simmod.CompiledModel, "_run", broken)
    rescued = Simulator().run(spec, ["clinic.madrs"], times)
    assert rescued.fallbacks == len(simmod.SINGLE_RUN.attempts())  # the SciPy engine ran
    np.testing.assert_allclose(rescued.values["clinic.madrs"], good.values["clinic.madrs"],
                               rtol=1e-5)
    strict = Simulator(tolerances=simmod.Tolerances(1e-8, 1e-10,
                                                    reference_engine_fallback=False))
    with pytest.raises(ModelError, match="every tolerance"):
        strict.run(spec, ["clinic.madrs"], times)


def test_eeg_is_relative_to_the_subjects_own_drug_free_state():
    """With a lifelong AMPA block (NBQX from birth) and no drug, every band is at 1."""
    sc = scenario_from_dict({"subject": {"species": "mouse"},
                             "perturbation": [{"name": "nbqx"}],
                             "simulation": {"end": "1 d", "output_every": "6 h",
                                            "observables": ["eeg.alpha_power",
                                                            "eeg.gamma_power"]}})
    r = simulate(sc)
    for v in r.values.values():
        np.testing.assert_allclose(v, 1.0, atol=1e-9)


def test_a_trial_reports_eeg_per_arm():
    tf = trial_from_dict({
        "population": {"n": 3, "seed": 1},
        "trial": {"visits": ["1 d"], "output_every": "20 min", "end": "1 d",
                  "observables": ["clinic.madrs", "eeg.gamma_power"],
                  "arm": [{"name": "ketamine", "dose": [KETAMINE]},
                          {"name": "saline", "dose": [{"drug": "saline", "amount": "0 mg",
                                                       "route": "iv", "infusion": "40 min"}]}]}})
    res = run_trial(tf, executor="serial")
    tc = res.timecourse
    gamma = tc[tc["observable"] == "eeg.gamma_power"]
    ket = gamma[gamma["arm"] == "ketamine"]["mean"].to_numpy()
    sal = gamma[gamma["arm"] == "saline"]["mean"].to_numpy()
    assert ket.max() > 1.005 and np.allclose(sal, 1.0, atol=1e-9)


def test_sensitivity_of_an_eeg_observable():
    from raadsim.analysis.sensitivity import run_sensitivity

    sc = scenario_from_dict({"subject": {"species": "human"}, "dose": [KETAMINE],
                             "simulation": {"end": "2 h"}})
    res = run_sensitivity(sc, sc.catalogue(), "eeg.gamma_power", ["0.67 h"], method="morris",
                          n=2, params=["K_nmdar_s_ketamine", "tau_E"], executor="serial")
    assert set(res.indices["parameter"]) == {"K_nmdar_s_ketamine", "tau_E"}
