"""Hypothesis variants (raadsim.model.hypotheses): each changes what it claims and nothing else.

A variant declares the models it can change (``relevant``); the comparison
(``raadsim validate --hypotheses``) simulates only those records, so the declaration is tested
here: on a panel of scenarios every variant leaves a model it says it cannot change exactly as
the default has it (drug-free subjects, and e.g. a ketamine-only model under a psychedelic-only
variant), and changes the one it is about.
"""

from __future__ import annotations

import numpy as np
import pytest

from raadsim import scenario_from_dict, simulate
from raadsim.errors import InputError
from raadsim.io.trial_file import trial_from_dict
from raadsim.model import hypotheses as hyp
from raadsim.model.build import build_model
from raadsim.model.layer import LAYERS, layer_params

END = {"end": "2 d", "output_every": "12 h"}
KET_H = {"drug": "ketamine", "amount": "0.5 mg/kg", "route": "iv", "infusion": "40 min"}
PANEL = {
    "drug_free_human": {"subject": {"species": "human", "condition": "trd"}},
    "drug_free_mouse": {"subject": {"species": "mouse", "condition": "chronic_stress"}},
    "ketamine_human": {"subject": {"species": "human", "condition": "trd"}, "dose": [KET_H]},
    "ketamine_rapamycin_human": {"subject": {"species": "human", "condition": "mdd"},
                                 "dose": [KET_H],
                                 "perturbation": [{"name": "rapamycin", "at": "-2 h"}]},
    "psilocybin_mouse": {"subject": {"species": "mouse"},
                         "dose": [{"drug": "psilocybin", "amount": "1 mg/kg", "route": "ip"}]},
    "hnk_mouse": {"subject": {"species": "mouse"},
                  "dose": [{"drug": "hnk_2r6r", "amount": "10 mg/kg", "route": "ip"}]},
    "lsd_human": {"subject": {"species": "human", "condition": "healthy"},
                  "dose": [{"drug": "lsd", "amount": "100 ug", "route": "oral"}]},
    "lsd_mouse": {"subject": {"species": "mouse"},
                  "dose": [{"drug": "lsd", "amount": "0.2 mg/kg", "route": "ip"}]},
    "ketamine_valmet_human": {"subject": {"species": "human", "condition": "trd"},
                              "dose": [KET_H],
                              "perturbation": [{"name": "bdnf_val66met",
                                                "genotype": "val/met"}]},
}
# The scenario each variant is about: it must change something there.
TARGET = {("durability", "plasticity_window"): "psilocybin_mouse",
          ("durability", "labile_only"): "psilocybin_mouse",
          ("psychoactive_mediation", "required"): "hnk_mouse",
          ("hnk", "weak_nmdar_blocker"): "hnk_mouse",
          ("hnk", "inactive"): "hnk_mouse",
          ("rapamycin", "species_difference"): "ketamine_rapamycin_human",
          ("arketamine", "distinct_route"): "ketamine_human",
          ("bdnf_trigger", "disinhibition_only"): "ketamine_human",
          ("spine_relief", "repair"): "psilocybin_mouse",
          ("nmdar_affinity", "in_vivo"): "ketamine_human",
          ("gate_setpoint", "own_baseline"): "ketamine_valmet_human",
          ("lsd_exposure", "pooled"): "lsd_human"}
VARIANTS = [(q.name, v) for q in hyp.questions().values() for v in q.variants
            if v != q.default]


def _scenario(name: str, choice: dict[str, str] | None = None):
    return scenario_from_dict({**PANEL[name], "simulation": END,
                               "model": {"hypotheses": choice or {}}})


@pytest.fixture(scope="module")
def defaults() -> dict[str, dict[str, np.ndarray]]:
    return {name: simulate(_scenario(name)).values for name in PANEL}


def test_every_question_has_a_default_that_changes_nothing():
    qs = hyp.questions()
    assert {"durability", "psychoactive_mediation", "hnk", "rapamycin", "arketamine"} <= set(qs)
    assert len(qs["durability"].variants) >= 3
    for q in qs.values():
        assert not q.variants[q.default].changes() and q.evidence
        for v in q.variants.values():
            assert v.sources and v.summary
            for name, p in v.params.items():  # every value with provenance
                assert p.provenance.kind in ("literature", "fitted", "derived", "assumed")
                assert name.startswith("K_") or hyp._human_pk(name) \
                    or any(name in layer_params(x) for x in LAYERS)


