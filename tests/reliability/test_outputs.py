"""Cause 1 of issue 19: ``--out`` never loses, renames or hides a file raadsim did not write;
concurrent writers to one output never fail."""

from __future__ import annotations

import errno
import importlib
import os
import threading
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path

import pytest

from raadsim import __version__
from raadsim.errors import InputError
from raadsim.io.outputs import MARKER, OutputPolicy, atomic_dir, output_policy, read_marker

from .cli_check import RUN_FILES, SCENARIO, check_call, invoke, tree


@pytest.fixture
def sandbox(tmp_path: Path) -> Path:
    (tmp_path / "s.toml").write_text(SCENARIO)
    return tmp_path


def _run(sandbox: Path, out: Path | str, *extra: str):
    before = tree(sandbox)
    call = invoke(["run", str(sandbox / "s.toml"), "--out", str(out), *extra])
    return call, before


def test_a_users_directory_is_refused_and_left_as_it_was(sandbox):
    mine = sandbox / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("my notes")
    (mine / "s.toml").write_text(SCENARIO)  # the scenario itself inside --out
    call, before = _run(sandbox, mine)
    assert check_call(call, sandbox, before, None, None) == "--out"
    assert "--overwrite" in call.output and "not written by raadsim" in call.output


def test_overwrite_writes_beside_foreign_files_and_keeps_them(sandbox):
    mine = sandbox / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("my notes")
    call, before = _run(sandbox, mine, "--overwrite")
    assert check_call(call, sandbox, before, mine, RUN_FILES) == "ok"
    assert (mine / "notes.txt").read_text() == "my notes"
    marker = read_marker(mine)
    assert marker["command"] == "raadsim run" and marker["version"] == __version__
    assert "notes.txt" not in marker["files"] and "timecourse.csv" in marker["files"]
    # a directory raadsim wrote to needs no --overwrite; the notes still stay
    call, before = _run(sandbox, mine)
    assert check_call(call, sandbox, before, mine, RUN_FILES) == "ok"
    assert (mine / "notes.txt").read_text() == "my notes"


def test_a_rerun_removes_only_raadsims_stale_files(sandbox):
    """The first run writes spectra.json (an eeg observable), the second does not: it goes,
    the user's file stays."""
    eeg = sandbox / "eeg.toml"
    eeg.write_text(SCENARIO.replace('"occupancy.nmdar"]', '"eeg.alpha_power"]'))
    out = sandbox / "out"
    assert invoke(["run", str(eeg), "--out", str(out)]).code == 0
    assert (out / "spectra.json").exists()
    (out / "mine.txt").write_text("keep")
    call, before = _run(sandbox, out)
    assert check_call(call, sandbox, before, out, RUN_FILES) == "ok"
    assert not (out / "spectra.json").exists() and (out / "mine.txt").read_text() == "keep"


@pytest.mark.parametrize("overwrite", [[], ["--overwrite"]])
def test_an_existing_file_or_the_input_is_refused_unchanged(sandbox, overwrite):
    (sandbox / "result.txt").write_text("precious")
    for target in (sandbox / "result.txt", sandbox / "s.toml"):
        call, before = _run(sandbox, target, *overwrite)
        assert check_call(call, sandbox, before, None, None) == "--out"
    assert not [p for p in sandbox.iterdir() if p.name.startswith(".")]  # nothing hidden
    call, before = _run(sandbox, sandbox / "new")  # and later runs still work
    assert check_call(call, sandbox, before, sandbox / "new", RUN_FILES) == "ok"


def test_a_symlink_is_refused_and_left_pointing_where_it_did(sandbox):
    target = sandbox / "target"
    target.mkdir()
    (sandbox / "link").symlink_to(target)
    (sandbox / "dangling").symlink_to(sandbox / "nowhere")
    for link in ("link", "dangling"):
        call, before = _run(sandbox, sandbox / link, "--overwrite")
        assert check_call(call, sandbox, before, None, None) == "--out"
        assert "symbolic link" in call.output


@pytest.mark.parametrize("out", ["", ".", "..", "CWD"])
def test_the_current_directory_or_above_is_refused(sandbox, monkeypatch, out):
    work = sandbox / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    call, before = _run(sandbox, str(work) if out == "CWD" else out, "--overwrite")
    assert check_call(call, sandbox, before, None, None) == "--out"
    assert "current directory" in call.output


def test_checks_come_before_any_computation(sandbox, monkeypatch):
    run_mod = importlib.import_module("raadsim.simulate.run")

    def never(*args, **kwargs):
        raise AssertionError("simulated although --out was refused")

    monkeypatch.setattr(run_mod, "simulate", never)
    (sandbox / "file").write_text("x")
    call, before = _run(sandbox, sandbox / "file")
    assert check_call(call, sandbox, before, None, None) == "--out"


def test_a_failed_write_keeps_the_previous_output_and_leaves_nothing(sandbox, monkeypatch):
    import raadsim.report.artifacts as artifacts

    out = sandbox / "out"
    assert invoke(["run", str(sandbox / "s.toml"), "--out", str(out)]).code == 0

    def full_disk(result, path):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(artifacts, "plot_result", full_disk)
    call, before = _run(sandbox, out)
    assert check_call(call, sandbox, before, None, None) == "--out"
    assert "No space left on device" in call.output
    call, before = _run(sandbox, sandbox / "a" / "b" / "c")  # made parents go again
    assert check_call(call, sandbox, before, None, None) == "--out"
    assert not (sandbox / "a").exists()


