"""In a worker: what nobody waits for yet gives way to what somebody does. The server counts the
jobs somebody waits for, queued or running (service._WAITED), in memory it shares with every
worker it starts; a prefetch checks that count between pieces of its work and, when somebody
waits, stops there (service.Preempted) and goes back to the queue. Nothing half done is kept:
the store writes whole entries only."""

from __future__ import annotations

import threading
from collections.abc import Callable

from explainer.service import Preempted

waited = None  # the server's shared count, set at the worker's start (process.start); None: never give way
_current = threading.local()  # whether the job on this thread is a prefetch (thread pools run several)


def as_prefetch(function: Callable, job) -> object:
    """`function(job)` as a prefetch: it gives its worker up whenever somebody waits, unless
    somebody waits for this very job (its key claimed in its store)."""
    _current.prefetch, _current.claimed = True, job.store.claimed_path(job.key)
    try:
        return function(job)
    finally:
        _current.prefetch = False


def give_way() -> None:
    """Between pieces of a job's work: a prefetch stops here while somebody waits for a worker,
    unless somebody now waits for it (then it is a prefetch no more)."""
    if getattr(_current, "prefetch", False) and waited is not None and waited.value > 0:
        if _current.claimed.exists():
            _current.prefetch = False
            return
        raise Preempted("somebody waits for a worker: this prefetch goes back to the queue")
