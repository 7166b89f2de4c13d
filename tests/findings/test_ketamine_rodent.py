"""Published rodent ketamine experiments (../shared/reference/preclinical.md, sections A-C).

Each test: given X, the model must show Y at time T. Ketamine 10 mg/kg i.p. unless the
source gives another dose. Behaviour is compared with vehicle under the same perturbation.
"""

from __future__ import annotations

import numpy as np
import pytest

from tests.findings.helpers import at, immobility_effect, ketamine, run, saline

WT_24H = immobility_effect("rat", ketamine(), 24.0)


def test_li2010_mtor_then_synapses_rat():
    """li2010_mtor_synapse (Li 2010 Science): given one subanaesthetic ketamine dose in rats,
    PFC mTORC1 signalling must rise within hours and be followed by more spine synapses at 24 h
    (and synaptic potentiation)."""
    r = run("rat", [ketamine()])
    t_mtor = r["t"][np.argmax(r["signal.mtorc1"])]
    assert r["signal.mtorc1"].max() > 1.1 and t_mtor < 12
    assert r["signal.p70s6k"].max() > 1.1
    assert at(r, "synapse.spine_density", 24) > 1.03 * at(r, "synapse.spine_density", 0)
    assert at(r, "synapse.strength", 24) > 1.1


@pytest.mark.xfail(strict=True, reason=(
    "Partial: about 40 % of the 24 h effect survives rapamycin in rats. The rapid, translation-"
    "independent BDNF-TrkB potentiation (W_fast) is rapamycin-insensitive and, with the slower "
    "allometric rat PK, still contributes at 24 h."))
def test_li2010_rapamycin_blocks_rat():
    """li2010_rapamycin_block: given mTOR blockade (rapamycin) before ketamine, ketamine's
    synaptogenesis and behavioural response at 24 h must be (completely) blocked: at most 20 %
    of the effect left."""
    rapa = [{"name": "rapamycin", "at": "-1 h"}]
    blocked = immobility_effect("rat", ketamine(), 24.0, rapa)
    assert WT_24H > 0.05
    assert blocked <= 0.2 * WT_24H
    r, rr = run("rat", [ketamine()]), run("rat", [ketamine()], rapa)
    assert at(rr, "synapse.spine_density", 24) - at(rr, "synapse.spine_density", 0) <= 0.2 * (
        at(r, "synapse.spine_density", 24) - at(r, "synapse.spine_density", 0))


@pytest.mark.xfail(strict=True, reason=(
    "The eEF2K/p-eEF2/BDNF-translation changes at 30 min are reproduced, but the behavioural "
    "effect at 30 min is not: in the model BDNF must be released, bind TrkB and insert AMPA "
    "receptors, which takes about 1 h."))
def test_autry2011_eef2_arm_mouse():
    """autry2011_eef2_bdnf: given ketamine in mice, eEF2K activity and p-eEF2 must fall and BDNF
    translation rise within 30 min, with an antidepressant-like effect at 30 min."""
    r = run("mouse", [ketamine("5 mg/kg")])
    assert at(r, "signal.eef2k", 0.5) < 0.8
    assert at(r, "signal.peef2", 0.5) < 0.9
    assert at(r, "signal.bdnf_translation", 0.5) > 1.05
    assert immobility_effect("mouse", ketamine("5 mg/kg"), 0.5) > 0.02


def test_autry2011_eef2k_inhibition_alone_is_antidepressant():
    """autry2011_eef2k_inhibitors: given eEF2 kinase inhibition alone (acute, no ketamine), a
    fast antidepressant-like effect must appear (within 2 h)."""
    base = run("mouse", [saline()])
    inhib = run("mouse", [saline()], [{"name": "eef2k_knockout", "at": "0 h"}])
    assert at(base, "behavior.immobility", 2) - at(inhib, "behavior.immobility", 2) > 0.02


