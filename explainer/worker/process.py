"""A worker process's start and end: its backend chosen before Keras is imported, the first
traces paid before any run, and its end when its parent ends."""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable

import numpy as np

from explainer.config import RunConfig
from explainer.data import Mnist
from explainer.engines import ENGINES
from explainer.worker import courtesy
from explainer.worker.model import import_engine
from explainer.worker.train import train

# how often a worker checks that the process that started it is still there: a parent killed with
# SIGKILL or by the OOM killer cannot stop its workers, which would otherwise live on (measured:
# 2.2 GB held by orphans 31 minutes after `kill -9` of the command line)
PARENT_POLL_SECONDS = 1.0


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


# what a backend's worker never needs, kept out of it: Keras 3 imports TensorFlow merely to seed
# it (400 MB), TensorFlow imports JAX where it is installed (TF Lite jits with it) and Keras
# imports pandas (to accept DataFrames); each import guards against its module missing. Measured
# on 2 cores: JAX and pandas took 1.8 s of a TensorFlow worker's 8.5 s import
KEPT_OUT = {"tensorflow": ("jax", "pandas"), "jax": ("tensorflow", "pandas")}


def use_backend(backend: str) -> None:
    """In a new worker, before Keras is imported: the backend Keras 3 runs on there, and what
    that backend's worker never needs kept out (KEPT_OUT)."""
    os.environ["KERAS_BACKEND"] = backend
    for module in KEPT_OUT[backend]:
        sys.modules.setdefault(module, None)  # None in sys.modules makes `import module` fail


def start(backend: str, parent: int, waited, *then: Callable[[], object]) -> None:
    """A worker's start, before any run: its backend chosen (Keras 3 reads KERAS_BACKEND once,
    at import), imported quietly on one thread, and a tiny run on each of its engines, which pays
    the first-trace costs (about 1 s per engine) up front, then each of `then` (where derived
    results are computed: the compiled kernels loaded). It ends when its parent does, however
    the parent ended; its prefetches give way while the parent's shared count `waited` is above 0
    (None: never)."""
    exit_with_parent(parent)
    courtesy.waited = waited
    use_backend(backend)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    # one core per worker (measured: 4 ten-epoch runs on 2 workers take 8.5 s with one thread
    # each, 9.3 s with two): a batch of 32 gains nothing from threads, and workers would contend
    os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1")
    # the compiled kernels' OpenMP threads sleep between parallel loops instead of spinning on
    # the cores the next small loop needs: step quality over an epoch of 1,875 steps took 40 s
    # with spinning threads, 3.1 s without (a 101 x 101 plane: 3.9 s, 4.1 s); read when OpenMP loads
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    engines = [code for code, engine in ENGINES.items() if engine.backend == backend]
    import_engine(engines[0])
    if backend == "tensorflow":
        import tensorflow as tf

        tf.config.threading.set_intra_op_parallelism_threads(1)
        tf.config.threading.set_inter_op_parallelism_threads(1)
    images = np.zeros((64, 28, 28), np.uint8)
    tiny = Mnist(images, np.arange(64, dtype=np.uint8) % 10, images[:32], np.arange(32, dtype=np.uint8) % 10)
    for engine in engines:
        train(RunConfig(engine=engine, num_epochs=1), tiny)
    for step in then:
        step()
