"""Where a backend's jobs run: local worker processes (up to one per core, or $EXPLAINER_WORKERS),
or a Dask cluster's executors ($EXPLAINER_SCHEDULER, explainer/cluster.py), chosen once; and the
pools a service keeps, one per backend, each starting its workers as its jobs need them and
retired after a bounded number of runs so that whatever a worker keeps goes back to the system."""

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
from explainer.jobs import AS_PREFETCH, Unreachable

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
# every local worker (process_worker), where a prefetch stops when it is above 0 (jobs.give_way),
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


def process_worker(backend: str) -> ProcessPoolExecutor:
    """One worker for a backend's jobs: a spawned process (never forked from a threaded server)
    started for that backend."""
    start = functools.partial(START, backend, os.getpid(), WAITED)
    return ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"), initializer=start)


def scheduler() -> str:
    """The address of the Dask scheduler jobs go to ($EXPLAINER_SCHEDULER); "" for local pools."""
    return os.environ.get(SCHEDULER_VARIABLE, "").strip()


def executors() -> Callable[[str], Executor]:
    """Where jobs run, chosen once: on the Dask cluster whose scheduler $EXPLAINER_SCHEDULER names
    (explainer/cluster.py), else in local worker processes."""
    address = scheduler()
    if not address:
        return process_worker
    # imported by name: Dask's client (about 40 MB, 0.5 s) loads only in a process that uses a cluster
    return importlib.import_module("explainer.cluster").executors(address)


@dataclasses.dataclass(eq=False)
class _Worker:
    executor: Executor
    start: Future  # done once it is up
    busy: int = 0  # its jobs not done yet
    # of those, the ones that are not prefetches (a prefetch gives its worker up; one somebody has
    # waited for since, which goes on instead, still counts as a prefetch here)
    waited: int = 0
    runs: int = 0


@dataclasses.dataclass(eq=False)
class _Pool:
    workers: list[_Worker] = dataclasses.field(default_factory=list)

    def retiring(self, runs_per_worker: int) -> bool:
        return any(worker.runs >= runs_per_worker for worker in self.workers)


class Pools:
    """A pool per backend of at most `capacity` workers, each made by `factory(backend)` (an
    executor of one worker; on a cluster, the backend's share of it); `lock` is the service's
    (re-entrant: a successor takes over from a done callback). A job goes to an idle worker (one
    that runs only prefetches, which give way, is as good for a job somebody waits for), and a
    pool starts another worker only when every one it has is busy: a worker's start costs
    seconds of CPU (a TensorFlow worker imports its engines, a JAX worker compiles every new
    model), which a cold host's first visitor would wait for, and a worker that has run a job
    runs the next of its kind without starting or compiling again. Once one of its workers has
    served `runs_per_worker` runs (RUNS_PER_WORKER by default), a successor takes over."""

    def __init__(self, factory: Callable[[str], Executor], capacity: int, lock: threading.RLock, runs_per_worker: int | None):
        self._factory, self._capacity, self._lock = factory, capacity, lock
        self.runs_per_worker = runs_per_worker or RUNS_PER_WORKER
        self.active: dict[str, _Pool] = {}
        self._successors: dict[str, _Pool] = {}  # starting, to take over from a pool that served its runs
        self.started = 0  # pools
        self.submitted = 0  # jobs handed to a pool, in all

    def submit(self, function: Callable, *args, backend: str, run: bool) -> Future:
        """`function(*args)` on one of the backend's workers now; `run`: whether it counts toward
        the worker's runs. A pool that has served its runs goes on while its successor starts
        (nobody waits for a pool's start); a broken one (a worker died, a cluster's client lost
        its scheduler) is replaced at once. A replaced pool finishes its queue, then exits.
        Whatever goes wrong while submitting comes back as the future's exception (Unreachable
        while a cluster's scheduler is away)."""
        with self._lock:
            try:
                pool = self._pool(backend)
                waited = function is not AS_PREFETCH
                try:
                    worker = self._worker(pool, backend, waited)
                    future = worker.executor.submit(function, *args)
                except (BrokenExecutor, RuntimeError, Unreachable):  # RuntimeError: shut down by someone else
                    worker = self._worker(self._replace(backend), backend, waited)
                    future = worker.executor.submit(function, *args)
                worker.busy, worker.waited = worker.busy + 1, worker.waited + waited
                worker.runs += run
                self.submitted += 1
                # before the caller's own callbacks, which may submit the next job: it finds this worker idle
                future.add_done_callback(functools.partial(self._done, worker, waited))
            except Exception as error:
                future = Future()
                future.set_exception(error)
            return future

    def idle_backend(self) -> str | None:
        """A backend whose pool has a worker that is up and has nothing to do, if any."""
        with self._lock:
            for backend, pool in self.active.items():
                if any(worker.start.done() and not worker.busy for worker in pool.workers):
                    return backend
            return None

    def shutdown(self) -> None:
        with self._lock:
            pools, self.active, self._successors = [*self.active.values(), *self._successors.values()], {}, {}
        for worker in (worker for pool in pools for worker in pool.workers):
            # without the lock: a job finishing meanwhile takes it in its callback
            worker.executor.shutdown(wait=True, cancel_futures=True)

    def _done(self, worker: _Worker, waited: bool, _: Future) -> None:
        with self._lock:
            worker.busy, worker.waited = worker.busy - 1, worker.waited - waited

    def _worker(self, pool: _Pool, backend: str, waited: bool) -> _Worker:
        """The pool's first idle worker; for a job somebody waits for, else the first that runs only
        prefetches (they give way to it within a moment; a new worker's start takes seconds); else
        a new one, up to capacity; else the least busy."""
        free = [worker for worker in pool.workers if not worker.busy]
        free += [worker for worker in pool.workers if waited and worker.busy and not worker.waited]
        if free:
            return free[0]
        if len(pool.workers) < self._capacity:
            return self._add_worker(pool, backend)
        return min(pool.workers, key=lambda worker: worker.busy)

    def _add_worker(self, pool: _Pool, backend: str) -> _Worker:
        """A new worker, started at once by a first job of its own, which tells when it is up."""
        executor = self._factory(backend)
        pool.workers.append(worker := _Worker(executor, executor.submit(os.getpid)))
        return worker

    def _pool(self, backend: str) -> _Pool:
        """The backend's pool to submit to. One that has served its runs gets a successor, which
        takes over once its workers are up."""
        pool = self.active.get(backend)
        if pool is None:
            return self._replace(backend)
        if pool.retiring(self.runs_per_worker) and backend not in self._successors:
            self._start_successor(backend, len(pool.workers))
        return self.active[backend]  # the successor, if its workers were up at once

    def _started(self, backend: str, workers: int) -> _Pool:
        pool = _Pool()
        for _ in range(workers):
            self._add_worker(pool, backend)
        self.started += 1
        return pool

    def _replace(self, backend: str) -> _Pool:
        retired = self.active.pop(backend, None)
        pool = self.active[backend] = self._successors.pop(backend, None) or self._started(backend, 1)
        if retired is not None:
            for worker in retired.workers:
                worker.executor.shutdown(wait=False)
        return pool

    def _start_successor(self, backend: str, workers: int) -> None:
        """Start the backend's next pool, as many workers as the one it succeeds; it takes over
        once they are up."""
        successor = self._successors[backend] = self._started(backend, workers)

        def take_over(_) -> None:
            with self._lock:
                if self._successors.get(backend) is successor and all(worker.start.done() for worker in successor.workers):
                    self._replace(backend)

        for worker in successor.workers:
            worker.start.add_done_callback(take_over)
