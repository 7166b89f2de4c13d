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



def _lsd_peaks(params: dict[str, float]) -> dict[str, float]:
    out = {}
    for a in ("25 ug", "100 ug", "200 ug"):
        sc = scenario_from_dict({"subject": {"species": "human"},
                                 "dose": [{"drug": "lsd", "amount": a, "route": "oral"}],
                                 "simulation": {"end": "16 h", "output_every": "5 min",
                                                "observables": ["clinic.psychedelic_intensity"]}})
        out[a] = float(simulate(sc, params=params).values["clinic.psychedelic_intensity"].max())
    return out


def test_lsd_plateau_hypothesis_is_a_lower_5ht2a_affinity_constant():
    """The two LSD dose-response records that fail (hirschfeld2023_lsd_plateau_100ug,
    holze2021_lsd_25ug_threshold) are one disagreement: the default K_ht2a_lsd puts the
    published EC50 of about 1 ng/mL (Holze 2019, Dolder 2017) near the 100 ug Cmax, so 100 ug
    sits at mid-curve. The alternative hypothesis, LSD about 1.7x more potent in vivo than that
    EC50 (K_ht2a_lsd x 0.6, a scenario parameter override), gives both the plateau and the
    25 ug response, at the cost of the EC50."""
    from raadsim.model.build import build_model

    sc = scenario_from_dict({"subject": {"species": "human"},
                             "dose": [{"drug": "lsd", "amount": "100 ug", "route": "oral"}]})
    K = build_model(sc, sc.catalogue()).params["K_ht2a_lsd"].value
    default, potent = _lsd_peaks({}), _lsd_peaks({"K_ht2a_lsd": 0.6 * K})
    assert default["200 ug"] / default["100 ug"] > 1.15 and default["25 ug"] < 0.1
    assert potent["200 ug"] / potent["100 ug"] <= 1.15 and potent["25 ug"] >= 0.1
