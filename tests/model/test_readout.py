"""The split of a model into its integrated part and its read-outs is derived from the
equations, and evaluating the read-outs after the integration gives the integrated model's
values."""

from __future__ import annotations

import numpy as np
import pytest

from raadsim.io.scenario import scenario_from_dict
from raadsim.model.build import build_model
from raadsim.model.readout import split
from raadsim.model.spec import identifiers
from raadsim.simulate.readout import ReadoutPlan
from raadsim.simulate.simulator import default_simulator


@pytest.fixture(scope="module")
def spec():
    sc = scenario_from_dict({"subject": {"species": "human", "weight_kg": 70},
                             "dose": [{"drug": "ketamine", "amount": "0.5 mg/kg",
                                       "route": "iv", "infusion": "40 min"}],
                             "simulation": {"end": "3 d", "output_every": "2 h"}})
    return build_model(sc, sc.catalogue())


def test_no_ode_or_event_uses_a_readout(spec):
    s = split(spec)
    readout = {r.name for r in s.rules}
    assert {"madrs", "placebo_fraction", "ad_effect"} <= readout
    used = set().union(*(identifiers(e) for e in spec.odes.values()))
    for ev in spec.events:
        used |= set().union(*(identifiers(e) for e in ev.increments.values()))
    assert not used & readout
    assert not s.constants & s.dynamic


def test_a_readout_constant_does_not_change_the_integrated_states(spec):
    s = split(spec)
    assert "p_placebo" in s.constants and "k_ritual" not in s.constants
    sim = default_simulator()
    t = np.array([0.0, 2.0, 24.0, 48.0]) + spec.t_start * 0
    names = list(s.frontier)
    a, _ = sim.run_variables(spec, names, t)
    b, _ = sim.run_variables(spec, names, t, params={"p_placebo": 0.5, "R50_relief": 0.2})
    np.testing.assert_array_equal(a, b)


def test_readouts_after_integration_equal_the_integrated_model(spec):
    plan = ReadoutPlan.of(spec, ["madrs", "madrs_si", "ad_effect", "W_syn"])
    sim = default_simulator()
    t = np.linspace(0, 72, 13)
    direct, _ = sim.run_variables(spec, list(plan.variables), t)
    ints, _ = sim.run_variables(spec, list(plan.integrated), t)
    consts = {k: p.value for k, p in spec.params.items()} | spec.inputs
    out = plan.evaluate(dict(zip(plan.integrated, ints.T, strict=True)), consts)
    for k, name in enumerate(plan.variables):
        np.testing.assert_allclose(out[name], direct[:, k], rtol=1e-12, atol=1e-12)
    # vectorised over patients: a column of parameter values broadcasts
    many = plan.evaluate(dict(zip(plan.integrated, ints.T, strict=True)),
                         consts | {"p_placebo": np.array([[0.1], [0.2], [0.3]])})
    assert many["madrs"].shape == (3, len(t))
    assert not np.allclose(many["madrs"][0], many["madrs"][2])
