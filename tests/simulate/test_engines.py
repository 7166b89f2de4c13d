"""The libRoadRunner and SciPy engines integrate the same equations."""

from __future__ import annotations

import numpy as np
import pytest

from raadsim import scenario_from_dict
from raadsim.model.build import build_model
from raadsim.simulate.engines import output_times
from raadsim.simulate.simulator import Simulator, Tolerances

TIGHT = Tolerances(1e-10, 1e-14, reference_engine_fallback=False)


def _both(spec, end: float, step: float):
    """Every observable variable from scenario time 0 to ``end`` with both engines."""
    variables = [o.var for o in spec.observables.values()]
    times = output_times(0.0, end, step)
    a, _ = Simulator("roadrunner", TIGHT).run_variables(spec, variables, times)
    b, _ = Simulator("scipy", Tolerances(1e-11, 1e-14)).run_variables(spec, variables, times)
    return a, b

REFERENCE = {
    "ketamine_iv_repeated": ("human", [{"drug": "ketamine", "amount": "0.5 mg/kg", "route": "iv",
                                        "infusion": "40 min",
                                        "repeat": {"every": "3.5 d", "count": 2}}], 96),
    "esketamine_in": ("human", [{"drug": "esketamine", "amount": "84 mg",
                                 "route": "intranasal"}], 24),
    "psilocybin_oral": ("human", [{"drug": "psilocybin", "amount": "25 mg", "route": "oral"}], 24),
    "lsd_oral": ("human", [{"drug": "lsd", "amount": "100 ug", "route": "oral"}], 24),
    "dmt_iv": ("human", [{"drug": "dmt", "amount": "20 mg", "route": "iv"}], 2),
    "mouse_ketamine_ip": ("mouse", [{"drug": "ketamine", "amount": "10 mg/kg", "route": "ip"}], 6),
}
# Scenarios with every kind of event: repeated doses, infusions, perturbations switched on at a
# time (before and after a dose), and spine ablation (an event whose assignment uses a rule).
PERTURBATION_EVENTS = {
    "mouse_repeated_ablation_rapamycin": (
        "mouse", [{"drug": "ketamine", "amount": "10 mg/kg", "route": "ip",
                   "repeat": {"every": "1 d", "count": 2}}],
        [{"name": "spine_ablation", "at": "24 h"}, {"name": "rapamycin", "at": "-1 h"}], 72),
    "human_infusion_nbqx_later": (
        "human", [{"drug": "ketamine", "amount": "0.5 mg/kg", "route": "iv", "infusion": "40 min",
                   "repeat": {"every": "2 d", "count": 2}}],
        [{"name": "nbqx", "at": "30 h"}, {"name": "bdnf_val66met", "genotype": "met/met"}], 72),
}


FAST_REFERENCE = {"ketamine_iv_repeated", "psilocybin_oral", "mouse_ketamine_ip"}


@pytest.mark.parametrize("name", [pytest.param(n, marks=[] if n in FAST_REFERENCE else
                                               [pytest.mark.slow]) for n in sorted(REFERENCE)])
def test_roadrunner_matches_scipy(name):
    """Relative error <= 1e-6 (max over time, relative to each observable's peak) at tight
    tolerance on the reference scenarios."""
    species, doses, end = REFERENCE[name]
    sc = scenario_from_dict({"subject": {"species": species}, "dose": doses})
    spec = build_model(sc, sc.catalogue())
    a, b = _both(spec, end, end / 400)
    scale = np.maximum(np.abs(a).max(axis=0), 1e-12)
    rel = (np.abs(a - b) / scale).max()
    assert rel <= 1e-6, f"max relative difference {rel:.2e}"


@pytest.mark.parametrize("name", [pytest.param(n, marks=[pytest.mark.slow] if "nbqx" in n
                                               else []) for n in sorted(PERTURBATION_EVENTS)])
def test_engines_agree_on_every_kind_of_event(name):
    """Both engines agree (relative to each observable's peak, <= 1e-6) on scenarios with
    repeated doses, infusions, timed perturbations and spine ablation."""
    species, doses, perturbations, end = PERTURBATION_EVENTS[name]
    sc = scenario_from_dict({"subject": {"species": species}, "dose": doses,
                             "perturbation": perturbations})
    spec = build_model(sc, sc.catalogue())
    a, b = _both(spec, end, 0.5)
    scale = np.maximum(np.abs(a).max(axis=0), 1e-12)
    rel = (np.abs(a - b) / scale).max()
    assert rel <= 1e-6, f"max relative difference {rel:.2e}"


def test_per_subject_dose_at_t0_changes_first_peak():
    """roadrunner fires t=0 events during reset; the engine must apply a per-run dose
    (resetAll → set parameters → reset). Doubling the dose must double the first peak."""
    sc = scenario_from_dict({"dose": [{"drug": "esketamine", "amount": "28 mg", "route": "iv"}]})
    spec = build_model(sc, sc.catalogue(), equilibrate=False)
    sim, times = Simulator(), output_times(0, 1, 0.01)
    base, _ = sim.run_variables(spec, ["C_s_ketamine"], times)
    double, _ = sim.run_variables(spec, ["C_s_ketamine"], times, params={"dose0_mg": 56.0})
    again, _ = sim.run_variables(spec, ["C_s_ketamine"], times)
    assert double[:, 0].max() == pytest.approx(2 * base[:, 0].max(), rel=1e-6)
    assert again[:, 0].max() == pytest.approx(base[:, 0].max(), rel=1e-9)


def test_negative_times_shift_the_clock():
    """A dose at '-2 h' happens 2 h before scenario time 0 (model clock starts at the first
    event); output times are in scenario hours."""
    from raadsim import simulate

    sc = scenario_from_dict({"dose": [{"drug": "lsd", "amount": "100 ug", "route": "oral",
                                       "at": "-2 h"}],
                             "simulation": {"end": "4 h", "output_every": "6 min"}})
    r = simulate(sc)
    assert r.time_h[0] == pytest.approx(-2)
    i = int(np.argmax(r.values["plasma.lsd"]))
    assert r.time_h[i] == pytest.approx(-2 + 1.55, abs=0.1)


def test_repeated_runs_of_one_engine_are_identical():
    """A population reuses one compiled model for many subjects. Measured pitfall: when the
    pre-equilibration ended in its own ``simulate`` call exactly on the first dose, the next
    ``resetAll`` fired that dose again and the infusion never stopped. Every run of one
    engine must equal the first."""
    sc = scenario_from_dict({"subject": {"condition": "trd"}, "dose": [
        {"drug": "ketamine", "amount": "0.5 mg/kg", "route": "iv", "infusion": "40 min",
         "repeat": {"every": "3.5 d", "count": 3}}]})
    spec = build_model(sc, sc.catalogue())
    sim, times = Simulator(), output_times(0, 240, 2)
    runs = [sim.run_variables(spec, ["madrs", "C_s_ketamine"], times)[0] for _ in range(3)]
    assert np.array_equal(runs[0], runs[1]) and np.array_equal(runs[0], runs[2])
    fresh = Simulator().run_variables(spec, ["madrs", "C_s_ketamine"], times)[0]
    assert np.array_equal(runs[0], fresh)
    assert runs[0][-1, 1] < 0.01 * runs[0][:, 1].max()  # the last infusion has ended
