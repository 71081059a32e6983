"""Where a backend's jobs run: local process pools (one worker per core, or $EXPLAINER_WORKERS),
or a Dask cluster's executors ($EXPLAINER_SCHEDULER, explainer/cluster.py), chosen once; and the
pools a service keeps, one per backend, each retired after a bounded number of runs so that
whatever a worker keeps goes back to the system."""

from __future__ import annotations

import dataclasses
import functools
import importlib
import multiprocessing
import os
import threading
from collections.abc import Callable
from concurrent.futures import BrokenExecutor, Executor, Future, ProcessPoolExecutor

from explainer.calls import START
from explainer.jobs import Unreachable

WORKERS_VARIABLE = "EXPLAINER_WORKERS"
SCHEDULER_VARIABLE = "EXPLAINER_SCHEDULER"
# runs each worker of a pool serves before the pool is replaced, so that whatever a worker keeps
# goes back to the system. Measured on one TensorFlow worker training the sidebar's distinct
# configurations: 0.98 GB at start, 1.35 GB after 25-50 runs, 1.47 after 100, 1.73 after 200
# (each new architecture keeps its traces). A new pool's start (TensorFlow imported, then an
# engine's first traces) costs ~6 s of CPU, so it is not replaced more often. Derived results do
# not count: they leave nothing (measured: one worker at 810-821 MB from its 10th to its 120th
# loss surface)
RUNS_PER_WORKER = 50

# jobs somebody waits for, queued or running, in all of this process's services: shared with
# every worker process_pool starts, where a prefetch stops when it is above 0 (jobs.give_way),
# so that what somebody waits for has the cores (measured on the loss-surface page right after
# it appears: a control's two surfaces took 4.2 s beside a running prefetch, 3.2 s without)
WAITED = multiprocessing.get_context("spawn").RawValue("i", 0)
WAITED_LOCK = threading.Lock()


def worker_count() -> int:
    """$EXPLAINER_WORKERS, else one worker per core."""
    text = os.environ.get(WORKERS_VARIABLE, "").strip()
    if not text:
        return os.cpu_count() or 1
    if not text.isdigit() or int(text) < 1:
        raise ValueError(f"{WORKERS_VARIABLE} must be a whole number >= 1; got {text!r}")
    return int(text)


def process_pool(backend: str, workers: int | None = None) -> ProcessPoolExecutor:
    """The default executor for a backend's runs: `workers` (by default `worker_count()`) spawned
    processes (never forked from a threaded server), each started for that backend."""
    start = functools.partial(START, backend, os.getpid(), WAITED)
    return ProcessPoolExecutor(workers or worker_count(), mp_context=multiprocessing.get_context("spawn"), initializer=start)


def scheduler() -> str:
    """The address of the Dask scheduler jobs go to ($EXPLAINER_SCHEDULER); "" for local pools."""
    return os.environ.get(SCHEDULER_VARIABLE, "").strip()


def executors() -> Callable[[str], Executor]:
    """Where jobs run, chosen once: on the Dask cluster whose scheduler $EXPLAINER_SCHEDULER names
    (explainer/cluster.py), else in local process pools."""
    address = scheduler()
    if not address:
        return process_pool
    # imported by name: Dask's client (about 40 MB, 0.5 s) loads only in a process that uses a cluster
    return importlib.import_module("explainer.cluster").executors(address)


@dataclasses.dataclass
class _Pool:
    executor: Executor
    runs: int = 0
    starts: list[Future] = dataclasses.field(default_factory=list)  # one per worker, done once it is up


class Pools:
    """A pool per backend, made by `factory(backend)` with `capacity` workers, serving
    `runs_per_pool` runs (by default RUNS_PER_WORKER for each worker) before a successor takes
    over; `lock` is the service's (re-entrant: a successor takes over from a done callback)."""

    def __init__(self, factory: Callable[[str], Executor], capacity: int, lock: threading.RLock, runs_per_pool: int | None):
        self._factory, self._capacity, self._lock = factory, capacity, lock
        self.runs_per_pool = runs_per_pool or RUNS_PER_WORKER * capacity
        self.active: dict[str, _Pool] = {}
        self._successors: dict[str, _Pool] = {}  # starting, to take over from a pool that served its runs
        self.started = 0
        self.submitted = 0  # jobs handed to a pool, in all

    def submit(self, function: Callable, *args, backend: str, run: bool) -> Future:
        """`function(*args)` on the backend's pool now; `run`: whether it counts toward the pool's
        runs. A pool that has served its runs goes on while its successor starts (nobody waits for
        a pool's start); a broken one (a worker died, a cluster's client lost its scheduler) is
        replaced at once. A replaced pool finishes its queue, then exits. Whatever goes wrong
        while submitting comes back as the future's exception (Unreachable while a cluster's
        scheduler is away)."""
        with self._lock:
            try:
                pool = self._pool(backend)
                try:
                    future = pool.executor.submit(function, *args)
                except (BrokenExecutor, RuntimeError, Unreachable):  # RuntimeError: shut down by someone else
                    pool = self._replace(backend)
                    future = pool.executor.submit(function, *args)
                pool.runs += run
                self.submitted += 1
            except Exception as error:
                future = Future()
                future.set_exception(error)
            return future

    def shutdown(self) -> None:
        with self._lock:
            pools, self.active, self._successors = [*self.active.values(), *self._successors.values()], {}, {}
        for pool in pools:  # without the lock: a job finishing meanwhile takes it in its callback
            pool.executor.shutdown(wait=True, cancel_futures=True)

    def _pool(self, backend: str) -> _Pool:
        """The backend's pool to submit to. One that has served its runs gets a successor, which
        takes over once its workers are up."""
        pool = self.active.get(backend)
        if pool is None:
            return self._replace(backend)
        if pool.runs >= self.runs_per_pool and backend not in self._successors:
            self._start_successor(backend)
        return self.active[backend]  # the successor, if its workers were up at once

    def _started(self, backend: str) -> _Pool:
        """A new pool with every worker starting now (one first job each): none waits to import its
        backend later."""
        pool = _Pool(self._factory(backend))
        pool.starts = [pool.executor.submit(os.getpid) for _ in range(self._capacity)]
        self.started += 1
        return pool

    def _replace(self, backend: str) -> _Pool:
        retired = self.active.pop(backend, None)
        pool = self.active[backend] = self._successors.pop(backend, None) or self._started(backend)
        if retired is not None:
            retired.executor.shutdown(wait=False)
        return pool

    def _start_successor(self, backend: str) -> None:
        """Start the backend's next pool; it takes over once its workers' first jobs are done."""
        successor = self._successors[backend] = self._started(backend)

        def take_over(_) -> None:
            with self._lock:
                if self._successors.get(backend) is successor and all(start.done() for start in successor.starts):
                    self._replace(backend)

        for start in successor.starts:
            start.add_done_callback(take_over)