def test_adaikkan2018_eef2k_knockout_resistant():
    """adaikkan2018_eef2k_ko: given eEF2K knockout mice, ketamine must produce no antidepressant-
    like effect (at most 20 % of wild type) at 24 h (the 30-min point: see the 30-min tests)."""
    ko = [{"name": "eef2k_knockout"}]
    for t in (24.0,):
        wt = immobility_effect("mouse", ketamine(), t)
        assert wt > 0.02
        assert immobility_effect("mouse", ketamine(), t, ko) <= 0.2 * wt


@pytest.mark.xfail(strict=True, reason=(
    "No wild-type effect at 30 min in the model (the BDNF-TrkB-AMPA chain needs about 1 h), so "
    "the GluA2 contrast cannot be shown at 30 min; it holds at 24 h."))
def test_glua2_knockout_30min():
    """glua2ko_30min (J Neurosci 2013): given ketamine 5 mg/kg i.p., immobility must fall at
    30 min in wild-type mice and be unchanged (at most 20 % of wild type) in GluA2 knockouts."""
    wt = immobility_effect("mouse", ketamine("5 mg/kg"), 0.5)
    ko = immobility_effect("mouse", ketamine("5 mg/kg"), 0.5, [{"name": "glua2_knockout"}])
    assert wt > 0.02
    assert abs(ko) <= 0.2 * wt


def test_maeng2008_nbqx_attenuates():
    """maeng2008_nbqx: given NBQX pretreatment, ketamine's antidepressant-like effect and its
    regulation of AMPA receptor signalling must be attenuated (by at least a third)."""
    nbqx = [{"name": "nbqx", "at": "-0.5 h"}]
    for t in (0.5, 24.0):
        assert immobility_effect("mouse", ketamine(), t, nbqx) < 0.67 * immobility_effect(
            "mouse", ketamine(), t)
    assert run("mouse", [ketamine()], nbqx)["signal.ampar"].max() < run(
        "mouse", [ketamine()])["signal.ampar"].max()


_VDCC = pytest.mark.xfail(strict=True, reason=(
    "L-VDCC block leaves the eEF2-driven BDNF synthesis arm (see "
    "test_lepack2015_release_needs_ampa_and_vdcc)"))


@pytest.mark.parametrize("blocker", ["anti_bdnf", pytest.param("l_vdcc_blocker", marks=_VDCC)])
def test_lepack2015_bdnf_release_required(blocker):
    """lepack2015_bdnf_release: given intra-mPFC anti-BDNF antibody (30 min before) or an L-type
    Ca2+ channel blocker, ketamine 10 mg/kg i.p. must fail to reduce FST immobility at 24 h in
    rats (at most 20 % of the effect left)."""
    p = [{"name": blocker, "at": "-0.5 h"}]
    assert immobility_effect("rat", ketamine(), 24.0, p) <= 0.2 * WT_24H


@pytest.mark.xfail(strict=True, reason=(
    "L-VDCC block leaves the eEF2-driven increase in BDNF synthesis, which raises release "
    "without extra activity; only NBQX (which also lowers the AMPA drive) blocks it. The model "
    "combines the NMDAR-at-rest (Autry 2011) and disinhibition (Gerhard 2020) triggers, and "
    "blocking one arm leaves the other."))
def test_lepack2015_release_needs_ampa_and_vdcc():
    """lepack2015_bdnf_release: ketamine-evoked BDNF release must be blocked by AMPA receptor or
    L-VDCC inhibition (peak extracellular BDNF increase reduced by at least half)."""
    base = run("rat", [ketamine()])["signal.bdnf"].max() - 1
    for b in ("nbqx", "l_vdcc_blocker"):
        assert run("rat", [ketamine()], [{"name": b, "at": "-0.5 h"}])["signal.bdnf"].max() - 1 \
            < 0.5 * base


