"""Which mechanism nodes a drug or a perturbation touches."""

from __future__ import annotations

import pytest

from raadsim import scenario_from_dict
from raadsim.model.build import build_model
from raadsim.report.touched import draw_touched, touched


def _touched(dose: dict, perturbation: list | None = None, species: str = "human"):
    raw = {"subject": {"species": species}, "dose": [dose]}
    if perturbation:
        raw["perturbation"] = perturbation
    sc = scenario_from_dict(raw)
    cat = sc.catalogue()
    spec = build_model(sc, cat)
    return touched(spec, sc, cat), spec, sc, cat


def test_ketamine_touches_its_pk_and_nmda_receptors_not_5ht2a():
    t, *_ = _touched({"drug": "ketamine", "amount": "0.5 mg/kg", "route": "iv"})
    k = t["ketamine"]
    assert {"A_c_s_ketamine", "Cbu_r_norketamine", "plasma_total_ketamine"} <= k
    assert {"B_pyr_s_ketamine", "B_pyr_total", "B_int_total"} <= k  # occupancy.nmdar(_int)
    assert "O_ht2a_total" not in k and "mtorc1" not in k  # downstream is not "touched"
    assert "ritual" in k  # every dosing session


def test_psilocybin_touches_5ht2a_and_trkb():
    t, *_ = _touched({"drug": "psilocybin", "amount": "25 mg", "route": "oral"})
    assert {"Cbu_psilocin", "O_ht2a_total", "O_trkb_total"} <= t["psilocybin"]
    assert not any(n.startswith("B_pyr") for n in t["psilocybin"])


def test_placebo_touches_only_the_session_signal():
    t, *_ = _touched({"drug": "placebo", "amount": "0 mg", "route": "oral"})
    assert t["placebo"] == {"ritual"}


@pytest.mark.parametrize(("pert", "expected"), [
    ({"name": "rapamycin", "at": "-1 h"}, {"sw_rapamycin", "mtor_block"}),
    ({"name": "lithium"}, {"sw_lithium", "lithium_inhibition"}),
    ({"name": "spine_ablation", "at": "2 d"}, {"sw_spine_ablation", "S_spine"}),
])
def test_perturbations(pert, expected):
    t, *_ = _touched({"drug": "ketamine", "amount": "10 mg/kg", "route": "ip"}, [pert],
                     species="rat")
    assert expected <= t[pert["name"]]
    assert not t[pert["name"]] & t["ketamine"]


def test_draw_touched_writes_a_png(tmp_path):
    _, spec, sc, cat = _touched({"drug": "lsd", "amount": "100 ug", "route": "oral"},
                                [{"name": "ketanserin"}])
    png = draw_touched(spec, sc, cat, tmp_path / "m.png")
    assert png.read_bytes()[:4] == b"\x89PNG"
