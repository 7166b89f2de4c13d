"""A newcomer's console: --version, clean --help, progress bars only on terminals, solver
messages to a log counted in one line, validate's one-screen summary, simulate's options and
key values, outputs with the user's umask, explain's file and line, and the Python API."""

from __future__ import annotations

import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from rich.console import Console
from typer.testing import CliRunner

import raadsim
from raadsim.cli import _scenario_from_flags, app
from raadsim.console import (
    LOG_FILE,
    caught_messages,
    print_key_values,
    print_scorecard_summary,
    progress,
    write_messages,
)

ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner()
CVODE = ("[WARNING][rank 0][cvodes.c:3528][CVode] Internal t = 2160 and h = 1e-30 are such "
         "that t + h = t on the next step. The solver will continue anyway.\n")


def test_version():
    res = runner.invoke(app, ["--version"])
    assert res.exit_code == 0 and res.output.strip() == f"raadsim {raadsim.__version__}"


def _commands(group, path=()):
    for name, cmd in group.commands.items():
        yield (*path, name)
        if hasattr(cmd, "commands"):
            yield from _commands(cmd, (*path, name))


def test_no_type_shown_for_flags_in_any_help():
    import typer.main

    root = typer.main.get_command(app)
    for path in [(), *_commands(root)]:
        res = runner.invoke(app, [*path, "--help"], terminal_width=200)
        assert res.exit_code == 0, path
        assert "<bool>" not in res.output, path
    assert "--version" in runner.invoke(app, ["--help"]).output