def test_liu2012_val66met_mouse():
    """liu2012_val66met_mouse: given Met/Met BDNF knock-in mice, baseline spine density must be
    lower than wild type, ketamine-induced synaptogenesis markedly impaired (at most half) and
    the forced-swim response blocked (at most 20 %)."""
    mm = [{"name": "bdnf_val66met", "genotype": "met/met"}]
    wt, ki = run("mouse", [ketamine()]), run("mouse", [ketamine()], mm)
    assert at(ki, "synapse.spine_density", 0) < at(wt, "synapse.spine_density", 0)
    gain = lambda r: at(r, "synapse.spine_density", 24) - at(r, "synapse.spine_density", 0)  # noqa: E731
    assert gain(ki) <= 0.5 * gain(wt)
    assert immobility_effect("mouse", ketamine(), 24.0, mm) <= 0.2 * immobility_effect(
        "mouse", ketamine(), 24.0)


_RAPID = ("about 24 % of the 24 h effect survives: the rapid TrkB-driven potentiation does not "
          "pass through this step")


@pytest.mark.parametrize("perturbation", [
    pytest.param("vegf_knockout", marks=pytest.mark.xfail(strict=True, reason=_RAPID)),
    pytest.param("anti_igf1", marks=pytest.mark.xfail(strict=True, reason=_RAPID)),
    pytest.param("vgf_knockdown", marks=pytest.mark.xfail(strict=True, reason=(
        "VGF enters the drive with a small exponent and rises slowly; knockdown removes under "
        "10 % of the effect"))),
    pytest.param("gsk3_knockin", marks=pytest.mark.xfail(strict=True, reason=_RAPID)),
])
def test_growth_factor_and_gsk3_requirements(perturbation):
    """deyama2019_vegf (VEGF/Flk-1 deletion blocks), deyama2022_igf1 (IGF-1 antibody blocks),
    jiang2019_vgf_vmpfc (VGF knockdown reduces efficacy), gsk3_dependence (GSK-3 knock-in
    abolishes): given the perturbation, ketamine's day-1 antidepressant-like effect must be
    blocked or, for VGF, reduced: at most 20 % left (VGF: at most 67 %)."""
    limit = 0.67 if perturbation == "vgf_knockdown" else 0.2
    wt = immobility_effect("mouse", ketamine(), 24.0)
    assert immobility_effect("mouse", ketamine(), 24.0, [{"name": perturbation}]) <= limit * wt


@pytest.mark.xfail(strict=True, reason=(
    "IGF-1 stays up for 5 h, but blocking it leaves about half of the effect: the rapid TrkB-"
    "driven potentiation does not pass through IGF-1, and an antibody at 2 h comes after much "
    "of it."))
def test_deyama2022_igf1_window():
    """deyama2022_igf1: ketamine 10 mg/kg must raise mPFC IGF-1 for at least 5 h, and IGF-1
    antibody given 2 h AFTER ketamine must still block the day-1 effect (at most 20 % left)."""
    r = run("mouse", [ketamine()])
    assert at(r, "signal.igf1", 5.0) > 1.02
    late = immobility_effect("mouse", ketamine(), 24.0, [{"name": "anti_igf1", "at": "2 h"}])
    assert late <= 0.2 * immobility_effect("mouse", ketamine(), 24.0)


@pytest.mark.xfail(strict=True, reason=(
    "About 60 % of the effect survives interneuron GluN2B knockdown: in the model the eEF2 arm "
    "(pyramidal NMDA receptors at rest) raises BDNF without disinhibition. The two trigger "
    "hypotheses (Autry 2011 vs Gerhard 2020) conflict; raadsim keeps both."))
def test_gerhard2020_interneuron_glun2b_trigger():
    """gerhard2020_interneuron_glun2b: GluN2B knockdown in GABA interneurons must block
    ketamine's antidepressant-like effect (at most 20 % left); knockdown in principal neurons
    must not (at least 67 % left)."""
    wt = immobility_effect("mouse", ketamine(), 24.0)
    inter = immobility_effect("mouse", ketamine(), 24.0,
                              [{"name": "interneuron_glun2b_knockdown"}])
    princ = immobility_effect("mouse", ketamine(), 24.0, [{"name": "principal_glun2b_knockdown"}])
    assert inter <= 0.2 * wt
    assert princ >= 0.67 * wt


