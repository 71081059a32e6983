"""Training outside the caller's process: worker processes (explainer/pools.py) train runs and
compute derived results into a RunStore. Any number of sessions asking for one key share one
future; other processes on the same store wait on the key's file lock. Jobs wait in one queue,
smallest first, and start only when a worker is free; those nobody waits for any more (their
sessions left) are dropped before they start. While the workers cannot be reached (a cluster's
scheduler away), what was running goes back to the queue, which waits for them."""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import heapq
import itertools
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import Executor, Future

from explainer.calls import DERIVE, TRAIN
from explainer.config import RunConfig
from explainer.data import Mnist
from explainer.engines import ENGINES
from explainer.jobs import AS_PREFETCH, Job, Preempted, Unreachable
from explainer.pools import WAITED, WAITED_LOCK, Pools, executors, worker_count
from explainer.store.cache import RunStore, run_key
from explainer.store.derived import Derivation, DerivedJob

# SGD steps one session may have waiting (not yet started) at once: three views' worth at the
# largest run length the sidebar allows, so a visitor who clicks faster than runs train is told
# to wait instead of filling the queue for everybody
MAX_QUEUED_STEPS_PER_SESSION = 3_000_000
MAX_PREFETCHED = 64  # runs and results queued ahead of anybody's asking, at most
# while the workers cannot be reached (a cluster's scheduler away), how often the queue is offered
# to them again: a restarted scheduler's waiting pages go on within this of its return
RETRY_SECONDS = 2.0
# derived results are NumPy and numba only, so any backend's worker computes them: one that is up
# and idle (a cold host's answer then starts no second TensorFlow worker for its saturation), else
# this backend's
DERIVED_BACKEND = "tensorflow"


PREFETCH_VARIABLE = "EXPLAINER_PREFETCH"


def prefetching_on() -> bool:
    """$EXPLAINER_PREFETCH: "off" where the cores are others' too (a machine that runs the tests
    beside the app, a small host shared with other apps): nothing is computed before somebody
    asks for it, not even the server's head start; on otherwise. Measured on 2 cores: the runs one
    sidebar choice away from a view of 100 images took 21 s in a TensorFlow worker and 28 s in a
    new JAX worker (each model's programs compiled), one by one."""
    text = os.environ.get(PREFETCH_VARIABLE, "").strip().lower()
    if text not in ("", "on", "off"):
        raise ValueError(f'{PREFETCH_VARIABLE} must be "on" or "off"; got {text!r}')
    return text != "off"


def prefetch_workers(capacity: int) -> int:
    """Workers that what nobody asked for yet may hold at once: all but one, so that what
    somebody asks for next starts at once instead of waiting for a prefetched result to end (a
    loss surface takes seconds); all of them when there is only one."""
    return max(1, capacity - 1)


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


@dataclasses.dataclass(eq=False)
class _Waiting:
    """A key in the queue or running: `function(job)` to run on `backend`'s pool (None: any
    backend's, chosen as it starts), its size in SGD steps (the queue's order), the one future
    every requester shares, and the sessions that asked for it (None for nobody in particular:
    the CLI, prefetch)."""

    function: Callable
    job: Job | DerivedJob
    steps: int
    backend: str | None
    future: Future
    sessions: set
    ticket: int = 0  # the queue entry that stands for it; older entries are stale
    started: bool = False
    prefetch: bool = False  # nobody waits for it yet: it goes after everything somebody waits for
    claimed: bool = False  # started as a prefetch, waited for since: its store says so to its worker


