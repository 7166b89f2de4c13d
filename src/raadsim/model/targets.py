"""Layer 2 — targets: receptor occupancy from unbound brain concentrations.

NMDA receptor (``nmdar``), open-channel block with use-dependent trapping. For each blocker
``i`` and each neuronal population ``p`` (GABA interneurons, pyramidal cells)::

    B_{p,i}' = k_nmdar · a_p · [ (c_i/K_i) · (1 − Σ_j B_{p,j}) − B_{p,i} ]

``c_i`` is the unbound brain concentration (uM), ``K_i`` the affinity (the analyte file's,
times ``f_nmdar_in_vivo``: 1 by default, ~3 under the ``nmdar_affinity = in_vivo``
hypothesis) and ``a_p`` the
channel activity of population ``p`` relative to drug-free baseline (1 here; the circuit
layer makes it follow firing). Block and unblock need an open channel, so the equilibrium is
the competitive-binding one, but the *rate* scales with activity: a blocker trapped in
closed channels stays there while the population is quiet, so block can outlast plasma.

5-HT2A, TrkB and AMPA receptor modulation: competitive binding relaxing at ``koff``::

    O_i' = koff_i · [ (c_i/K_i) · (1 − Σ_j O_j) − O_i ]

Occupancy observables are fractions 0–1.

5-HT2A activation ``A = Σ_i eff_i·O_i`` over the agonists drives a slow, delayed tolerance
(receptor-level, so it is shared by every agonist: cross-tolerance)::

    S' = (A − S)/τ_S                     (tolerance signal: activation, delayed)
    T' = k_tol·S·(1 − T) − T/τ_T         (tolerance, recovering with τ_T)
    drive_ht2a = A·(1 − T)

The delay lets one session pass without acute tolerance while tolerance is present the next
day (Dolder 2015; Buchborn 2016); ``k_tol`` is fitted to Isbell 1955 (LSD twice daily for 3
days).
"""

from __future__ import annotations

from ..drugs.catalogue import Catalogue
from ..drugs.schema import Analyte, Target
from .layer import layer_params
from .spec import ModelSpec

LAYER = "targets"
POPULATIONS = {"int": "GABA interneurons", "pyr": "pyramidal neurons"}
TARGET_LABEL = {
    "ht2a": "5-HT2A receptor",
    "trkb": "TrkB (psychedelic allosteric site)",
    "ampar": "AMPA receptor (positive modulation)",
    "sert": "serotonin transporter",
}


def affinity_uM(a: Analyte, t: Target) -> tuple[float, str]:
    """K as an unbound brain concentration (uM), and how it was converted."""
    K = t.params["K"]
    try:
        value, how = K.in_unit("uM"), ""
    except Exception:
        value = K.in_unit("ng/mL") / a.molar_mass
        how = f"{K.value:g} {K.unit} / {a.molar_mass:.2f} g/mol"
    if t.basis == "plasma_total":
        fu = a.pk["human"].params["fu"].in_unit("dimensionless")
        value *= fu
        how = (how or f"{K.value:g} {K.unit}") + f" × fu {fu:g} (plasma → unbound)"
    return value, how


