"""A subject given no drug is untreated, whatever its condition, perturbation and species.

Quantities that mean "relative to this subject's drug-free state" come from the model's own
pre-equilibrated state (references of the layer files), never from a hand-derived formula, so
a knockout, a genotype or a chronic-stress condition sets the subject's baseline and nothing
else: with no drug the antidepressant effect is zero, MADRS and behaviour sit at the
condition's drug-free value, and every mechanism variable stays at its drug-free steady state.
"""

from __future__ import annotations

import numpy as np
import pytest

from raadsim import scenario_from_dict, simulate
from raadsim.io.scenario import CONDITIONS, RODENT_CONDITIONS, SUBJECT_SPECIES
from raadsim.model.build import build_model, condition_params
from raadsim.model.layer import layer_params
from raadsim.perturb.catalogue import GENOTYPES, NEEDS_AT, registry


def _perturbations() -> list[tuple[str, dict]]:
    out = [("none", {})]
    for name in sorted(registry()):
        if name in GENOTYPES:
            out += [(f"{name}:{g}", {"name": name, "genotype": g}) for g in GENOTYPES[name]]
        elif name in NEEDS_AT:
            out.append((name, {"name": name, "at": "1 d"}))
        else:
            out.append((name, {"name": name}))
    return out


PERTURBATIONS = _perturbations()


def _fast(species: str, condition: str, pid: str) -> bool:
    """The fast tier: every species unperturbed in a depressed condition and every
    perturbation in stressed mice; the full suite runs every combination."""
    depressed = condition == ("trd" if species == "human" else "chronic_stress")
    return depressed and (pid == "none" or species == "mouse")


def _case(species: str, condition: str, pid: str) -> bool:
    """The rodent depression models other than chronic_stress share its parameters: they run
    unperturbed in rats and mice only (not across every perturbation and species)."""
    if condition in RODENT_CONDITIONS and condition != "chronic_stress":
        return pid == "none" and species in ("rat", "mouse")
    return True


CASES = [pytest.param(sp, cond, pid, pert, id=f"{sp}-{cond}-{pid}",
                      marks=[] if _fast(sp, cond, pid) else [pytest.mark.slow])
         for sp in SUBJECT_SPECIES for cond in CONDITIONS for pid, pert in PERTURBATIONS
         if _case(sp, cond, pid)]
TOL = 1e-3  # relative drift allowed over four weeks (the pre-equilibration is 60 days)


@pytest.mark.parametrize(("species", "condition", "pid", "pert"), CASES)
def test_no_drug_means_no_effect(species, condition, pid, pert):
    sc = scenario_from_dict({"subject": {"species": species, "condition": condition},
                             "perturbation": [pert] if pert else [],
                             "simulation": {"end": "28 d", "output_every": "1 d"}})
    r = simulate(sc)
    spec = build_model(sc, sc.catalogue())
    for name, v in r.values.items():
        drift = np.ptp(v) / max(np.abs(v).max(), 1.0)
        assert drift <= TOL, f"{name} drifts by {drift:.2e} with no drug"
    if species == "culture":
        return
    effect = r.values["clinic.antidepressant_effect"]
    assert np.abs(effect).max() <= TOL
    cond = condition_params()[condition]
    if species == "human":
        m0 = cond["madrs_baseline"].value
        assert np.allclose(r.values["clinic.madrs"], m0, rtol=TOL)
    else:
        # the condition's stress level, or the chronic_stress perturbation's (lifelong)
        stress = spec.params.get("stress_elimination_chronic_stress",
                                 cond["stress_elimination"]).value
        despair = layer_params("behaviour")["immobility_deficit"].value
        assert np.allclose(r.values["behaviour.immobility"], 1 + despair * (stress - 1),
                           atol=TOL)
        deficit = layer_params("behaviour")["sp_deficit"].value
        assert np.allclose(r.values["behaviour.sucrose_preference"],
                           1 - deficit * (stress - 1), atol=TOL)
