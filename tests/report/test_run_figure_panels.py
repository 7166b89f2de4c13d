"""Single-run figure: panels by observable prefix and unit (report/figures.py)."""

from __future__ import annotations

from raadsim.report.figures import _groups


def test_panels_follow_the_cascade_and_never_mix_units():
    names = ["clinic.madrs", "plasma.ketamine", "clinic.dissociation", "brain.ketamine",
             "arterial.ketamine", "occupancy.nmdar", "clinic.sbp_change", "custom.thing"]
    units = {"clinic.madrs": "points", "plasma.ketamine": "ng/mL", "clinic.dissociation": "1",
             "brain.ketamine": "ng/mL", "arterial.ketamine": "ng/mL", "occupancy.nmdar": "1",
             "clinic.sbp_change": "mmHg", "custom.thing": "1"}
    groups = _groups(names, units)
    titles = [t for t, _ in groups]
    assert titles[:4] == ["Plasma (ng/mL)", "Arterial plasma (ng/mL)", "Unbound brain (ng/mL)",
                          "Target occupancy (relative or fraction)"]
    for _, members in groups:
        assert len({units[m] for m in members}) == 1
    assert sorted(m for _, ms in groups for m in ms) == sorted(names)
    assert titles[-1] == "Custom (relative or fraction)"
