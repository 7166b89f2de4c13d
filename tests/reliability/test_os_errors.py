"""Cause 6 of issue 19: OS errors on inputs and outputs are one line naming the path and what
went wrong; output problems are found before the simulation; nothing partial is left."""

from __future__ import annotations

import contextlib
import importlib
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from raadsim.userfiles import MAX_TOML_DEPTH

from .cli_check import SCENARIO, TRIAL, check_call, invoke, tree


def _inputs(root: Path) -> dict[str, tuple[Path, str]]:
    """Hostile input paths and a word of the error each gives."""
    (root / "latin1.toml").write_bytes(b"[subject]\nspecies = \"h\xe9\"\n")
    (root / "loop1").symlink_to(root / "loop2")
    (root / "loop2").symlink_to(root / "loop1")
    (root / "deep.toml").write_text("a = " + "[" * 5000 + "]" * 5000)
    (root / "deepish.toml").write_text("a = " + "[" * (MAX_TOML_DEPTH + 5) + "]" *
                                       (MAX_TOML_DEPTH + 5))
    (root / "bigint.toml").write_text("x = 1" + "0" * 5000)
    (root / "adir").mkdir()
    return {"directory": (root / "adir", "this is a directory"),
            "undecodable": (root / "latin1.toml", "UTF-8"),
            "symlink loop": (root / "loop1", "symbolic links"),
            "name too long": (root / ("x" * 300 + ".toml"), "too long"),
            "device": (Path("/dev/zero"), "device"),
            "missing": (root / "missing.toml", "No such file"),
            "deeply nested": (root / "deep.toml", "nested at most"),
            "nested": (root / "deepish.toml", "nested at most"),
            "huge integer": (root / "bigint.toml", "valid TOML")}


@pytest.mark.parametrize("case", ["directory", "undecodable", "symlink loop", "name too long",
                                  "device", "missing", "deeply nested", "nested",
                                  "huge integer"])
@pytest.mark.parametrize("command", ["run", "trial", "export sbml", "drug file"])
def test_unreadable_inputs(tmp_path, case, command):
    path, words = _inputs(tmp_path)[case]
    if command == "drug file":  # a scenario naming the hostile file as its drug file
        (tmp_path / "s.toml").write_text(f"drug_files = [{str(path)!r}]\n" + SCENARIO)
        args = ["run", str(tmp_path / "s.toml"), "--out", str(tmp_path / "out")]
    else:
        args = [*command.split(), str(path), "--out", str(tmp_path / "out")]
    before = tree(tmp_path)
    call = invoke(args)
    assert check_call(call, tmp_path, before, None, None) != "ok"
    assert words in call.output and str(path)[:60] in call.output, call.output


def test_nonmem_inputs(tmp_path):
    path, _ = _inputs(tmp_path)["undecodable"]
    (tmp_path / "m.toml").write_text('[subject]\nspecies = "human"\n')
    for data, mapping in ((path, tmp_path / "m.toml"), (tmp_path / "adir", tmp_path / "m.toml"),
                          (tmp_path / "x.csv", tmp_path / "adir")):
        before = tree(tmp_path)
        call = invoke(["data", "compare", str(data), "--mapping", str(mapping), "--out",
                       str(tmp_path / "o")])
        assert check_call(call, tmp_path, before, None, None) != "ok"


def test_unsupported_figure_format_is_refused_before_drawing(tmp_path, monkeypatch):
    build = importlib.import_module("raadsim.model.build")
    monkeypatch.setattr(build, "build_model", lambda *a, **k: pytest.fail("model built"))
    before = tree(tmp_path)
    call = invoke(["diagram", "--out", str(tmp_path / "mechanism.docx")])
    assert check_call(call, tmp_path, before, None, None) == "--out"
    assert ".png" in call.output and ".svg" in call.output


def test_export_to_an_existing_directory(tmp_path):
    (tmp_path / "s.toml").write_text(SCENARIO)
    (tmp_path / "models").mkdir()
    for command in (["export", "sbml"], ["export", "omex"]):
        before = tree(tmp_path)
        call = invoke([*command, str(tmp_path / "s.toml"), "--out", str(tmp_path / "models"),
                       "--overwrite"])
        assert check_call(call, tmp_path, before, None, None) == "--out"
        assert "this is a directory" in call.output


def test_a_trial_output_under_a_file_is_refused_before_simulating(tmp_path, monkeypatch):
    trial = importlib.import_module("raadsim.simulate.trial")
    monkeypatch.setattr(trial, "run_trial", lambda *a, **k: pytest.fail("simulated"))
    (tmp_path / "t.toml").write_text(TRIAL)
    (tmp_path / "f").write_text("")
    before = tree(tmp_path)
    call = invoke(["trial", str(tmp_path / "t.toml"), "--out", str(tmp_path / "f" / "o")])
    assert check_call(call, tmp_path, before, None, None) == "--out"


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write into read-only directories")
def test_a_read_only_directory(tmp_path):
    (tmp_path / "s.toml").write_text(SCENARIO)
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        before = tree(tmp_path)
        call = invoke(["run", str(tmp_path / "s.toml"), "--out", str(ro / "out")])
        assert check_call(call, tmp_path, before, None, None) == "--out"
    finally:
        ro.chmod(0o755)


@contextlib.contextmanager
def _immutable(*paths: Path) -> Iterator[None]:
    """``chattr +i`` on ``paths`` for the block (skips where the file system or the user
    cannot)."""
    done: list[Path] = []
    try:
        for p in paths:
            if subprocess.run(["chattr", "+i", str(p)], capture_output=True).returncode != 0:
                pytest.skip("cannot make a file immutable here (chattr)")
            done.append(p)
        yield
    finally:
        for p in done:
            subprocess.run(["chattr", "-i", str(p)], capture_output=True)


needs_chattr = pytest.mark.skipif(shutil.which("chattr") is None, reason="needs chattr")


@needs_chattr
def test_an_immutable_file_is_refused_before_exporting(tmp_path, monkeypatch):
    sbml = importlib.import_module("raadsim.io.sbml_export")
    monkeypatch.setattr(sbml, "to_sbml", lambda *a, **k: pytest.fail("exported"))
    (tmp_path / "s.toml").write_text(SCENARIO)
    (tmp_path / "model.xml").write_text("<mine/>")
    with _immutable(tmp_path / "model.xml"):
        before = tree(tmp_path)
        call = invoke(["export", "sbml", str(tmp_path / "s.toml"), "--out",
                       str(tmp_path / "model.xml"), "--overwrite"])
        assert check_call(call, tmp_path, before, None, None) == "--out"
        assert "read-only or immutable" in call.output


@needs_chattr
def test_an_immutable_file_in_the_output_leaves_no_partial_output(tmp_path):
    """Writing beside a user's file replaces raadsim's entries one by one: an entry that
    cannot be replaced is found before the first one is."""
    (tmp_path / "s.toml").write_text(SCENARIO)
    out = tmp_path / "out"
    assert invoke(["run", str(tmp_path / "s.toml"), "--out", str(out)]).code == 0
    (out / "notes.txt").write_text("mine")
    with _immutable(out / "summary.json"):
        before = tree(tmp_path)
        call = invoke(["run", str(tmp_path / "s.toml"), "--out", str(out), "--overwrite"])
        assert check_call(call, tmp_path, before, None, None) == "--out"
        assert "'summary.json'" in call.output and "immutable" in call.output