def test_report_files_are_raadsims_own(sandbox):
    out = sandbox / "out"
    assert invoke(["run", str(sandbox / "s.toml"), "--out", str(out)]).code == 0
    for _ in range(2):  # written, then replaced: it is listed in the marker
        before = tree(sandbox)
        call = invoke(["report", str(out)])
        assert check_call(call, sandbox, before, out / "report.html", None) == "ok"
    assert "report.html" in read_marker(out)["files"]
    before = tree(sandbox)  # a file the report reads is not a place to write it
    call = invoke(["report", str(out), "--out", str(out / "summary.json"), "--overwrite"])
    assert check_call(call, sandbox, before, None, None) == "--out"
    (sandbox / "mine.html").write_text("mine")
    before = tree(sandbox)
    call = invoke(["report", str(out), "--out", str(sandbox / "mine.html")])
    assert check_call(call, sandbox, before, None, None) == "--out"
    before = tree(sandbox)
    call = invoke(["report", str(out), "--out", str(sandbox / "mine.html"), "--overwrite"])
    assert check_call(call, sandbox, before, sandbox / "mine.html", None) == "ok"


def test_file_outputs_need_overwrite_and_never_replace_a_directory(sandbox):
    model = sandbox / "model.xml"
    model.write_text("<mine/>")
    for args in (["--out", str(model)], ["--out", str(sandbox)], ["--out", str(sandbox),
                                                                 "--overwrite"]):
        before = tree(sandbox)
        call = invoke(["export", "sbml", str(sandbox / "s.toml"), *args])
        assert check_call(call, sandbox, before, None, None) == "--out"
    before = tree(sandbox)
    call = invoke(["export", "sbml", str(sandbox / "s.toml"), "--out", str(model),
                   "--overwrite"])
    assert check_call(call, sandbox, before, model, None) == "ok"
    assert model.read_text().startswith("<?xml")


def test_unwritable_places_are_refused_before_computing(sandbox, monkeypatch):
    (sandbox / "file").write_text("x")
    call, before = _run(sandbox, sandbox / "file" / "out")
    assert check_call(call, sandbox, before, None, None) == "--out"
    assert "is a file" in call.output
    locked = sandbox / "locked"
    locked.mkdir()
    real = os.access
    monkeypatch.setattr(os, "access", lambda p, mode, **kw: Path(p) != locked
                        and real(p, mode, **kw))
    call, before = _run(sandbox, locked / "out")
    assert check_call(call, sandbox, before, None, None) == "--out"
    assert "permission denied or read-only" in call.output


def _tmpfs(path: Path, options: str) -> bool:
    path.mkdir()
    return os.system(f"mount -t tmpfs -o {options} tmpfs {path} 2>/dev/null") == 0


@pytest.mark.parametrize(("options", "message"), [("size=100k", "No space left on device"),
                                                  ("size=1m,ro", "read-only")])
def test_a_full_or_read_only_disk(sandbox, options, message):
    """A real tiny (or read-only) file system where one can be mounted (root on Linux)."""
    disk = sandbox / "disk"
    if not _tmpfs(disk, options):
        pytest.skip("cannot mount a tmpfs here")
    try:
        call, before = _run(sandbox, disk / "out")
        assert check_call(call, sandbox, before, None, None) == "--out"
        assert message in call.output and os.listdir(disk) == []
    finally:
        os.system(f"umount {disk}")


# -- concurrent writers ------------------------------------------------------------------------
def _write(args: tuple[Path, int], overwrite: bool = False) -> str | None:
    out, i = args
    try:
        with output_policy(OutputPolicy(overwrite=overwrite)), atomic_dir(out) as tmp:
            for name in ("a.txt", "b.txt"):
                (tmp / name).write_text(str(i))
        return None
    except Exception as exc:  # the test counts them: there must be none
        return repr(exc)


def test_concurrent_writers_to_one_output_never_fail(tmp_path):
    """Today 77 of 400 concurrent atomic writes raised OSError (Directory not empty)."""
    out = tmp_path / "out"
    jobs = [(out, i) for i in range(400)]
    with ThreadPoolExecutor(16) as ex:
        errors = [e for e in ex.map(_write, jobs) if e]
    with ProcessPoolExecutor(4) as ex:
        errors += [e for e in ex.map(_write, jobs, chunksize=10) if e]
    assert errors == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # no temporary left
    a, b = ((out / n).read_text() for n in ("a.txt", "b.txt"))
    assert a == b and set(read_marker(out)["files"]) == {"a.txt", "b.txt"}


def test_concurrent_writers_beside_foreign_files(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("keep")
    with ThreadPoolExecutor(8) as ex:
        errors = [e for e in ex.map(lambda job: _write(job, overwrite=True),
                                    [(out, i) for i in range(100)]) if e]
    assert errors == [] and (out / "notes.txt").read_text() == "keep"
    assert sorted(p.name for p in out.iterdir()) == [MARKER, "a.txt", "b.txt", "notes.txt"]


def test_the_python_api_follows_the_same_rules(tmp_path):
    (tmp_path / "notes.txt").write_text("keep")
    with pytest.raises(InputError, match="--overwrite"), atomic_dir(tmp_path):
        pass
    errors: list[BaseException] = []

    def interrupted() -> None:  # an interrupted write in another thread leaves nothing
        try:
            with atomic_dir(tmp_path / "x") as tmp:
                (tmp / "a").write_text("1")
                raise KeyboardInterrupt
        except KeyboardInterrupt as exc:
            errors.append(exc)

    t = threading.Thread(target=interrupted)
    t.start()
    t.join()
    assert errors and sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]
