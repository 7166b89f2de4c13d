"""`raadsim report DIR`: one self-contained HTML file per run, trial or validation output."""

from __future__ import annotations

import importlib.util
import json
import math
import re
import shutil

import pytest
from typer.testing import CliRunner

from raadsim.cli import app

runner = CliRunner()

SCENARIO = """
[subject]
species = "human"
condition = "trd"

[[dose]]
drug = "ketamine"
amount = "0.5 mg/kg"
route = "iv"
infusion = "40 min"

[[perturbation]]
name = "lithium"

[simulation]
end = "2 d"
output_every = "30 min"
"""

TRIAL = """
[population]
n = 3
seed = 2
condition = "trd"

[trial]
visits = ["1 d", "3 d"]
output_every = "6 h"

[[trial.arm]]
name = "ketamine"
[[trial.arm.dose]]
drug = "ketamine"
amount = "0.5 mg/kg"
route = "iv"
infusion = "40 min"

[[trial.arm]]
name = "placebo"
[[trial.arm.dose]]
drug = "saline"
amount = "0 mg"
route = "iv"
infusion = "40 min"
"""


def _assert_self_contained(html: str) -> None:
    assert html.startswith("<!doctype html>")
    srcs = re.findall(r"src=['\"]([^'\"]+)", html)
    assert srcs and all(s.startswith(("data:image/png;base64,", "data:image/svg+xml;base64,"))
                        for s in srcs)
    assert "<link" not in html and "<script" not in html  # no external files


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    base = tmp_path_factory.mktemp("run")
    f = base / "s.toml"
    f.write_text(SCENARIO)
    res = runner.invoke(app, ["run", str(f), "--out", str(base / "out")])
    assert res.exit_code == 0, res.output
    return base / "out"


def test_run_records_its_scenario(run_dir):
    names = sorted(p.name for p in run_dir.iterdir())
    assert names == [".raadsim-output", "figure.png", "model.json", "scenario.json",
                     "spectra.json", "summary.json", "timecourse.csv"]
    sc = json.loads((run_dir / "scenario.json").read_text())
    assert sc["dose"][0]["amount"] == "0.5 mg/kg" and sc["perturbation"] == [{"name": "lithium"}]


@pytest.mark.slow
def test_run_report(run_dir):
    res = runner.invoke(app, ["report", str(run_dir)])  # default: DIR/report.html
    assert res.exit_code == 0, res.output
    assert "run report" in res.output
    out = run_dir / "report.html"
    assert not [p for p in run_dir.iterdir() if p.name.startswith(".report")]  # atomic
    html = out.read_text()
    _assert_self_contained(html)
    assert html.count("<img") >= 4  # multiscale (linear, log), run figure, mechanism
    assert "data:image/svg+xml;base64," in html  # the mechanism diagram, as SVG
    assert "lithium" in html and "ketamine 0.5 mg/kg iv over 40 min" in html
    assert 'amount = &quot;0.5 mg/kg&quot;' in html  # the scenario as TOML
    assert "occupancy.nmdar" in html  # key-values table
    # every parameter of the model, with unit and source
    from raadsim import scenario_from_dict
    from raadsim.model.build import build_model

    sc = scenario_from_dict(json.loads((run_dir / "scenario.json").read_text()))
    spec = build_model(sc, sc.catalogue())
    for name in spec.params:
        assert f"<td>{name}</td>" in html, name
    assert "Perez-Ruixo" in html or "doi" in html.lower()
    eeg = [o for o in json.loads((run_dir / "summary.json").read_text())["observables"]
           if o.startswith("eeg.")]
    if eeg:  # EEG observables are computed after integration from data/parameters/eeg.toml
        assert "<td>gE_sp_ss</td>" in html
        if importlib.util.find_spec("raadsim.report.spectrum_figure"):
            assert "<h2>EEG spectrum</h2><p>" in html and "not drawn" not in html
    else:
        assert f"{len(spec.params)} parameters" in html


@pytest.mark.slow
def test_old_run_without_scenario_still_reports(run_dir, tmp_path):
    d = tmp_path / "old"
    shutil.copytree(run_dir, d)
    for name in ("scenario.json", "model.json", "spectra.json"):  # as an old raadsim wrote
        (d / name).unlink()
    res = runner.invoke(app, ["report", str(d), "--out", str(tmp_path / "old.html")])
    assert res.exit_code == 0, res.output
    html = (tmp_path / "old.html").read_text()
    assert "did not record its scenario" in html and "Parameters" not in html


@pytest.mark.slow
def test_trial_report(tmp_path):
    f = tmp_path / "t.toml"
    f.write_text(TRIAL)
    res = runner.invoke(app, ["trial", str(f), "--out", str(tmp_path / "t"),
                              "--executor", "serial"])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "t" / "trial_file.json").exists()
    models = json.loads((tmp_path / "t" / "models.json").read_text())
    assert set(models) == {"ketamine", "placebo"}  # each arm's model, as it ran
    res = runner.invoke(app, ["report", str(tmp_path / "t")])
    assert res.exit_code == 0, res.output
    html = (tmp_path / "t" / "report.html").read_text()
    _assert_self_contained(html)
    summary = json.loads((tmp_path / "t" / "trial.json").read_text())
    mean = summary["arms"]["ketamine"]["visits"]["1 d"]["madrs_mean"]
    assert f"{mean:.4g}" in html  # endpoint table
    low, high = summary["arms"]["ketamine"]["visits"]["1 d"]["response_ci95"]
    assert f"[{100 * low:.1f}, {100 * high:.1f}]" in html  # with its 95 % CI
    assert "ketamine vs placebo" in html  # contrasts
    assert "arm ketamine" in html and "arm placebo" in html  # a diagram per arm
    assert "<td>weight_mean</td>" in html  # population parameters
    assert "5th–95th percentiles" in html
    assert "did not record its models" not in html


