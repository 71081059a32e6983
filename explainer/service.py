"""Training outside the caller's process: worker processes train runs into a RunStore.

Any number of sessions asking for one run share one future; other processes on the same store
wait on the key's file lock instead of training it again. Workers import TensorFlow and the
compiled kernels, the caller never does (see InWorker). Runs wait in one queue, smallest first,
and start only when a worker is free, so a small run is never stuck behind a long one; runs
nobody waits for any more (their sessions left) are dropped before they start. A pool is
retired after a bounded number of runs, so that whatever a worker keeps goes back to the system
with it: its successor starts beside it, and it serves until the successor's workers are up; a
pool whose worker died is replaced on the next request.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import heapq
import importlib
import itertools
import multiprocessing
import os
import threading
from collections.abc import Callable
from concurrent.futures import BrokenExecutor, Executor, Future, ProcessPoolExecutor

from explainer.config import RunConfig
from explainer.data import Mnist, MnistUnavailable
from explainer.engines import ENGINES
from explainer.jobs import AS_PREFETCH, InWorker, Job, Preempted
from explainer.store.cache import RunStore, run_key
from explainer.store.derived import Derivation, DerivedJob

WORKERS_VARIABLE = "EXPLAINER_WORKERS"
# runs each worker of a pool serves before the pool is replaced, so that whatever a worker keeps
# goes back to the system. Measured on one TensorFlow worker training the sidebar's distinct
# configurations: 0.98 GB at start, 1.35 GB after 25-50 runs, 1.47 after 100, 1.73 after 200
# (each new architecture keeps its traces). A new pool's start (TensorFlow imported, then an
# engine's first traces) costs ~6 s of CPU, so it is not replaced more often. Derived results do
# not count: they leave nothing (measured: one worker at 810-821 MB from its 10th to its 120th
# loss surface)
RUNS_PER_WORKER = 50
# SGD steps one session may have waiting (not yet started) at once: three views' worth at the
# largest run length the sidebar allows, so a visitor who clicks faster than runs train is told
# to wait instead of filling the queue for everybody
MAX_QUEUED_STEPS_PER_SESSION = 3_000_000
MAX_PREFETCHED = 64  # runs and results queued ahead of anybody's asking, at most
# whose workers compute derived results: they are NumPy and numba only, so any backend's would do
DERIVED_BACKEND = "tensorflow"


# jobs somebody waits for, queued or running, in all of this process's services: shared with
# every worker process_pool starts, where a prefetch stops when it is above 0 (jobs.give_way),
# so that what somebody waits for has the cores (measured on the loss-surface page right after
# it appears: a control's two surfaces took 4.2 s beside a running prefetch, 3.2 s without)
_WAITED = multiprocessing.get_context("spawn").RawValue("i", 0)
_WAITED_LOCK = threading.Lock()


def prefetch_workers(capacity: int) -> int:
    """Workers that what nobody asked for yet may hold at once: all but one, so that what
    somebody asks for next starts at once instead of waiting for a prefetched result to end (a
    loss surface takes seconds); all of them when there is only one."""
    return max(1, capacity - 1)


# what a worker does with a job: train its run, or derive its result
TRAIN = InWorker("runs", "train_job")
DERIVE = InWorker("compute", "derive_job")


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
    start = functools.partial(InWorker("process", "start"), backend, os.getpid(), _WAITED)
    return ProcessPoolExecutor(workers or worker_count(), mp_context=multiprocessing.get_context("spawn"), initializer=start)


SCHEDULER_VARIABLE = "EXPLAINER_SCHEDULER"


def executors() -> Callable[[str], Executor]:
    """Where jobs run, chosen once: on the Dask cluster whose scheduler $EXPLAINER_SCHEDULER names
    (explainer/cluster.py), else in local process pools."""
    address = os.environ.get(SCHEDULER_VARIABLE, "").strip()
    if not address:
        return process_pool
    # imported by name: Dask's client (about 40 MB, 0.5 s) loads only in a process that uses a cluster
    return importlib.import_module("explainer.cluster").executors(address)


@dataclasses.dataclass(frozen=True)
class Run:
    """A requested run: its config, its key in the store, and the future of its training
    (already done when the store had it). The future's exception says why a run failed; it is
    cancelled when every session that asked for it left before it started."""

    config: RunConfig
    key: str
    future: Future


class QueueFull(RuntimeError):
    """A session asked for more training than it may have waiting at once."""


def failure(error: BaseException) -> str:
    """Why a run failed, in words for the page or the terminal (never a traceback)."""
    if isinstance(error, BrokenExecutor):
        return "the worker process training it stopped (killed, or out of memory); asking again trains it in a new worker"
    return str(error) or type(error).__name__


@dataclasses.dataclass(eq=False)
class _Waiting:
    """A key in the queue or running: `function(job)` to run on `backend`'s pool, its size in
    SGD steps (the queue's order), the one future every requester shares, and the sessions that
    asked for it (None for nobody in particular: the CLI, prefetch)."""

    function: Callable
    job: Job | DerivedJob
    steps: int
    backend: str
    future: Future
    sessions: set
    ticket: int = 0  # the queue entry that stands for it; older entries are stale
    started: bool = False
    prefetch: bool = False  # nobody waits for it yet: it goes after everything somebody waits for
    claimed: bool = False  # started as a prefetch, waited for since: its store says so to its worker


@dataclasses.dataclass
class _Pool:
    executor: Executor
    runs: int = 0
    starts: list[Future] = dataclasses.field(default_factory=list)  # one per worker, done once it is up


class TrainingService:
    """Trains runs into `store` on executors made by `executor_factory(backend)` (any
    concurrent.futures.Executor; by default `executors()`), one pool per backend, at most
    `worker_count()` runs at once in all, smallest run first, one run per key; a pool serves
    `runs_per_pool` runs (by default RUNS_PER_WORKER for each of its workers).
    `session_alive(session)` tells whether a session still waits for its runs; `prefetching`
    whether runs and results nobody asked for yet are computed ahead."""

    def __init__(
        self,
        store: RunStore,
        executor_factory: Callable[[str], Executor] | None = None,
        runs_per_pool: int | None = None,
        job: Callable[[Job], str] = TRAIN,
        session_alive: Callable[[str], bool] = lambda session: True,
        derive: Callable[[DerivedJob], str] = DERIVE,
        prefetching: bool = True,
    ):
        self.store, self.runs_per_pool = store, runs_per_pool or RUNS_PER_WORKER * worker_count()
        with contextlib.suppress(OSError):  # unwritable: said by the first write, in its own words
            store.directory.mkdir(parents=True, exist_ok=True)
        store.remove_orphans()
        self._factory, self._job, self._derive, self._alive = executor_factory or executors(), job, derive, session_alive
        self.prefetching = prefetching
        self._capacity = worker_count()
        self._lock = threading.RLock()  # re-entrant: a done callback may run inside `request`
        self._waiting: dict[str, _Waiting] = {}
        self._queue: list[tuple[bool, int, int, str]] = []  # (prefetch, SGD steps, ticket, key): a heap
        self._tickets = itertools.count()
        self._running = 0
        self._prefetching = 0  # of the running, those nobody waited for when they started
        self._waited = 0  # this service's share of the shared count (_WAITED)
        self._pools: dict[str, _Pool] = {}
        self._successors: dict[str, _Pool] = {}  # starting, to take over from a pool that served its runs
        self._stopped = False
        self.pools_started = 0
        self.submitted = 0  # jobs handed to a pool by this service, in all

    def request(self, config: RunConfig, mnist: Mnist, session: str | None = None, prefetch: bool = False) -> Run:
        """The run for `config` on `mnist`: from the store, joined if queued or training, else
        queued (after everything waited for, if `prefetch`: nobody waits for it yet). A failed
        run is forgotten, so the next request trains it again."""
        key = run_key(config, mnist.fingerprint)
        job = Job(config, key, mnist.source, self.store)
        future = self._request(self._job, job, config.training_steps, ENGINES[config.engine].backend, session, prefetch)
        return Run(config, key, future)

    def derive(
        self, derivation: Derivation, mnist: Mnist, session: str | None = None, prefetch: bool = False
    ) -> tuple[str, Future]:
        """The key of a derived result and the future of its computation in a worker (done if
        stored); its runs must be in the store. It goes before any training: it takes seconds."""
        key = derivation.key(mnist.fingerprint)
        job = DerivedJob(derivation, key, mnist.source, self.store)
        return key, self._request(self._derive, job, 0, DERIVED_BACKEND, session, prefetch)

    def _request(self, function: Callable, job, steps: int, backend: str, session: str | None, prefetch: bool) -> Future:
        with self._lock:
            waiting = self._waiting.get(job.key)
            if waiting is not None:
                if not prefetch:
                    waiting.sessions.add(session)
                    if waiting.prefetch:  # somebody waits for it now
                        waiting.prefetch = False
                        if waiting.started:  # it goes on where it is rather than giving way to others
                            self._prefetching -= 1
                            waiting.claimed = True
                            self.store.claim(job.key)
                        else:  # to the front
                            self._enqueue(waiting)
                        self._recount()
                        self._dispatch()
                return waiting.future
            future = Future()
            if self.store.has(job.key):
                future.set_result(job.key)
                return future
            if session is not None and self.queued_steps(session) + steps > MAX_QUEUED_STEPS_PER_SESSION:
                future.set_exception(
                    QueueFull(
                        f"this page already has {self.queued_steps(session):,} SGD steps waiting for a worker, and may "
                        f"have at most {MAX_QUEUED_STEPS_PER_SESSION:,}; wait for them to finish, then ask again"
                    )
                )
                return future
            if prefetch and (not self.prefetching or sum(w.prefetch for w in self._waiting.values()) >= MAX_PREFETCHED):
                future.cancel()  # enough is queued ahead already
                return future
            sessions = set() if prefetch else {session}
            waiting = self._waiting[job.key] = _Waiting(function, job, steps, backend, future, sessions, prefetch=prefetch)
            self._enqueue(waiting)
            self._recount()
            self._dispatch()
        return future

    @property
    def idle(self) -> bool:
        """Nothing queued or running: prefetch included."""
        with self._lock:
            return not self._waiting

    def queued_steps(self, session: str) -> int:
        """SGD steps of the runs `session` asked for that have not started yet."""
        with self._lock:
            return sum(w.steps for w in self._waiting.values() if not w.started and session in w.sessions)

    def submit(self, function: Callable, *args, backend: str = "tensorflow", run: bool = True) -> Future:
        """Run `function(*args)` on the backend's pool now, outside the queue; `run`: whether it
        counts toward the pool's runs. A pool that has served its runs goes on while its successor
        starts (nobody waits for a pool's start); a broken one (a worker died) is replaced at once.
        A replaced pool finishes its queue, then exits. Whatever goes wrong while submitting comes
        back as the future's exception."""
        with self._lock:
            try:
                pool = self._pool(backend)
                try:
                    future = pool.executor.submit(function, *args)
                except (BrokenExecutor, RuntimeError):  # RuntimeError: shut down by someone else
                    pool = self._replace_pool(backend)
                    future = pool.executor.submit(function, *args)
                pool.runs += run
                self.submitted += 1
            except Exception as error:
                future = Future()
                future.set_exception(error)
            return future

    def download_mnist(self) -> None:
        """Keras' own download of MNIST into its cache, in a worker (Keras is imported there);
        MnistUnavailable with the worker's message, or why the worker stopped, if it fails."""
        error = self.submit(InWorker("device", "download_mnist")).exception()
        if error is not None:
            raise MnistUnavailable(failure(error)) from None

    def shutdown(self) -> None:
        with self._lock:
            self._stopped = True
            for key, waiting in list(self._waiting.items()):
                waiting.future.cancel()
                if not waiting.started:  # never to start: a running one leaves in its callback
                    del self._waiting[key]
            self._recount()
            pools, self._pools, self._successors = [*self._pools.values(), *self._successors.values()], {}, {}
        for pool in pools:  # without the lock: a run finishing meanwhile takes it in its callback
            pool.executor.shutdown(wait=True, cancel_futures=True)

    def _enqueue(self, waiting: _Waiting) -> None:
        waiting.ticket = next(self._tickets)
        heapq.heappush(self._queue, (waiting.prefetch, waiting.steps, waiting.ticket, waiting.job.key))

    def _dispatch(self) -> None:
        """Start the smallest waiting runs while workers are free; drop the ones nobody awaits."""
        with self._lock:
            while not self._stopped and self._running < self._capacity and self._queue:
                if self._queue[0][0] and (self._waited or self._prefetching >= prefetch_workers(self._capacity)):
                    break  # only prefetch is left in the queue: it waits while somebody waits, and leaves a worker free
                _, _, ticket, key = heapq.heappop(self._queue)
                waiting = self._waiting.get(key)
                if waiting is None or waiting.started or waiting.ticket != ticket:
                    continue
                if not waiting.prefetch and None not in waiting.sessions and not any(map(self._alive, waiting.sessions)):
                    waiting.future.cancel()
                # a prefetch that gave way is running already (a future cannot go back to pending)
                if not waiting.future.running() and not waiting.future.set_running_or_notify_cancel():
                    del self._waiting[key]  # cancelled while it waited
                    self._recount()
                    continue
                waiting.started = True
                self._running += 1
                self._prefetching += waiting.prefetch
                call = (AS_PREFETCH, waiting.function) if waiting.prefetch else (waiting.function,)
                future = self.submit(*call, waiting.job, backend=waiting.backend, run=isinstance(waiting.job, Job))
                future.add_done_callback(lambda done, key=key: self._finished(key, done))

    def _finished(self, key: str, done: Future) -> None:
        with self._lock:
            waiting = self._waiting.pop(key)
            if waiting.claimed:
                waiting.claimed = False
                self.store.unclaim(key)
            self._running -= 1
            self._prefetching -= waiting.prefetch
            if not done.cancelled() and isinstance(done.exception(), Preempted) and not self._stopped:
                waiting.started, waiting.prefetch = False, not waiting.sessions  # asked for meanwhile: no longer a prefetch
                self._waiting[key] = waiting
                self._enqueue(waiting)
                self._recount()
                self._dispatch()
                return
            self._recount()
        if done.cancelled():  # the pool was shut down under it
            waiting.future.set_exception(RuntimeError("the training service stopped before this run finished"))
        elif done.exception() is not None:
            waiting.future.set_exception(done.exception())
        else:
            waiting.future.set_result(done.result())
        self._dispatch()

    def _recount(self) -> None:
        """This service's jobs somebody waits for, queued or running, into the shared count."""
        waited = sum(not waiting.prefetch for waiting in self._waiting.values())
        with _WAITED_LOCK:
            _WAITED.value += waited - self._waited
        self._waited = waited

    def _pool(self, backend: str) -> _Pool:
        """The backend's pool to submit to. One that has served its runs gets a successor, which
        takes over once its workers are up."""
        pool = self._pools.get(backend)
        if pool is None:
            return self._replace_pool(backend)
        if pool.runs >= self.runs_per_pool and backend not in self._successors:
            self._start_successor(backend)
        return self._pools[backend]  # the successor, if its workers were up at once

    def _started_pool(self, backend: str) -> _Pool:
        """A new pool with every worker starting now (one first job each): none waits to import its
        backend later."""
        pool = _Pool(self._factory(backend))
        pool.starts = [pool.executor.submit(os.getpid) for _ in range(self._capacity)]
        self.pools_started += 1
        return pool

    def _replace_pool(self, backend: str) -> _Pool:
        retired = self._pools.pop(backend, None)
        pool = self._pools[backend] = self._successors.pop(backend, None) or self._started_pool(backend)
        if retired is not None:
            retired.executor.shutdown(wait=False)
        return pool

    def _start_successor(self, backend: str) -> None:
        """Start the backend's next pool; it takes over once its workers' first jobs are done."""
        successor = self._successors[backend] = self._started_pool(backend)

        def take_over(_) -> None:
            with self._lock:
                if self._successors.get(backend) is successor and all(start.done() for start in successor.starts):
                    self._replace_pool(backend)

        for start in successor.starts:
            start.add_done_callback(take_over)
