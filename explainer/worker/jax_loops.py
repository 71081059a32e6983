"""JAX's loops: Keras 3's own stateless train_step and test_step on its JAX backend, scanned
over in-memory batches inside one jax.jit call, many steps per call (what `fit` does with
steps_per_execution, without its per-call data pipeline)."""

from __future__ import annotations

import contextlib
import functools
import hashlib
import math
import os
import platform
from collections.abc import Callable
from pathlib import Path

import numpy as np

from explainer.config import RunConfig
from explainer.run import PREDICT_BATCH, batch_rows
from explainer.store.cache import user_cache
from explainer.worker.model import build_model, build_training_state, import_engine, initial_weights

STEPS_PER_CALL = 375  # as many as TensorFlow's loops run per call: progress comes as often
COMPILED_BYTES = 64 * 2**20  # XLA's programs kept on disk, at most (the whole test suite leaves 1.6 MB)


@contextlib.contextmanager
def options(config: RunConfig):
    """A run on one core of those the worker may use (by its pid), every thread of the worker:
    XLA's CPU client keeps threads of its own whatever its flags say (JAX has no graph options
    to set). Measured on 2 cores, a ten-epoch run alone: 8.9-9.7 s of CPU in 5.7-6.1 s (1.5
    cores), on one core 6.8-7.0 s in 6.8-7.0 s; beside it, the TensorFlow worker training a cold
    host's first answer ran that much slower. Every core again afterwards: the worker may compute
    a derived result next, whose compiled kernels use them all."""
    if not hasattr(os, "sched_setaffinity"):  # not Linux: its threads go where the system puts them
        yield
        return
    cores = os.sched_getaffinity(0)
    _keep_on({sorted(cores)[os.getpid() % len(cores)]})
    try:
        yield
    finally:
        _keep_on(cores)


def _keep_on(cores: set[int]) -> None:
    """Every thread of this process on `cores`: a thread's setting is its own, and the threads it
    starts inherit it."""
    for thread in os.listdir("/proc/self/task"):
        with contextlib.suppress(ProcessLookupError):  # ended meanwhile
            os.sched_setaffinity(int(thread), cores)


def put(array: np.ndarray):
    """A NumPy array as a JAX array (a copy)."""
    import jax

    return jax.device_put(array)


class Loops:
    """A compiled model of one architecture and its jitted loops; `start` begins a run on it.
    The model's variables are the state between calls: read before, written back after."""

    def __init__(self, config: RunConfig):
        import jax
        import jax.numpy as jnp

        self.model = model = build_model(config)
        self._batch_size = config.batch_size
        build_training_state(model, config)

        def scan(step: Callable, state, x, y, shift, scale, batches):
            def body(state, batch):
                logs, state = step(state, ((x[batch].astype(jnp.float32) - shift) / scale, y[batch]))
                return state, logs["loss"]

            return jax.lax.scan(body, state, batches)

        self._train = jax.jit(functools.partial(scan, model.train_step))
        self._test = jax.jit(functools.partial(scan, model.test_step))

    def start(self, config: RunConfig) -> None:
        """A fresh run of `config`: the initial weights, the optimizer's state as new (zero
        slots, iteration 0) at the config's learning rate."""
        import_engine(config.engine).utils.set_random_seed(config.seed)  # as build_model seeds
        self.model.layers[-1].set_weights(list(initial_weights(config.seed)))
        for variable in self.model.optimizer.variables:
            variable.assign(np.zeros(variable.shape, variable.dtype))
        self.model.optimizer.learning_rate.assign(config.learning_rate)

    def train_epoch(self, train: tuple, order: np.ndarray, report: Callable[[int, float], None]) -> tuple[np.ndarray, dict]:
        """One epoch on (x, y, shift, scale) in the given sample order: Keras' running mean loss
        after each step, and the epoch's final logs; `report(steps_done, running mean loss)` after
        each call. A non-finite loss ends the epoch there (the steps after it in the same call are
        dropped: every later number is NaN too)."""
        model = self.model
        model.reset_metrics()
        state = self._state(model.trainable_variables, model.non_trainable_variables, model.optimizer.variables)
        running = []
        for batches in batch_rows(order, self._batch_size, STEPS_PER_CALL):
            state, losses = self._train(state, *train, batches)
            running.append(np.asarray(losses))
            report(sum(map(len, running)), float(running[-1][-1]))
            if not np.isfinite(running[-1]).all():
                running[-1] = running[-1][: int(np.argmin(np.isfinite(running[-1]))) + 1]
                break
        self._write_back(state, model.trainable_variables, model.non_trainable_variables, model.optimizer.variables)
        return np.concatenate(running), self._logs()

    def evaluate(self, x, y, shift, scale) -> dict[str, float]:
        """Loss and accuracy on uint8 images x, scaled, and labels y, batch by batch, as fit's
        validation computes them."""
        model = self.model
        model.reset_metrics()
        state = self._state(model.trainable_variables, model.non_trainable_variables)
        for batches in batch_rows(np.arange(x.shape[0]), self._batch_size, math.inf):
            state, _ = self._test(state, x, y, shift, scale, batches)
        self._write_back(state, [], [])  # the weights are only read
        return self._logs()

    def predict(self, x) -> np.ndarray:
        """`model.predict(x)` in batches of PREDICT_BATCH."""
        return self.model.predict(x, batch_size=PREDICT_BATCH, verbose=0)

    def _state(self, *groups) -> tuple:
        """The variables' current values, group by group, with the metrics' last."""
        return (*([variable.value for variable in group] for group in groups), [v.value for v in self.model.metrics_variables])

    def _write_back(self, state: tuple, *groups) -> None:
        for group, values in zip((*groups, self.model.metrics_variables), state):
            for variable, value in zip(group, values):
                variable.assign(value)

    def _logs(self) -> dict[str, float]:
        return {name: float(value) for name, value in self.model.get_metrics_result().items()}


@functools.lru_cache(maxsize=8)
def compiled(architecture: RunConfig) -> Loops:
    """One Loops per architecture in a process (see `train.architecture`)."""
    return Loops(architecture)


def configure() -> None:
    """A worker's JAX (the worker's start): every program XLA compiles is kept on disk for the
    next worker on this machine ($JAX_COMPILATION_CACHE_DIR, else `compiled_dir`). Each of a new
    model's programs took 0.5-1.4 s to compile; measured on 2 cores, a new worker's first run of
    100 images 6.9 s with nothing kept, 1.1 s with its programs kept, and each further model
    4.1-5.4 s against 0.5 s. Its threads stay on one core during a run (options)."""
    import jax

    if jax.config.jax_compilation_cache_dir is None:  # JAX reads $JAX_COMPILATION_CACHE_DIR itself
        jax.config.update("jax_compilation_cache_dir", str(compiled_dir()))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0)
    # a size makes JAX evict the least used and lock the directory while it reads or writes
    jax.config.update("jax_compilation_cache_max_size", COMPILED_BYTES)


def compiled_dir() -> Path:
    """Where XLA's programs are kept: in the user's cache, never in the store (replicas on other
    machines may share it), named by this machine's instruction sets (Linux lists them in
    /proc/cpuinfo), since XLA compiles for the CPU it runs on: a container image built elsewhere
    brings programs this machine never loads."""
    try:
        features = next(line for line in Path("/proc/cpuinfo").read_text().splitlines() if line.startswith(("flags", "Features")))
    except (OSError, StopIteration):
        features = platform.processor()
    machine = hashlib.sha256(f"{platform.machine()} {features}".encode()).hexdigest()[:12]
    return user_cache() / "keras-lr-explainer-xla" / machine
