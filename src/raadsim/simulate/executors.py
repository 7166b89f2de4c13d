"""Run independent chunks serially, on local processes, or on Dask.

libRoadRunner holds the GIL while it integrates, so there are no thread pools: parallel
executors use processes (one compiled model per worker and arm, cached in the worker).

* ``serial`` — in this process.
* ``processes`` — a spawn-context process pool, kept for the next call with the same number
  of workers, so repeated calls (calibration, validation, API loops) neither spawn workers nor
  recompile models again. If a worker dies, the pool breaks; the chunks that had not returned
  are re-run on a fresh pool (up to ``retries`` times).
* ``dask`` — ``dask.distributed`` (extra ``raadsim[dask]``): a LocalCluster of single-threaded
  worker processes, or the scheduler at ``address``. Dask re-runs the chunks of a lost worker.

Results are yielded as chunks finish (in any order). On Ctrl-C, SIGTERM (which the CLI turns
into a KeyboardInterrupt) or any error the pool is torn down (its workers terminated and
reaped) and discarded, and the exception propagates; callers write outputs only after the last
chunk. Workers also stop by themselves when the process that started them is gone (a watchdog
thread in each worker), so no worker outlives its parent, even one killed with SIGKILL.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

from ..errors import InputError, ModelError

EXECUTORS = ("serial", "processes", "dask")
T = TypeVar("T")
R = TypeVar("R")


def map_chunks(fn: Callable[[T], R], tasks: Sequence[T], executor: str = "processes",
               workers: int | None = None, address: str | None = None,
               retries: int = 2) -> Iterator[R]:
    """Yield ``fn(task)`` for every task, as they finish."""
    if executor not in EXECUTORS:
        raise InputError("executor", executor, f"one of {', '.join(EXECUTORS)}")
    if executor == "serial" or not tasks:
        for t in tasks:
            yield fn(t)
    elif executor == "processes":
        yield from _processes(fn, tasks, workers or multiprocessing.cpu_count(), retries)
    else:
        yield from _dask(fn, tasks, workers, address, retries)


# How often a worker checks that its parent is alive, and how long a terminated worker may
# take to exit before it is killed (seconds).
PARENT_CHECK_S = 0.5
TERMINATE_GRACE_S = 5.0


def _exit_with_parent(parent: int) -> None:
    """Worker initializer: exit as soon as process ``parent`` is gone (the worker is then
    adopted by another process). A thread, so it also runs between two patients of a chunk."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_CHECK_S)
        os._exit(1)

    threading.Thread(target=watch, name="raadsim-parent-watch", daemon=True).start()


def _terminate(pool: ProcessPoolExecutor) -> None:
    # ProcessPoolExecutor has no public way to stop running work: terminate the workers and
    # reap them, so that none is left running (or holding the caller's stdout) afterwards.
    procs = list(getattr(pool, "_processes", {}).values())
    for proc in procs:
        proc.terminate()
    deadline = time.monotonic() + TERMINATE_GRACE_S
    for proc in procs:
        proc.join(max(0.0, deadline - time.monotonic()))
        if proc.is_alive():
            proc.kill()
            proc.join(1.0)
    # Let the pool's manager thread see its dead workers and finish (bounded) before going
    # on: if it is still tearing down when the interpreter exits, CPython 3.11's exit hook
    # can write to its wake-up pipe as the thread closes it, and prints a traceback
    # ("Exception ignored in: <module 'threading'>" from _python_exit) after our one line
    # (seen once in CI; _ThreadWakeup.wakeup takes no lock before CPython PR #125492).
    manager = getattr(pool, "_executor_manager_thread", None)
    pool.shutdown(wait=False, cancel_futures=True)
    if manager is not None:
        manager.join(TERMINATE_GRACE_S)


_KEPT: list[tuple[int, ProcessPoolExecutor]] = []   # (workers, pool): at most one kept pool
_KEPT_LOCK = threading.Lock()


def _pool(workers: int) -> ProcessPoolExecutor:
    """The kept pool, if it has ``workers`` processes; otherwise a new one is kept instead."""
    with _KEPT_LOCK:
        if _KEPT and _KEPT[0][0] != workers:
            _KEPT.pop()[1].shutdown(wait=True)
        if not _KEPT:
            _KEPT.append((workers, ProcessPoolExecutor(
                max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                initializer=_exit_with_parent, initargs=(os.getpid(),))))
        return _KEPT[0][1]


def _discard(pool: ProcessPoolExecutor, terminate: bool) -> None:
    with _KEPT_LOCK:
        _KEPT[:] = [k for k in _KEPT if k[1] is not pool]
    if terminate:
        _terminate(pool)
    else:
        pool.shutdown(wait=False, cancel_futures=True)


def shutdown_pool() -> None:
    """Stop the kept worker processes (they also stop when the interpreter exits)."""
    with _KEPT_LOCK:
        pools = [pool for _, pool in _KEPT]
        _KEPT.clear()
    for pool in pools:
        pool.shutdown(wait=True)


def _processes(fn: Callable[[T], R], tasks: Sequence[T], workers: int, retries: int
               ) -> Iterator[R]:
    pending = list(range(len(tasks)))
    for attempt in range(retries + 1):
        pool = _pool(workers)
        broken = False
        try:
            try:
                futures: dict[Future, int] = {pool.submit(fn, tasks[i]): i for i in pending}
            except BrokenProcessPool:       # a kept pool whose worker died since its last use
                futures, broken = {}, True
            remaining = set(futures)
            while remaining:
                finished, remaining = wait(remaining, return_when=FIRST_COMPLETED)
                for fut in finished:
                    try:
                        result = fut.result()
                    except BrokenProcessPool:
                        broken = True
                        continue
                    pending.remove(futures[fut])
                    yield result
        except BaseException:
            _discard(pool, terminate=True)
            raise
        if not broken:
            return
        _discard(pool, terminate=False)
        if attempt == retries:
            raise ModelError(f"worker processes died {retries + 1} times; "
                             f"{len(pending)} chunks could not be run")


def _dask(fn: Callable[[T], R], tasks: Sequence[T], workers: int | None, address: str | None,
          retries: int) -> Iterator[R]:
    try:
        from dask.distributed import Client, LocalCluster, as_completed
    except ImportError:
        raise InputError("executor", "dask",
                         "the Dask extra to be installed: pip install 'raadsim[dask]'") from None
    cluster: Any = None
    if address is None or address == "local":
        cluster = LocalCluster(n_workers=workers or multiprocessing.cpu_count(),
                               threads_per_worker=1, processes=True, dashboard_address=None)
        client = Client(cluster)
    else:
        try:
            client = Client(address, timeout=10)
        except (OSError, ValueError) as exc:  # ValueError: an address without a port
            raise InputError("--dask", address,
                             f"a reachable Dask scheduler such as tcp://host:8786 ({exc})"
                             ) from None
    try:
        futures = client.map(fn, list(tasks), retries=retries, pure=False)
        for _, result in as_completed(futures, with_results=True):
            yield result
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
