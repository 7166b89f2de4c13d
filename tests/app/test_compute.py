"""The app's compiled-model cache: same results as raadsim.simulate, compiled once per
structure."""

from __future__ import annotations

import numpy as np

from raadsim import scenario_from_dict, simulate
from raadsim.app import compute


def _sc(amount: str = "0.5 mg/kg", weight: float = 70, condition: str = "trd",
        route: str = "iv", perturbation: list | None = None):
    dose = {"drug": "ketamine", "amount": amount, "route": route}
    if route == "iv":
        dose["infusion"] = "40 min"
    raw = {"subject": {"species": "human", "weight_kg": weight, "condition": condition},
           "dose": [dose], "simulation": {"end": "2 d", "output_every": "20 min"}}
    if perturbation:
        raw["perturbation"] = perturbation
    return scenario_from_dict(raw)


def _close(a, b) -> None:
    assert list(a.values) == list(b.values)
    np.testing.assert_allclose(a.time_h, b.time_h)
    for k in b.values:
        scale = max(float(np.max(np.abs(b.values[k]))), 1e-12)
        np.testing.assert_allclose(a.values[k], b.values[k], rtol=0, atol=1e-5 * scale,
                                   err_msg=k)


def test_cached_runs_match_simulate_and_reuse_the_compiled_model():
    first = compute.simulate_cached(_sc())
    _close(first, simulate(_sc()))
    before = dict(compute.STATS)
    # dose, weight and condition are parameter values: same structure, no compilation
    other = _sc("1 mg/kg", weight=90, condition="mdd")
    again = compute.simulate_cached(other)
    assert compute.STATS["compiled"] == before["compiled"]
    assert compute.STATS["reused"] == before["reused"] + 1
    _close(again, simulate(other))
    assert again.values["plasma.ketamine"].max() > 1.5 * first.values["plasma.ketamine"].max()
    assert again.meta["seconds"] < 1.0 and again.engine == "libroadrunner"


def test_a_new_structure_compiles_once():
    pert = [{"name": "rapamycin", "at": "-1 h"}]
    key = compute.structure_key
    from raadsim.model.build import build_model

    a, b = _sc(perturbation=pert), _sc(route="intranasal")
    ka = key(build_model(a, a.catalogue()))
    assert ka != key(build_model(b, b.catalogue()))
    assert ka == key(build_model(*(lambda s: (s, s.catalogue()))(
        _sc("2 mg/kg", perturbation=pert))))
    n = compute.STATS["compiled"]
    compute.simulate_cached(a)
    compute.simulate_cached(_sc("2 mg/kg", perturbation=pert))
    assert compute.STATS["compiled"] <= n + 1
