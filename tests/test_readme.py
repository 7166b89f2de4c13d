"""The README's Python code runs as written: its ``python`` blocks are executed in order, in
one namespace, from a folder that holds the repository's examples (outputs stay there)."""

from __future__ import annotations

import contextlib
import io
import os
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)


def python_blocks() -> list[str]:
    return BLOCK.findall((ROOT / "README.md").read_text(encoding="utf-8"))


def test_the_readme_has_an_api_example():
    code = "\n".join(python_blocks())
    for call in ("raadsim.load_scenario(", "raadsim.simulate(", "raadsim.load_trial(",
                 "raadsim.run_trial(", ".to_pandas()", ".to_xarray()", "raadsim.plot("):
        assert call in code, call


@pytest.mark.slow
def test_the_readme_python_blocks_run(tmp_path, monkeypatch):
    (tmp_path / "examples").symlink_to(ROOT / "examples")
    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": "readme"}
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        for i, block in enumerate(python_blocks()):
            exec(compile(block, f"README.md python block {i + 1}", "exec"), namespace)
    text = printed.getvalue()
    assert "peak plasma ketamine" in text and "human 70.0 trd" in text
    assert "dose[0].route: got 'rectal'; expected one of iv" in text
    assert (tmp_path / "ketamine.png").stat().st_size > 0
    assert (tmp_path / "trial.png").stat().st_size > 0
    assert {"timecourse.csv", "summary.json", "figure.png"} <= set(os.listdir("ketamine"))
    assert namespace["visits"].sizes["patient"] == 20
