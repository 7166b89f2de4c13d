"""The app's behaviour without a browser: cascade updates, field errors, downloads, trials."""

from __future__ import annotations

import tomllib

import pytest
from dash import no_update

from raadsim import scenario_from_dict
from raadsim.app import callbacks, form, trial_jobs
from raadsim.app.callbacks import ERROR_KEYS

SHORT = {**form.DEFAULTS, "end": "2 d", "output_every": "20 min"}


def _rows(rows) -> dict[str, str]:
    return {r.children[0].children: r.children[1].children for r in rows}


def test_update_side_draws_the_cascade_and_changes_with_the_dose():
    fig, rows, status, errs = callbacks.update_side(SHORT, log_time=False)
    assert status.startswith("simulated in") and not any(errs)
    titles = [a.text for a in fig.layout.annotations]
    assert titles[0].startswith("A  Pharmacokinetics") and "Symptoms" in titles[-1]
    names = {t.name for t in fig.data}
    assert {"ketamine", "NMDAR block (pyramidal)", "synaptic strength", "MADRS"} <= names
    v1 = _rows(rows)
    fig2, rows2, _, _ = callbacks.update_side({**SHORT, "amount": "1 mg/kg"}, log_time=True)
    v2 = _rows(rows2)
    assert v1["peak plasma ketamine"] != v2["peak plasma ketamine"]
    assert float(v2["peak plasma ketamine"].split()[0]) > 1.8 * float(
        v1["peak plasma ketamine"].split()[0])
    assert fig2.layout.xaxis.type == "log"
    y1 = next(t.y for t in fig.data if t.name == "ketamine")
    y2 = next(t.y for t in fig2.data if t.name == "ketamine")
    assert max(y2) > max(y1)


def test_bad_value_keeps_the_plot_and_marks_the_field():
    fig, rows, status, errs = callbacks.update_side({**SHORT, "amount": "lots"}, False)
    assert fig is no_update and rows is no_update and "fix" in status
    by_field = dict(zip(ERROR_KEYS, errs, strict=True))
    assert "got 'lots'" in by_field["amount"] and "mg/kg" in by_field["amount"]
    assert not any(v for k, v in by_field.items() if k != "amount")


def test_rodent_scenario_shows_behaviour():
    values = {**SHORT, "species": "rat", "condition": "healthy", "amount": "10 mg/kg",
              "route": "ip", "infusion": ""}
    fig, rows, _, errs = callbacks.update_side(values, False)
    assert not any(errs)
    assert "immobility at 24 h" in _rows(rows)
    assert {"immobility", "sucrose preference"} <= {t.name for t in fig.data}
    assert "MADRS" not in {t.name for t in fig.data}


def test_dependent_choices():
    assert callbacks.drug_choices("mouse", "midazolam")[1] != "midazolam"
    assert callbacks.drug_choices("human", "lsd") == (form.drug_options("human"), "lsd")
    assert callbacks.route_choices("lsd", "human", "iv") == (["oral"], "oral")
    assert callbacks.route_choices("ketamine", "human", "iv")[1] == "iv"
    assert callbacks.infusion_state("psilocybin", "human", "oral", "40 min") == (True, "")
    assert callbacks.infusion_state("ketamine", "human", "iv", "40 min") == (False, "40 min")


def test_downloads_round_trip():
    toml = callbacks.toml_download({**SHORT, "every": "1 d", "count": 2}, "a")
    assert toml["filename"] == "raadsim_A_scenario.toml"
    sc = scenario_from_dict(tomllib.loads(toml["content"]))
    assert sc.dose[0].repeat.count == 2
    csv = callbacks.csv_download(SHORT, "b")
    assert csv["filename"] == "raadsim_B_timecourse.csv"
    head = csv["content"].splitlines()
    assert head[0] == "time_h,observable,value" and len(head) > 1000


def test_overlay_of_two_scenarios():
    b = {**form.DEFAULTS_B, "end": "2 d", "output_every": "20 min"}
    fig = callbacks.overlay(SHORT, b, log_time=True)
    labels = {t.name for t in fig.data}
    assert any("(A: ketamine" in x for x in labels) and any("(B: psilocybin" in x
                                                            for x in labels)
    # legend: the scenarios once (top panel), then one entry per observable and panel
    shown = [t for t in fig.data if t.showlegend is not False]
    per_panel: dict[str, list[str]] = {}
    for t in shown:
        per_panel.setdefault(t.legend or "legend", []).append(t.name)
    assert all(len(v) <= 8 for v in per_panel.values()), per_panel
    assert sum("A: ketamine" in n for n in per_panel["legend"]) == 1
    assert not any("(A:" in n for v in per_panel.values() for n in v)
    assert callbacks.overlay(SHORT, {**b, "amount": "x"}, False) is no_update


def test_mechanism_image_is_embedded():
    img = callbacks.mechanism_image({**SHORT, "perturbations": ["rapamycin"]})
    assert img.src.startswith("data:image/svg+xml;base64,")
    assert img.style["width"] == "1000px"


def test_time_axis_auto_is_logarithmic_for_one_session_only():
    fig, *_ = callbacks.update_side(SHORT, "auto")
    assert fig.layout.xaxis.type == "log"
    fig, *_ = callbacks.update_side({**SHORT, "every": "1 d", "count": 3}, "auto")
    assert fig.layout.xaxis.type != "log"
    fig, *_ = callbacks.update_side(SHORT, "linear")
    assert fig.layout.xaxis.type != "log"


@pytest.mark.slow
def test_small_trial_with_progress_and_results():
    job_id, errs = callbacks.start_trial(SHORT, None, 4, 3, "1 d, 2 d")
    assert job_id and not any(errs)
    job = trial_jobs.wait(job_id, timeout=120)
    assert job.error is None and job.done == job.total == 8
    fig, table, status = callbacks.trial_outputs(job, log_time=False)
    text = str(table)
    assert "placebo" in text and "A vs placebo" in text and "response [95 % CI]" in text
    assert "percentage points" in text and " pts" not in text
    assert any(t.fill == "toself" for t in fig.data)  # population bands
    assert "8 patients" in status
    dl = callbacks.trial_csv(job)
    assert dl["filename"] == "raadsim_trial_timecourse.csv"


@pytest.mark.parametrize(("a", "n", "visits", "slot", "words"), [
    ({}, 0, "1 d", 0, "from 1 to"),
    ({}, "many", "1 d", 0, "whole number"),
    ({}, 5, "1 d, soon", 1, "duration"),
    ({"species": "rat", "route": "ip", "infusion": "", "amount": "10 mg/kg"}, 5, "1 d", 2,
     "human"),
    ({"condition": "healthy"}, 5, "1 d", 2, "depressive condition"),
    ({"amount": "x"}, 5, "1 d", 2, "dose[0].amount"),
])
def test_trial_errors(a, n, visits, slot, words):
    job_id, errs = callbacks.start_trial({**SHORT, **a}, None, n, 1, visits)
    assert job_id is None
    assert words in errs[slot], errs
    assert sum(bool(e) for e in errs) == 1
