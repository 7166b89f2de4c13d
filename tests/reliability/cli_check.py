"""What every CLI call must satisfy (issue 19), shared by the regression and property tests.

A call either exits 0 with its complete output, or exits 2 with exactly one line that names a
field, no traceback and nothing written; in no case does a file outside raadsim's own output
change (:func:`check_call`).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

from typer.testing import CliRunner

from raadsim.cli import app
from raadsim.io.outputs import MARKER

runner = CliRunner()

SCENARIO = """\
[subject]
species = "human"
weight_kg = 70

[[dose]]
drug = "ketamine"
amount = "0.5 mg/kg"
route = "iv"
infusion = "40 min"

[simulation]
end = "2 h"
output_every = "20 min"
observables = ["plasma.ketamine", "occupancy.nmdar"]
"""

TRIAL = """\
[population]
n = 2
seed = 7
condition = "trd"

[trial]
visits = ["1 h", "2 h"]
output_every = "1 h"

[[trial.arm]]
name = "ketamine"
[[trial.arm.dose]]
drug = "ketamine"
amount = "0.5 mg/kg"
route = "iv"
infusion = "40 min"
"""

# What each command writes when it succeeds (a directory, or one file).
RUN_FILES = {MARKER, "timecourse.csv", "summary.json", "figure.png", "scenario.json",
             "model.json"}
TRIAL_FILES = {MARKER, "trial.json", "patients.parquet", "timecourse.csv", "figure.png",
               "trial_file.json", "models.json"}

_INPUT_ERROR = re.compile(r"^error: (?P<field>.+?): got (?P<value>.*); expected (?P<accepted>.+)$")
_USAGE_ERROR = re.compile(r"^error: raadsim[a-z ]*: (?P<message>.+) \(see raadsim[a-z ]* "
                          r"--help\)$")


@dataclass
class Call:
    code: int
    output: str
    exception: BaseException | None

    @property
    def lines(self) -> list[str]:
        return [ln for ln in self.output.splitlines() if ln.strip()]


def invoke(args: list[str]) -> Call:
    res = runner.invoke(app, args)
    return Call(res.exit_code, res.output, res.exception)


def tree(root: Path) -> dict[str, tuple]:
    """Every entry under ``root``: files by content, links by target, directories."""
    out: dict[str, tuple] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = Path(dirpath) / name
            rel = str(p.relative_to(root))
            if p.is_symlink():
                out[rel] = ("link", os.readlink(p))
            elif p.is_dir():
                out[rel] = ("dir",)
            else:
                out[rel] = ("file", hashlib.sha1(p.read_bytes()).hexdigest())
    return out


def error_kind(line: str) -> str:
    """``field-key: what`` for an InputError line, ``usage: ...`` for a usage error."""
    m = _INPUT_ERROR.match(line)
    if m:
        field = m.group("field")
        key = re.sub(r"\[\d+\]", "[]", field.split(": ")[-1])
        if "/" in key or "\\" in key:  # a path named as the field (a file's problem)
            key = "(file)"
        return key
    m = _USAGE_ERROR.match(line)
    return "usage: " + re.sub(r"'[^']*'", "'…'", m.group("message"))[:40] if m else "?"


def own_paths(out: Path) -> set[str] | None:
    """Paths (relative to ``out``) raadsim wrote there, from its marker."""
    try:
        files = json.loads((out / MARKER).read_text())["files"]
    except (OSError, ValueError, KeyError):
        return None
    return {MARKER, *files}


def check_call(call: Call, root: Path, before: dict[str, tuple], out: Path | None,
               expected: set[str] | None) -> str:
    """Assert the contract of one CLI call in sandbox ``root`` (``before``: its tree before
    the call); ``out`` is the output (directory, or file when ``expected`` is None). Returns
    the outcome class: ``ok`` or the error kind."""
    assert call.exception is None or isinstance(call.exception, SystemExit), \
        f"traceback: {call.exception!r}\n{call.output}"
    assert "Traceback" not in call.output, call.output
    assert call.code in (0, 2), (call.code, call.output)
    after = tree(root)
    if call.code == 2:
        assert len(call.lines) == 1, call.output
        kind = error_kind(call.lines[0])
        assert kind != "?", f"the error names no field: {call.lines[0]!r}"
        assert after == before, _changes(before, after)
        return kind
    assert out is not None
    changed = {k for k in set(before) | set(after) if before.get(k) != after.get(k)}
    if expected is None:  # one file
        assert out.is_file() and out.stat().st_size > 0, call.output
        allowed = {str(out.relative_to(root)), *_marker_of(out.parent, root)}
    else:
        assert expected <= {p.name for p in out.iterdir()}, (expected, list(out.iterdir()))
        rel = out.relative_to(root)
        own = own_paths(out) or set()
        allowed = {str(rel), *(str(rel / p) for p in own)}
    allowed |= {str(a) for a in Path(str(out.relative_to(root))).parents
                if str(a) != "." and str(a) not in before}  # parents the call made
    outside = {c for c in changed
               if c not in allowed and not any(c.startswith(a + os.sep) for a in allowed)}
    assert not outside, f"changed outside raadsim's output: {sorted(outside)}"
    return "ok"


def _marker_of(directory: Path, root: Path) -> set[str]:
    return {str((directory / MARKER).relative_to(root))} if (directory / MARKER).exists() \
        else set()


def _changes(before: dict, after: dict) -> str:
    added = sorted(set(after) - set(before))
    removed = sorted(set(before) - set(after))
    modified = sorted(k for k in set(before) & set(after) if before[k] != after[k])
    return f"added {added}, removed {removed}, modified {modified}"
