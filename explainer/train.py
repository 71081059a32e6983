"""Training a RunConfig with Keras' own train_step, many steps per TensorFlow call."""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import math
import threading
import time
from collections.abc import Callable
from importlib import metadata

import numpy as np

from explainer.config import RunConfig
from explainer.data import Mnist, scaled, scaling
from explainer.model import ENGINE_PACKAGES, build_model, import_engine, initial_weights

# Keras seeding and TensorFlow options are process-global: one run at a time in a process
TRAINING_LOCK = threading.RLock()
# steps per tf.function call: large enough that Python overhead vanishes, small enough for progress
STEPS_PER_CALL = 375
METRICS = ("loss", "accuracy", "val_loss", "val_accuracy")
FIRST_BATCH = 32  # images of the loss-path check (the question's batch size)


@dataclasses.dataclass(frozen=True)
class Progress:
    """Where a run is: `step` of `steps_per_epoch` in epoch `epoch` (1-based) of `num_epochs`,
    and the per-epoch logs of the epochs finished so far (charts fill in from them)."""

    epoch: int
    num_epochs: int
    step: int
    steps_per_epoch: int
    history: dict[str, list[float]] = dataclasses.field(default_factory=dict)

    @property
    def fraction(self) -> float:
        done = (self.epoch - 1) * self.steps_per_epoch + self.step
        return done / (self.num_epochs * self.steps_per_epoch)


@dataclasses.dataclass(frozen=True, eq=False)
class RunResult:
    """Everything measured in one run, as plain data.

    history: Keras' per-epoch logs, exactly what `fit` reports (one entry per epoch run).
    step_loss: the loss of every training step (the mini-batch loss before that step's update),
        recovered from Keras' running mean after each step; `steps_per_epoch` entries per epoch.
    kernels, biases: the Dense weights at initialisation and after each epoch.
    predict_accuracy, logit_accuracy: test accuracy of argmax(model.predict(x)) and of
        argmax(x @ W + b) for the final weights; they differ when sigmoid outputs tie at 1.0.
    first_batch_loss: the loss Keras itself reports on the first FIRST_BATCH training images
        (file order) with the final weights: which formula produced it tells Keras' loss path.
    diverged: None, or what went non-finite and where (training stops there).
    """

    config: RunConfig
    history: dict[str, list[float]]
    step_loss: np.ndarray
    steps_per_epoch: int
    kernels: np.ndarray
    biases: np.ndarray
    predict_accuracy: float
    logit_accuracy: float
    first_batch_loss: float
    diverged: str | None
    versions: dict[str, str]
    seconds: float


def train(
    config: RunConfig,
    mnist: Mnist,
    progress: Callable[[Progress], None] | None = None,
) -> RunResult:
    """Train `config` on `mnist` under the process-wide training lock."""
    with TRAINING_LOCK, _graph_options(config):
        return _train_locked(config, mnist, progress or (lambda _: None))


@contextlib.contextmanager
def _graph_options(config: RunConfig):
    """TensorFlow's graph options for this run, restored afterwards. They are process-global but
    apply when a tf.function is first run, and every run traces fresh ones, so under the lock
    they affect this run only."""
    import_engine(config.engine)
    import tensorflow as tf

    previous = tf.config.optimizer.get_experimental_options().get("arithmetic_optimization", True)
    tf.config.optimizer.set_experimental_options({"arithmetic_optimization": config.arithmetic_optimization})
    try:
        yield
    finally:
        tf.config.optimizer.set_experimental_options({"arithmetic_optimization": previous})


def _train_locked(config: RunConfig, mnist: Mnist, progress: Callable[[Progress], None]) -> RunResult:
    started = time.perf_counter()
    data = _device_data(mnist, config)
    loops = _compiled(_architecture(config))
    loops.start(config)
    model = loops.model
    batch_sizes = np.diff(np.r_[np.arange(0, data.n_train, config.batch_size), data.n_train])
    steps = len(batch_sizes)
    rng = np.random.default_rng(config.seed)
    history: dict[str, list[float]] = {name: [] for name in METRICS}
    step_loss, weights, diverged = [], [initial_weights(config.seed)], None
    for epoch in range(1, config.num_epochs + 1):

        def report(step: int, epoch: int = epoch) -> None:
            progress(Progress(epoch, config.num_epochs, step, steps, {name: list(values) for name, values in history.items()}))

        # fit(shuffle=True) draws a new order every epoch; ours comes from the seed (see epoch_order)
        running_loss, logs = loops.train_epoch(data.train, epoch_order(rng, data.n_train), steps, report)
        step_loss.append(_per_step(running_loss, batch_sizes))
        history["loss"].append(logs["loss"])
        history["accuracy"].append(logs["accuracy"])
        weights.append(tuple(model.layers[-1].get_weights()))
        if not math.isfinite(logs["loss"]):
            diverged = (
                f"the training loss became {logs['loss']} at epoch {epoch}, step {len(running_loss)}; training stopped there"
            )
            history["val_loss"].append(math.nan)
            history["val_accuracy"].append(math.nan)
            break
        val_logs = loops.evaluate(*data.test)
        history["val_loss"].append(val_logs["loss"])
        history["val_accuracy"].append(val_logs["accuracy"])
        report(steps)
    predict_accuracy, logit_accuracy = (math.nan, math.nan) if diverged else _final_accuracies(model, data)
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


