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
from collections.abc import Set as AbstractSet
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


# Classes of errors, by what the message says is accepted (first match wins).
_CLASSES = [
    ("usage error (flags)", r"^usage: "),
    ("output path refused", r"^--out$"),
    ("unknown key", r"no such key"),
    ("missing key", r"this field is required"),
    ("duplicate", r"distinct"),
    ("wrong type", r"a whole number \(not|a number \(not|a string|true or false|a list|"
                   r"a table|not true or false"),
    ("not finite", r"finite"),
    ("wrong unit or no number", r"not a unit|then a unit|a unit is required|is not a unit|"
                                r"unit convertible"),
    ("out of range", r"from -?[\d.e+-]+ to|up to|above|at most|at least|not negative|"
                     r"0 or from|after the first event|within|sum to|ascending"),
    ("unreadable input file", r"readable file|a file \(this is|regular file|UTF-8|"
                              r"valid TOML|nested at most"),
    ("unknown name", r"one of|a drug|an observable|a route|a known|a species|an arm name|"
                     r"a drug name|'response lost'|a reduction|a MADRS|formula|no doses|"
                     r"bath entries|no infusion|a time for|genotype|an analyte"),
]


def error_class(call: Call) -> str:
    """The class of a failed call's error (for the outcome counts of the property tests)."""
    line = call.lines[0]
    kind = error_kind(line)
    m = _INPUT_ERROR.match(line)
    text = kind if kind.startswith("usage: ") or kind == "--out" else \
        (m.group("accepted") if m else line)
    return next((name for name, pattern in _CLASSES if re.search(pattern, text)), "other")


def own_paths(out: Path) -> set[str] | None:
    """Paths (relative to ``out``) raadsim wrote there, from its marker."""
    try:
        files = json.loads((out / MARKER).read_text())["files"]
    except (OSError, ValueError, KeyError):
        return None
    return {MARKER, *files}


def check_call(call: Call, root: Path, before: dict[str, tuple], out: Path | None,
               expected: set[str] | None, own_before: AbstractSet[str] = frozenset()) -> str:
    """Assert the contract of one CLI call in sandbox ``root`` (``before``: its tree before
    the call); ``out`` is the output (a directory holding ``expected``, or a file when
    ``expected`` is None; None: the command writes nothing), ``own_before`` what raadsim
    had written there before. Returns the outcome class: ``ok`` or the error kind."""
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
    if out is None:
        assert after == before, _changes(before, after)
        return "ok"
    changed = {k for k in set(before) | set(after) if before.get(k) != after.get(k)}
    if expected is None:  # one file
        assert out.is_file() and out.stat().st_size > 0, call.output
        allowed = {str(out.relative_to(root)), *_marker_of(out.parent, root)}
    else:
        assert expected <= {p.name for p in out.iterdir()}, (expected, list(out.iterdir()))
        rel = out.relative_to(root)
        own = (own_paths(out) or set()) | set(own_before)
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
