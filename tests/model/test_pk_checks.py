"""Pharmacokinetic consistency checks that are not published findings (those are evidence
records: src/raadsim/data/evidence/pk.toml, run by tests/findings/test_records.py)."""

from __future__ import annotations

import numpy as np

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
