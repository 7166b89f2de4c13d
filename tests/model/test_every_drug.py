"""Every observable gives a finite, bounded time course that returns towards baseline, for
every drug, species and route (the Mechanism issue's 'done when')."""

from __future__ import annotations

import numpy as np
import pytest

from raadsim import scenario_from_dict, simulate
from raadsim.drugs.catalogue import builtin

DOSES = {"ketamine": "0.5 mg/kg", "esketamine": "56 mg", "arketamine": "0.5 mg/kg",
         "hnk_2r6r": "1 mg/kg", "psilocybin": "25 mg", "lsd": "100 ug", "dmt": "20 mg",
         "ayahuasca": "0.85 mg/kg", "midazolam": "0.045 mg/kg", "placebo": "0 mg",
         "saline": "0 mg", "escitalopram": "10 mg", "placebo_pill": "0 mg",
         "dmt_fumarate": "20 mg", "ketanserin": "10 mg"}
RODENT_DOSES = {"ketamine": "10 mg/kg", "esketamine": "10 mg/kg", "arketamine": "10 mg/kg",
                "hnk_2r6r": "10 mg/kg", "psilocybin": "1 mg/kg", "lsd": "0.1 mg/kg",
                "dmt": "5 mg/kg", "placebo": "0 mg", "saline": "0 mg", "bromo_lsd": "0.1 mg/kg",
                "hypothetical_trkb_ligand": "0.1 mg/kg"}
# The fast tier: each drug's first human route; the full suite: every drug, species and route.
CASES = [pytest.param(d, sp, r, marks=[] if sp == "human" and r == sorted(routes)[0]
                      else [pytest.mark.slow])
         for d, drug in sorted(builtin().drugs.items())
         for sp, routes in drug.routes.items() for r in sorted(routes)]


@pytest.mark.parametrize(("drug", "species", "route"), CASES)
def test_plausible_time_courses(drug, species, route):
    amount = DOSES[drug] if species == "human" else RODENT_DOSES[drug]
    sc = scenario_from_dict({"subject": {"species": species, "condition": "mdd" if
                                         species == "human" else "healthy"},
                             "dose": [{"drug": drug, "amount": amount, "route": route}],
                             "simulation": {"end": "21 d", "output_every": "1 h"}})
    r = simulate(sc)
    for name, v in r.values.items():
        assert np.all(np.isfinite(v)), name
        if name.startswith(("occupancy.", "clinic.dissociation", "clinic.psychedelic",
                            "clinic.antidepressant")):
            assert v.min() >= -1e-6 and v.max() <= 1 + 1e-6, name
        if name.startswith(("plasma.", "brain.")):
            assert v.min() >= -1e-6 and v[-1] <= 0.01 * max(v.max(), 1e-9), name
        if name.startswith(("network.", "signal.")):
            assert abs(v[-1] - 1) < 0.05, name  # back to baseline after 3 weeks
        if name.startswith("eeg."):  # spectra stay positive; entropy is normalised
            assert np.all(v > 0), name
            if name == "eeg.spectral_entropy":
                assert np.all(v < 1)
        if name == "clinic.sbp_change":  # mmHg above pre-dose, gone after 3 weeks
            assert v.min() >= -1e-6 and v.max() <= 40 and v[-1] <= 0.01 * max(v.max(), 1e-9)
        if name == "clinic.madrs":
            assert v.min() >= 0 and v.max() <= 60
