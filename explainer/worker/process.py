"""A worker process's start and end: its backend chosen and imported before any job, and its end
when its parent ends."""

from __future__ import annotations

import os
import sys
import threading
import time

import threadpoolctl

from explainer import jobs
from explainer.backends import BACKENDS
from explainer.engines import ENGINES
from explainer.worker.model import import_engine
from explainer.worker.train import loops

# how often a worker checks that the process that started it is still there: a parent killed with
# SIGKILL or by the OOM killer cannot stop its workers, which would otherwise live on (measured:
# 2.2 GB held by orphans 31 minutes after `kill -9` of the command line)
PARENT_POLL_SECONDS = 1.0
# how much lower a worker's CPU priority is than its server's: a page's script run takes a core
# before training does, and training takes every core the server leaves idle. Measured on 2 cores,
# a cold host's first visitor (bench_demo's cold figures): the page's first paint 2.4-2.5 s while
# the workers imported TensorFlow at the same priority, 1.8-2.1 s at this one
WORKER_NICENESS = 10


def exit_with_parent(parent: int) -> None:
    """In a worker: a daemon thread that ends the worker once `parent` is gone (the worker is then
    someone else's child). A thread, not a parent-death signal: Linux sends that signal when the
    *thread* that started the worker ends, and a pool starts workers from whichever thread submits
    (a page's script run, which ends in a second)."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_POLL_SECONDS)
        os._exit(1)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


# SciPy stays in every worker, though TensorFlow's legacy Keras imports it for nothing we use:
# numba's BLAS calls in the compiled kernels find their functions through it (without it: "Fatal
# Python error: BLAS wrapper returned with an error")


def use_backend(backend: str) -> None:
    """In a new worker, before Keras is imported: the backend Keras 3 runs on there, and what
    that backend's worker never needs kept out (its record's never_imported)."""
    os.environ["KERAS_BACKEND"] = backend
    for module in BACKENDS[backend].never_imported:
        sys.modules.setdefault(module, None)  # None in sys.modules makes `import module` fail


def start(backend: str, parent: int, waited) -> None:
    """A worker's start, before any job: its backend chosen (Keras 3 reads KERAS_BACKEND once, at
    import) and its engines imported quietly on one thread; nothing more, so that the first job,
    which somebody usually waits for, starts as soon as the imports are done. What a job needs
    beyond them is paid by the first job that needs it: an engine's first traces (about 1 s) and
    the compiled kernels of derived results (0.4 s from numba's cache; 8 s to compile them the first
    time on a machine, which a worker's start used to pay before training anything). It ends when
    its parent does, however the parent ended; its prefetches give way while the parent's shared
    count `waited` is above 0 (None: never). It runs at WORKER_NICENESS below its parent."""
    exit_with_parent(parent)
    os.nice(WORKER_NICENESS)
    jobs.waited = waited
    use_backend(backend)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    # one core per worker (measured: 4 ten-epoch runs on 2 workers take 8.5 s with one thread
    # each, 9.3 s with two): a batch of 32 gains nothing from threads, and workers would contend.
    # TensorFlow's pools get one thread below (configure); XLA's products run on the calling
    # thread by this flag, and the threads XLA keeps whatever its flags say stay on one core
    # while a JAX run trains (jax_loops.options)
    os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false")
    for engine in (code for code, engine in ENGINES.items() if engine.backend == backend):
        import_engine(engine)
    loops(backend).configure()
    # one BLAS thread too (NumPy's and SciPy's OpenBLAS, which the kernels call; both are loaded by
    # now): an OpenBLAS thread spins for a while after each call, on the core the other worker
    # needs. Measured on 2 cores, the loss-surface page's two surfaces in two workers at once: 3.1
    # and 3.3 s with two BLAS threads each, 1.0 and 1.2 s with one (0.7 s each alone, either way)
    threadpoolctl.threadpool_limits(1, user_api="blas")
