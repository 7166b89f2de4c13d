"""`raadsim validate` and the scorecard files; the README totals come from the script."""

from __future__ import annotations

import json
import re

import pytest
from typer.testing import CliRunner

from raadsim.cli import app
from raadsim.evidence.records import load_records
from tests.conftest import ROOT

runner = CliRunner()


def test_validate_writes_scorecard_in_the_documented_shape(tmp_path):
    out = tmp_path / "sc"
    res = runner.invoke(app, ["validate", "--layer", "pk", "--drug", "lsd", "--executor",
                              "serial", "--out", str(out)])
    assert res.exit_code == 0, res.output
    card = json.loads((out / "scorecard.json").read_text())
    t = card["totals"]
    assert set(t) >= {"records", "passed", "by_kind", "by_layer", "by_drug"}
    assert t["records"] == len(card["records"]) == sum(
        1 for r in load_records() if r.layer == "pk" and r.drug == "lsd")
    assert t["by_layer"]["pk"]["records"] == t["records"]
    for r in card["records"]:
        assert {"id", "kind", "layer", "drug", "expected", "simulated", "passed"} <= set(r)
    assert "lsd" in (out / "scorecard.md").read_text()
    assert (out / "scorecard.html").read_text().startswith("<!doctype html>")


@pytest.mark.slow
def test_validate_exits_0_when_records_fail(tmp_path):
    """A failing record is a finding: ketamine's Cmax record fails and the exit code is 0."""
    res = runner.invoke(app, ["validate", "--layer", "pk", "--drug", "ketamine",
                              "--executor", "serial", "--out", str(tmp_path / "k")])
    assert res.exit_code == 0, res.output
    card = json.loads((tmp_path / "k" / "scorecard.json").read_text())
    assert card["totals"]["passed"] < card["totals"]["records"]


def test_validate_rejects_unknown_filters(tmp_path):
    res = runner.invoke(app, ["validate", "--layer", "liver", "--out", str(tmp_path / "x")])
    assert res.exit_code == 2
    assert "--layer" in res.output and "signalling" in res.output
    assert not (tmp_path / "x").exists()


def test_readme_totals_cover_every_record():
    """The README block is generated (scripts/update_readme_scorecard.py) from a full run."""
    text = (ROOT / "README.md").read_text()
    block = text.split("<!-- scorecard:start -->")[1].split("<!-- scorecard:end -->")[0]
    m = re.search(r"\*\*(\d+) of (\d+) records reproduced\*\*", block)
    assert m, "README scorecard block missing; run scripts/update_readme_scorecard.py"
    assert int(m.group(2)) == len(load_records())


def test_one_vocabulary_of_layers_with_american_aliases():
    from raadsim.evidence.records import load_records, select

    recs = load_records()
    assert select(recs, layer="signaling") == select(recs, layer="signalling")
    assert select(recs, layer="behavior") == select(recs, layer="behaviour")
