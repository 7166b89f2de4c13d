"""Pharmacokinetic checks against ../shared/reference/pkpd.md (each cites its source)."""

from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import peak, run_single


def terminal_half_life(result, observable: str, t0: float, t1: float) -> float:
    """Half-life (h) from the log-linear slope between t0 and t1 (h)."""
    t, v = result.time_h, result.values[observable]
    i0, i1 = np.searchsorted(t, t0 - 1e-9), np.searchsorted(t, t1 - 1e-9)
    return float(np.log(2) * (t[i1] - t[i0]) / np.log(v[i0] / v[i1]))


@pytest.mark.xfail(strict=True, reason=(
    "Known gap: the enantiomer-resolved model (S: Perez-Ruixo 2021 population PK; R: scaled "
    "from S) gives a venous Cmax of 125 ng/mL, as does the Kamp 2020 meta-analysis "
    "(CL 79 L/h, V 252 L); the tabulated Zarate 2006 value is 185 ng/mL. Not tuned away."))
def test_ketamine_iv_cmax_185():
    """Zarate 2006 via Zanos 2018 Table 1 (PMC6020109): 0.5 mg/kg IV over 40 min → Cmax
    185 ng/mL. Tolerance ±20 %: the between-subject CV of the central volume is 27.5 %
    (Perez-Ruixo 2021), so a study mean should fall within about ±20 % of the typical value."""
    r = run_single("ketamine", "0.5 mg/kg", "iv", infusion="40 min", weight=70, end="3 h")
    cmax, tmax = peak(r, "plasma.ketamine")
    assert abs(tmax - 40 / 60) < 2 / 60
    assert cmax == pytest.approx(185, rel=0.20)


def test_ketamine_iv_peak_at_end_of_infusion_and_in_dissociative_range():
    """0.5 mg/kg over 40 min: the peak is at the end of the infusion and within the
    100-250 ng/mL range in which dissociation occurs (Krystal 1994 via PMC6020109 Table 1)."""
    r = run_single("ketamine", "0.5 mg/kg", "iv", infusion="40 min", weight=70, end="3 h")
    cmax, tmax = peak(r, "plasma.ketamine")
    assert abs(tmax - 40 / 60) <= 1 / 60
    assert 100 <= cmax <= 250


def test_esketamine_intranasal_bioavailability_and_tmax():
    """Spravato label (J&J Medical Connect): 'the mean absolute bioavailability of ESK is 48%'
    and 'The time to reach maximum ESK plasma concentration is 20 to 40 minutes'; Perez-Ruixo
    2021: F 51 % at 84 mg. Tolerance: F within 0.43-0.56 (label ±5 points, covers the popPK
    value); Tmax within 20-40 min on a 1-min grid."""
    common = dict(end="48 h", every="1 min", observables=["plasma.s_ketamine"])
    r_in = run_single("esketamine", "84 mg", "intranasal", **common)
    r_iv = run_single("esketamine", "84 mg", "iv", infusion="1 min", **common)
    auc_in = np.trapezoid(r_in.values["plasma.s_ketamine"], r_in.time_h)
    auc_iv = np.trapezoid(r_iv.values["plasma.s_ketamine"], r_iv.time_h)
    F = auc_in / auc_iv
    assert 0.43 <= F <= 0.56
    _, tmax = peak(r_in, "plasma.s_ketamine")
    assert 20 / 60 <= tmax <= 40 / 60 + 1e-9


@pytest.mark.parametrize(("dose", "published", "low", "high"),
                         [("15 mg", 11, 10, 13), ("25 mg", 17, 16, 19), ("30 mg", 21, 19, 24)])
def test_psilocin_cmax(dose, published, low, high):
    """Holze 2023 (doi:10.1002/cpt.2821): psilocin Cmax 11 (10-13), 17 (16-19) and 21 (19-24)
    ng/mL after 15, 25 and 30 mg psilocybin. Tolerance: the published 95 % CI, widened by 10 %
    for the 1-min grid and model simplification. 25 mg is the calibration point of the
    psilocin model (pk_fits), 15 and 30 mg are validation."""
    r = run_single("psilocybin", dose, "oral", end="12 h", observables=["plasma.psilocin"])
    cmax, tmax = peak(r, "plasma.psilocin")
    assert low * 0.9 <= cmax <= high * 1.1
    assert 1.0 <= tmax <= 3.0  # 'Maximal concentrations were reached after an average of 2 hours'


