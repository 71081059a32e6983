"""What goes between the service and its workers: a training job, a function of the worker side
named by its module and its name, a prefetch's courtesy (the marker of a job nobody waits for
yet, and the exception it raises when it gives way), and what an executor raises when its
workers cannot be reached. The service, the cluster's executor and the worker side all import
it, so none of them imports another to share these (and the worker side never imports the
service).

A prefetch's courtesy: the server counts the jobs somebody waits for, queued or running
(service._WAITED), in memory it shares with every worker it starts; a prefetch checks that count
between pieces of its work (`give_way`) and, when somebody waits, stops there (Preempted) and
goes back to the queue. Nothing half done is kept: the store writes whole entries only."""

from __future__ import annotations

import dataclasses
import importlib
import threading
from collections.abc import Callable
from concurrent.futures import BrokenExecutor

from explainer.config import RunConfig
from explainer.store.cache import RunStore

# the worker side: outside it, only this module and the service name it
WORKER_PACKAGE = "explainer.worker"


@dataclasses.dataclass(frozen=True)
class Job:
    """One run for a worker, by value and by path: nothing here depends on the caller's process."""

    config: RunConfig
    key: str
    mnist_path: str
    store: RunStore


@dataclasses.dataclass(frozen=True)
class InWorker:
    """A function of the worker side, named by its module there and its name, imported where it
    is called: the server hands it to the workers without importing what it needs (TensorFlow,
    JAX, the compiled kernels: numba alone is 55 MB)."""

    module: str
    name: str

    def __call__(self, *args):
        return getattr(importlib.import_module(f"{WORKER_PACKAGE}.{self.module}"), self.name)(*args)


def failure(error: BaseException) -> str:
    """Why a job failed, in words for the page or the terminal (never a traceback)."""
    if isinstance(error, BrokenExecutor):
        return "the worker process training it stopped (killed, or out of memory); asking again trains it in a new worker"
    return str(error) or type(error).__name__


class Preempted(RuntimeError):
    """A prefetch gave its worker up to what somebody waits for; it is queued again."""


class Unreachable(ConnectionError):
    """The workers cannot be reached now (a cluster whose scheduler is gone, or not up yet): the
    job is offered again until they can, and whoever waits for it is told."""


waited = None  # in a worker: the server's shared count, set at its start; None: never give way
_current = threading.local()  # whether the job on this thread is a prefetch (thread pools run several)


def as_prefetch(function: Callable, job) -> object:
    """`function(job)` as a prefetch: it gives its worker up whenever somebody waits, unless
    somebody waits for this very job (its key claimed in its store)."""
    _current.prefetch, _current.claimed = True, job.store.claimed_path(job.key)
    try:
        return function(job)
    finally:
        _current.prefetch = False


AS_PREFETCH = as_prefetch  # the prefetch marker: what the service submits a prefetch through


def give_way() -> None:
    """Between pieces of a job's work: a prefetch stops here while somebody waits for a worker,
    unless somebody now waits for it (then it is a prefetch no more)."""
    if getattr(_current, "prefetch", False) and waited is not None and waited.value > 0:
        if _current.claimed.exists():
            _current.prefetch = False
            return
        raise Preempted("somebody waits for a worker: this prefetch goes back to the queue")
