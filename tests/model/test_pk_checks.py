"""Pharmacokinetic consistency checks that are not published findings (those are evidence
records: src/raadsim/data/evidence/pk.toml, run by tests/findings/test_records.py)."""

from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import peak, run_single


def terminal_half_life(result, observable: str, t0: float, t1: float) -> float:
    """Half-life (h) from the log-linear slope between t0 and t1 (h)."""
    t, v = result.time_h, result.values[observable]
    i0, i1 = np.searchsorted(t, t0 - 1e-9), np.searchsorted(t, t1 - 1e-9)
    return float(np.log(2) * (t[i1] - t[i0]) / np.log(v[i0] / v[i1]))


def test_ketamine_iv_peak_at_end_of_infusion():
    """0.5 mg/kg over 40 min: the plasma peak is at the end of the infusion."""
    r = run_single("ketamine", "0.5 mg/kg", "iv", infusion="40 min", weight=70, end="3 h")
    _, tmax = peak(r, "plasma.ketamine")
    assert abs(tmax - 40 / 60) <= 1 / 60


@pytest.mark.slow
def test_rat_half_life_between_mouse_and_human():
    """Allometry: the rat (scaled from human) eliminates ketamine more slowly than the mouse
    (fitted to Ma 2023) and faster than the human (same 10-60 min window)."""
    obs = ["plasma.ketamine"]
    kw = dict(end="2 h", every="0.5 min", observables=obs)
    mouse = run_single("ketamine", "10 mg/kg", "iv", species="mouse", **kw)
    rat = run_single("ketamine", "10 mg/kg", "iv", species="rat", **kw)
    human = run_single("ketamine", "0.5 mg/kg", "iv", **kw)
    t = [terminal_half_life(r, "plasma.ketamine", 10 / 60, 1.0) for r in (mouse, rat, human)]
    assert t[0] < t[1] < t[2]


def test_arterial_adds_the_partially_mixed_infusate_during_an_iv_infusion_only():
    """arterial = venous plasma + infusion rate / total PK flow (Henthorn 2018: 7.59 L/min at
    70 kg) while the infusion runs, and equal to venous plasma after it and for other routes."""
    obs = ["plasma.s_ketamine", "arterial.s_ketamine", "plasma.ketamine", "arterial.ketamine"]
    r = run_single("ketamine", "0.5 mg/kg", "iv", infusion="40 min", weight=70, end="3 h",
                   observables=obs)
    t = r.time_h
    during, after = (t > 0.05) & (t < 0.6), t > 0.7
    rate_s = 0.5 * 0.5 * 70 / (40 / 60)  # mg/h of S-ketamine (half the racemate)
    excess = r.values["arterial.s_ketamine"] - r.values["plasma.s_ketamine"]
    assert np.allclose(excess[during], 1000 * rate_s / (7.59 * 60), rtol=1e-9)
    assert np.allclose(excess[after], 0.0, atol=1e-9)
    total = r.values["arterial.ketamine"] - r.values["plasma.ketamine"]
    assert np.allclose(total[during], 2 * excess[during], rtol=0.02)  # S + R (R ≈ S in dose)
    nasal = run_single("esketamine", "84 mg", "intranasal", end="3 h",
                       observables=["plasma.s_ketamine", "arterial.s_ketamine"])
    assert np.array_equal(nasal.values["plasma.s_ketamine"], nasal.values["arterial.s_ketamine"])


def test_arterial_front_end_scales_with_body_weight_like_a_flow():
    """The total PK flow scales as (W/70)^0.75, so the arterial excess of a per-kg infusion
    grows as W^0.25."""
    obs = ["plasma.s_ketamine", "arterial.s_ketamine"]
    ex = []
    for w in (50.0, 100.0):
        r = run_single("esketamine", "0.2 mg/kg", "iv", infusion="40 min", weight=w, end="1 h",
                       observables=obs)
        i = int(np.searchsorted(r.time_h, 0.3))
        ex.append(r.values["arterial.s_ketamine"][i] - r.values["plasma.s_ketamine"][i])
    assert np.isclose(ex[1] / ex[0], 2 ** 0.25, rtol=1e-6)
