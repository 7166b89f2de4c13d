"""Mechanism diagram: bands by scale (PK → targets → network → signalling → synapse →
clinic), signed edges drawn with distinct arrow styles, SVG output of a readable size."""

from __future__ import annotations

import re

import pytest

from raadsim import scenario_from_dict
from raadsim.model.build import build_model
from raadsim.report.diagram import EDGE_STYLE, draw_mechanism
from raadsim.report.diagram_graph import SCALES, diagram_layout


@pytest.fixture(scope="module")
def spec():
    sc = scenario_from_dict({"subject": {"species": "human", "condition": "trd"},
                             "dose": [{"drug": "ketamine", "amount": "0.5 mg/kg",
                                       "route": "iv", "infusion": "40 min"}],
                             "simulation": {"end": "1 d"}})
    return build_model(sc, sc.catalogue())


def test_bands_follow_the_scales_top_to_bottom(spec):
    lay = diagram_layout(spec)
    assert lay.row_scale == sorted(lay.row_scale)
    assert sorted(set(lay.row_scale)) == list(range(len(SCALES)))
    scale = {v: lay.nodes[k].scale for v, k in lay.group_of.items()}
    keys = [s for s, _, _ in SCALES]
    for var, where in [("plasma_total_ketamine", "pk"), ("B_pyr_total", "targets"),
                       ("E_rate", "network"), ("mtorc1", "signalling"),
                       ("W_slow", "synapse"), ("madrs", "clinic")]:
        assert keys[scale[var]] == where, var
    assert len(lay.nodes) < 100  # per-analyte copies folded (97 with the gate_setpoint rises)
    assert all(len(row) <= 7 for row in lay.rows)
    down = sum(lay.nodes[e.a].scale <= lay.nodes[e.b].scale for e in lay.edges)
    assert down >= 0.9 * len(lay.edges)  # the cascade flows down; few feedback edges


def test_edges_are_signed_by_the_equations(spec):
    sign = {(e.a, e.b): e.sign for e in diagram_layout(spec).edges}
    assert sign[("akt", "mtorc1")] == "+"
    assert sign[("akt", "gsk3")] == "-"
    assert sign[("B_pyr_total", "eef2k")] == "-"  # NMDAR block at rest: eEF2K off
    assert sign[("B_int_total", "I_rate")] == "-"
    assert sign[("ad_effect", "madrs")] == "-"
    assert sign[("trkb", "erk")] == "+"


def test_svg_carries_distinct_arrows_for_activation_and_inhibition(spec, tmp_path):
    lay = diagram_layout(spec)
    svg = draw_mechanism(spec, tmp_path / "m.svg").read_text(encoding="utf-8")
    ids = re.findall(r'id="edge-(activation|inhibition|mixed)-\d+"', svg)
    assert ids.count("inhibition") == sum(e.sign == "-" for e in lay.edges) > 5
    assert ids.count("activation") == sum(e.sign == "+" for e in lay.edges) > 20
    assert len({EDGE_STYLE[s][:2] for s in "+-"}) == 2  # head and colour differ
    w, h = (float(x) for x in re.search(r'viewBox="0 0 ([\d.]+) ([\d.]+)"', svg).groups())
    assert w == pytest.approx(11 * 72) and 0.5 < h / w < 2.5  # not a strip
    assert "inhibition" in svg and "madrs" in svg  # legend and labels are text
