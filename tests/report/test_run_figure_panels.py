"""Run figures (``raadsim run``/``simulate``/``demo``) use the multiscale layout: panels by
layer and unit, at most six lines each, a unit on every axis, time axis by span."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from raadsim.report.figures import plot_result, run_observables
from raadsim.report.panels import MAX_LINES, auto_log_time, make_panels, unit_label_of


def test_panels_never_mix_units_and_hold_at_most_six_lines():
    names = [f"signal.x{i}" for i in range(15)] + ["clinic.madrs", "plasma.ketamine",
                                                   "clinic.dissociation", "occupancy.nmdar",
                                                   "clinic.sbp_change", "custom.thing"]
    units = {n: "1" for n in names} | {"clinic.madrs": "points", "plasma.ketamine": "ng/mL",
                                       "clinic.sbp_change": "mmHg"}
    panels = make_panels(names, units)
    assert all(len(p.observables) <= MAX_LINES for p in panels)
    assert sorted(m for p in panels for m in p.observables) == sorted(names)
    for p in panels:
        assert len({unit_label_of(m, units[m]) for m in p.observables}) == 1
        assert p.unit_label  # every axis says what its numbers are
    signalling = [p for p in panels if p.key == "signalling"]
    assert [len(p.observables) for p in signalling] == [5, 5, 5]
    assert signalling[0].title == "Plasticity signalling (1 of 3)"
    labels = {m: p.unit_label for p in panels for m in p.observables}
    assert labels["clinic.madrs"] == "MADRS points"
    assert labels["clinic.dissociation"] == "score (0–1)"
    assert labels["occupancy.nmdar"] == "fraction bound"
    assert labels["signal.x0"] == "× drug-free baseline"


def test_time_axis_follows_the_span_and_the_doses():
    assert auto_log_time(168, [0.0])  # one session, a week: log time
    assert not auto_log_time(672, [84.0 * i for i in range(8)])  # repeated: days
    assert not auto_log_time(8, [0.0])  # a few hours: linear hours
    assert not auto_log_time(168, [])


def _result(observables=None):
    t = np.linspace(0, 168, 200)
    values = {"plasma.ketamine": np.exp(-t / 3) * 100, "occupancy.nmdar": np.exp(-t / 3) / 2,
              "signal.erk": 1 + 0 * t, "clinic.madrs": 30 - 0.01 * t}
    units = {"plasma.ketamine": "ng/mL", "occupancy.nmdar": "1", "signal.erk": "1",
             "clinic.madrs": "points"}
    dose = SimpleNamespace(drug="ketamine", amount="0.5 mg/kg", route="iv", infusion="40 min",
                           repeat=None, times_h=lambda: (0.0,))
    sc = SimpleNamespace(dose=[dose], subject=SimpleNamespace(species="human", condition="trd"),
                         simulation=SimpleNamespace(observables=observables))
    return SimpleNamespace(time_h=t, values=values, units=units, scenario=sc)


def test_run_figure_shows_defaults_or_the_requested_observables(tmp_path):
    assert "signal.erk" not in run_observables(_result())
    assert run_observables(_result(["signal.erk"])) == ["signal.erk"]
    out = plot_result(_result(), tmp_path / "figure.svg")
    svg = out.read_text(encoding="utf-8")
    for text in ("ng/mL", "fraction bound", "MADRS points", "time (log scale)", "dose",
                 "ketamine 0.5 mg/kg IV over 40 min"):
        assert text in svg


def test_trial_figure_speaks_in_words_and_marks_visits_and_doses(tmp_path):
    import pandas as pd

    from raadsim.report.trial_figure import plot_trial

    t = np.linspace(0, 14 * 24, 60)
    rows = [{"time_h": x, "observable": "clinic.madrs", "arm": arm, "mean": m - x / 50,
             "sd": 1.0, "p05": m - 5 - x / 50, "p50": m - x / 50, "p95": m + 5 - x / 50}
            for arm, m in (("ketamine", 25.0), ("saline", 30.0)) for x in t]
    svg = plot_trial(pd.DataFrame(rows), tmp_path / "trial.svg", [24.0, 168.0],
                     {"ketamine": (0.0, 84.0), "saline": (0.0, 84.0)},
                     title="Virtual trial").read_text(encoding="utf-8")
    for text in ("MADRS total score", "MADRS total score (points)", "visit (rating)",
                 "dose", "5th–95th percentile", "visits: 24 h, 7 d",
                 "time since the first dose (days)", "ketamine: mean"):
        assert text in svg, text
