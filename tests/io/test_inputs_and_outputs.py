"""Bad input gets one clear line and exit code 2; outputs are complete or absent."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from raadsim.cli import app
from tests.conftest import ROOT

runner = CliRunner()

GOOD = """
[subject]
species = "human"
weight_kg = 70
condition = "trd"

[[dose]]
drug = "ketamine"
amount = "0.5 mg/kg"
route = "iv"
infusion = "40 min"
at = "0 h"

[simulation]
end = "1 d"
output_every = "10 min"
observables = ["plasma.ketamine", "occupancy.nmdar"]
"""


def _run(tmp_path: Path, text: str):
    f = tmp_path / "s.toml"
    f.write_text(text)
    out = tmp_path / "out"
    res = runner.invoke(app, ["run", str(f), "--out", str(out)])
    return res, out


def test_run_writes_outputs(tmp_path):
    res, out = _run(tmp_path, GOOD)
    assert res.exit_code == 0, res.output
    lines = (out / "timecourse.csv").read_text().splitlines()
    assert lines[0] == "time_h,observable,value"
    assert len(lines) == 1 + 2 * 145
    summary = json.loads((out / "summary.json").read_text())
    assert set(summary["observables"]) == {"plasma.ketamine", "occupancy.nmdar"}
    assert {"peak", "time_of_peak_h", "auc"} <= set(summary["observables"]["plasma.ketamine"])
    assert summary["meta"]["engine"] == "libroadrunner"
    assert len(summary["meta"]["scenario_hash"]) == 16
    assert (out / "figure.png").stat().st_size > 10_000


BAD = [
    ('amount = "0.5 mg/kg"', 'amount = "0.5 mL"', "dose[0].amount"),
    ('amount = "0.5 mg/kg"', 'amount = "0.5"', "dose[0].amount"),
    ('amount = "0.5 mg/kg"', 'amount = "-1 mg"', "dose[0].amount"),
    ('drug = "ketamine"', 'drug = "ketamin"', "dose[0].drug"),
    ('route = "iv"', 'route = "rectal"', "dose[0].route"),
    ('species = "human"', 'species = "dog"', "subject.species"),
    ('infusion = "40 min"', 'infusion = "-40 min"', "dose[0].infusion"),
    ('end = "1 d"', 'end = "1 kg"', "simulation.end"),
    ('observables = ["plasma.ketamine", "occupancy.nmdar"]', 'observables = ["plasma.lsd"]',
     "simulation.observables"),
    ('at = "0 h"', 'at = "0 h"\nfoo = 1', "dose[0].foo"),
    ('[simulation]', '[[perturbation]]\nname = "unknown_blocker"\n[simulation]',
     "perturbation[0].name"),
]


@pytest.mark.parametrize(("old", "new", "field"), BAD)
def test_bad_input_one_line_exit_2_nothing_written(tmp_path, old, new, field):
    res, out = _run(tmp_path, GOOD.replace(old, new))
    assert res.exit_code == 2
    msg = res.output.strip()
    assert msg.startswith("error:") and field in msg
    assert "Traceback" not in res.output
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out")]


def test_route_the_drug_does_not_allow(tmp_path):
    text = GOOD.replace('drug = "ketamine"', 'drug = "psilocybin"').replace(
        'route = "iv"', 'route = "intranasal"').replace('infusion = "40 min"\n', "")
    res, out = _run(tmp_path, text)
    assert res.exit_code == 2
    assert "dose[0].route" in res.output and "oral" in res.output
    assert not out.exists()


def test_malformed_file(tmp_path):
    res, out = _run(tmp_path, "[subject\nspecies=")
    assert res.exit_code == 2 and "valid TOML" in res.output and not out.exists()


def test_infusion_on_a_route_without_infusion(tmp_path):
    text = GOOD.replace('route = "iv"', 'route = "oral"')
    res, _ = _run(tmp_path, text)
    assert res.exit_code == 2 and "dose[0].infusion" in res.output


def test_failed_write_leaves_previous_output_and_no_partial(tmp_path):
    from raadsim.io.scenario import load_scenario
    from raadsim.report.artifacts import write_run
    from raadsim.simulate.run import simulate

    f = tmp_path / "s.toml"
    f.write_text(GOOD)
    sc = load_scenario(f)
    cat = sc.catalogue()
    result = simulate(sc, cat)
    out = tmp_path / "out"
    write_run(result, out)
    before = (out / "summary.json").read_text()

    def broken_figure(_result, _path):
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        write_run(result, out, figure=broken_figure)
    assert (out / "summary.json").read_text() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "s.toml"]


def test_simulate_one_liner_and_drugs(tmp_path):
    out = tmp_path / "o"
    res = runner.invoke(app, ["simulate", "--drug", "ketamine", "--dose", "0.5 mg/kg",
                              "--route", "iv", "--infusion", "40 min", "--end", "7 d",
                              "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert (out / "timecourse.csv").exists()
    res = runner.invoke(app, ["drugs"])
    assert res.exit_code == 0
    for name in ("ketamine", "esketamine", "psilocybin", "lsd", "dmt", "ayahuasca"):
        assert name in res.output


@pytest.mark.slow
def test_custom_drug_file_example(tmp_path):
    """A user-defined compound simulates exactly like a built-in one."""
    out = tmp_path / "g"
    res = runner.invoke(app, ["run", str(ROOT / "examples" / "glun2b_antagonist_scenario.toml"),
                              "--out", str(out)])
    assert res.exit_code == 0, res.output
    s = json.loads((out / "summary.json").read_text())["observables"]
    assert s["occupancy.nmdar"]["peak"] > 0.5
    assert s["plasma.glun2b_x"]["peak"] > 0


@pytest.mark.slow
def test_demo(tmp_path):
    out = tmp_path / "demo"
    res = runner.invoke(app, ["demo", "--out", str(out)])
    assert res.exit_code == 0, res.output
    for name in ("ketamine_iv", "esketamine_in", "psilocybin_oral", "lsd_oral"):
        assert (out / f"{name}.csv").exists() and (out / f"{name}.png").exists()
    assert "<table>" in (out / "index.html").read_text()


def test_explain_and_diagram_commands(tmp_path):
    res = runner.invoke(app, ["explain", "signal.mtorc1"])
    assert res.exit_code == 0, res.output
    assert "dmtorc1/dt" in res.output and "k_mtorc1" in res.output
    res = runner.invoke(app, ["explain", "signal.nonsense"])
    assert res.exit_code == 2 and "signal.nonsense" in res.output
    out = tmp_path / "mech.png"
    res = runner.invoke(app, ["diagram", "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert out.stat().st_size > 10_000


@pytest.mark.parametrize("entry", [
    {"dose": [{"drug": "lsd", "amount": "1 ug", "route": "oral", "at": "1 kg"}]},
    {"perturbation": [{"name": "nbqx", "at": "abc"}]},
    {"subject": {"species": "culture"},
     "bath": [{"drug": "lsd", "concentration": "1 uM", "at": "soon"}]},
])
def test_bad_time_points_are_named(entry):
    from raadsim import InputError, scenario_from_dict

    with pytest.raises(InputError, match=r"\[0\]\.at"):
        scenario_from_dict(entry)
