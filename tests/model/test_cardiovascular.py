"""The acute pressor side effect (model/cardiovascular.py): present only where it is defined,
and proportional to plasma ketamine with the fitted slope. The published findings it is held
against are records in data/evidence/cardiovascular.toml (run by tests/findings)."""

from __future__ import annotations

import numpy as np
import pytest

from raadsim import scenario_from_dict, simulate
from raadsim.model.layer import layer_params


def _run(drug: str, amount: str, route: str, species: str = "human", **dose):
    return simulate(scenario_from_dict({
        "subject": {"species": species},
        "dose": [{"drug": drug, "amount": amount, "route": route, "at": "1 h", **dose}],
        "simulation": {"end": "12 h", "output_every": "5 min"}}))


@pytest.mark.parametrize(("drug", "amount", "route"), [
    ("ketamine", "0.5 mg/kg", "iv"), ("esketamine", "84 mg", "intranasal"),
    ("arketamine", "0.5 mg/kg", "iv")])
def test_pressor_follows_plasma_ketamine(drug, amount, route):
    r = _run(drug, amount, route)
    sbp, conc = r.values["clinic.sbp_change"], r.values["plasma.ketamine"]
    s = layer_params("cardiovascular")["s_sbp"].value
    np.testing.assert_allclose(sbp, s * conc, rtol=1e-9, atol=1e-12)
    assert np.all(sbp[r.time_h < 1.0] == 0)  # nothing before the dose
    assert 1 < sbp.max() < 40  # a rise, below the label's 'large' rise of 40 mmHg


def test_pressor_scales_with_dose():
    low = _run("ketamine", "0.25 mg/kg", "iv", infusion="40 min").values["clinic.sbp_change"]
    high = _run("ketamine", "0.5 mg/kg", "iv", infusion="40 min").values["clinic.sbp_change"]
    assert high.max() == pytest.approx(2 * low.max(), rel=1e-6)  # linear PK, linear effect


@pytest.mark.parametrize(("drug", "amount", "route", "species"), [
    ("psilocybin", "25 mg", "oral", "human"), ("lsd", "100 ug", "oral", "human"),
    ("midazolam", "0.045 mg/kg", "iv", "human"), ("ketamine", "10 mg/kg", "ip", "rat")])
def test_no_pressor_where_none_is_sourced(drug, amount, route, species):
    r = _run(drug, amount, route, species)
    assert "clinic.sbp_change" not in r.values
