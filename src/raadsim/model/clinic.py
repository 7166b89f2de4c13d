"""Layer 6 — symptoms (human MADRS) and behaviour (rodents).

    relief = w_func·(W − 1) + w_struct·(S − S_base)           rapid + sustained components
    effect = Emax·max(relief, 0)/(R50 + max(relief, 0))
    (humans: w_struct, R50_relief fitted to trials; rodents: w_struct_rodent, R50_rodent)
    ritual' = −k_ritual·ritual   (+1 at every dosing session, drug or placebo)
    perceived = max(dissociation, psychedelic intensity, sedation)
    unblinding' = k_unblind·perceived·(1 − unblinding) − k_ritual·unblinding
    expectancy' = k_e·( min(ritual, 1)·(1 + g_unblind·unblinding) − expectancy )
    MADRS = M0·(1 − effect)·(1 − p_placebo·expectancy)
    immobility = 1 − a·effect        sucrose preference = 1 − d·(stress − 1)·(1 − effect)

``M0`` and ``stress`` depend on the subject's condition (``data/parameters/conditions.toml``).
"""

from __future__ import annotations

from .layer import use_params
from .spec import ModelSpec

LAYER = "clinic"


def build_clinic(species: str, has_midazolam: bool) -> ModelSpec:
    m = ModelSpec()
    use_params(m, LAYER)
    # Humans: weights fitted to trials. Rodents: behavioural read-out with its own (assumed)
    # weights, because the human calibration does not constrain forced-swim behaviour.
    w_struct, r50 = ("w_struct", "R50_relief") if species == "human" else \
        ("w_struct_rodent", "R50_rodent")
    m.rule("relief", f"w_func*(W_syn - 1) + {w_struct}*(S_spine - S_base)", "1",
           "symptom relief signal from synapses", LAYER)
    m.rule("ad_effect", f"Emax_relief*max(relief, 0)/({r50} + max(relief, 0))", "1",
           "fractional antidepressant effect", LAYER)
    m.state("ritual", "-k_ritual*ritual", "1", "treatment-session (ritual) signal", LAYER)
    sedation = "0"
    if has_midazolam:
        m.rule("sedation", "C_midazolam/(EC50_sedation + C_midazolam)", "1",
               "perceived midazolam sedation", LAYER)
        sedation = "sedation"
    m.rule("perceived", f"max(max(dissociation, psychedelic_intensity), {sedation})", "1",
           "perceived drug effect (functional unblinding)", LAYER)
    m.state("unblinding", "k_unblind*perceived*(1 - unblinding) - k_ritual*unblinding", "1",
            "conviction of having received an active drug (functional unblinding)", LAYER)
    m.state("expectancy",
            "k_expect*(min(ritual, 1)*(1 + g_unblind*unblinding) - expectancy)", "1",
            "expectancy (placebo) signal", LAYER)
    if species == "human":
        m.rule("madrs", "madrs_baseline*(1 - ad_effect)*(1 - min(p_placebo*expectancy, 0.9))",
               "points", "MADRS total (0-60)", LAYER)
        m.observable("clinic.madrs", "madrs", "points", "MADRS total score (0-60)", LAYER)
        m.observable("clinic.expectancy", "expectancy", "1", "expectancy/placebo signal", LAYER)
    else:
        m.rule("immobility", "1 - a_immobility*ad_effect", "1",
               "forced-swim immobility relative to vehicle", "behavior")
        m.rule("sucrose_preference",
               "1 - sp_deficit*(stress_elimination - 1)*(1 - ad_effect)", "1",
               "sucrose preference relative to healthy", "behavior")
        m.observable("behavior.immobility", "immobility", "1",
                     "forced-swim immobility (vehicle = 1)", "behavior")
        m.observable("behavior.sucrose_preference", "sucrose_preference", "1",
                     "sucrose preference (healthy = 1)", "behavior")
    m.observable("clinic.antidepressant_effect", "ad_effect", "1",
                 "fractional antidepressant effect (0-1)", LAYER)
    return m