def test_default_choice_is_the_layer_files():
    sc = _scenario("psilocybin_mouse")
    chosen = _scenario("psilocybin_mouse", {q.name: q.default for q in hyp.questions().values()})
    a, b = build_model(sc, sc.catalogue()), build_model(chosen, sc.catalogue())
    assert {k: p.value for k, p in a.params.items()} == {k: p.value for k, p in b.params.items()}


@pytest.mark.slow  # six model structures compiled, then every variant on each (~30 s)
@pytest.mark.parametrize(("question", "variant"), VARIANTS)
def test_variant_changes_what_it_claims_and_nothing_else(question, variant, defaults):
    v = hyp.questions()[question].variants[variant]
    for name in PANEL:
        sc = _scenario(name, {question: variant})
        got = simulate(sc).values
        changed = any(not np.allclose(got[o], defaults[name][o], rtol=1e-9, atol=1e-12)
                      for o in got)
        species = PANEL[name]["subject"]["species"]
        if not v.can_change(build_model(sc, sc.catalogue()), species):
            assert not changed, f"{question} = {variant} changes {name}, outside its models"
        if TARGET[(question, variant)] == name:
            assert changed, f"{question} = {variant} changes nothing in {name}"


def test_repair_takes_only_spines_above_the_healthy_density():
    """spine_relief = repair: in a healthy mouse, whose new spines lift the density above 1,
    the effect a week after ketamine shrinks; in a stressed mouse whose density stays below 1
    it is the same as under the default."""
    def immobility(condition: str, choice: dict[str, str] | None = None,
                   amount: str = "10 mg/kg") -> tuple[float, float]:
        sc = scenario_from_dict({
            "subject": {"species": "mouse", "condition": condition},
            "dose": [{"drug": "ketamine", "amount": amount, "route": "ip"}],
            "simulation": {"end": "7 d", "output_every": "1 d"},
            "model": {"hypotheses": choice or {}}})
        res = simulate(sc)
        return float(res.values["behaviour.immobility"][-1]), \
            float(res.values["synapse.spine_density"].max())

    repair = {"spine_relief": "repair"}
    healthy, spines = immobility("healthy")
    assert spines > 1.05  # new spines above the healthy density
    assert 1 - immobility("healthy", repair)[0] < 0.8 * (1 - healthy)
    stressed, spines = immobility("corticosterone", amount="5 mg/kg")
    assert spines < 1.0
    assert immobility("corticosterone", repair, "5 mg/kg")[0] == pytest.approx(stressed,
                                                                             rel=1e-9)


def test_durable_psilocybin_transient_ketamine():
    """The default durability account: one psilocybin dose leaves persistent spines 1 month
    later, one ketamine dose none; with labile spines only neither does."""
    def persistent(drug: dict, choice: dict | None = None) -> float:
        sc = scenario_from_dict({"subject": {"species": "mouse"}, "dose": [drug],
                                 "simulation": {"end": "30 d", "output_every": "1 d",
                                                "observables": ["synapse.persistent_spines"]},
                                 "model": {"hypotheses": choice or {}}})
        return float(simulate(sc).values["synapse.persistent_spines"][-1])

    psi = {"drug": "psilocybin", "amount": "1 mg/kg", "route": "ip"}
    ket = {"drug": "ketamine", "amount": "10 mg/kg", "route": "ip"}
    assert persistent(psi) > 0.02 and persistent(ket) == 0.0
    assert persistent(psi, {"durability": "labile_only"}) == 0.0
    assert persistent(ket, {"durability": "plasticity_window"}) > 0.0


def test_api_argument_equals_the_file_section():
    sc = _scenario("hnk_mouse")
    a = simulate(sc, hypotheses={"hnk": "inactive"}).values
    b = simulate(_scenario("hnk_mouse", {"hnk": "inactive"})).values
    assert all(np.array_equal(a[o], b[o]) for o in a)


@pytest.mark.parametrize(("raw", "field", "accepted"), [
    ({"nope": "x"}, "model.hypotheses", "a question"),
    ({"durability": "forever"}, "model.hypotheses.durability", "one of persistent_pool"),
    ({"hnk": 3}, "model.hypotheses.hnk", None),
])
def test_bad_choice_is_one_clear_error(raw, field, accepted):
    with pytest.raises(InputError) as err:
        scenario_from_dict({"model": {"hypotheses": raw}})
    assert err.value.field == field
    if accepted:
        assert accepted in err.value.accepted