def epoch_order(rng: np.random.Generator, n: int) -> np.ndarray:
    """The next epoch's sample order: the one rule for the trainer and every replay of it."""
    return rng.permutation(n)


def engine_versions(engine: str) -> dict[str, str]:
    """The installed TensorFlow and the engine's Keras, read from package metadata."""
    return {"tensorflow": metadata.version("tensorflow"), engine: metadata.version(ENGINE_PACKAGES[engine])}


class _Loops:
    """Keras' own train_step and test_step, looped inside tf.function over in-memory batches.

    `fit` pays Python and tf.data overhead on every step; here one TensorFlow call runs
    STEPS_PER_CALL steps of the very same train_step, on the same batches in the same order.
    The data are arguments, not captured constants: TensorFlow keeps whatever a function
    captures alive after the function is gone, which leaked the ~200 MB training set per run.
    A process keeps one _Loops per architecture (`_compiled`) and `start`s each run on it: tracing
    Keras' steps for a new model costs ~0.7 s of a ~2.5 s run.
    """

    def __init__(self, config: RunConfig):
        import tensorflow as tf

        self.model = model = build_model(config)
        batch_size = config.batch_size
        # the images stay uint8 (a quarter of float32) and are scaled batch by batch, with the
        # same float32 operations as data.scaled: the model sees exactly the prepared inputs
        images, labels = tf.TensorSpec([None, 28, 28], tf.uint8), tf.TensorSpec([None, 10], tf.float32)
        pixels = tf.TensorSpec([28, 28], tf.float32)

        @tf.function(
            input_signature=[
                images,
                labels,
                pixels,
                pixels,
                tf.TensorSpec([None], tf.int64),
                tf.TensorSpec([], tf.int32),
                tf.TensorSpec([], tf.int32),
            ]
        )
        def train_steps(x, y, shift, scale, order, start, stop):
            running_loss = tf.TensorArray(tf.float32, size=0, dynamic_size=True)
            for step in tf.range(start, stop):
                batch = order[step * batch_size : (step + 1) * batch_size]
                inputs = (tf.cast(tf.gather(x, batch), tf.float32) - shift) / scale
                logs = model.train_step((inputs, tf.gather(y, batch)))
                running_loss = running_loss.write(step - start, logs["loss"])
                if not tf.math.is_finite(logs["loss"]):
                    break
            return running_loss.stack(), logs

        @tf.function(input_signature=[images, labels, pixels, pixels])
        def test_steps(x, y, shift, scale):
            for step in tf.range((tf.shape(x)[0] + batch_size - 1) // batch_size):
                batch = slice(step * batch_size, (step + 1) * batch_size)
                logs = model.test_step(((tf.cast(x[batch], tf.float32) - shift) / scale, y[batch]))
            return logs

        self._train_steps, self._test_steps = train_steps, test_steps

    def start(self, config: RunConfig) -> None:
        """A fresh run of `config`: the model's initial weights, the optimizer's state as new
        (zero slots, iteration 0) at the config's learning rate."""
        import tensorflow as tf

        import_engine(config.engine).utils.set_random_seed(config.seed)  # as build_model seeds
        self.model.layers[-1].set_weights(list(initial_weights(config.seed)))
        optimizer = self.model.optimizer
        for variable in optimizer.variables:
            variable.assign(tf.zeros(variable.shape, variable.dtype))
        optimizer.learning_rate.assign(config.learning_rate)

    def train_epoch(self, train: tuple, order: np.ndarray, steps: int, report: Callable[[int], None]) -> tuple[np.ndarray, dict]:
        """One epoch of `steps` steps on the (x, y, shift, scale) tensors `train` in the given sample order:
        Keras' running mean loss after each step, and the epoch's final logs; `report(steps_done)`
        after each call. Stops early at a non-finite loss."""
        import tensorflow as tf

        self.model.reset_metrics()
        running, logs, order = [], {}, tf.constant(order)
        for start in range(0, steps, STEPS_PER_CALL):
            chunk, logs = self._train_steps(*train, order, start, min(start + STEPS_PER_CALL, steps))
            running.append(chunk.numpy())
            logs = {name: float(value) for name, value in logs.items()}
            report(sum(map(len, running)))
            if not math.isfinite(logs["loss"]):
                break
        return np.concatenate(running), logs

    def evaluate(self, x, y, shift, scale) -> dict[str, float]:
        """Loss and accuracy on uint8 images x, scaled, and labels y, batch by batch, as fit's
        validation computes them."""
        self.model.reset_metrics()
        return {name: float(value) for name, value in self._test_steps(x, y, shift, scale).items()}


def _architecture(config: RunConfig) -> RunConfig:
    """What a compiled model depends on: the config without what `_Loops.start` sets per run."""
    return RunConfig(
        engine=config.engine,
        activation=config.activation,
        loss=config.loss,
        optimizer=config.optimizer,
        batch_size=config.batch_size,
        arithmetic_optimization=config.arithmetic_optimization,
    )


@functools.lru_cache(maxsize=8)
def _compiled(architecture: RunConfig) -> _Loops:
    return _Loops(architecture)


@dataclasses.dataclass(frozen=True, eq=False)
class _DeviceData:
    """A run's data as tensors: `train` and `test` are (uint8 images, one-hot labels, shift,
    scale), `first_batch` likewise; the test images scaled, as a tensor for predict and as an
    array for the logits."""

    n_train: int
    train: tuple
    test: tuple
    first_batch: tuple
    test_inputs: object
    test_arrays: tuple[np.ndarray, np.ndarray]


_current_data: list[tuple[tuple, _DeviceData]] = []  # the last run's data, kept for the next run


def _device_data(mnist: Mnist, config: RunConfig) -> _DeviceData:
    """The config's prepared data as tensors. A worker's runs mostly share their data, and
    preparing and copying 60,000 images takes ~0.4 s, so the last one is kept; only one, and
    released before the next is built (measured: each dataset kept costs ~250 MB)."""
    import tensorflow as tf

    key = (mnist.fingerprint, config.scaling, config.train_subset)
    if not _current_data or _current_data[0][0] != key:
        _current_data.clear()
        shift, scale = (tf.constant(array) for array in scaling(mnist, config))
        eye = np.eye(10, dtype=np.float32)
        images, labels = mnist.x_train[: config.train_subset], eye[mnist.y_train[: config.train_subset]]
        x_test = scaled(mnist.x_test, *scaling(mnist, config))
        device = _DeviceData(
            n_train=len(images),
            train=(tf.constant(images), tf.constant(labels), shift, scale),
            test=(tf.constant(mnist.x_test), tf.constant(eye[mnist.y_test]), shift, scale),
            first_batch=(tf.constant(images[:FIRST_BATCH]), tf.constant(labels[:FIRST_BATCH]), shift, scale),
            test_inputs=tf.constant(x_test),
            test_arrays=(x_test, eye[mnist.y_test]),
        )
        _current_data.append((key, device))
    return _current_data[0][1]


def _per_step(running_mean: np.ndarray, batch_sizes: np.ndarray) -> np.ndarray:
    """Each step's batch loss from Keras' batch-size-weighted running mean after each step."""
    seen = np.cumsum(batch_sizes[: len(running_mean)], dtype=np.float64)
    totals = running_mean.astype(np.float64) * seen
    return np.diff(np.r_[0.0, totals]) / batch_sizes[: len(running_mean)]


def _final_accuracies(model, data: _DeviceData) -> tuple[float, float]:
    x_test, y_test = data.test_arrays
    labels = y_test.argmax(axis=1)
    # the tensor already made, not the array: predict would copy 31 MB into TensorFlow every run
    outputs = model.predict(data.test_inputs, batch_size=1000, verbose=0)
    kernel, bias = model.layers[-1].get_weights()
    logits = x_test.reshape(len(x_test), -1) @ kernel + bias
    return float(np.mean(outputs.argmax(axis=1) == labels)), float(np.mean(logits.argmax(axis=1) == labels))


def keras_loss(config: RunConfig, kernel: np.ndarray, bias: np.ndarray, x: np.ndarray, y: np.ndarray) -> float:
    """The loss Keras itself reports for these weights on (x, y), through the config's own path."""
    with TRAINING_LOCK:  # building a model seeds Keras, which is process-global
        model = build_model(config)
        model.layers[-1].set_weights([kernel, bias])
        return float(model.evaluate(x, y, batch_size=len(x), verbose=0, return_dict=True)["loss"])