def test_progress_only_on_a_terminal(monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    quiet = Console(file=open(os.devnull, "w"), force_terminal=False)  # noqa: SIM115
    with progress(quiet, "x", 3) as update:
        update(1)  # a no-op
    tty = Console(force_terminal=True, width=80, record=True)
    with progress(tty, "patients", 3) as update:
        update(2)
        update(3, total=3)
    assert "patients" in tty.export_text()
    monkeypatch.setenv("CI", "true")  # CI: no bar even on a terminal
    ci = Console(force_terminal=True, width=80, record=True)
    with progress(ci, "patients", 3) as update:
        update(3)
    assert ci.export_text() == ""


def test_messages_on_fd2_of_this_process_and_of_children_are_caught(tmp_path):
    with caught_messages() as messages:
        os.write(2, CVODE.encode())
        subprocess.run([sys.executable, "-c", "import sys; sys.stderr.write('child line\\n')"],
                       check=True)
    assert messages.count() == (1, 1)
    line = write_messages(messages, tmp_path)
    assert line is not None and "1 solver warning and 1 other message line" in line
    assert str(tmp_path / LOG_FILE) in line
    assert "t + h = t" in (tmp_path / LOG_FILE).read_text()
    with caught_messages() as none:
        pass
    assert write_messages(none, tmp_path) is None


def _fake_outcomes(records):
    from raadsim.evidence.runner import Outcome

    out = []
    for i, r in enumerate(records):
        error = "ModelError: did not integrate" if i == 1 else None
        out.append(Outcome(r, None if error else 1.0, i == 0, error))
    return out


def test_validate_prints_one_screen_and_logs_solver_warnings(tmp_path, monkeypatch):
    import raadsim.evidence.runner as runner_module

    def fake_run_records(records, on_step=None, **kwargs):
        os.write(2, (CVODE * 40).encode())  # what libRoadRunner prints while integrating
        if on_step:
            on_step(len(records), len(records))
        return _fake_outcomes(records)

    monkeypatch.setattr(runner_module, "run_records", fake_run_records)
    out = tmp_path / "v"
    res = runner.invoke(app, ["validate", "--drug", "lsd", "--out", str(out)])
    assert res.exit_code == 0, res.output
    lines = res.output.splitlines()
    assert len(lines) < 30  # the full table is in the files
    assert "t + h = t" not in res.output
    assert any(re.search(r"40 solver warnings \(not shown\) written to .*warnings\.log", ln)
               for ln in lines)
    assert (out / LOG_FILE).read_text().count("t + h = t") == 40
    assert "not reproduced" in res.output and "did not run (error)" in res.output
    assert "scorecard.md" in res.output and (out / "scorecard.md").exists()


def test_scorecard_summary_lists_totals_and_failing_ids(capsys):
    from raadsim.evidence.records import load_records
    from raadsim.evidence.scorecard import scorecard

    records = load_records()[:6]
    card = scorecard(_fake_outcomes(records))
    print_scorecard_summary(Console(width=100), card, Path("out"))
    text = capsys.readouterr().out
    assert "1 of 6 records reproduced" in text
    assert "by kind:" in text and "by layer:" in text and "by drug:" in text
    for r in records[2:]:
        assert r.id in text
    assert records[0].id not in text  # passed: not listed


def test_simulate_flags_give_the_scenario_file_options():
    sc, _ = _scenario_from_flags(
        "ketamine", "0.5 mg/kg", "iv", "human", infusion="40 min", end="3 d",
        repeat_every="1 d", repeat_count=3, perturbation=["rapamycin@-1 h"], age=40,
        observable=["plasma.ketamine", "clinic.madrs"])
    assert sc.subject.condition == "trd"  # as in the demo
    assert sc.dose[0].times_h() == (0.0, 24.0, 48.0)
    assert sc.perturbation[0].name == "rapamycin" and sc.perturbation[0].at.value == -1
    assert sc.subject.age_years == 40 and sc.simulation.observables == ["plasma.ketamine",
                                                                        "clinic.madrs"]
    rat, _ = _scenario_from_flags("ketamine", "10 mg/kg", "ip", "rat")
    assert rat.subject.condition == "healthy"
    geno, _ = _scenario_from_flags("ketamine", "0.5 mg/kg", "iv", "human",
                                   perturbation=["bdnf_val66met:met/met"], condition="mdd")
    assert geno.perturbation[0].genotype == "met/met" and geno.subject.condition == "mdd"


@pytest.mark.parametrize("flags, named", [
    (["--condition", "sad"], "--condition"),
    (["--repeat-every", "1 d"], "--repeat-count"),
    (["--perturbation", "bogus"], "--perturbation (#1)"),
    (["--age", "12"], "--age"),
    (["--observable", "plasma.nothing"], "--observable"),
])
def test_simulate_flag_errors_name_the_flag(tmp_path, flags, named):
    res = runner.invoke(app, ["simulate", "--drug", "ketamine", "--dose", "0.5 mg/kg",
                              "--route", "iv", "--out", str(tmp_path / "o"), *flags])
    assert res.exit_code == 2
    assert res.output.count("\n") == 1 and named in res.output
    assert not (tmp_path / "o").exists()


def test_key_values_show_subject_peaks_and_madrs(capsys):
    from raadsim.simulate.run import Result

    sc, _ = _scenario_from_flags("ketamine", "0.5 mg/kg", "iv", "human", end="2 d")
    t = np.linspace(0, 48, 97)
    values = {"plasma.ketamine": np.exp(-t / 3) * 200, "occupancy.nmdar": np.exp(-t) * 0.5,
              "clinic.madrs": 32 - 10 * (t > 2)}
    units = {"plasma.ketamine": "ng/mL", "occupancy.nmdar": "1", "clinic.madrs": "points"}
    print_key_values(Console(width=100), Result(t, values, units, sc, "test"), sc)
    text = capsys.readouterr().out
    assert "subject: human, 70 kg (default), treatment-resistant depression" in text
    assert "200 ng/mL at 0.00 h" in text and "50%" in text
    assert "32.0 before the first dose, 22.0 24 h after it" in text


def test_outputs_follow_the_umask(tmp_path):
    from raadsim.io.outputs import MARKER, atomic_dir, write_text_atomic

    old = os.umask(0o027)
    try:
        with atomic_dir(tmp_path / "run") as tmp:
            (tmp / "a.csv").write_text("x")
        write_text_atomic(tmp_path / "run" / "report.html", "<html>")  # registered in the marker
    finally:
        os.umask(old)
    run = tmp_path / "run"
    assert stat.S_IMODE(run.stat().st_mode) == 0o750
    for name in ("a.csv", "report.html", MARKER):
        assert stat.S_IMODE((run / name).stat().st_mode) == 0o640, name


def test_explain_gives_file_and_line_of_drug_file_parameters():
    from importlib import resources

    from raadsim.model.explain import with_line

    data = Path(str(resources.files("raadsim").joinpath("data")))
    for origin in ("analytes/s_ketamine.toml: pk.human.params.Vc",
                   "drugs/esketamine.toml: routes.human.intranasal.pathway[1].ka"):
        m = re.fullmatch(r"(.+):(\d+) \((.+)\)", with_line(origin))
        assert m, origin
        line = (data / m.group(1)).read_text().splitlines()[int(m.group(2)) - 1]
        assert line.startswith("[") and line.endswith(m.group(3).split("]")[-1].split(".")[-1]
                                                      + "]")
    text = (data / "drugs/esketamine.toml").read_text().splitlines()
    first = int(re.search(r":(\d+) ", with_line(
        "drugs/esketamine.toml: routes.human.intranasal.pathway[0].ka")).group(1))
    second = int(re.search(r":(\d+) ", with_line(
        "drugs/esketamine.toml: routes.human.intranasal.pathway[1].ka")).group(1))
    assert first < second and text[first - 1] == text[second - 1]
    assert with_line("model/layers/pk.toml:37") == "model/layers/pk.toml:37"


def test_calibration_targets_have_units():
    from raadsim.evidence.calibrate import PROBLEMS, stored, stored_units
    from raadsim.evidence.petab_problem import parameter_units

    for p in PROBLEMS:
        units = stored_units(p)
        assert set(units) == set(stored(p)) and all(units.values()), p.id
    petab = parameter_units()
    assert petab["Vc_lsd"] == "L" and petab["CL_lsd"] == "L/h" and all(petab.values())


def test_loaded_scenarios_and_trials_carry_their_catalogue():
    sc = raadsim.load_scenario(ROOT / "examples" / "glun2b_antagonist_scenario.toml")
    assert isinstance(sc, raadsim.Scenario) and sc.base_dir == ROOT / "examples"
    assert sc.catalogue() is sc.catalogue()  # the checked one, kept
    assert sc.dose[0].drug in sc.catalogue().drugs  # from the scenario's own drug file
    assert sc == raadsim.scenario_from_dict(sc.model_dump(mode="json"))  # folder not compared
    tf = raadsim.load_trial(ROOT / "examples" / "ketamine_trial.toml")
    assert isinstance(tf, raadsim.TrialFile) and tf.catalogue() is tf.catalogue()
    arm = tf.arm_scenario(tf.trial.arm[0])
    assert arm.catalogue() is tf.catalogue() and arm.base_dir == ROOT / "examples"
    with pytest.raises(raadsim.InputError, match=r"^n:"):
        raadsim.run_trial(tf, n=0)


@pytest.mark.slow
def test_run_prints_key_values_and_report_accepts_the_demo_folder(tmp_path):
    import json

    from raadsim.report.demo import FLAGSHIPS
    from tests.reliability.cli_check import SCENARIO

    (tmp_path / "s.toml").write_text(SCENARIO)
    res = runner.invoke(app, ["run", str(tmp_path / "s.toml"), "--out", str(tmp_path / "r")])
    assert res.exit_code == 0, res.output
    assert "subject: human, 70 kg, healthy (condition healthy)" in res.output
    assert "peak plasma ketamine" in res.output and "peak NMDA receptor block" in res.output

    demo = tmp_path / "demo"  # a demo folder with one flagship, written as `raadsim demo` does
    demo.mkdir()
    sc = raadsim.scenario_from_dict({
        "subject": {"species": "human", "weight_kg": 70, "condition": "trd"},
        "dose": FLAGSHIPS["lsd_oral"]["dose"],
        "simulation": {"end": "6 h", "output_every": "30 min",
                       "observables": ["plasma.lsd", "occupancy.ht2a"]}})
    result = raadsim.simulate(sc)
    result.to_long().to_csv(demo / "lsd_oral.csv", index=False)
    (demo / "summary.json").write_text(json.dumps({"lsd_oral": result.summary()}))
    (demo / "index.html").write_text("<html></html>")
    res = runner.invoke(app, ["report", str(demo)])
    assert res.exit_code == 0, res.output
    assert "(demo report)" in res.output
    html = (demo / "report.html").read_text()
    assert "raadsim demo report" in html and FLAGSHIPS["lsd_oral"]["title"] in html
