"""Published psychedelic and human findings (preclinical.md sections D-F, pkpd.md §10,
clinical.md). Given X, the model must show Y at time T."""

from __future__ import annotations

import numpy as np
import pytest

from tests.findings.helpers import at, immobility_effect, run

PSILO_MOUSE = {"drug": "psilocybin", "amount": "1 mg/kg", "route": "ip"}


def _onset_peak_end(r: dict, obs: str, threshold: float = 0.1) -> tuple[float, float, float]:
    v, t = r[obs], r["t"]
    above = np.where(v >= threshold * v.max())[0]
    return float(t[above[0]]), float(t[np.argmax(v)]), float(t[above[-1]])


@pytest.mark.xfail(strict=True, reason=(
    "Tail too long: with flip-flop absorption (ka 0.5/h, fitted) psilocin keeps "
    "intensity above 10 % of peak until about 9 h; Holze 2023 reports 5.5 +/- 1.6 h."))
def test_psilocybin_intensity_time_course():
    """Carhart-Harris 2016 / Holze 2023 (clinical.md D1, pkpd.md §5): psilocybin 25 mg oral -
    onset 30-60 min, peak 2-3 h, gone by about 6 h (duration 5.5 ± 1.6 h). Onset and end are
    taken where intensity crosses 10 % of its peak; tolerance: end within 4-8 h."""
    r = run("human", [{"drug": "psilocybin", "amount": "25 mg", "route": "oral"}], end="12 h",
            every="5 min")
    onset, peak, end = _onset_peak_end(r, "clinic.psychedelic_intensity")
    assert 0.25 <= onset <= 1.0
    assert 1.5 <= peak <= 3.0
    assert 4.0 <= end <= 8.0


def test_lsd_intensity_lasts_8_to_12h():
    """Dolder 2017 / Holze 2019 (pkpd.md §7): LSD 100 ug - peak 2.5-2.8 h, effects last
    8.2-8.5 h (range 5.3-12.8). Tolerance: peak 1.5-3.5 h, end 6-13 h (10 % of peak)."""
    r = run("human", [{"drug": "lsd", "amount": "100 ug", "route": "oral"}], end="24 h",
            every="5 min")
    _, peak, end = _onset_peak_end(r, "clinic.psychedelic_intensity")
    assert 1.5 <= peak <= 3.5
    assert 6.0 <= end <= 13.0


def test_dmt_iv_minutes():
    """Strassman 1994 / Vogt 2023 (pkpd.md §8): IV DMT - peak within 2 min, negligible by
    15-30 min."""
    r = run("human", [{"drug": "dmt", "amount": "20 mg", "route": "iv"}], end="1 h",
            every="0.5 min")
    _, peak, end = _onset_peak_end(r, "clinic.psychedelic_intensity")
    assert peak <= 4 / 60
    assert end <= 0.5


def test_ayahuasca_peak_1_5_to_2h():
    """Riba 2003 (pkpd.md §10): ayahuasca subjective effects peak between 1.5 and 2 h.
    Tolerance: 1-2.5 h."""
    r = run("human", [{"drug": "ayahuasca", "amount": "0.85 mg/kg", "route": "oral"}],
            end="12 h", every="5 min")
    _, peak, _ = _onset_peak_end(r, "clinic.psychedelic_intensity")
    assert 1.0 <= peak <= 2.5


def test_ketamine_dissociation_during_infusion_resolved_by_2h():
    """pkpd.md §10: dissociation measured at 40 min (end of infusion) and resolved within
    about 2 h after 0.5 mg/kg over 40 min. At 2 h it must be under a quarter of its peak."""
    r = run("human", [{"drug": "ketamine", "amount": "0.5 mg/kg", "route": "iv",
                       "infusion": "40 min"}], end="6 h", every="2 min")
    v = r["clinic.dissociation"]
    t_peak = r["t"][np.argmax(v)]
    assert 0.5 <= t_peak <= 1.0
    assert at(r, "clinic.dissociation", 2.0) < 0.25 * v.max()


def test_hnk_and_arketamine_little_dissociation():
    """Raja 2024 ((2R,6R)-HNK 0.1-4 mg/kg IV not dissociative) and Leal 2021 (arketamine
    0.5 mg/kg IV: 'dissociation was nearly absent'): both must dissociate far less than
    racemic ketamine 0.5 mg/kg (under a third of its peak)."""
    inf = {"route": "iv", "infusion": "40 min"}
    k = run("human", [{"drug": "ketamine", "amount": "0.5 mg/kg", **inf}], end="4 h")
    h = run("human", [{"drug": "hnk_2r6r", "amount": "4 mg/kg", **inf}], end="4 h")
    a = run("human", [{"drug": "arketamine", "amount": "0.5 mg/kg", **inf}], end="4 h")
    ref = k["clinic.dissociation"].max()
    assert h["clinic.dissociation"].max() < ref / 3
    assert a["clinic.dissociation"].max() < ref / 3


