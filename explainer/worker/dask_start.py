"""A Dask worker started as one of the service's workers (`dask worker ... --preload
explainer.worker.dask_start`, see explainer/cluster.py): its backend from KERAS_BACKEND, which
its resources must name, then the same start as a local pool's worker."""

from __future__ import annotations

import os

from explainer.backends import BACKENDS
from explainer.cluster import PREFETCH_KEY
from explainer.worker import process


class WaitedOnThisWorker:
    """The tasks queued on this worker that somebody waits for (every task whose key does not
    say prefetch), as the count a running prefetch checks (jobs.give_way): replicas do not
    share the local pools' count, but their tasks for one backend queue on its workers."""

    def __init__(self, worker) -> None:
        self._state = worker.state

    @property
    def value(self) -> int:
        while True:  # read from a task's thread while the worker's event loop changes them
            try:
                queued = [*self._state.constrained, *self._state.ready]
                break
            except RuntimeError:  # changed size while read: read again
                continue
        return sum(not str(task.key).startswith(PREFETCH_KEY) for task in queued)


def dask_setup(worker) -> None:
    """Dask's preload hook, before the worker takes any task."""
    backend = os.environ.get("KERAS_BACKEND", "")
    if backend not in BACKENDS:
        raise ValueError(f"start this worker with KERAS_BACKEND set to one of {', '.join(BACKENDS)}; got {backend!r}")
    if worker.state.total_resources.get(backend) != 1:
        raise ValueError(f"start this worker with --resources {backend}=1: the service sends {backend} jobs to that resource")
    # its parent is the nanny: the worker ends with it
    process.start(backend, os.getppid(), WaitedOnThisWorker(worker))
