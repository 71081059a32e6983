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

import contextlib
import functools
import socket
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import Executor

from distributed import Client
from distributed.cfexecutor import ClientExecutor
from distributed.comm import get_address_host_port

from explainer.jobs import AS_PREFETCH, Unreachable

PREFETCH_PRIORITY = -1  # Dask starts higher priorities first; what somebody waits for has 0
PREFETCH_KEY = "prefetch-"  # how a prefetch's task key starts: a worker tells them apart by it
# how long a client that lost its scheduler tries to get it back before it closes and the
# connection's keeper makes a new one; also one attempt's limit. Dask's client retries with a
# backoff that doubles without bound, so it is never left to retry for long: after a minute away
# it would next look minutes later
CONNECT_SECONDS = 5
KEEP_SECONDS = 0.5  # how often the keeper looks at its client, and knocks at a scheduler that is away


class ClusterExecutor(ClientExecutor):
    """A backend's share of the cluster as a concurrent.futures executor. Its workers are the
    cluster's, so retiring it (the service does after a number of runs) leaves its jobs running:
    Dask's own shutdown(wait=False) would cancel them (workers recycle with `dask worker --lifetime`).
    While its scheduler is away, submitting raises Unreachable (the pool is then made again, on
    the connection's next client); the jobs it was running are cancelled by Dask's client."""

    def submit(self, function: Callable, *args):
        if self._client.status != "running":
            raise Unreachable("the training cluster's scheduler cannot be reached")
        if function == AS_PREFETCH:
            return super().submit(function, *args, priority=PREFETCH_PRIORITY, key=f"{PREFETCH_KEY}{uuid.uuid4().hex}")
        return super().submit(function, *args)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self._shutdown = True
        if cancel_futures:
            self._client.cancel([future for future in self._futures if future.status == "pending"])


class Connection:
    """This process's client of the scheduler at `address`, kept by a thread of its own: made once
    the scheduler's port answers, made again once Dask's client gave a lost scheduler up (a
    scheduler restarted at its address, empty). Nobody waits for it: `client()` raises
    Unreachable while there is none."""

    def __init__(self, address: str):
        self.address = address
        self._client: Client | None = None
        threading.Thread(target=self._keep, name=f"keep {address}", daemon=True).start()

    def client(self) -> Client:
        current = self._client
        if current is None or current.status != "running":
            raise Unreachable(f"the training cluster's scheduler ({self.address}) cannot be reached")
        return current

    def _keep(self) -> None:
        while True:
            current = self._client
            if (current is None or current.status in ("closing", "closed")) and self._answers():
                if current is not None:
                    current.close()
                # whatever fails (not a scheduler yet: it answers on its port before it is one), the
                # keeper goes on: it is the only way back
                with contextlib.suppress(Exception):
                    self._client = Client(self.address, set_as_default=False, timeout=CONNECT_SECONDS)
            time.sleep(KEEP_SECONDS)

    def _answers(self) -> bool:
        """Whether something listens on the scheduler's port: a Client made while nothing does
        fails after CONNECT_SECONDS and leaves a thread behind (measured: one per attempt)."""
        try:
            socket.create_connection(get_address_host_port(self.address), timeout=KEEP_SECONDS).close()
            return True
        except OSError:
            return False


@functools.cache
def connection(address: str) -> Connection:
    """One connection per process to the scheduler at `address`."""
    return Connection(address)


def client(address: str, seconds: float = 60) -> Client:
    """The connection's client once it is connected, within `seconds` (Unreachable after)."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            return connection(address).client()
        except Unreachable:
            if time.monotonic() > deadline:
                raise
            time.sleep(KEEP_SECONDS)


def executors(address: str) -> Callable[[str], Executor]:
    """The service's executor factory on the cluster at `address`: a backend's jobs go to the
    workers holding that backend's resource, never run twice by Dask's own key (pure=False).
    Never waits: Unreachable while the scheduler cannot be reached."""
    return lambda backend: ClusterExecutor(connection(address).client(), resources={backend: 1}, pure=False)
