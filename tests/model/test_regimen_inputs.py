"""What published studies did must run: popPK covariates (age, ancestry), inhaled DMT, bath
washout and peripheral read-outs (issue 26)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from raadsim import scenario_from_dict, simulate
from raadsim.drugs.catalogue import builtin
from raadsim.errors import InputError
from raadsim.io.trial_file import trial_from_dict
from raadsim.model.build import build_model
from raadsim.model.covariates import Covariates
from raadsim.simulate.population import PopulationModel, patient_parameters


def _esketamine(subject: dict | None = None) -> dict:
    return {"subject": {"species": "human", "condition": "trd", **(subject or {})},
            "dose": [{"drug": "esketamine", "amount": "56 mg", "route": "intranasal"}],
            "simulation": {"end": "24 h", "output_every": "10 min",
                           "observables": ["plasma.s_ketamine"]}}


@pytest.mark.parametrize("cov", [Covariates(ancestry="japanese"), Covariates(ancestry="asian"),
                                 Covariates(age_years=72.0)])
def test_a_trial_patient_gets_the_parameters_of_a_subject_built_with_its_covariates(cov):
    """The rescaling of a trial patient is exact: the values a patient with ``cov`` gets in a
    model built for the reference subject are those of a model built for ``cov``."""
    cat = builtin()
    ref = build_model(scenario_from_dict(_esketamine()), cat)
    own = build_model(scenario_from_dict(_esketamine(
        {"ancestry": cov.ancestry, **({"age_years": cov.age_years} if cov.age_years else {})})),
        cat)
    assert ref.covariate_rules
    pop = PopulationModel.from_spec(trial_from_dict({
        "population": {"n": 1}, "trial": {"visits": ["1 d"], "control": "a", "arm": [
            {"name": "a", "dose": [{"drug": "esketamine", "amount": "56 mg",
                                    "route": "intranasal"}]}]}}).population)
    p = dataclasses.replace(pop.patient(1, 0, 1), weight_kg=70.0, eta_clearance=0.0,
                            eta_volume=0.0, age=cov.age_years or 40.0, ancestry=cov.ancestry)
    base = {k: v.value for k, v in ref.params.items()}
    got = patient_parameters(p, base, ref.weight_exponents, ref.per_kg_inputs, 70.0,
                             ref.covariate_rules, ref.covariates)
    changed = 0
    for name in ref.covariate_rules:
        want = own.params[name].value
        assert got.get(name, base[name]) == pytest.approx(want, rel=1e-12), name
        changed += want != base[name]
    assert changed


def test_covariates_are_checked_at_the_boundary():
    with pytest.raises(InputError, match=r"^subject\.age_years: got 5"):
        scenario_from_dict(_esketamine({"age_years": 5}))
    with pytest.raises(InputError, match="ancestry"):
        scenario_from_dict(_esketamine({"ancestry": "martian"}))
    arm = [{"name": "a", "dose": [{"drug": "saline", "amount": "0 mg", "route": "iv"}]}]
    for bad in ({"martian": 0.1}, {"asian": 0.7, "japanese": 0.5}, {"asian": -0.1}):
        with pytest.raises(InputError, match=r"^population\.ancestry(\.asian)?: got"):
            trial_from_dict({"population": {"n": 2, "ancestry": bad},
                             "trial": {"visits": ["1 d"], "control": "a", "arm": arm}})


def test_a_population_without_ancestries_keeps_its_patients():
    """Ancestry is drawn after every other quantity of a patient: adding fractions changes
    only who is Asian or Japanese."""
    arm = [{"name": "a", "dose": [{"drug": "saline", "amount": "0 mg", "route": "iv"}]}]

    def pop(extra):
        return PopulationModel.from_spec(trial_from_dict({
            "population": {"n": 50, **extra},
            "trial": {"visits": ["1 d"], "control": "a", "arm": arm}}).population)

    a, b = pop({}), pop({"ancestry": {"asian": 0.3, "japanese": 0.2}})
    pa = [a.patient(1, i, 1) for i in range(50)]
    pb = [b.patient(1, i, 1) for i in range(50)]
    assert all(dataclasses.replace(y, ancestry="not_asian") == x for x, y in zip(pa, pb,
                                                                               strict=True))
    kinds = {p.ancestry for p in pb}
    assert kinds == {"not_asian", "asian", "japanese"}


def test_inhaled_dmt_acts_within_minutes_and_is_gone_within_half_an_hour():
    r = simulate(scenario_from_dict({
        "subject": {"species": "human"},
        "dose": [{"drug": "dmt", "amount": "60 mg", "route": "inhaled"}],
        "simulation": {"end": "2 h", "output_every": "1 min",
                       "observables": ["plasma.dmt", "clinic.psychedelic_intensity"]}}))
    c, i, t = r.values["plasma.dmt"], r.values["clinic.psychedelic_intensity"], r.time_h * 60
    assert t[np.argmax(c)] <= 10 and t[np.argmax(i)] <= 15
    assert i[np.searchsorted(t, 45)] < 0.1 * i.max()
    assert builtin().drugs["dmt"].routes["human"]["inhaled"].pathways[0].F.provenance.kind == \
        "assumed"


def test_a_washed_out_bath_stops_acting_and_leaves_a_smaller_lasting_change():
    def run(drug, conc, duration, obs):
        bath = {"drug": drug, "concentration": conc, **({"duration": duration}
                                                        if duration else {})}
        return simulate(scenario_from_dict({
            "subject": {"species": "culture"}, "bath": [bath],
            "simulation": {"end": "1 d", "output_every": "5 min", "observables": obs}}))

    # ketamine leaves the NMDA receptor within minutes of the washout
    k = run("ketamine", "10 uM", "15 min", ["occupancy.nmdar"])
    occ, t = k.values["occupancy.nmdar"], k.time_h
    assert occ[np.searchsorted(t, 0.1)] > 0.5 and occ[np.searchsorted(t, 1.0)] < 1e-3
    # LSD: a short exposure leaves a lasting but smaller change than a continuous one
    on = run("lsd", "10 nM", None, ["synapse.strength"])
    short = run("lsd", "10 nM", "15 min", ["synapse.strength"])
    assert 1.0 < short.values["synapse.strength"][-1] < on.values["synapse.strength"][-1]
    with pytest.raises(InputError, match="duration"):
        scenario_from_dict({"subject": {"species": "culture"},
                            "bath": [{"drug": "lsd", "concentration": "10 nM",
                                      "duration": "0 min"}]})


def test_cortisol_is_a_read_out_and_serum_bdnf_is_stated_as_unknown():
    sc = scenario_from_dict({
        "subject": {"species": "human"},
        "dose": [{"drug": "ketamine", "amount": "0.5 mg/kg", "route": "iv",
                  "infusion": "40 min"}],
        "simulation": {"end": "12 h", "output_every": "5 min",
                       "observables": ["blood.cortisol_production", "plasma.ketamine"]}})
    r = simulate(sc)
    cort, ket = r.values["blood.cortisol_production"], r.values["plasma.ketamine"]
    # doubles at 165 ng/mL of plasma ketamine (Khalili-Mahani 2015), back to 1 without drug
    assert np.allclose(cort, 1 + ket / 165.0, rtol=1e-9)
    assert abs(cort[-1] - 1) < 0.05 and cort.max() > 1.3
    spec = build_model(sc, builtin())
    assert "blood.bdnf" not in spec.observables
    from raadsim.model.layer import load_layer

    assert "Serum or plasma BDNF is not a read-out" in load_layer("peripheral").summary
