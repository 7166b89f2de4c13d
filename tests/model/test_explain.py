"""Explaining observables (equations + provenance) and the mechanism diagram."""

from __future__ import annotations

import re

import pytest

from raadsim import scenario_from_dict
from raadsim.errors import InputError
from raadsim.model.build import build_model
from raadsim.model.explain import explain, explain_dict
from raadsim.model.spec import ModelSpec, identifiers
from raadsim.report.diagram import PLUMBING_PREFIXES, draw_mechanism, layer_key, mechanism_graph


@pytest.fixture(scope="module")
def spec() -> ModelSpec:
    sc = scenario_from_dict({"dose": [{"drug": "ketamine", "amount": "0.5 mg/kg", "route": "iv",
                                       "infusion": "40 min"}]})
    return build_model(sc, sc.catalogue())


def _flat(text: str) -> str:
    return " ".join(text.split())


def test_explain_nmdar_occupancy_shows_equation_affinity_and_source(spec):
    var = spec.observables["occupancy.nmdar"].var
    assert var == "B_pyr_total"
    text = explain(spec, "occupancy.nmdar")
    assert _flat(f"{var} := {spec.rules[var].expr}") in _flat(text)
    d = explain_dict(spec, "occupancy.nmdar")
    k = [p for p in d["parameters"] if p["name"].startswith("K_") and "nmdar" in p["name"]
         and p["name"].endswith("_s_ketamine")]
    assert len(k) == 1 and k[0]["value"] == pytest.approx(0.3)
    assert k[0]["kind"] == "literature"
    assert "Ebert" in k[0]["citation"] and "1997" in k[0]["citation"]
    assert k[0]["quote"] and _flat(k[0]["quote"]) in _flat(text)
    row = next(line for line in text.splitlines() if line.strip().startswith(k[0]["name"] + " "))
    assert " 0.3 " in row and "uM" in row
    assert "Ebert" in text and "1997" in text
    assert "[rich]" not in text and "[/" not in text  # plain text, no markup


def test_explain_plasma_lists_volume_with_source(spec):
    text = explain(spec, "plasma.s_ketamine")
    row = next(line for line in text.splitlines() if line.strip().startswith("Vc_s_ketamine "))
    assert " 105 " in row and "fitted" in row  # re-estimated from IV data (ketamine_vc)
    assert "Perez-Ruixo" in text
    d = explain_dict(spec, "plasma.s_ketamine")
    assert d["variable"] == "C_s_ketamine" and d["unit"] == "ng/mL"
    assert d["equations"][0] == {"name": "C_s_ketamine", "kind": "rule",
                                 "expr": spec.rules["C_s_ketamine"].expr, "unit": "ng/mL",
                                 "layer": "pk", "description": "plasma S-ketamine",
                                 "origin": spec.rules["C_s_ketamine"].origin}
    assert re.fullmatch(r"model/pk\.py:\d+", d["equations"][0]["origin"])  # file and line
    assert any(e["kind"] == "ode" and e["name"] == "A_c_s_ketamine" for e in d["equations"])


def test_explain_depth_and_each_equation_once(spec):
    assert len(explain_dict(spec, "occupancy.nmdar", depth=0)["equations"]) == 1
    names = [e["name"] for e in explain_dict(spec, "occupancy.nmdar", depth=3)["equations"]]
    assert len(names) == len(set(names))
    assert len(names) > len(explain_dict(spec, "occupancy.nmdar", depth=1)["equations"])


def test_explain_accepts_a_model_variable(spec):
    d = explain_dict(spec, "B_pyr_total")
    assert d["variable"] == "B_pyr_total" and d["equations"][0]["kind"] == "rule"
    assert "dB_pyr_s_ketamine/dt =" in explain(spec, "B_pyr_s_ketamine", depth=0)


def test_unknown_observable_is_an_input_error(spec):
    with pytest.raises(InputError) as err:
        explain(spec, "occupancy.nonsense")
    assert err.value.field == "observable" and err.value.value == "occupancy.nonsense"
    assert "occupancy.nonsense" in str(err.value) and "occupancy.nmdar" in err.value.accepted


def test_every_parameter_has_a_kind_and_the_table_is_complete(spec):
    for name in spec.observables:
        d = explain_dict(spec, name)
        used = {i for e in d["equations"] for i in identifiers(e["expr"]) if i in spec.params}
        assert {p["name"] for p in d["parameters"]} == used
        for p in d["parameters"]:
            assert p["kind"] in {"literature", "fitted", "derived", "assumed"}
            assert p["kind"] != "literature" or (p["citation"] and (p["quote"] or p["note"]))


def test_mechanism_graph_links_brain_concentration_to_nmdar_block(spec):
    nodes, edges = mechanism_graph(spec)
    layer = {n.name: n.layer for n in nodes}
    assert not [n for n in layer if n.startswith(PLUMBING_PREFIXES) or n in spec.params]
    assert [layer_key(n.layer) for n in nodes] == sorted(layer_key(n.layer) for n in nodes)
    assert all(a in layer and b in layer and a != b for a, b in edges)
    blocks = {i for i in identifiers(spec.rules["B_pyr_total"].expr) if i in spec.states}
    pk_to_block = {(a, b) for a, b in edges if layer[a] == "pk" and b in blocks}
    assert ("Cbu_s_ketamine", "B_pyr_s_ketamine") in pk_to_block
    assert next(n for n in nodes if n.name == "B_pyr_total").label == "occupancy.nmdar"


def test_draw_mechanism_writes_png(spec, tmp_path):
    hl = {e["name"] for e in explain_dict(spec, "occupancy.nmdar")["equations"]}
    out = draw_mechanism(spec, tmp_path / "mechanism.png", highlight=hl, title="ketamine")
    assert out == tmp_path / "mechanism.png"
    data = out.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000
