"""Layer 5 — synapses: functional potentiation (hours) and spine density (days).

    W_fast' = k_f·GluA2·(TrkB − 1)⁺·(W_fmax − W_fast) − k_f,off·(W_fast − 1)   (minutes-hours)
    drive = p70S6K·VGF^w − 1        mTORC1-dependent synaptic protein synthesis
    W_slow' = k_pot·GluA2·min(drive⁺, g·(1 − GSK-3)⁺)·(W_max − W_slow) − k_depot·GSK-3·(W_slow − 1)
    W = W_fast + W_slow − 1                                   (synapse.strength)

Potentiation needs both new protein synthesis and GSK-3 inhibition (coincidence: the smaller
of the two); the eEF2 arm acts through BDNF translation (signalling layer).
    Z1' = k_s·(max(W_slow − 1, 0) − Z1);   Z2' = k_s·(Z1 − Z2)  consolidation (two stages)
    S' = k_elim·( tone·(1 + g_form·Z2) − stress·S )           spine density

``W`` (``synapse.strength``) rises within an hour and decays over days; spine formation lags
it through the two consolidation stages, so new spines sustain the effect without starting it
(Moda-Sava 2019). Drug-free density is ``S_base = tone/stress``: chronic stress and depression
raise elimination, BDNF Met alleles lower the formation tone.
"""

from __future__ import annotations

from .layer import use_params
from .spec import ModelSpec

LAYER = "synapse"


def build_synapse() -> ModelSpec:
    m = ModelSpec()
    use_params(m, LAYER)
    m.rule("plasticity_drive",
           "p70s6k*pow(max(vgf, 0), w_vgf_drive) - 1", "1",
           "protein-synthesis-dependent plasticity drive", LAYER)
    m.state("W_fast", "k_fast*glua2_present*max(trkb - 1, 0)*(W_fast_max - W_fast)"
            " - k_fast_off*(W_fast - 1)", "1",
            "rapid, translation-independent potentiation (BDNF-TrkB → AMPA receptor insertion)",
            LAYER, initial=1.0)
    m.state("W_slow", "k_pot*glua2_present*min(max(plasticity_drive, 0),"
            " g_gsk3_gate*max(1 - gsk3, 0))*(W_max - W_slow) - k_depot*gsk3*(W_slow - 1)", "1",
            "consolidated, protein-synthesis-dependent potentiation", LAYER, initial=1.0)
    m.rule("W_syn", "W_fast + W_slow - 1", "1", "functional synaptic strength", LAYER)
    m.state("Z1_struct", "k_struct*(max(W_slow - 1, 0) - Z1_struct)", "1",
            "structural consolidation, stage 1", LAYER)
    m.state("Z2_struct", "k_struct*(Z1_struct - Z2_struct)", "1",
            "structural consolidation, stage 2", LAYER)
    m.rule("bdnf_tone", "release_genotype*(k_bdnf_rel + k_bdnf_turn)/(k_bdnf_rel*release_genotype"
           " + k_bdnf_turn)", "1", "drug-free extracellular BDNF (sets spine formation)", LAYER)
    m.rule("S_base", "bdnf_tone/stress_elimination", "1", "drug-free spine density", LAYER)
    m.state("S_spine", "k_elim*(bdnf_tone*(1 + g_form*Z2_struct) - stress_elimination*S_spine)",
            "1", "dendritic spine density (healthy drug-free = 1)", LAYER, initial=1.0)
    m.observable("synapse.strength", "W_syn", "1", "functional synaptic strength", LAYER)
    m.observable("synapse.spine_density", "S_spine", "1",
                 "spine density (healthy drug-free = 1)", LAYER)
    m.observable("synapse.plasticity_drive", "plasticity_drive", "1",
                 "protein-synthesis plasticity drive (0 at baseline)", LAYER)
    return m