def build_targets(cat: Catalogue, analytes: list[str]) -> ModelSpec:
    """Occupancy of every target by the analytes present in the model."""
    m = ModelSpec()
    m.layers.add(LAYER)
    P = layer_params(LAYER)
    m.param("k_nmdar", P["k_nmdar"].value, "1/h", LAYER, P["k_nmdar"])
    m.param("f_nmdar_in_vivo", P["f_nmdar_in_vivo"].value, "1", LAYER, P["f_nmdar_in_vivo"])
    m.param("O_ht2a_antagonist", 0.0, "1", LAYER, P["O_ht2a_antagonist"])
    m.param("trkb_site", 1.0, "1", LAYER, P["trkb_site"])
    # activity_int / activity_pyr (channel activity relative to baseline) come from the
    # circuit layer, which makes them follow the populations' firing.
    binders: dict[str, list[str]] = {t: [] for t in ("nmdar", "ht2a", "trkb", "ampar", "sert")}
    for an in analytes:
        a = cat.analytes[an]
        for tname, t in a.targets.items():
            K, how = affinity_uM(a, t)
            m.param(f"K_{tname}_{an}", K, "uM", LAYER, t.params["K"], how)
            if tname != "nmdar":
                koff = t.params.get("koff", P["koff_default"])
                m.param(f"koff_{tname}_{an}", koff.in_unit("1/h"), "1/h", LAYER, koff)
                if t.role == "agonist":
                    eff = t.params.get("efficacy", P["efficacy_default"])
                    m.param(f"eff_{tname}_{an}", eff.in_unit("dimensionless"), "1", LAYER, eff)
            binders[tname].append(an)
    _nmdar(m, cat, binders["nmdar"])
    for tname in ("ht2a", "trkb", "ampar"):
        _competitive(m, cat, tname, binders[tname])
    if binders["sert"]:  # only conventional antidepressants bind it
        _competitive(m, cat, "sert", binders["sert"])
    agonists = [x for x in binders["ht2a"] if cat.analytes[x].targets["ht2a"].role == "agonist"]
    if agonists:
        for name in ("tau_tol_signal", "k_tol", "tau_tol_recovery"):
            m.param(name, P[name].value, P[name].unit, LAYER, P[name])
        m.rule("act_ht2a", " + ".join(f"eff_ht2a_{x}*O_ht2a_{x}" for x in agonists), "1",
               "5-HT2A activation before tolerance: efficacy-weighted agonist occupancy", LAYER)
        m.state("S_tol_ht2a", "(act_ht2a - S_tol_ht2a)/tau_tol_signal", "1",
                "5-HT2A tolerance signal (activation, delayed)", LAYER)
        m.state("T_tol_ht2a",
                "k_tol*S_tol_ht2a*(1 - T_tol_ht2a) - T_tol_ht2a/tau_tol_recovery", "1",
                "5-HT2A tolerance (fraction of activation lost)", LAYER)
        m.rule("drive_ht2a", "act_ht2a*(1 - T_tol_ht2a)", "1",
               "5-HT2A activation: efficacy-weighted agonist occupancy, less tolerance", LAYER)
        m.observable("tolerance.ht2a", "T_tol_ht2a", "1",
                     "5-HT2A tolerance (fraction of activation lost)", LAYER)
    else:
        m.rule("drive_ht2a", "0", "1", "5-HT2A activation (no agonist in the model)", LAYER)
    m.rule("drive_trkb", "trkb_site*O_trkb_total", "1",
           "allosteric potentiation of TrkB by bound psychedelic (0 if the site is mutated)", LAYER)
    m.observable("drive.ht2a", "drive_ht2a", "1", "5-HT2A activation (agonists only)", LAYER)
    return m


def _nmdar(m: ModelSpec, cat: Catalogue, blockers: list[str]) -> None:
    for pop, label in POPULATIONS.items():
        total = " + ".join(f"B_{pop}_{b}" for b in blockers) or "0"
        m.rule(f"B_{pop}_total", total, "1", f"NMDA receptor block on {label}", LAYER)
        for b in blockers:
            a = cat.analytes[b]
            m.state(
                f"B_{pop}_{b}",
                f"k_nmdar*activity_{pop}*((Cbu_{b}/(f_nmdar_in_vivo*K_nmdar_{b}))"
                f"*(1 - B_{pop}_total) "
                f"- B_{pop}_{b})",
                "1", f"fraction of {label} NMDA receptors blocked by {a.label}", LAYER,
            )
    m.observable("occupancy.nmdar", "B_pyr_total", "1",
                 "NMDA receptor block, pyramidal neurons (bulk of cortical receptors)", LAYER)
    m.observable("occupancy.nmdar_interneuron", "B_int_total", "1",
                 "NMDA receptor block, GABA interneurons", LAYER)


def _competitive(m: ModelSpec, cat: Catalogue, tname: str, ligands: list[str]) -> None:
    total = " + ".join(f"O_{tname}_{x}" for x in ligands) or "0"
    m.rule(f"O_{tname}_total", total, "1", f"{TARGET_LABEL[tname]} occupancy by drugs", LAYER)
    free = f"(1 - O_{tname}_total - O_ht2a_antagonist)" if tname == "ht2a" else \
        f"(1 - O_{tname}_total)"
    for x in ligands:
        m.state(
            f"O_{tname}_{x}",
            f"koff_{tname}_{x}*((Cbu_{x}/K_{tname}_{x})*{free} - O_{tname}_{x})",
            "1", f"{TARGET_LABEL[tname]} occupied by {cat.analytes[x].label}", LAYER,
        )
    m.observable(f"occupancy.{tname}", f"O_{tname}_total", "1",
                 f"{TARGET_LABEL[tname]} occupancy (all ligands)", LAYER)
