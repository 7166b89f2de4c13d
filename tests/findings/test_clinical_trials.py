"""Published trials as virtual trials (``../shared/reference/clinical.md``).

Two kinds of test:

* calibration checks — the endpoints the clinic layer was fitted to (Han 2016 response rates,
  Wilkinson 2019 placebo levels; :mod:`raadsim.evidence.clinical_calibration`) must still be
  met by the stored parameters on the fitting sample;
* held-out checks — endpoints that were not fitted, simulated on an independent virtual sample
  (another seed): Wilkinson 2019 effect sizes, Kishimoto 2016 time course, Murrough 2013,
  Daly 2018 esketamine doses, Goodwin 2022 psilocybin doses.

Tolerances are the published confidence intervals where one was seen, otherwise stated.
"""

from __future__ import annotations

import pytest

from raadsim.evidence.clinical_calibration import TARGETS, calibration_trial, simulated
from raadsim.io.trial_file import trial_from_dict
from raadsim.simulate.trial import run_trial


def _iv(drug: str, amount: str) -> dict:
    return {"drug": drug, "amount": amount, "route": "iv", "infusion": "40 min"}


@pytest.fixture(scope="module")
def fitting_sample():
    return run_trial(calibration_trial(), executor="serial")


@pytest.fixture(scope="module")
def single_infusion():
    """Held-out sample: single infusions in TRD, dense visits to day 12 (seed 11)."""
    return run_trial(trial_from_dict({
        "population": {"n": 300, "seed": 11, "condition": "trd"},
        "trial": {"visits": ["40 min", "4 h", "1 d", "3 d", "7 d", "10 d", "12 d"],
                  "output_every": "1 d", "control": "saline", "arm": [
                      {"name": "ketamine", "dose": [_iv("ketamine", "0.5 mg/kg")]},
                      {"name": "midazolam", "dose": [_iv("midazolam", "0.045 mg/kg")]},
                      {"name": "saline", "dose": [_iv("saline", "0 mg")]}]}}), executor="serial")


def _d(res, arm: str, control: str, visit: str) -> float:
    """Cohen's d of the MADRS change, arm vs control (negative = arm better)."""
    from raadsim.simulate.endpoints import _contrast

    p = res.patients
    return _contrast(p[p.arm == arm], p[p.arm == control], visit, False)["cohens_d"]


@pytest.mark.parametrize("target", TARGETS, ids=lambda t: f"{t.source}-{t.arm}-{t.visit}")
def test_calibration_targets_are_met(fitting_sample, target):
    """Given the fitted clinic parameters, the fitting sample reproduces each target within
    8 percentage points (Han 2016 pooled n = 368; Wilkinson 2019 model CIs are ±11–12)."""
    assert simulated(fitting_sample, target) == pytest.approx(target.value, abs=0.08)


@pytest.mark.xfail(strict=True, reason=(
    "Half reproduced: d vs saline is about 1.9 (published 1.8) but d vs midazolam is "
    "1.15 (published 0.7). The model's midazolam arm loses its expectancy boost within days "
    "and has no other nonspecific improvement, so the active placebo closes less of the gap "
    "than in the trials."))
def test_wilkinson2019_day1_effect_sizes_vs_saline_and_midazolam(single_infusion):
    """Held out. Wilkinson 2019: day-1 ketamine effect d ≈ 1.8 vs saline and ≈ 0.7 vs
    midazolam. Given 0.5 mg/kg IV over 40 min in TRD, the model must show d(vs saline) >
    d(vs midazolam), with d(vs saline) in 1.2–2.4 and d(vs midazolam) in 0.4–1.1 at 1 d."""
    d_sal = -_d(single_infusion, "ketamine", "saline", "1 d")
    d_mid = -_d(single_infusion, "ketamine", "midazolam", "1 d")
    assert d_sal > d_mid
    assert 1.2 <= d_sal <= 2.4, d_sal
    assert 0.4 <= d_mid <= 1.1, d_mid


@pytest.mark.xfail(strict=True, reason=(
    "Not reproduced after calibration: d vs midazolam is 1.15 at 1 d, 1.46 at 3 d and still "
    "1.26 at 12 d. Fitting Han 2016's day-7 response (39.8%) made the sustained (spine) "
    "component strong, and the model's control arms return to baseline, whereas real "
    "control arms keep improving (Lii 2023 saline: -13 points at day 14). Han 2016's day-7 "
    "response and Kishimoto 2016's loss by days 10-12 are not met together by this model."))
def test_kishimoto2016_peak_at_day1_and_lost_by_days_10_to_12(single_infusion):
    """Held out. Kishimoto 2016 (9 RCTs): superiority 'peaking at day 1 … and loosing
    superiority by days 10–12'. The model must show its largest ketamine-vs-control effect
    at 1 d among the visits, and a small one (|d| < 0.3 vs midazolam) at 12 d."""
    visits = ["40 min", "4 h", "1 d", "3 d", "7 d", "10 d", "12 d"]
    d = {v: -_d(single_infusion, "ketamine", "midazolam", v) for v in visits}
    assert max(d, key=d.get) == "1 d", d
    assert abs(d["12 d"]) < 0.3, d


@pytest.mark.xfail(strict=True, reason=(
    "Known gap (also in the rodent findings: no 30-min effect): the model's antidepressant "
    "effect rises over hours with TrkB/mTORC1 signalling; at 40 min, during the infusion, "
    "the MADRS change is within ~1 point of saline, whereas Kishimoto 2016 and Zarate 2012 "
    "report significant improvement from 40 min (d = 0.52–0.89)."))
