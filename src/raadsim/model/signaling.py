"""Layer 4 — molecular plasticity signalling (levels relative to drug-free baseline = 1).

eEF2 arm (Autry 2011)::

    eEF2K' = k·( present·(1 − φ_rest·B_pyr) − eEF2K )       NMDAR block at rest → eEF2K off
    p-eEF2' = k·( eEF2K − p-eEF2 )
    T = (1 + g_T·(1 − p-eEF2)) · miR-206^(−r)              dendritic (BDNF) translation

BDNF release and TrkB (Lepack 2015; Moliner 2023)::

    R = genotype · [1 + (AMPA^n − 1)·(1 − VDCC block)]       activity-dependent release
    pool' = (k_rel + k_turn)·T − (k_rel·R + k_turn)·pool
    BDNF' = k_clear·( R·pool − BDNF )                        extracellular mature BDNF
    TrkB' = k·( 1 + (BDNF_eff·(1 + g_pam·drive_trkb) − 1)·(1 − ANA-12) − TrkB )

Growth factors and kinases (Deyama 2019, 2022; Li 2010; Beurel/GSK-3 studies)::

    IGF-1' = k·(1 + g·(TrkB − 1) − IGF-1)      VEGF' = k·(1 + g·(TrkB − 1) − VEGF)
    ERK' = k·(TrkB − ERK)                      Akt' = k·(1 + min(TrkB, IGF-1, VEGF) − 1 − Akt)

Akt integrates TrkB, IGF-1 receptor and Flk-1 input as a coincidence (the smallest increment):
each growth factor is reported necessary for ketamine's effect (Lepack 2015; Deyama 2019,
2022), which a parallel sum cannot reproduce. IGF-1 and VEGF release are placed downstream
of BDNF-TrkB activity. Both are raadsim assumptions, stated in data/parameters/signaling.toml.
    mTORC1' = k·(Akt·(1 − rapamycin) − mTORC1)        (rapamycin lowers absolute activity)
    p70S6K', p-4E-BP' follow mTORC1;  GSK-3' = k·((1 − Li)·(1 + (1/Akt − 1)·inhibitable) − GSK-3)
    VGF' = k·(1 + g·(ERK − 1)·present − VGF);  miR-206' = k·(1/ERK − miR-206)

Blockers (antibodies, knockouts, knockdowns) remove the *drug-induced increment* of their
target: each effect is compared with vehicle under the same perturbation, as in the studies.
"""

from __future__ import annotations

from .layer import use_params
from .spec import ModelSpec

LAYER = "signaling"


def build_signaling() -> ModelSpec:
    m = ModelSpec()
    use_params(m, LAYER)
    s = m.state
    s("eef2k", "k_eef2k*(eef2k_present*(1 - phi_rest*B_pyr_total) - eef2k)", "1",
      "eEF2 kinase (CaMKIII) activity", LAYER, initial=1.0)
    s("peef2", "k_peef2*(eef2k - peef2)", "1", "phosphorylated eEF2 (Thr56)", LAYER, initial=1.0)
    s("mir206", "k_mir206*(1/erk - mir206)", "1", "miR-206 (represses BDNF translation)", LAYER,
      initial=1.0)
    m.rule("translation", "(1 + g_translation*(1 - peef2))*pow(mir206, -r_mir206)", "1",
           "dendritic translation of BDNF and synaptic proteins", LAYER)
    m.rule("bdnf_release_drive",
           "release_genotype*max(1 + (pow(max(ampar_drive, 0), n_release) - 1)*(1 - vdcc_block)"
           ", 0)", "1", "activity-dependent BDNF release (AMPA → L-type Ca2+ channels)", LAYER)
    s("bdnf_pool", "(k_bdnf_rel + k_bdnf_turn)*translation - (k_bdnf_rel*bdnf_release_drive"
      " + k_bdnf_turn)*bdnf_pool", "1", "releasable dendritic BDNF", LAYER, initial=1.0)
    s("bdnf_x", "k_bdnf_clear*(bdnf_release_drive*bdnf_pool - bdnf_x)", "1",
      "extracellular mature BDNF", LAYER, initial=1.0)
    m.rule("bdnf_eff", "1 + (bdnf_x - 1)*(1 - bdnf_neutralized)", "1",
           "extracellular BDNF available to TrkB", LAYER)
    s("trkb", "k_trkb*(1 + (bdnf_eff*(1 + g_trkb_pam*drive_trkb) - 1)*(1 - trkb_block) - trkb)",
      "1", "TrkB activation", LAYER, initial=1.0)
    s("erk", "k_erk*(trkb - erk)", "1", "ERK activation", LAYER, initial=1.0)
    s("igf1", "k_igf1*(max(1 + g_igf1*(trkb - 1), 0) - igf1)", "1",
      "extracellular IGF-1 (mPFC)", LAYER, initial=1.0)
    m.rule("igf1_eff", "1 + (igf1 - 1)*(1 - igf1_neutralized)", "1",
           "IGF-1 available to its receptor", LAYER)
    s("vegf", "k_vegf*(max(1 + g_vegf*(trkb - 1), 0) - vegf)", "1",
      "neuronal VEGF release", LAYER, initial=1.0)
    m.rule("vegf_eff", "1 + (vegf - 1)*vegf_present", "1", "VEGF-Flk-1 signalling", LAYER)
    s("akt", "k_akt*(1 + min(trkb - 1, min(igf1_eff - 1, vegf_eff - 1)) - akt)", "1",
      "PI3K/Akt activation (coincident TrkB, IGF-1R and Flk-1 input)", LAYER, initial=1.0)
    s("mtorc1", "k_mtorc1*(akt*(1 - mtor_block) - mtorc1)", "1", "mTORC1 activity",
      LAYER, initial=1.0)
    s("p70s6k", "k_s6k*(mtorc1 - p70s6k)", "1", "phosphorylated p70S6K", LAYER, initial=1.0)
    s("p4ebp", "k_s6k*(mtorc1 - p4ebp)", "1", "phosphorylated 4E-BP (released eIF4E)", LAYER,
      initial=1.0)
    s("gsk3", "k_gsk3*((1 - lithium_inhibition)*(1 + (1/akt - 1)*gsk3_inhibitable) - gsk3)", "1",
      "GSK-3 activity (falls as Akt rises)", LAYER, initial=1.0)
    s("vgf", "k_vgf*(1 + g_vgf*(erk - 1)*vgf_present - vgf)", "1", "VGF expression", LAYER,
      initial=1.0)
    for obs, var in (("signal.bdnf", "bdnf_x"), ("signal.bdnf_translation", "translation"),
                     ("signal.eef2k", "eef2k"), ("signal.peef2", "peef2"), ("signal.trkb", "trkb"),
                     ("signal.erk", "erk"), ("signal.akt", "akt"), ("signal.mtorc1", "mtorc1"),
                     ("signal.p70s6k", "p70s6k"), ("signal.p4ebp", "p4ebp"),
                     ("signal.gsk3", "gsk3"), ("signal.vgf", "vgf"), ("signal.igf1", "igf1"),
                     ("signal.vegf", "vegf"), ("signal.mir206", "mir206")):
        desc = m.states[var].description if var in m.states else m.rules[var].description
        m.observable(obs, var, "1", f"{desc} (baseline 1)", LAYER)
    return m
