"""The acute psychoactive layer: 5-HT2A dependence of the psychedelic state, none for the
NMDA-block-driven dissociation, and the slow tolerances (issue 23)."""

from __future__ import annotations

import numpy as np

from raadsim import scenario_from_dict, simulate

KETANSERIN = {"drug": "ketanserin", "amount": "40 mg", "route": "oral", "at": "-1 h"}
KETAMINE = {"drug": "ketamine", "amount": "0.5 mg/kg", "route": "iv", "infusion": "40 min"}
PSILOCYBIN = {"drug": "psilocybin", "amount": "25 mg", "route": "oral"}


def _run(doses, end="6 h", observables=("clinic.dissociation", "clinic.psychedelic_intensity")):
    sc = scenario_from_dict({"subject": {"species": "human", "weight_kg": 70}, "dose": doses,
                             "simulation": {"end": end, "output_every": "5 min",
                                            "observables": list(observables)}})
    return simulate(sc)


def test_ketanserin_abolishes_the_psychedelic_state_but_not_dissociation():
    ket, ket_blocked = _run([KETAMINE]), _run([KETANSERIN, KETAMINE])
    d, db = ket.values["clinic.dissociation"], ket_blocked.values["clinic.dissociation"]
    assert d.max() > 0.3
    np.testing.assert_allclose(db[-len(d):], d, rtol=1e-6, atol=1e-12)
    psi, psi_blocked = _run([PSILOCYBIN]), _run([KETANSERIN, PSILOCYBIN])
    peak = psi.values["clinic.psychedelic_intensity"].max()
    assert peak > 0.6
    assert psi_blocked.values["clinic.psychedelic_intensity"].max() < 0.05 * peak


def test_dissociation_tolerance_builds_per_session_and_recovers_over_weeks():
    """A second infusion a day later dissociates less; one four weeks later nearly as much
    as the first (tau_tol_dissociation = 1 week)."""
    def second_peak(gap_h: float) -> float:
        r = _run([{**KETAMINE, "repeat": {"every": f"{gap_h} h", "count": 2}}],
                 end=f"{gap_h + 3} h", observables=("clinic.dissociation",))
        late = r.time_h >= gap_h - 1e-9
        return float(r.values["clinic.dissociation"][late].max())

    first = _run([KETAMINE]).values["clinic.dissociation"].max()
    next_day, four_weeks = second_peak(24), second_peak(28 * 24)
    assert next_day < 0.95 * first
    assert four_weeks > 0.97 * first
    assert next_day < four_weeks


def test_5ht2a_tolerance_lags_a_session_and_is_shared_by_agonists():
    """Little tolerance within one LSD session (Dolder 2017: no acute tolerance) but a day
    later (Buchborn 2016); the tolerance state is the receptor's, so it is the same state
    whichever agonist built it (cross-tolerance)."""
    lsd = {"drug": "lsd", "amount": "100 ug", "route": "oral"}
    r = _run([lsd], end="24 h", observables=("tolerance.ht2a",))
    tol = r.values["tolerance.ht2a"]
    assert tol[np.searchsorted(r.time_h, 8.0)] < 0.15
    assert tol[-1] > 0.2
    p = _run([PSILOCYBIN], end="24 h", observables=("tolerance.ht2a",))
    assert p.values["tolerance.ht2a"][-1] > 0.1
