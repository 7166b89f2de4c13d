"""Fitted PK values in the data files are reproduced by their documented fits."""

from __future__ import annotations

import pytest

from raadsim.drugs.catalogue import builtin
from raadsim.evidence.pk_fits import _fit, psilocin_ht2a_ec50


@pytest.mark.parametrize("analyte", ["psilocin", "lsd", "dmt_maoi"])
def test_oral_fit_matches_data_file(analyte):
    fit = _fit(analyte)
    params = builtin().analytes[analyte].pk["human"].params
    assert params["Vc"].value == pytest.approx(fit.V, rel=1e-4)
    assert params["CL"].value == pytest.approx(fit.CL, rel=1e-4)
    drug = {"psilocin": "psilocybin", "lsd": "lsd", "dmt_maoi": "ayahuasca"}[analyte]
    ka = builtin().drugs[drug].routes["human"]["oral"].pathways[0].ka
    assert ka.value == pytest.approx(fit.ka, rel=1e-4)


def test_psilocin_ec50_matches_data_file():
    K = builtin().analytes["psilocin"].targets["ht2a"].params["K"]
    assert K.value == pytest.approx(psilocin_ht2a_ec50(), rel=1e-3)