class TrainingService:
    """Trains runs into `store` on executors made by `executor_factory(backend)` (any
    concurrent.futures.Executor of one worker; by default `executors()`), one pool per backend,
    at most `worker_count()` runs at once in all, smallest run first, one run per key; a pool is
    replaced once a worker of it has served `runs_per_worker` runs (by default RUNS_PER_WORKER).
    `session_alive(session)` tells whether a session still waits for its runs; `prefetching`
    whether runs and results nobody asked for yet are computed ahead (by default, `prefetching_on()`)."""

    def __init__(
        self,
        store: RunStore,
        executor_factory: Callable[[str], Executor] | None = None,
        runs_per_worker: int | None = None,
        job: Callable[[Job], str] = TRAIN,
        session_alive: Callable[[str], bool] = lambda session: True,
        derive: Callable[[DerivedJob], str] = DERIVE,
        prefetching: bool | None = None,
    ):
        self.store = store
        with contextlib.suppress(OSError):  # unwritable: said by the first write, in its own words
            store.directory.mkdir(parents=True, exist_ok=True)
        store.remove_orphans()
        self._job, self._derive, self._alive = job, derive, session_alive
        self.prefetching = prefetching_on() if prefetching is None else prefetching
        self._capacity = worker_count()
        self._lock = threading.RLock()  # re-entrant: a done callback may run inside `request`
        self._waiting: dict[str, _Waiting] = {}
        self._queue: list[tuple[bool, int, int, str]] = []  # (prefetch, SGD steps, ticket, key): a heap
        self._tickets = itertools.count()
        self._running = 0
        self._prefetching = 0  # of the running, those nobody waited for when they started
        self._waited = 0  # this service's share of the shared count (pools.WAITED)
        self._stopped = False
        self._gathering = 0  # request_all calls queueing: nothing starts until they have all queued
        self._unreachable_since: float | None = None  # since when the workers could not be reached
        self._retry: threading.Timer | None = None  # the queue's next offer to workers that could not be reached
        self.pools = Pools(executor_factory or executors(), self._capacity, self._lock, runs_per_worker)

    def request(self, config: RunConfig, mnist: Mnist, session: str | None = None, prefetch: bool = False) -> Run:
        """The run for `config` on `mnist`: from the store, joined if queued or training, else
        queued (after everything waited for, if `prefetch`: nobody waits for it yet). A failed
        run is forgotten, so the next request trains it again."""
        key = run_key(config, mnist.fingerprint)
        job = Job(config, key, mnist.source, self.store)
        future = self._request(self._job, job, config.training_steps, ENGINES[config.engine].backend, session, prefetch)
        return Run(config, key, future)

    def request_all(
        self, configs: list[RunConfig], mnist: Mnist, session: str | None = None, prefetch: bool = False
    ) -> list[Run]:
        """`request` for each config, all queued before any starts: the queue then chooses among
        them all (smallest first, then spread over the backends: `_next_entry`), not just among
        the first ones asked for."""
        with self._lock:
            self._gathering += 1
            try:
                runs = [self.request(config, mnist, session, prefetch=prefetch) for config in configs]
            finally:
                self._gathering -= 1
            self._dispatch()
        return runs

    def derive(
        self, derivation: Derivation, mnist: Mnist, session: str | None = None, prefetch: bool = False
    ) -> tuple[str, Future]:
        """The key of a derived result and the future of its computation in a worker (done if
        stored); its runs must be in the store. It goes before any training: it takes seconds."""
        key = derivation.key(mnist.fingerprint)
        job = DerivedJob(derivation, key, mnist.source, self.store)
        return key, self._request(self._derive, job, 0, None, session, prefetch)

    def _request(self, function: Callable, job, steps: int, backend: str | None, session: str | None, prefetch: bool) -> Future:
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

    @property
    def unreachable_for(self) -> float | None:
        """Seconds since the workers could not be reached (a cluster's scheduler is away), None
        while they can: what is queued or was running waits for them and goes on by itself."""
        since = self._unreachable_since
        return None if since is None else time.monotonic() - since

    def queued_steps(self, session: str) -> int:
        """SGD steps of the runs `session` asked for that have not started yet."""
        with self._lock:
            return sum(w.steps for w in self._waiting.values() if not w.started and session in w.sessions)

    def submit(self, function: Callable, *args, backend: str = "tensorflow", run: bool = True) -> Future:
        """Run `function(*args)` on the backend's pool now, outside the queue (Pools.submit)."""
        return self.pools.submit(function, *args, backend=backend, run=run)

    def shutdown(self) -> None:
        with self._lock:
            self._stopped = True
            if self._retry is not None:
                self._retry.cancel()
            for key, waiting in list(self._waiting.items()):
                waiting.future.cancel()
                if not waiting.started:  # never to start: a running one leaves in its callback
                    del self._waiting[key]
            self._recount()
        self.pools.shutdown()

    def _enqueue(self, waiting: _Waiting, keep_place: bool = False) -> None:
        """Into the queue, behind what was queued before it, or at its old place (`keep_place`)."""
        if not keep_place:
            waiting.ticket = next(self._tickets)
        heapq.heappush(self._queue, (waiting.prefetch, waiting.steps, waiting.ticket, waiting.job.key))

    def _dispatch(self) -> None:
        """Start the smallest waiting runs while workers are free; drop the ones nobody awaits."""
        with self._lock:
            if self._gathering:
                return  # request_all dispatches once every run it asks for is queued
            while not self._stopped and self._retry is None and self._running < self._capacity and self._queue:
                if self._queue[0][0] and (self._waited or self._prefetching >= prefetch_workers(self._capacity)):
                    break  # only prefetch is left in the queue: it waits while somebody waits, and leaves a worker free
                _, _, ticket, key = self._next_entry()
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
                waiting.backend = waiting.backend or self.pools.idle_backend() or DERIVED_BACKEND
                self._running += 1
                self._prefetching += waiting.prefetch
                call = (AS_PREFETCH, waiting.function) if waiting.prefetch else (waiting.function,)
                future = self.submit(*call, waiting.job, backend=waiting.backend, run=isinstance(waiting.job, Job))
                if not future.done():  # taken: the workers can be reached
                    self._unreachable_since = None
                future.add_done_callback(lambda done, key=key: self._finished(key, done))

    def _next_entry(self) -> tuple[bool, int, int, str]:
        """The queue's smallest entry; of several as small, the first on a backend with the fewest
        jobs running. On a cold host the answer's runs are all as small: its JAX run then starts
        beside the first TensorFlow one instead of after every TensorFlow run, and the next JAX run
        follows on the same worker, its model compiled, instead of starting another worker (a
        Dask cluster's workers hold one backend each: a job of the other backend keeps its
        workers from idling)."""
        smallest = [heapq.heappop(self._queue)]
        while self._queue and self._queue[0][:2] == smallest[0][:2]:
            smallest.append(heapq.heappop(self._queue))
        running = collections.Counter(waiting.backend for waiting in self._waiting.values() if waiting.started)

        def load(entry: tuple) -> int:
            waiting = self._waiting.get(entry[3])
            return running[waiting.backend] if waiting is not None else 0  # a stale entry is dropped next

        chosen = min(smallest, key=lambda entry: (load(entry), entry[2]))
        for entry in smallest:
            if entry is not chosen:
                heapq.heappush(self._queue, entry)
        return chosen

    def _finished(self, key: str, done: Future) -> None:
        with self._lock:
            waiting = self._waiting.pop(key)
            if waiting.claimed:
                waiting.claimed = False
                self.store.unclaim(key)
            self._running -= 1
            self._prefetching -= waiting.prefetch
            # cancelled while the service runs: the workers' cluster lost it (Dask's client cancels
            # what it had when its scheduler goes)
            lost = done.cancelled() or isinstance(done.exception(), Unreachable)
            if not self._stopped and (lost or isinstance(done.exception(), Preempted)):
                waiting.started, waiting.prefetch = False, not waiting.sessions  # asked for meanwhile: no longer a prefetch
                self._waiting[key] = waiting
                # a lost job keeps its place: each offer to workers still away loses it again, and a
                # new place each time would swap it with what was asked after it, offer by offer
                self._enqueue(waiting, keep_place=lost)
                self._recount()
                if lost:
                    self._offer_again()
                else:
                    self._dispatch()
                return
            self._recount()
        if done.cancelled():  # the service stopped, and its pools with it
            waiting.future.set_exception(RuntimeError("the training service stopped before this run finished"))
        elif done.exception() is not None:
            waiting.future.set_exception(done.exception())
        else:
            waiting.future.set_result(done.result())
        self._dispatch()

    def _offer_again(self) -> None:
        """The workers could not be reached: the queue waits, and is offered again in RETRY_SECONDS."""
        if self._unreachable_since is None:
            self._unreachable_since = time.monotonic()
        if self._retry is None:
            self._retry = threading.Timer(RETRY_SECONDS, self._retried)
            self._retry.daemon = True
            self._retry.start()

    def _retried(self) -> None:
        with self._lock:
            self._retry = None
        self._dispatch()

    def _recount(self) -> None:
        """This service's jobs somebody waits for, queued or running, into the shared count."""
        waited = sum(not waiting.prefetch for waiting in self._waiting.values())
        with WAITED_LOCK:
            WAITED.value += waited - self._waited
        self._waited = waited
