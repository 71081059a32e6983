"""Training and computing on a Dask cluster instead of local worker pools, chosen by one setting:
$EXPLAINER_SCHEDULER (pools.executors; for instance tcp://host:8786). The service is the same; only its executors
change: a job for a backend goes to a Dask worker that holds that backend's resource, each
started with its own KERAS_BACKEND and the worker side's start as a preload:

    dask scheduler
    KERAS_BACKEND=tensorflow dask worker tcp://host:8786 --nthreads 1 --resources tensorflow=1 \
        --preload explainer.worker.dask_start
    KERAS_BACKEND=jax dask worker tcp://host:8786 --nthreads 1 --resources jax=1 --preload explainer.worker.dask_start

One key is trained once across every replica and worker by the store's lock per key, not by
Dask's keys: a replica's own queue decides what starts (smallest first, waited-for before
prefetch), and the lock also holds the CLI and local pools on the same store. Across replicas,
what somebody waits for goes first on the workers too: a prefetch is submitted at a lower
priority and under a key that says so, and a running one gives its worker up while a task
that is not a prefetch is queued there (worker.dask_start.WaitedOnThisWorker). Every process,
replicas and Dask workers, must see the store at the same path (a shared volume); a worker that
does not, says so (store.cache.StoreNotShared) instead of training into a directory nobody reads."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable
from concurrent.futures import Executor

from distributed import Client
from distributed.cfexecutor import ClientExecutor

from explainer.jobs import AS_PREFETCH

PREFETCH_PRIORITY = -1  # Dask starts higher priorities first; what somebody waits for has 0
PREFETCH_KEY = "prefetch-"  # how a prefetch's task key starts: a worker tells them apart by it


class ClusterExecutor(ClientExecutor):
    """A backend's share of the cluster as a concurrent.futures executor. Its workers are the
    cluster's, so retiring it (the service does after a number of runs) leaves its jobs running:
    Dask's own shutdown(wait=False) would cancel them (workers recycle with `dask worker --lifetime`)."""

    def submit(self, function: Callable, *args):
        if function == AS_PREFETCH:
            return super().submit(function, *args, priority=PREFETCH_PRIORITY, key=f"{PREFETCH_KEY}{uuid.uuid4().hex}")
        return super().submit(function, *args)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self._shutdown = True
        if cancel_futures:
            self._client.cancel([future for future in self._futures if future.status == "pending"])


@functools.cache
def client(address: str) -> Client:
    """One connection per process to the scheduler at `address`."""
    return Client(address, set_as_default=False)


def executors(address: str) -> Callable[[str], Executor]:
    """The service's executor factory on the cluster at `address`: a backend's jobs go to the
    workers holding that backend's resource, never run twice by Dask's own key (pure=False)."""
    connection = client(address)
    return lambda backend: ClusterExecutor(connection, resources={backend: 1}, pure=False)
