"""`raadsim sensitivity` on the command line."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from raadsim.cli import app

SCENARIO = Path(__file__).resolve().parents[2] / "examples" / "ketamine_single_trd.toml"


def test_cli_morris_ranks_drug_sensitivity_above_the_structural_weight_at_24h(tmp_path):
    r = CliRunner().invoke(app, [
        "sensitivity", str(SCENARIO), "--at", "24 h", "--param", "R50_relief",
        "--param", "w_struct", "--n", "4", "--executor", "serial",
        "--out", str(tmp_path / "gsa")])
    assert r.exit_code == 0, r.output
    data = json.loads((tmp_path / "gsa" / "sensitivity.json").read_text())
    ranked = [row["parameter"] for row in data["indices"]["24 h"]]
    assert ranked[0] == "R50_relief"
    assert (tmp_path / "gsa" / "sensitivity.png").exists()


def test_cli_reports_a_parameter_without_range(tmp_path):
    r = CliRunner().invoke(app, ["sensitivity", str(SCENARIO), "--param", "Qh_s_ketamine",
                                 "--executor", "serial", "--out", str(tmp_path / "x")])
    assert r.exit_code == 2 and "Qh_s_ketamine" in r.output and "no range" in r.output
    assert not (tmp_path / "x").exists()
