"""Cause 9 of issue 19: SIGTERM ends a run like Ctrl-C (nothing written, no worker process
left); usage errors of the flags are one line."""

from __future__ import annotations

import importlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT

from .cli_check import SCENARIO, TRIAL, check_call, invoke, tree

linux_only = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")


def _descendants(pid: int) -> list[int]:
    """Live descendants of ``pid`` (from /proc; zombies excluded)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if fields[0] != "Z":
                children.setdefault(int(fields[1]), []).append(int(entry))
    out, todo = [], [pid]
    while todo:
        for c in children.get(todo.pop(), []):
            out.append(c)
            todo.append(c)
    return out


def _alive(pids: list[int]) -> list[int]:
    alive = []
    for p in pids:
        try:
            state = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            alive.append(p)
    return alive


def _catches_sigterm(pid: int) -> bool:
    """Whether ``pid`` has installed a handler for SIGTERM (the SigCgt mask in /proc)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    mask = next((ln.split()[1] for ln in status.splitlines() if ln.startswith("SigCgt:")), "0")
    return bool(int(mask, 16) & (1 << (signal.SIGTERM - 1)))


def _wait_for_handler(proc: subprocess.Popen, timeout: float = 120) -> None:
    """Wait until raadsim handles SIGTERM (before that the default action kills it, which
    writes nothing either, but exits -15 rather than 143)."""
    deadline = time.monotonic() + timeout
    while not _catches_sigterm(proc.pid) and time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()[1].decode()
        time.sleep(0.05)
    assert _catches_sigterm(proc.pid), "raadsim never installed its SIGTERM handler"


def _start(args: list[str]) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"),
                                                         os.environ.get("PYTHONPATH", "")])}
    return subprocess.Popen([sys.executable, "-m", "raadsim.cli", *args], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


@linux_only
@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL])
def test_a_signal_with_workers_alive_leaves_no_process_and_no_output(tmp_path, sig):
    """``raadsim trial`` with the process executor; the signal arrives while its two workers
    simulate. SIGTERM: exit 143, one line, nothing written; SIGKILL: the workers notice that
    their parent is gone and stop too (no orphan holds the caller's stdout)."""
    out = tmp_path / "out"
    proc = _start(["trial", str(ROOT / "examples" / "ketamine_trial.toml"), "--out", str(out),
                   "--executor", "processes", "--workers", "2"])
    deadline = time.monotonic() + 120
    while len(kids := _descendants(proc.pid)) < 3 and time.monotonic() < deadline:
        time.sleep(0.1)  # the resource tracker and the two workers
    assert len(kids) >= 3, "the workers did not start"
    _wait_for_handler(proc)
    time.sleep(2)  # the workers are compiling or simulating
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)  # returns: no orphan holds stdout or stderr open
    if sig == signal.SIGTERM:
        assert proc.returncode == 143
        assert err.decode().strip().splitlines() == ["terminated: no output written"]
    deadline = time.monotonic() + 10
    while _alive(kids) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _alive(kids) == []
    assert not out.exists() and list(tmp_path.iterdir()) == []


@linux_only
def test_sigterm_during_a_serial_run_writes_nothing(tmp_path):
    # 700 daily infusions over two years: several seconds of integration after the handler
    # is installed (a 30-day run once finished within the 2 s wait on a fast CI machine, and
    # the late SIGTERM then met the default action: exit -15)
    (tmp_path / "s.toml").write_text(
        SCENARIO.replace('infusion = "40 min"',
                         'infusion = "40 min"\nrepeat = { every = "1 d", count = 700 }')
        .replace('end = "2 h"', 'end = "730 d"').replace('"20 min"', '"1 h"'))
    proc = _start(["run", str(tmp_path / "s.toml"), "--out", str(tmp_path / "out")])
    _wait_for_handler(proc)
    time.sleep(1)  # building or integrating
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 143, err.decode()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.toml"]


USAGE = [
    ["run"],
    ["run", "s.toml", "--out"],
    ["run", "s.toml", "--out", "o", "--bogus"],
    ["run", "s.toml", "--out", "o", "--engine"],
    ["trial", "t.toml", "--out", "o", "--workers", "abc"],
    ["trial", "t.toml", "--out", "o", "--workers", "-1"],
    ["trial", "t.toml", "--out", "o", "--workers", "99999999999999999999999"],
    ["trial", "t.toml", "--out", "o", "--chunk", "1e9"],
    ["trial", "t.toml", "--out", "o", "--keep-trajectories=maybe"],
    ["sensitivity", "s.toml", "--seed", "-3"],
    ["explain", "x", "--depth", "[/]"],
    ["app", "--port", "70000"],
    ["nosuchcommand"],
    ["export", "nosuch"],
]


@pytest.mark.parametrize("args", USAGE, ids=" ".join)
def test_usage_errors_are_one_line(tmp_path, args):
    before = tree(tmp_path)
    call = invoke(args)
    assert check_call(call, tmp_path, before, None, None).startswith("usage: ")


@pytest.mark.parametrize("address", ["[/]", "host", "tcp://host", "tcp://host:0",
                                     "tcp://host:99999", "a b:1", "tcp://:8786"])
def test_a_bad_dask_address_is_one_line_before_simulating(tmp_path, monkeypatch, address):
    """A malformed --dask address used to end in a ValueError traceback from distributed."""
    trial = importlib.import_module("raadsim.simulate.trial")
    monkeypatch.setattr(trial, "run_trial", lambda *a, **k: pytest.fail("simulated"))
    (tmp_path / "t.toml").write_text(TRIAL)
    before = tree(tmp_path)
    call = invoke(["trial", str(tmp_path / "t.toml"), "--out", str(tmp_path / "o"), "--dask",
                   address])
    assert check_call(call, tmp_path, before, None, None) == "--dask", call.output
    assert "tcp://host:8786" in call.output


@pytest.mark.parametrize("address", ["local", "tcp://127.0.0.1:8786", "localhost:8786",
                                     "tls://[::1]:8786", "scheduler-1.example.org:1"])
def test_good_dask_addresses_pass_the_check(address):
    from raadsim.cli import _check_executor

    assert _check_executor("processes", address) == "dask"


def test_app_host_and_port_are_checked_before_serving(tmp_path):
    """A host that does not resolve or a port in use used to exit 1 after the banner."""
    pytest.importorskip("dash")
    before = tree(tmp_path)
    call = invoke(["app", "--host", "[/]"])
    assert check_call(call, tmp_path, before, None, None) == "--host", call.output
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        call = invoke(["app", "--port", str(port)])
    assert check_call(call, tmp_path, before, None, None) == "--port", call.output
    assert "in use" in call.output