def test_homayoun2007_disinhibition_in_vivo():
    """homayoun2007_disinhibition: given NMDAR antagonism in awake rats, interneuron firing must
    fall first and pyramidal firing rise with a delay."""
    r = run("rat", [ketamine()], end="6 h", every="1 min")
    t_i = r["t"][np.argmin(r["circuit.interneuron_rate"])]
    t_e = r["t"][np.argmax(r["circuit.pyramidal_rate"])]
    assert r["circuit.interneuron_rate"].min() < 0.8
    assert r["circuit.pyramidal_rate"].max() > 1.05
    assert t_i < t_e


@pytest.mark.xfail(strict=True, reason=(
    "Not dose-dependent in the model: at 10 mg/kg the rat's NMDA receptor block is near-"
    "anaesthetic (~0.9), which suppresses pyramidal firing before the surge, so the surge is "
    "smaller than at 3 mg/kg. Rat PK is scaled from human (unverified), which may overstate "
    "brain exposure."))
def test_chowdhury2017_transient_dose_dependent_glutamate_before_behaviour():
    """chowdhury2017_13C_cycling: ketamine must transiently raise mPFC glutamate cycling in rats,
    more at 10 than at 3 mg/kg, returning to baseline within a day, peaking before the
    antidepressant-like effect peaks."""
    lo, hi = run("rat", [ketamine("3 mg/kg")]), run("rat", [ketamine("10 mg/kg")])
    assert hi["circuit.glutamate"].max() > lo["circuit.glutamate"].max() > 1.0
    assert abs(at(hi, "circuit.glutamate", 24) - 1) < 0.01
    t_glu = hi["t"][np.argmax(hi["circuit.glutamate"])]
    t_beh = hi["t"][np.argmin(hi["behavior.immobility"])]
    assert t_glu < t_beh


@pytest.mark.xfail(strict=True, reason=(
    "Spine formation lags correctly (none at 6 h, up at 24 h), but ablating new spines at 24 h "
    "barely changes the day-4 effect: functional potentiation (half-time 2 days) still carries "
    "it, and spines carry little weight."))
def test_modasava2019_spines_lag_and_maintain():
    """modasava2019_spines_sustain / _timing: after chronic stress, ketamine must leave spine
    formation unchanged at 3-6 h and raise it at 12-24 h; ablating the new spines at 24 h must
    abolish the sustained (day 4) effect but not the initial (4 h) one."""
    stress = "chronic_stress"
    r = run("mouse", [ketamine()], condition=stress, end="5 d")
    s0 = at(r, "synapse.spine_density", 0)
    assert at(r, "synapse.spine_density", 6) - s0 < 0.005
    assert at(r, "synapse.spine_density", 24) - s0 > 0.02
    abl = [{"name": "spine_ablation", "at": "24 h"}]
    keep = immobility_effect("mouse", ketamine(), 96.0, condition=stress, end="5 d")
    lost = immobility_effect("mouse", ketamine(), 96.0, abl, condition=stress, end="5 d")
    early = immobility_effect("mouse", ketamine(), 4.0, abl, condition=stress, end="5 d")
    assert early > 0.02
    assert lost < 0.5 * keep


def test_mfc_spines_up_for_two_weeks():
    """mfc_spines_2weeks: a single ketamine injection must keep medial frontal spine density
    above saline for up to 2 weeks (through formation)."""
    r = run("mouse", [ketamine()], end="14 d", every="1 h")
    assert at(r, "synapse.spine_density", 14 * 24) > at(r, "synapse.spine_density", 0)


@pytest.mark.xfail(strict=True, reason=(
    "2.5 mg/kg ketamine is not subthreshold in the model (it already gives about 70 % of the 10"
    " mg/kg effect), so lithium cannot enable it; the dose-response is too flat at low doses."))