def test_kishimoto2016_onset_at_40_min(single_infusion):
    """Held out. Given ketamine 0.5 mg/kg, the effect vs saline must already be d >= 0.4 at
    40 min (Diazgranados 2010 d = 0.52; Zarate 2012 d = 0.89)."""
    assert -_d(single_infusion, "ketamine", "saline", "40 min") >= 0.4


def test_murrough2013_24h_change_ketamine_vs_midazolam(single_infusion):
    """Held out. Murrough 2013 (TRD, 40-min infusions): MADRS −16.5 with ketamine and −8.8
    with midazolam at 24 h. The model must be within 4 points of each."""
    arms = single_infusion.summary["arms"]
    assert arms["ketamine"]["visits"]["1 d"]["madrs_change_mean"] == pytest.approx(-16.5, abs=4)
    assert arms["midazolam"]["visits"]["1 d"]["madrs_change_mean"] == pytest.approx(-8.8, abs=4)


@pytest.fixture(scope="module")
def daly2018():
    def arm(name: str, drug: str, amount: str) -> dict:
        return {"name": name, "dose": [{"drug": drug, "amount": amount, "route": "intranasal",
                                        "repeat": {"every": "3 d", "count": 2}}]}
    return run_trial(trial_from_dict({
        "population": {"n": 300, "seed": 18, "condition": "trd"},
        "trial": {"visits": ["2 h", "1 d", "7 d"], "output_every": "1 d",
                  "control": "placebo", "arm": [
                      arm("esk28", "esketamine", "28 mg"), arm("esk56", "esketamine", "56 mg"),
                      arm("esk84", "esketamine", "84 mg"), arm("placebo", "saline", "0 mg")]}}),
        executor="serial")


@pytest.mark.xfail(strict=True, reason=(
    "Not reproduced: week-1 changes are -16.9 / -15.8 / -17.2 for 28 / 56 / 84 mg (published "
    "-9.8 / -12.4 / -15.3). The calibrated effect saturates (R50_relief 0.46) already at the "
    "lowest dose, so the model's dose-response is flat above 28 mg."))
def test_daly2018_esketamine_ascending_dose_response_at_one_week(daly2018):
    """Held out. Daly 2018: 'a significant ascending dose-response relationship' at the end of
    week 1 (LS change −9.8 / −12.4 / −15.3 for 28 / 56 / 84 mg). The model's week-1 changes
    must be ordered 84 < 56 < 28 mg (more negative with dose)."""
    v = {a: daly2018.summary["arms"][a]["visits"]["7 d"]["madrs_change_mean"]
         for a in ("esk28", "esk56", "esk84")}
    assert v["esk84"] < v["esk56"] < v["esk28"], v


def test_daly2018_esketamine_84mg_24h_difference_vs_placebo(daly2018):
    """Held out. Daly 2018: 84 mg vs placebo at 24 h, difference −10.7 (SE 2.88). The model's
    difference must lie within ±2 SE (−16.5 to −4.9). (Daly's placebo arm also took an oral
    antidepressant, which the model does not; the difference is compared, not the arms.)"""
    c = daly2018.summary["contrasts"]["esk84 vs placebo"]["1 d"]["madrs_change_difference"]
    assert -16.5 <= c <= -4.9, c


@pytest.fixture(scope="module")
def goodwin2022():
    def arm(amount: str) -> dict:
        return {"name": amount.replace(" ", ""), "dose": [
            {"drug": "psilocybin", "amount": amount, "route": "oral"}]}
    return run_trial(trial_from_dict({
        "population": {"n": 300, "seed": 22, "condition": "trd"},
        "trial": {"visits": ["1 d", "21 d"], "output_every": "1 d", "control": "1mg",
                  "arm": [arm("25 mg"), arm("10 mg"), arm("1 mg")]}}), executor="serial")


@pytest.mark.xfail(strict=True, reason=(
    "Not reproduced: the week-3 difference 25 mg vs 1 mg is -1.6 (published -6.6, CI -10.2 "
    "to -2.9). A single psilocybin dose leaves too little structural change three weeks later "
    "in the model (its drive to TrkB/mTORC1 is weaker than ketamine's and spines decay with "
    "a ~4-day half-life); the model does not yet carry the weeks-long psilocybin effect."))
def test_goodwin2022_psilocybin_25mg_vs_1mg_at_week3(goodwin2022):
    """Held out. Goodwin 2022 (TRD, single dose): week-3 difference 25 mg vs 1 mg −6.6
    (95 % CI −10.2 to −2.9). The model's difference must lie within that CI."""
    c = goodwin2022.summary["contrasts"]["25mg vs 1mg"]["21 d"]["madrs_change_difference"]
    assert -10.2 <= c <= -2.9, c


def test_goodwin2022_psilocybin_dose_order_at_week3(goodwin2022):
    """Held out. Goodwin 2022: week-3 LS change −12.0 / −7.9 / −5.4 for 25 / 10 / 1 mg. The
    model must order the arms 25 < 10 < 1 mg (more negative with dose)."""
    v = {a: goodwin2022.summary["arms"][a]["visits"]["21 d"]["madrs_change_mean"]
         for a in ("25mg", "10mg", "1mg")}
    assert v["25mg"] < v["10mg"] < v["1mg"], v
