"""A Dask worker started as one of the service's workers (`dask worker ... --preload
explainer.worker.dask_start`, see explainer/cluster.py): its backend from KERAS_BACKEND, which
its resources must name, then the same start as a local pool's worker."""

from __future__ import annotations

import os

from explainer.service import after_start
from explainer.worker import process


def dask_setup(worker) -> None:
    """Dask's preload hook, before the worker takes any task."""
    backend = os.environ.get("KERAS_BACKEND", "")
    if backend not in process.KEPT_OUT:
        raise ValueError(f"start this worker with KERAS_BACKEND set to one of {', '.join(process.KEPT_OUT)}; got {backend!r}")
    if worker.state.total_resources.get(backend) != 1:
        raise ValueError(f"start this worker with --resources {backend}=1: the service sends {backend} jobs to that resource")
    # its parent is the nanny: the worker ends with it; no shared count of waited jobs reaches it
    process.start(backend, os.getppid(), None, *after_start(backend))
