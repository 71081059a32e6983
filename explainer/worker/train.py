"""Training a RunConfig with Keras' own train_step on its engine's loops (TensorFlow's or JAX's),
many steps per call, measuring what a RunResult holds."""

from __future__ import annotations

import importlib
import math
import threading
import time
from collections.abc import Callable
from types import ModuleType

import numpy as np

from explainer.backends import BACKENDS
from explainer.config import RunConfig
from explainer.data import Mnist
from explainer.engines import ENGINES, engine_versions
from explainer.jobs import WORKER_PACKAGE
from explainer.run import METRICS, Progress, RunResult, epoch_order
from explainer.worker.device import DeviceData, device_data
from explainer.worker.model import initial_weights

# Keras seeding and TensorFlow options are process-global: one run at a time in a process
TRAINING_LOCK = threading.RLock()


def loops(backend: str) -> ModuleType:
    """The backend's loops module, as its record names it (each imports its library when used)."""
    return importlib.import_module(f"{WORKER_PACKAGE}.{BACKENDS[backend].loops}")


def train(
    config: RunConfig,
    mnist: Mnist,
    progress: Callable[[Progress], None] | None = None,
) -> RunResult:
    """Train `config` on `mnist` under the process-wide training lock, on its engine's loops."""
    backend = loops(ENGINES[config.engine].backend)
    with TRAINING_LOCK, backend.options(config):
        return _train_locked(config, mnist, backend, progress or (lambda _: None))


def _train_locked(config: RunConfig, mnist: Mnist, backend: ModuleType, progress: Callable[[Progress], None]) -> RunResult:
    started = time.perf_counter()
    data = _data(mnist, config, backend)
    loops = backend.compiled(architecture(config))
    loops.start(config)
    model = loops.model
    batch_sizes = np.diff(np.r_[np.arange(0, data.n_train, config.batch_size), data.n_train])
    steps = len(batch_sizes)
    rng = np.random.default_rng(config.seed)
    history: dict[str, list[float]] = {name: [] for name in METRICS}
    step_loss, weights, diverged = [], [initial_weights(config.seed)], None
    for epoch in range(1, config.num_epochs + 1):

        def report(step: int, loss: float, epoch: int = epoch) -> None:
            logs = {name: list(values) for name, values in history.items()}
            progress(Progress(epoch, config.num_epochs, step, steps, logs, loss))

        # fit(shuffle=True) draws a new order every epoch; ours comes from the seed (see epoch_order)
        running_loss, logs = loops.train_epoch(data.train, epoch_order(rng, data.n_train), report)
        step_loss.append(_per_step(running_loss, batch_sizes))
        history["loss"].append(logs["loss"])
        history["accuracy"].append(logs["accuracy"])
        weights.append(tuple(model.layers[-1].get_weights()))
        if not math.isfinite(logs["loss"]):
            diverged = (
                f"the training loss became {'NaN' if math.isnan(logs['loss']) else 'infinite'} at epoch {epoch}, "
                f"step {len(running_loss)}; training stopped there"
            )
            history["val_loss"].append(math.nan)
            history["val_accuracy"].append(math.nan)
            break
        val_logs = loops.evaluate(*data.test)
        history["val_loss"].append(val_logs["loss"])
        history["val_accuracy"].append(val_logs["accuracy"])
        report(steps, logs["loss"])
    predict_accuracy, logit_accuracy = (math.nan, math.nan) if diverged else _final_accuracies(loops, data)
    first_batch_loss = math.nan if diverged else loops.evaluate(*data.first_batch)["loss"]
    return RunResult(
        config=config,
        history=history,
        step_loss=np.concatenate(step_loss),
        steps_per_epoch=steps,
        kernels=np.stack([kernel for kernel, _ in weights]),
        biases=np.stack([bias for _, bias in weights]),
        predict_accuracy=predict_accuracy,
        logit_accuracy=logit_accuracy,
        first_batch_loss=first_batch_loss,
        diverged=diverged,
        versions=engine_versions(config.engine),
        seconds=time.perf_counter() - started,
    )


def architecture(config: RunConfig) -> RunConfig:
    """What a compiled model depends on: the config without what `Loops.start` sets per run."""
    return RunConfig(
        engine=config.engine,
        activation=config.activation,
        loss=config.loss,
        optimizer=config.optimizer,
        batch_size=config.batch_size,
        arithmetic_optimization=config.arithmetic_optimization,
    )


_current: dict = {}  # the last run's data, kept for the next run


def _data(mnist: Mnist, config: RunConfig, backend: ModuleType) -> DeviceData:
    """The config's data in the backend's arrays. A worker's runs mostly share their data, and
    building it takes ~0.2 s, so the last one is kept; only one, and released before the next is
    built (measured: each dataset kept costs ~120 MB)."""
    key = (mnist.fingerprint, config.scaling, config.train_subset, backend.__name__)
    if _current.get("key") != key:
        _current.clear()
        _current.update(key=key, data=device_data(mnist, config, backend.put))
    return _current["data"]


def _per_step(running_mean: np.ndarray, batch_sizes: np.ndarray) -> np.ndarray:
    """Each step's batch loss from Keras' batch-size-weighted running mean after each step."""
    seen = np.cumsum(batch_sizes[: len(running_mean)], dtype=np.float64)
    totals = running_mean.astype(np.float64) * seen
    # float32, as Keras' own losses are: what the float64 recovery adds is round-off, and a stored
    # run is half as large
    return (np.diff(np.r_[0.0, totals]) / batch_sizes[: len(running_mean)]).astype(np.float32)


def _final_accuracies(loops, data: DeviceData) -> tuple[float, float]:
    test_inputs, (x_test, y_test) = data.scaled_test()
    labels = y_test.argmax(axis=1)
    # the tensor already made, not the array: predict would copy 31 MB into TensorFlow every run
    outputs = loops.predict(test_inputs)
    kernel, bias = loops.model.layers[-1].get_weights()
    with np.errstate(over="ignore", invalid="ignore"):  # weights near float32's edge (the divergence sweep's)
        logits = x_test.reshape(len(x_test), -1) @ kernel + bias
    return float(np.mean(outputs.argmax(axis=1) == labels)), float(np.mean(logits.argmax(axis=1) == labels))
