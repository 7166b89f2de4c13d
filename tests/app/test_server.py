"""The Dash app serves its page and callbacks, and ``raadsim app`` validates its options."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from raadsim.app import form
from raadsim.app.server import create_app
from raadsim.cli import app as cli


def test_page_has_every_field_and_error_slot():
    dash_app = create_app()
    client = dash_app.server.test_client()
    assert client.get("/").status_code == 200
    layout = json.dumps(client.get("/_dash-layout").get_json())
    for side in ("a", "b"):
        for key in form.FIELD_KEYS:
            assert f'"{side}-{key}"' in layout
            assert f'"{side}-{key}-error"' in layout
    for i in ("trial-run", "trial-progress", "a-dl-csv", "a-dl-toml", "log-time", "compare"):
        assert f'"{i}"' in layout
    deps = client.get("/_dash-dependencies").get_json()
    outputs = " ".join(d["output"] for d in deps)
    assert "a-graph.figure" in outputs and "trial-progress.value" in outputs


def test_assets_are_served_locally():
    html = create_app().server.test_client().get("/").get_data(as_text=True)
    assert "cdn" not in html.lower() and "unpkg" not in html.lower()


def test_bad_port_is_one_line_exit_2():
    res = CliRunner().invoke(cli, ["app", "--port", "70000"])
    line = res.output.strip()
    assert res.exit_code == 2 and line.startswith("error:") and "--port" in line
    assert len(line.splitlines()) == 1