def test_trial_file_model_section_reaches_every_arm():
    tf = trial_from_dict({"population": {"n": 2}, "model": {"hypotheses": {"hnk": "inactive"}},
                          "trial": {"visits": ["1 d"], "arm": [{"name": "a", "dose": [KET_H]}]}})
    assert tf.arm_scenario(tf.trial.arm[0]).model.resolved() == (("hnk", "inactive"),)
    with pytest.raises(InputError) as err:
        trial_from_dict({"population": {"n": 2}, "model": {"hypotheses": {"hnk": "x"}},
                         "trial": {"visits": ["1 d"], "arm": [{"name": "a"}]}})
    assert err.value.field == "model.hypotheses.hnk"


def test_in_vivo_affinity_half_blocks_at_the_published_unbound_concentration():
    """nmdar_affinity = in_vivo: its one factor, derived from the rat in vivo IC50 of racemic
    ketamine, makes the model's occupancy odds those of the published IC50s (ratio 1 within
    their CI), where the homogenate Ki of the default block about 3 times more strongly."""
    from raadsim.evidence.records import load_records
    from raadsim.evidence.runner import run_records

    rec = [r for r in load_records() if r.id == "ro_normalisation_ketamine_in_vivo_ic50_rat"]
    default, = run_records(rec)
    in_vivo, = run_records(rec, hypotheses={"nmdar_affinity": "in_vivo"})
    assert default.simulated > 2.5 and not default.passed
    assert in_vivo.passed and in_vivo.simulated == pytest.approx(1.0, abs=0.1)


def _madrs_24h(genotype: str, choice: dict[str, str]) -> float:
    sc = scenario_from_dict({"subject": {"condition": "trd"}, "dose": [KET_H],
                             "perturbation": [{"name": "bdnf_val66met", "genotype": genotype}],
                             "simulation": {"end": "24 h", "output_every": "12 h",
                                            "observables": ["clinic.madrs"]},
                             "model": {"hypotheses": choice}})
    return float(simulate(sc).values["clinic.madrs"][-1])


def test_gate_setpoint_decides_whether_the_met_allele_abolishes_or_grades_the_response():
    """absolute: a Val/Met patient's lower BDNF tone keeps the gates shut, so most of the 24 h
    response is lost; own_baseline: the response shrinks with each Met allele but stays."""
    absolute = {g: _madrs_24h(g, {"gate_setpoint": "absolute"})
                for g in ("val/val", "val/met")}
    own = {g: _madrs_24h(g, {"gate_setpoint": "own_baseline"})
           for g in ("val/val", "val/met", "met/met")}
    assert absolute["val/met"] - absolute["val/val"] > 10  # most of a ~20-point fall lost
    assert own["val/val"] < own["val/met"] < own["met/met"]
    assert own["met/met"] - own["val/val"] < 3  # graded, not abolished
    assert own["val/val"] == pytest.approx(absolute["val/val"], abs=1e-6)


def test_pooled_lsd_exposure_is_the_study_weighted_mean_of_the_basel_cmax_values():
    """The pooled variant's Cmax per ug is re-derived from the published values (each study
    once), and it changes human LSD only: a rat's LSD PK is that of the default."""
    from raadsim.evidence.pk_fits import pooled_cmax_per_dose

    studies = {"dolder2017": [(100, 1.3), (200, 3.1)], "holze2019": [(100, 1.7)],
               "holze_lsd_microdose": [(5, 0.151), (10, 0.279), (20, 0.500)]}
    target = 100 * pooled_cmax_per_dose(studies)  # ng/mL after 100 ug
    human = {"dose": [{"drug": "lsd", "amount": "100 ug", "route": "oral"}],
             "simulation": {"end": "6 h", "output_every": "2 min",
                            "observables": ["plasma.lsd"]}}
    rat = {**human, "subject": {"species": "rat"},
           "dose": [{"drug": "lsd", "amount": "0.1 mg/kg", "route": "ip"}]}

    def cmax(raw: dict, variant: str) -> float:
        sc = scenario_from_dict({**raw, "model": {"hypotheses": {"lsd_exposure": variant}}})
        return float(simulate(sc).values["plasma.lsd"].max())

    assert cmax(human, "pooled") == pytest.approx(target, rel=0.005)
    assert cmax(human, "dolder2017") == pytest.approx(1.5, rel=0.005)
    assert cmax(rat, "pooled") == cmax(rat, "dolder2017")
