"""Training outside the caller's process: worker processes train runs into a RunStore.

Any number of sessions asking for one run share one future; other processes on the same store
wait on the key's file lock instead of training it again. Workers import TensorFlow, the caller
never does. A pool is retired after a bounded number of runs, so that whatever a worker keeps
goes back to the system with it; a pool whose worker died is replaced on the next request.
"""

from __future__ import annotations

import dataclasses
import multiprocessing
import os
import threading
from collections.abc import Callable
from concurrent.futures import BrokenExecutor, Executor, Future, ProcessPoolExecutor

import numpy as np

from explainer.cache import RunStore, run_key
from explainer.config import RunConfig
from explainer.data import Mnist, read_mnist
from explainer.model import ENGINE_MODULES, import_engine
from explainer.train import train

WORKERS_VARIABLE = "EXPLAINER_WORKERS"
# runs a pool serves before it is replaced, so that whatever a worker keeps goes back to the
# system; measured, a worker grows by 8 MB over 200 runs, and a new pool costs its first visitor
# ~6 s (TensorFlow imported, first traces), so it is replaced rarely
RUNS_PER_POOL = 200


@dataclasses.dataclass(frozen=True)
class Job:
    """One run for a worker, by value and by path: nothing here depends on the caller's process."""

    config: RunConfig
    key: str
    mnist_path: str
    store: RunStore


def train_job(job: Job) -> str:
    """In a worker: train the job's run into its store, unless some process already has."""
    job.store.train(job.config, job.key, read_mnist(job.mnist_path))
    return job.key


def start_worker() -> None:
    """A worker's start, before any run: TensorFlow imported quietly, one thread, and a tiny run
    on each engine, which pays the first-trace costs (about 1 s per engine) up front."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import_engine(RunConfig().engine)
    import tensorflow as tf

    # one core per worker (measured: 4 ten-epoch runs on 2 workers take 8.5 s with one thread
    # each, 9.3 s with two): a batch of 32 gains nothing from threads, and workers would contend
    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    images = np.zeros((64, 28, 28), np.uint8)
    tiny = Mnist(images, np.arange(64, dtype=np.uint8) % 10, images[:32], np.arange(32, dtype=np.uint8) % 10)
    for engine in ENGINE_MODULES:
        train(RunConfig(engine=engine, num_epochs=1), tiny)


def worker_count() -> int:
    """$EXPLAINER_WORKERS, else one worker per core."""
    text = os.environ.get(WORKERS_VARIABLE, "").strip()
    if not text:
        return os.cpu_count() or 1
    if not text.isdigit() or int(text) < 1:
        raise ValueError(f"{WORKERS_VARIABLE} must be a whole number >= 1; got {text!r}")
    return int(text)


def process_pool() -> ProcessPoolExecutor:
    """The default executor: spawned processes (never forked from a threaded server)."""
    return ProcessPoolExecutor(worker_count(), mp_context=multiprocessing.get_context("spawn"), initializer=start_worker)


@dataclasses.dataclass(frozen=True)
class Run:
    """A requested run: its config, its key in the store, and the future of its training
    (already done when the store had it). The future's exception says why a run failed."""

    config: RunConfig
    key: str
    future: Future


def failure(error: BaseException) -> str:
    """Why a run failed, in words for the page or the terminal (never a traceback)."""
    if isinstance(error, BrokenExecutor):
        return "the worker process training it stopped (killed, or out of memory); asking again trains it in a new worker"
    return str(error) or type(error).__name__


class TrainingService:
    """Trains runs into `store` on executors made by `executor_factory` (any
    concurrent.futures.Executor), one run per key; a pool serves `runs_per_pool` runs."""

    def __init__(
        self,
        store: RunStore,
        executor_factory: Callable[[], Executor] = process_pool,
        runs_per_pool: int = RUNS_PER_POOL,
        job: Callable[[Job], str] = train_job,
    ):
        self.store, self.runs_per_pool = store, runs_per_pool
        self._factory, self._job = executor_factory, job
        self._lock = threading.RLock()  # re-entrant: a done callback may run inside `request`
        self._futures: dict[str, Future] = {}
        self._executor: Executor | None = None
        self._submitted = 0
        self.pools_started = 0

    def request(self, config: RunConfig, mnist: Mnist) -> Run:
        """The run for `config` on `mnist`: from the store, joined if in flight, else submitted.
        A failed run is forgotten, so the next request trains it again."""
        key = run_key(config, mnist.fingerprint)
        with self._lock:
            future = self._futures.get(key)
            if future is None and self.store.has(key):
                future = Future()
                future.set_result(key)
            elif future is None:
                future = self._futures[key] = self.submit(self._job, Job(config, key, mnist.source, self.store))
                future.add_done_callback(lambda done: self._forget(key, done))
        return Run(config, key, future)

    def submit(self, function: Callable, *args) -> Future:
        """Run `function(*args)` on the current pool, replacing the pool when it has served its
        runs or is broken (a worker died); the pool it replaces finishes its queue, then exits.
        Whatever goes wrong while submitting comes back as the future's exception."""
        with self._lock:
            try:
                if self._executor is None or self._submitted >= self.runs_per_pool:
                    self._replace_pool()
                try:
                    future = self._executor.submit(function, *args)
                except (BrokenExecutor, RuntimeError):  # RuntimeError: shut down by someone else
                    self._replace_pool()
                    future = self._executor.submit(function, *args)
            except Exception as error:
                future = Future()
                future.set_exception(error)
            self._submitted += 1
            return future

    def shutdown(self) -> None:
        with self._lock:
            if self._executor is not None:
                self._executor.shutdown(wait=True, cancel_futures=True)
                self._executor = None

    def _replace_pool(self) -> None:
        retired, self._executor = self._executor, self._factory()
        self._submitted = 0
        self.pools_started += 1
        for _ in range(worker_count()):  # start every worker now: none waits to import TensorFlow later
            self._executor.submit(os.getpid)
        if retired is not None:
            retired.shutdown(wait=False)

    def _forget(self, key: str, future: Future) -> None:
        with self._lock:
            if self._futures.get(key) is future:
                del self._futures[key]
