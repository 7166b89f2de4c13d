"""A real distributed run: a Dask scheduler and two workers as separate processes on
localhost (the ``dask scheduler`` / ``dask worker`` commands any deployment runs), reached by
address. A trial, a sensitivity analysis and ``raadsim validate`` run against it and give the
local results; a worker killed mid-trial loses nothing."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("dask.distributed")
pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(shutil.which("dask") is None, reason="no dask command")]

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "ketamine_trial.toml"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start(args: list[str], log: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    return subprocess.Popen(args, stdout=log.open("w"), stderr=subprocess.STDOUT, env=env,
                            start_new_session=True)


def _stop(p: subprocess.Popen) -> None:
    if p.poll() is None:
        os.killpg(p.pid, signal.SIGTERM)
        try:
            p.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """tcp://127.0.0.1:PORT with two single-threaded worker processes."""
    from dask.distributed import Client

    d = tmp_path_factory.mktemp("dask")
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    procs = [_start(["dask", "scheduler", "--host", "127.0.0.1", "--port", str(port),
                     "--no-dashboard"], d / "scheduler.log")]
    workers = []
    try:
        deadline = time.time() + 60
        while True:
            try:
                Client(address, timeout=2).close()
                break
            except OSError:
                if time.time() > deadline:
                    raise RuntimeError((d / "scheduler.log").read_text()) from None
                time.sleep(0.5)
        for k in range(2):
            w = _start(["dask", "worker", address, "--nworkers", "1", "--nthreads", "1",
                        "--no-dashboard", "--name", f"w{k}"], d / f"worker{k}.log")
            procs.append(w)
            workers.append(w)
        with Client(address, timeout=10) as c:
            c.wait_for_workers(2, timeout=120)
        yield address, workers, d
    finally:
        for p in reversed(procs):
            _stop(p)


def _trial(n: int):
    from raadsim.io.trial_file import load_trial

    tf = load_trial(EXAMPLE)
    cat = tf.catalogue()
    return tf.model_copy(update={"population": tf.population.model_copy(update={"n": n})}), cat


def test_trial_on_the_cluster_equals_the_local_run(cluster):
    from raadsim.simulate.trial import run_trial

    address, _, _ = cluster
    tf, cat = _trial(12)
    local = run_trial(tf, cat, executor="serial", chunk_size=4)
    remote = run_trial(tf, cat, executor="dask", dask_address=address, chunk_size=4)
    assert remote.patients.equals(local.patients)
    assert remote.timecourse.equals(local.timecourse)


def test_sensitivity_on_the_cluster_equals_the_local_run(cluster):
    from raadsim.analysis.sensitivity import run_sensitivity
    from raadsim.io.scenario import load_scenario

    address, _, _ = cluster
    sc = load_scenario(ROOT / "examples" / "ketamine_single_trd.toml")
    cat = sc.catalogue()
    kw = {"method": "morris", "n": 2, "params": ["k_mtorc1", "k_trkb", "k_bdnf_rel"],
          "seed": 1, "chunk_size": 2}
    local = run_sensitivity(sc, cat, "clinic.madrs", ["24 h"], executor="serial", **kw)
    remote = run_sensitivity(sc, cat, "clinic.madrs", ["24 h"], executor="dask",
                             address=address, **kw)
    assert remote.indices.equals(local.indices)


def test_validate_on_the_cluster_equals_the_local_run(cluster, tmp_path):
    address, _, _ = cluster
    args = [sys.executable, "-m", "raadsim", "validate", "--layer", "pk", "--drug",
            "esketamine"]
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    for name, extra in (("local", ["--executor", "serial"]), ("remote", ["--dask", address])):
        subprocess.run([*args, *extra, "--out", str(tmp_path / name)], check=True, env=env,
                       capture_output=True, timeout=900)
    a = json.loads((tmp_path / "local" / "scorecard.json").read_text())
    b = json.loads((tmp_path / "remote" / "scorecard.json").read_text())
    assert a["records"] and len(a["records"]) == len(b["records"])
    for x, y in zip(a["records"], b["records"], strict=True):
        # the same outcome; the value to round-off (a record's runs reuse a worker's
        # compiled models in another order than the serial run: differences of ~1e-11)
        assert {k: v for k, v in x.items() if k != "simulated"} == {
            k: v for k, v in y.items() if k != "simulated"}
        assert y["simulated"] == pytest.approx(x["simulated"], rel=1e-9, abs=1e-12)


def test_a_worker_killed_mid_trial_loses_nothing(cluster):
    """One worker is killed after the first chunks finish; the scheduler reruns its chunks
    on the other worker and the trial is the local one."""
    from raadsim.simulate.trial import run_trial

    address, workers, _ = cluster
    tf, cat = _trial(24)
    local = run_trial(tf, cat, executor="serial", chunk_size=2)
    killed = threading.Event()

    def kill_one(done: int, total: int) -> None:
        if done >= 4 and not killed.is_set():
            killed.set()
            os.killpg(workers[1].pid, signal.SIGKILL)

    remote = run_trial(tf, cat, executor="dask", dask_address=address, chunk_size=2,
                       on_chunk=kill_one)
    assert killed.is_set()
    assert remote.patients.equals(local.patients)
    np.testing.assert_array_equal(remote.timecourse.to_numpy(), local.timecourse.to_numpy())
