"""``raadsim validate --hypotheses``: variants run the records they can change, and the
comparison names the records that discriminate between them (a handful of fast records)."""

from __future__ import annotations

import pytest

from raadsim.errors import InputError
from raadsim.evidence import hypothesis_compare as hc
from raadsim.evidence.records import load_records
from raadsim.evidence.runner import run_records
from raadsim.evidence.scorecard import scorecard, to_html, to_markdown

IDS = ["zanos2016_hnk_antidepressant_24h_mouse", "hnk_negative_rat_lh_20mgkg",
       "shao2021_psilocybin_spines_persist_1_month_mouse"]


def test_parse_choice():
    assert hc.parse_choice("hnk=inactive") == {"hnk": ["ampa_active", "inactive"]}
    assert set(hc.parse_choice("all")) >= {"durability", "psychoactive_mediation", "hnk",
                                           "rapamycin", "arketamine"}
    assert hc.parse_choice("durability")["durability"][0] == "persistent_pool"
    for bad, field in (("nope=x", "--hypotheses"), ("hnk=x", "--hypotheses.hnk")):
        with pytest.raises(InputError) as err:
            hc.parse_choice(bad)
        assert err.value.field == field


def test_compare_names_discriminating_records():
    recs = [r for r in load_records() if r.id in IDS]
    base = run_records(recs, executor="serial")
    comp = hc.compare(recs, {"hnk": ["ampa_active", "inactive"]}, base, executor="serial")
    q = comp["questions"][0]
    rows = {r["id"]: r for r in q["records"]}
    # the psilocybin record is not one the HNK variants can change: it is not re-run
    assert set(rows) == set(IDS[:2])
    assert rows[IDS[0]]["passed"] == {"ampa_active": True, "inactive": False}
    assert rows[IDS[1]]["passed"] == {"ampa_active": False, "inactive": True}
    assert all(r["discriminating"] for r in rows.values())
    s = q["by_variant"]
    assert s["inactive"]["relevant_records"] == 2 and s["inactive"]["records"] == 3
    assert s["inactive"]["discriminating_passed"] == [IDS[1]]
    card = scorecard(base) | {"hypotheses": comp}
    assert "<h2>Hypothesis variants</h2>" in to_html(card)
    assert "| inactive | 1 / 2 |" in to_markdown(card)