def test_abdallah2018_prefrontal_glutamate_during_infusion():
    """abdallah2018_13C_glncycling: subanaesthetic ketamine raised prefrontal glutamate-
    glutamine cycling by 13 % vs placebo during infusion. Tolerance: +5 to +25 % at the
    end of the infusion."""
    r = run("human", [{"drug": "ketamine", "amount": "0.5 mg/kg", "route": "iv",
                       "infusion": "40 min"}], end="4 h", every="2 min")
    assert 1.05 <= r["circuit.glutamate"].max() <= 1.25


def test_hesselgrave2021_psilocybin_without_5ht2a():
    """hesselgrave2021_ketanserin: in chronically stressed mice a single psilocybin injection
    must reverse anhedonia (sucrose preference up at 24 h) and strengthen excitatory synapses,
    and ketanserin must NOT prevent either (at least two thirds of each effect left)."""
    ket = [{"name": "ketanserin", "at": "-0.5 h"}]
    base = run("mouse", [], condition="chronic_stress")
    ps = run("mouse", [PSILO_MOUSE], condition="chronic_stress")
    psk = run("mouse", [PSILO_MOUSE], ket, condition="chronic_stress")
    sp = lambda r: at(r, "behavior.sucrose_preference", 24) - at(  # noqa: E731
        base, "behavior.sucrose_preference", 24)
    w = lambda r: at(r, "synapse.strength", 24) - 1  # noqa: E731
    assert sp(ps) > 0.01 and w(ps) > 0.05
    assert sp(psk) >= 0.67 * sp(ps)
    assert w(psk) >= 0.67 * w(ps)


@pytest.mark.xfail(strict=True, reason=(
    "Not reproduced: at 0.1 mg/kg LSD the 5-HT2A -> glutamate -> BDNF route and the "
    "TrkB-potentiation route are redundant, each nearly sufficient; TrkB mutation leaves 86 % "
    "of the day-1 effect (ketanserin leaves 98 %). Literature conflict (Moliner 2023 vs the "
    "glutamate-convergence account of Kadriu 2021): raadsim keeps both routes."))
def test_moliner2023_trkb_not_5ht2a():
    """moliner2023_trkb: LSD's plasticity and antidepressant-like effect must require TrkB
    binding (mutation leaves at most a third) but not 5-HT2A (ketanserin leaves at least two
    thirds), whereas the 5-HT2A-dependent acute response (head twitch; here psychedelic
    intensity) must require 5-HT2A but not TrkB."""
    lsd = {"drug": "lsd", "amount": "0.1 mg/kg", "route": "ip"}
    eff = immobility_effect("mouse", lsd, 24.0)
    mut = immobility_effect("mouse", lsd, 24.0, [{"name": "trkb_mutation"}])
    ket = immobility_effect("mouse", lsd, 24.0, [{"name": "ketanserin", "at": "-0.5 h"}])
    assert eff > 0.02
    assert mut <= eff / 3
    assert ket >= 0.67 * eff
    acute = run("mouse", [lsd])["clinic.psychedelic_intensity"].max()
    acute_ket = run("mouse", [lsd], [{"name": "ketanserin", "at": "-0.5 h"}])[
        "clinic.psychedelic_intensity"].max()
    acute_mut = run("mouse", [lsd], [{"name": "trkb_mutation"}])[
        "clinic.psychedelic_intensity"].max()
    assert acute_ket < 0.2 * acute
    assert acute_mut == pytest.approx(acute, rel=1e-6)


@pytest.mark.xfail(strict=True, reason=(
    "Not reproduced: continuous 10 nM LSD for 24 h drives potentiation through the "
    "5-HT2A/glutamate/BDNF route even with TrkB blocked 90 %; ANA-12 leaves about 70 % of "
    "the gain."))
def test_ly2018_in_vitro_plasticity_needs_trkb_and_mtor():
    """ly2018_psychoplastogens: LSD on cortical neurons must raise spinogenesis (24 h), and
    TrkB or mTOR inhibition must block it (at most a third left)."""
    bath = [{"drug": "lsd", "concentration": "10 nM"}]
    base = run("culture", bath=bath, end="1 d")
    gain = lambda r: at(r, "synapse.strength", 24) - 1  # noqa: E731
    assert gain(base) > 0.05
    for p in ("ana12", "rapamycin"):
        assert gain(run("culture", perturbations=[{"name": p}], bath=bath, end="1 d")) <= \
            gain(base) / 3