def test_psilocin_half_life():
    """Holze 2023: 'Elimination half-lives were 1.8 hours (1.7-2.0), 1.4 hours (1.2-1.7), and
    1.8 hours (1.6-1.9)'. Measured on the model's terminal slope 6-12 h after 25 mg."""
    r = run_single("psilocybin", "25 mg", "oral", end="14 h", observables=["plasma.psilocin"])
    assert 1.2 <= terminal_half_life(r, "plasma.psilocin", 6, 12) <= 2.0


@pytest.mark.parametrize(("dose", "low", "high"), [("100 ug", 1.3, 1.7), ("200 ug", 2.6, 4.0)])
def test_lsd_cmax(dose, low, high):
    """Dolder 2017: Cmax 1.3 (1.2-1.9) ng/mL at 100 ug and 3.1 (2.6-4.0) at 200 ug; Holze 2019:
    1.7 (1.0-2.9) ng/mL at 100 ug. Tolerance: the published range (1.3-1.7 at 100 ug;
    the 95 % CI at 200 ug, which is validation: the fit used 100 ug only)."""
    r = run_single("lsd", dose, "oral", end="12 h", observables=["plasma.lsd"])
    cmax, _ = peak(r, "plasma.lsd")
    assert low <= cmax <= high


def test_mouse_ketamine_half_life_and_rodents_faster():
    """Ma 2023 (Nature 623:802): mouse ketamine elimination half-life 13 min (calibration of
    the mouse elimination_factor). Measured as the log-linear slope 10-60 min after an IV
    bolus; tolerance ±10 %. The rat (allometric from human) must be slower than the mouse and
    faster than the human (same 10-60 min window)."""
    obs = ["plasma.ketamine"]
    mouse = run_single("ketamine", "10 mg/kg", "iv", species="mouse", end="2 h",
                       every="0.5 min", observables=obs)
    assert terminal_half_life(mouse, "plasma.ketamine", 10 / 60, 1.0) * 60 == pytest.approx(
        13, rel=0.10)
    rat = run_single("ketamine", "10 mg/kg", "iv", species="rat", end="2 h", every="0.5 min",
                     observables=obs)
    human = run_single("ketamine", "0.5 mg/kg", "iv", end="3 h", every="0.5 min",
                       observables=obs)
    t_rat = terminal_half_life(rat, "plasma.ketamine", 10 / 60, 1.0)
    t_human = terminal_half_life(human, "plasma.ketamine", 10 / 60, 1.0)
    assert 13 / 60 < t_rat < t_human


def test_oral_ketamine_bioavailability():
    """Oral racemic ketamine F 20 % (Yanagihara 2003) and 23 ± 9 % (Chong 2006). The model's
    oral F follows from gut extraction (Fgut 0.64) and hepatic first pass; tolerance: 12-30 %
    (the range of the two studies' values ± one SD)."""
    kw = dict(end="48 h", every="2 min", observables=["plasma.ketamine"], weight=70)
    po = run_single("ketamine", "0.5 mg/kg", "oral", **kw)
    iv = run_single("ketamine", "0.5 mg/kg", "iv", infusion="1 min", **kw)
    F = np.trapezoid(po.values["plasma.ketamine"], po.time_h) / np.trapezoid(
        iv.values["plasma.ketamine"], iv.time_h)
    assert 0.12 <= F <= 0.30


def test_ayahuasca_slows_dmt():
    """Riba 2003: ayahuasca DMT Tmax 1.5 h (calibration); Strassman 1994: IV DMT peaks within
    2 min and is negligible at 30 min. MAO inhibition must turn minutes into hours."""
    iv = run_single("dmt", "20 mg", "iv", end="2 h", every="0.2 min")
    aya = run_single("ayahuasca", "0.85 mg/kg", "oral", weight=70, end="12 h", every="2 min")
    c_iv, t_iv = peak(iv, "plasma.dmt")
    assert t_iv <= 2 / 60
    i30 = np.searchsorted(iv.time_h, 0.5)
    assert iv.values["plasma.dmt"][i30] < 0.1 * c_iv
    _, t_aya = peak(aya, "plasma.dmt")
    assert 1.0 <= t_aya <= 2.0