def test_lithium_enables_subthreshold_ketamine():
    """lithium_potentiates_ketamine: an ineffective ketamine dose (2.5 mg/kg) must become
    effective after lithium pretreatment (effect at least doubled) in stressed mice."""
    li = [{"name": "lithium"}]
    alone = immobility_effect("mouse", ketamine("2.5 mg/kg"), 24.0, condition="chronic_stress")
    withli = immobility_effect("mouse", ketamine("2.5 mg/kg"), 24.0, li,
                               condition="chronic_stress")
    assert withli > 2 * max(alone, 0.0) and withli > 0.02


def test_gsk3_inhibited_by_ketamine():
    """akt_gsk3_rat: ketamine must inhibit GSK-3 (raise its inhibitory phosphorylation) in PFC,
    through Akt."""
    r = run("rat", [ketamine()])
    assert r["signal.gsk3"].min() < 0.95 and r["signal.akt"].max() > 1.05


def test_mir206_down_and_bdnf_up():
    """mir206_bdnf: ketamine must lower miR-206 and raise BDNF."""
    r = run("rat", [ketamine("15 mg/kg")])
    assert r["signal.mir206"].min() < 0.98 and r["signal.bdnf"].max() > 1.05


def test_hnk_antidepressant_without_nmdar_block():
    """zanos2016_hnk_secondary: (2R,6R)-HNK must produce an antidepressant-like effect in mice
    without meaningful NMDA receptor block, and it must depend on AMPA receptors (NBQX)."""
    hnk = {"drug": "hnk_2r6r", "amount": "10 mg/kg", "route": "ip"}
    r = run("mouse", [hnk])
    assert r["occupancy.nmdar"].max() < 0.25 * run("mouse", [ketamine()])["occupancy.nmdar"].max()
    eff = immobility_effect("mouse", hnk, 24.0)
    assert eff > 0.02
    assert immobility_effect("mouse", hnk, 24.0, [{"name": "nbqx", "at": "-0.5 h"}]) < 0.67 * eff


@pytest.mark.xfail(strict=True, reason=(
    "Disputed in the literature: (2R,6R)-HNK 20-40 mg/kg had no effect in rat learned "
    "helplessness (IJNP 21:84), contradicting zanos2016. raadsim sides with the AMPA-"
    "potentiation account, so it predicts an effect in rats too."))
def test_hnk_negative_rat_learned_helplessness():
    """hnk_negative_rat_lh: (2R,6R)-HNK 20 and 40 mg/kg i.p. must have no effect in rats."""
    hnk = {"drug": "hnk_2r6r", "amount": "20 mg/kg", "route": "ip"}
    assert immobility_effect("rat", hnk, 24.0) < 0.01


@pytest.mark.xfail(strict=True, reason=(
    "The model's dose-response rises monotonically to anaesthetic doses: the transient "
    "suppression at high block is followed by a larger rebound. An inverted U needs the NMDAR-"
    "activation (GluN2A) requirement of that study, which is not modelled."))
def test_inverted_u_dose_response():
    """nmdar_activation_required: ketamine's antidepressant-like dose-response must be an
    inverted U: an anaesthetic dose (100 mg/kg) must do less at 24 h than 10 mg/kg."""
    assert immobility_effect("mouse", ketamine("100 mg/kg"), 24.0) < immobility_effect(
        "mouse", ketamine("10 mg/kg"), 24.0)


@pytest.mark.xfail(strict=True, reason=(
    "Disputed (r_vs_s_mtorc1_erk, Yang 2019 review): (R)-ketamine reported mTORC1-independent "
    "and ERK-dependent. In raadsim every enantiomer acts through the same TrkB → Akt → mTORC1 "
    "route, so rapamycin blocks R-ketamine too."))
def test_r_ketamine_mtorc1_independent():
    """r_vs_s_mtorc1_erk: rapamycin must block (S)- but not (R)-ketamine."""
    ark = {"drug": "arketamine", "amount": "10 mg/kg", "route": "ip"}
    rapa = [{"name": "rapamycin", "at": "-1 h"}]
    assert immobility_effect("mouse", ark, 24.0, rapa) > 0.67 * immobility_effect(
        "mouse", ark, 24.0)
