"""Rodent ketamine PK: rodent parameters (not human-scaled) and the records they are fitted to."""

from __future__ import annotations

from raadsim.drugs.catalogue import builtin
from raadsim.evidence.records import load_records

FITTED = {"Vc": "lenedelec2018_ivbolus_vs_infusion_peak_rat",
          "elimination_factor": "mcdonnell2021_rat_sc5_exposure_matches_clinic"}


def test_rat_ketamine_parameters_are_fitted_to_rat_calibration_records() -> None:
    records = {r.id: r for r in load_records()}
    for an in ("s_ketamine", "r_ketamine"):
        params = builtin().analytes[an].pk["rat"].params
        for key, rid in FITTED.items():
            prov = params[key].provenance
            assert prov.kind == "fitted" and rid in (prov.fitted_to or []), (an, key)
            assert records[rid].kind == "calibration" and records[rid].species == "rat"


def test_rat_sc_ka_is_fitted_and_im_shares_it() -> None:
    routes = builtin().drugs["ketamine"].routes["rat"]
    sc, im = routes["sc"].pathways[0].ka, routes["im"].pathways[0].ka
    assert sc is not None and im is not None and sc.value == im.value
    assert "lenedelec2018_ivbolus_vs_sc_peak_rat" in (sc.provenance.fitted_to or [])


def test_rodent_ip_has_a_portal_pathway_for_every_ketamine_drug() -> None:
    cat = builtin()
    for drug in ("ketamine", "esketamine", "arketamine"):
        for sp in ("rat", "mouse"):
            pw = cat.drugs[drug].routes[sp]["ip"].pathways
            assert [p.into for p in pw] == ["liver", "central"], (drug, sp)
            assert pw[1].remainder_of == "portal"


def test_rodent_pk_records_that_fail_say_why() -> None:
    for r in load_records():
        if r.file in ("rodent_pk.toml", "rodent_models.toml") and r.kind == "validation":
            assert r.source and r.quote.strip()