def test_validation_report(tmp_path):
    card = {
        "totals": {"records": 2, "passed": 1,
                   "by_kind": {"validation": {"records": 2, "passed": 1}},
                   "by_layer": {"pk": {"records": 2, "passed": 1}},
                   "by_drug": {"ketamine": {"records": 2, "passed": 1}}},
        "filters": {"layer": "pk"}, "raadsim_version": "0.1.0",
        "records": [
            {"id": "rec_ok", "kind": "validation", "layer": "pk", "drug": "ketamine",
             "species": "human", "expected": "185 ± 20 %", "published": "185 ng/mL",
             "simulated": 180.0, "passed": True, "error": None, "known_gap": None},
            {"id": "rec_gap", "kind": "validation", "layer": "pk", "drug": "ketamine",
             "species": "human", "expected": "≤ 3", "published": "3 h",
             "simulated": 4.2, "passed": False, "error": None,
             "known_gap": "the model clears too slowly"}]}
    (tmp_path / "scorecard.json").write_text(json.dumps(card))
    res = runner.invoke(app, ["report", str(tmp_path)])
    assert res.exit_code == 0, res.output
    html = (tmp_path / "report.html").read_text()
    _assert_self_contained(html)
    assert "1 of 2 records reproduced" in html
    assert "<tr class='fail'><td>rec_gap</td>" in html and "clears too slowly" in html
    assert "R50_relief" in html  # the layer files' parameters


@pytest.mark.parametrize("setup", ["missing", "empty", "not_a_dir", "corrupt_summary",
                                   "corrupt_scorecard"])
def test_bad_input_one_line_exit_2(tmp_path, run_dir, setup):
    d = tmp_path / "d"
    if setup == "missing":
        pass
    elif setup == "empty":
        d.mkdir()
    elif setup == "not_a_dir":
        d.write_text("x")
    elif setup == "corrupt_summary":
        shutil.copytree(run_dir, d, ignore=shutil.ignore_patterns("report.html"))
        (d / "summary.json").write_text("{not json")
    else:
        d.mkdir()
        (d / "scorecard.json").write_text("[]")
    res = runner.invoke(app, ["report", str(d)])
    assert res.exit_code == 2, res.output
    lines = res.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:"), res.output
    assert "Traceback" not in res.output
    assert not (d / "report.html").exists() if d.is_dir() else True


def test_report_renders_what_the_run_recorded_without_rebuilding(run_dir, monkeypatch):
    """The report reads model.json and spectra.json: it neither builds nor integrates a
    model (both are made to fail here), and lists the parameter values the run used."""
    import raadsim.model.build as build
    from raadsim.report.html_report import build_report
    from raadsim.simulate import simulator

    rec = json.loads((run_dir / "model.json").read_text())
    rec["model"]["params"]["k_mtorc1"]["value"] = 123.456  # what the run "used"
    (run_dir / "model.json").write_text(json.dumps(rec))

    def refuse(*args, **kwargs):
        raise AssertionError("the report must not rebuild or re-simulate the run")

    monkeypatch.setattr(build, "build_model", refuse)
    monkeypatch.setattr(simulator.Simulator, "run_variables", refuse)
    html = build_report(run_dir)
    assert "123.5" in html and "EEG spectrum" in html and "Mechanism" in html


def test_validation_report_shows_eeg_bands_simulated_vs_published(tmp_path):
    from raadsim.report.eeg_bands_figure import expected_bounds, plot_eeg_bands

    assert expected_bounds("0.5 ± 0.1") == pytest.approx((0.4, 0.6))
    assert expected_bounds("1.64 ± 20 %") == pytest.approx((1.312, 1.968))
    assert expected_bounds("0.718 to 0.904") == (0.718, 0.904)
    assert expected_bounds("≥ 1.05") == (1.05, math.inf)
    assert expected_bounds("≤ 0.95") == (-math.inf, 0.95)
    eeg = [{"id": f"rec_{d}_{i}", "kind": "validation", "layer": "network", "drug": d,
            "species": "human", "observable": "eeg.alpha_power", "expected": "≤ 0.95",
            "published": "alpha down", "simulated": s, "passed": s <= 0.95, "error": None,
            "known_gap": None} for i, (d, s) in enumerate([("lsd", 0.4), ("ketamine", 1.2),
                                                          ("ketamine", -0.1)])]
    fig = plot_eeg_bands(eeg)
    assert len(fig.axes) == 2   # one panel per drug
    card = {"totals": {"records": 3, "passed": 1, "by_kind": {}, "by_layer": {}, "by_drug": {}},
            "records": eeg}
    (tmp_path / "scorecard.json").write_text(json.dumps(card))
    res = runner.invoke(app, ["report", str(tmp_path)])
    assert res.exit_code == 0, res.output
    assert "EEG: simulated vs published band changes" in (tmp_path / "report.html").read_text()
