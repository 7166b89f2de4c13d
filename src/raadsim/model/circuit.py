"""Layer 3 — acute network state of prefrontal cortex (rates relative to baseline = 1).

Two populations, GABA interneurons ``I`` and pyramidal neurons ``E``::

    I' = ( [E·(1 − φ_I·B_int)]^n_I − I ) / τ_I
    E' = ( [(1 − ρ)·X + ρ·E·(1 − φ_E·B_pyr)]·(1 + w)/(1 + w·I) − E ) / τ_E
    X  = 1 + g_5HT2A·drive_ht2a                        (5-HT2A on layer-5 pyramidal cells)
    G' = ( E·(1 + g_rel·drive_ht2a) − G ) / τ_G         (glutamate release / cycling)
    AMPA throughput = G·(1 − NBQX)·(1 + g_pam·occupancy_ampar)

Interneurons are driven through (GluN2B) NMDA receptors (φ_I ≈ 1), so partial block silences
them and disinhibits pyramidal cells (surge). Pyramidal cells depend on NMDA-rich recurrent
excitation (ρ·φ_E), so near-complete block removes their drive (suppression): the inverted-U
dose-response comes out of these two dependencies. Channel activity for use-dependent block
(targets layer) follows firing: ``activity = a0 + (1 − a0)·rate``.

Psychoactive state: dissociation is a Hill function of pyramidal NMDA receptor block;
psychedelic intensity a Hill function of 5-HT2A activation.
"""

from __future__ import annotations

from .layer import hill, use_params
from .spec import ModelSpec

LAYER = "circuit"


def build_circuit() -> ModelSpec:
    m = ModelSpec()
    use_params(m, LAYER)
    use_params(m, "psychoactive")
    m.state("I_rate", "(pow(max(E_rate*(1 - phi_I*B_int_total), 0), n_I) - I_rate)/tau_I", "1",
            "GABA interneuron firing rate", LAYER, initial=1.0)
    m.rule("X_ext", "1 + g_ht2a_E*drive_ht2a", "1",
           "external/AMPA drive to pyramidal cells, raised by 5-HT2A activation", LAYER)
    m.state("E_rate",
            "(((1 - rho)*X_ext + rho*E_rate*(1 - phi_E*B_pyr_total))*(1 + w_inh)"
            "/(1 + w_inh*I_rate) - E_rate)/tau_E",
            "1", "pyramidal neuron firing rate", LAYER, initial=1.0)
    m.rule("activity_int", "a0 + (1 - a0)*I_rate*activity_scale_int", "1",
           "NMDA channel activity on interneurons (use-dependent block)", LAYER)
    m.rule("activity_pyr", "a0 + (1 - a0)*E_rate*activity_scale_pyr", "1",
           "NMDA channel activity on pyramidal cells (use-dependent block)", LAYER)
    m.state("G_glu", "(E_rate*(1 + g_ht2a_release*drive_ht2a) - G_glu)/tau_G", "1",
            "extracellular glutamate (glutamate-glutamine cycling)", LAYER, initial=1.0)
    m.rule("ampar_drive", "G_glu*(1 - nbqx_block)*(1 + g_ampar_pam*O_ampar_total)", "1",
           "AMPA receptor throughput", LAYER)
    m.rule("dissociation", hill("B_pyr_total", "B50_dissociation", "n_dissociation"), "1",
           "dissociative state (0-1)", LAYER)
    m.rule("psychedelic_intensity", hill("drive_ht2a", "O50_intensity", "n_intensity"), "1",
           "psychedelic state intensity (0-1)", LAYER)
    for name, var, desc in (
        ("circuit.interneuron_rate", "I_rate", "GABA interneuron firing (baseline 1)"),
        ("circuit.pyramidal_rate", "E_rate", "pyramidal neuron firing (baseline 1)"),
        ("circuit.glutamate", "G_glu", "extracellular glutamate / cycling (baseline 1)"),
        ("signal.ampar", "ampar_drive", "AMPA receptor throughput (baseline 1)"),
        ("clinic.dissociation", "dissociation", "dissociative state (0-1)"),
        ("clinic.psychedelic_intensity", "psychedelic_intensity", "psychedelic intensity (0-1)"),
    ):
        m.observable(name, var, "1", desc, LAYER)
    return m
