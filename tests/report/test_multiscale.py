"""The multiscale figure: panel choice, overlays, bands, log time axis."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.collections import PolyCollection

from raadsim.report import panels
from raadsim.report.multiscale import choose_panels, multiscale_figure, plot_multiscale
from raadsim.report.traces import Trace, trace_from_long, traces_from_trial

T = np.linspace(0, 168, 200)


def _trace(label: str, scale: float = 1.0, band: bool = False) -> Trace:
    bump = np.exp(-T / 5)
    values = {
        "plasma.s_ketamine": 50 * scale * bump, "plasma.r_ketamine": 50 * scale * bump,
        "plasma.ketamine": 100 * scale * bump, "plasma.hnk_2s6s": scale * bump,
        "plasma.hnk": 2 * scale * bump,
        "occupancy.nmdar": 0.4 * scale * bump, "occupancy.ht2a": 0 * T,
        "network.pyramidal_rate": 1 + 0.1 * bump, "signal.bdnf": 1 + 0.2 * bump,
        "synapse.strength": 1 + scale * T / 168, "clinic.madrs": 30 - 10 * scale * (T > 1),
        "signal.erk": 1 + 0 * T,
    }
    units = {k: "ng/mL" if k.startswith("plasma") else "points" if k == "clinic.madrs"
             else "1" for k in values}
    low = {k: v * 0.8 for k, v in values.items()} if band else {}
    high = {k: v * 1.2 for k, v in values.items()} if band else {}
    return Trace(label, T, values, units, low, high, doses_h=(0.0, 84.0))


def test_default_panels_follow_the_cascade_and_drop_parts_and_zeros():
    ps = choose_panels([_trace("k")])
    assert [p.key for p in ps] == ["pk", "targets", "network", "signalling", "synapses",
                                   "symptoms"]
    assert ps[0].observables == ("plasma.ketamine", "plasma.hnk")  # enantiomers folded
    assert ps[1].observables == ("occupancy.nmdar",)  # 5-HT2A stays at 0: dropped
    assert "signal.erk" not in ps[3].observables  # not a default observable
    assert [p.unit_label for p in ps] == [
        "ng/mL (plasma)", "fraction bound", "× drug-free baseline", "× drug-free baseline",
        "× drug-free baseline", "MADRS points"]


def test_a_layer_with_two_units_is_split():
    ps = panels.make_panels(["clinic.madrs", "behaviour.immobility"],
                            {"clinic.madrs": "points", "behaviour.immobility": "1"})
    assert [(p.key, p.unit) for p in ps] == [("symptoms", "points"), ("symptoms", "1")]


def test_log_ticks_span_minutes_to_weeks():
    ticks = panels.log_ticks(1 / 60, 28 * 24)
    assert [s for _, s in ticks] == ["1 min", "10 min", "1 h", "6 h", "1 d", "3 d", "1 wk",
                                     "2 wk", "4 wk"]
    assert panels.log_start([0.0, 0.5, 1.0]) == 0.5
    assert panels.log_start([-1.0, 0.0, 0.001]) == pytest.approx(1 / 60)


def test_single_trace_colours_observables_overlay_colours_traces():
    one = multiscale_figure([_trace("k")])
    lines = one.axes[0].get_lines()
    assert len({ln.get_color() for ln in lines if ln.get_marker() != "v"}) == 2
    two = multiscale_figure([_trace("low", 0.5), _trace("high", 1.0)])
    pk = [ln for ln in two.axes[0].get_lines() if ln.get_marker() != "v"]
    assert len(pk) == 4 and len({ln.get_color() for ln in pk}) == 2  # colour = trace
    assert len({ln.get_linestyle() for ln in pk}) == 2  # style = observable
    labels = [t.get_text() for t in two.legends[0].get_texts()]
    assert labels == ["low", "high"]


def test_bands_and_log_axis(tmp_path):
    fig = multiscale_figure([_trace("arm", band=True)], log_time=True)
    ax = fig.axes[-1]
    assert ax.get_xscale() == "log" and ax.get_xlim()[0] > 0
    assert any(isinstance(c, PolyCollection) for c in fig.axes[0].collections)
    assert "1 d" in [t.get_text() for t in ax.get_xticklabels()]
    out = plot_multiscale(_trace("k"), tmp_path / "f.png", dpi=80)
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_linear_axis_in_days_for_long_runs():
    fig = multiscale_figure([_trace("k")])
    assert fig.axes[-1].get_xlabel() == "time (days)"
    assert fig.axes[-1].get_xlim()[1] == pytest.approx(7.0)


def test_bad_requests():
    with pytest.raises(ValueError, match="at least one trace"):
        multiscale_figure([])
    with pytest.raises(ValueError, match="none of the requested"):
        multiscale_figure([_trace("k")], observables=["eeg.alpha"])


def test_loaders_from_long_and_trial_tables():
    import pandas as pd

    long = pd.DataFrame({"time_h": [0, 1, 0, 1], "observable": ["a", "a", "b", "b"],
                         "value": [1.0, 2.0, 3.0, 4.0]})
    tr = trace_from_long(long, "x")
    assert list(tr.time_h) == [0, 1] and list(tr.values["b"]) == [3.0, 4.0]
    rows = []
    for arm in ("drug", "placebo"):
        for t in (0.0, 24.0):
            rows.append({"time_h": t, "observable": "clinic.madrs", "arm": arm,
                         "mean": 20 + t / 24, "sd": 1, "p05": 15, "p50": 20, "p95": 25})
    arms = traces_from_trial(pd.DataFrame(rows), {"clinic.madrs": "points"},
                             {"drug": (0.0,)})
    assert [a.label for a in arms] == ["drug", "placebo"]
    assert list(arms[0].values["clinic.madrs"]) == [20.0, 21.0]
    assert list(arms[0].high["clinic.madrs"]) == [25, 25] and arms[0].doses_h == (0.0,)
    assert arms[1].doses_h == ()


def test_real_run_overlay_ketamine_vs_psilocybin(tmp_path):
    from raadsim import scenario_from_dict, simulate
    from raadsim.report.traces import trace_from_result

    def run(dose: dict) -> Trace:
        sc = scenario_from_dict({"subject": {"species": "human", "condition": "trd"},
                                 "dose": [dose], "simulation": {"end": "3 d",
                                                                "output_every": "30 min"}})
        return trace_from_result(simulate(sc))

    k = run({"drug": "ketamine", "amount": "0.5 mg/kg", "route": "iv", "infusion": "40 min"})
    p = run({"drug": "psilocybin", "amount": "25 mg", "route": "oral"})
    ps = choose_panels([k, p])
    assert {"plasma.ketamine", "plasma.psilocin"} <= set(ps[0].observables)
    assert {"occupancy.nmdar", "occupancy.ht2a"} <= set(ps[1].observables)
    assert ps[-1].observables == ("clinic.madrs",)
    assert plot_multiscale([k, p], tmp_path / "o.png", log_time=True, dpi=60).exists()