@pytest.mark.xfail(strict=True, reason=(
    "Literature conflict: Ly 2018 and Vargas 2023 report 5-HT2A dependence, Hesselgrave 2021 "
    "and Moliner 2023 its absence. raadsim has redundant 5-HT2A and TrkB routes, so ketanserin "
    "leaves most of the in-vitro LSD effect."))
def test_ly2018_in_vitro_plasticity_needs_5ht2a():
    """ly2018_psychoplastogens / vargas2023: 5-HT2A blockade must block psychedelic-induced
    plasticity (at most a third left)."""
    bath = [{"drug": "lsd", "concentration": "10 nM"}]
    gain = lambda r: at(r, "synapse.strength", 24) - 1  # noqa: E731
    base = run("culture", bath=bath, end="1 d")
    ket = run("culture", perturbations=[{"name": "ketanserin"}], bath=bath, end="1 d")
    assert gain(ket) <= gain(base) / 3


def test_gerhard2020_slice_concentration_switch():
    """gerhard2020_interneuron_glun2b (slices): 1 uM ketamine must lower interneuron (sIPSC)
    and raise pyramidal (sEPSC) activity; 10 uM must lower both. (Calibration record of the
    circuit parameters.)"""
    lo = run("culture", bath=[{"drug": "ketamine", "concentration": "1 uM"}], end="2 h")
    hi = run("culture", bath=[{"drug": "ketamine", "concentration": "10 uM"}], end="2 h")
    assert at(lo, "circuit.interneuron_rate", 2) < 1 < at(lo, "circuit.pyramidal_rate", 2)
    assert at(hi, "circuit.interneuron_rate", 2) < 1
    assert at(hi, "circuit.pyramidal_rate", 2) < 1


def test_abdallah2020_human_rapamycin_does_not_block_24h():
    """abdallah2020_rapamycin_human: oral rapamycin 6 mg 2 h before ketamine 0.5 mg/kg IV must
    leave the 24 h MADRS improvement unchanged (within 20 %). raadsim's reading: little
    rapamycin reaches the human brain after one oral dose (assumption: 10 % brain mTORC1
    inhibition). Before the trial calibration this gave a 23 % reduction (expected-fail);
    with the fitted, more saturating human read-out (R50_relief 0.46) it passes. Rapamycin
    brain exposure in humans was not found: still the weakest assumption of this conflict."""
    k = {"drug": "ketamine", "amount": "0.5 mg/kg", "route": "iv", "infusion": "40 min"}
    plain = run("human", [k], condition="mdd")
    rapa = run("human", [k], [{"name": "rapamycin", "at": "-2 h"}], condition="mdd")
    d = lambda r: at(r, "clinic.madrs", 0) - at(r, "clinic.madrs", 24)  # noqa: E731
    assert d(rapa) == pytest.approx(d(plain), rel=0.2)


@pytest.mark.xfail(strict=True, reason=(
    "Not modelled: Abdallah 2020 found a longer effect with rapamycin at 2 weeks (response 41 % "
    "vs 13 %). raadsim has no mTORC1-dependent relapse process, so rapamycin can only shorten "
    "the effect."))
def test_abdallah2020_rapamycin_prolongs_2_weeks():
    """abdallah2020_rapamycin_human: at 2 weeks, improvement must be larger with rapamycin."""
    k = {"drug": "ketamine", "amount": "0.5 mg/kg", "route": "iv", "infusion": "40 min"}
    plain = run("human", [k], condition="mdd", end="15 d", every="1 h")
    rapa = run("human", [k], [{"name": "rapamycin", "at": "-2 h"}], condition="mdd",
               end="15 d", every="1 h")
    assert at(rapa, "clinic.madrs", 336) < at(plain, "clinic.madrs", 336) - 1


def test_laje2012_met_carriers_respond_less():
    """laje2012_val66met_human / taiwan_val66met: BDNF Met carriers must improve less than
    Val/Val patients 24 h after ketamine 0.5 mg/kg."""
    k = {"drug": "ketamine", "amount": "0.5 mg/kg", "route": "iv", "infusion": "40 min"}
    vv = run("human", [k], condition="trd")
    vm = run("human", [k], [{"name": "bdnf_val66met", "genotype": "val/met"}], condition="trd")
    d = lambda r: at(r, "clinic.madrs", 0) - at(r, "clinic.madrs", 24)  # noqa: E731
    assert d(vm) < d(vv)
