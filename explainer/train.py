"""Training a RunConfig with Keras' own train_step, many steps per TensorFlow call."""
from __future__ import annotations

import contextlib
import dataclasses
import math
import threading
import time
from collections.abc import Callable

import numpy as np

from explainer.config import RunConfig
from explainer.data import Mnist, Prepared, load_mnist, prepare
from explainer.model import build_model, import_engine, initial_weights

# Keras seeding and TensorFlow options are process-global and Streamlit sessions share the process
TRAINING_LOCK = threading.RLock()  # re-entrant: the cache holds it around check-and-train
# steps per tf.function call: large enough that Python overhead vanishes, small enough for progress
STEPS_PER_CALL = 375
METRICS = ("loss", "accuracy", "val_loss", "val_accuracy")


@dataclasses.dataclass(frozen=True)
class Progress:
    """Where a run is: `step` of `steps_per_epoch` in epoch `epoch` (1-based) of `num_epochs`."""

    epoch: int
    num_epochs: int
    step: int
    steps_per_epoch: int

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
    diverged: str | None
    versions: dict[str, str]
    seconds: float


def train(
    config: RunConfig,
    mnist: Mnist | None = None,
    progress: Callable[[Progress], None] | None = None,
) -> RunResult:
    """Train `config` on MNIST (or the given arrays) under the process-wide training lock."""
    data = prepare(mnist if mnist is not None else load_mnist(), config)
    with TRAINING_LOCK, _graph_options(config):
        return _train_locked(config, data, progress)


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


def _train_locked(config: RunConfig, data: Prepared, progress) -> RunResult:
    started = time.perf_counter()
    model = build_model(config)
    loops = _Loops(model, data, config.batch_size)
    rng = np.random.default_rng(config.seed)
    history: dict[str, list[float]] = {name: [] for name in METRICS}
    step_loss, weights, diverged = [], [initial_weights(config.seed)], None
    for epoch in range(1, config.num_epochs + 1):
        # fit(shuffle=True) draws a new order every epoch; ours comes from the seed
        running_loss, logs = loops.train_epoch(rng.permutation(len(data.x_train)), epoch, config.num_epochs, progress)
        step_loss.append(_per_step(running_loss, loops.batch_sizes))
        history["loss"].append(logs["loss"])
        history["accuracy"].append(logs["accuracy"])
        weights.append(tuple(model.layers[-1].get_weights()))
        if not math.isfinite(logs["loss"]):
            diverged = f"the training loss became {logs['loss']} at epoch {epoch}, step {len(running_loss)}; training stopped there"
            history["val_loss"].append(math.nan)
            history["val_accuracy"].append(math.nan)
            break
        val_logs = loops.evaluate()
        history["val_loss"].append(val_logs["loss"])
        history["val_accuracy"].append(val_logs["accuracy"])
    predict_accuracy, logit_accuracy = (math.nan, math.nan) if diverged else _final_accuracies(model, data)
    keras = import_engine(config.engine)
    import tensorflow as tf

    return RunResult(
        config=config,
        history=history,
        step_loss=np.concatenate(step_loss),
        steps_per_epoch=len(loops.batch_sizes),
        kernels=np.stack([kernel for kernel, _ in weights]),
        biases=np.stack([bias for _, bias in weights]),
        predict_accuracy=predict_accuracy,
        logit_accuracy=logit_accuracy,
        diverged=diverged,
        versions={"tensorflow": tf.__version__, config.engine: keras.__version__},
        seconds=time.perf_counter() - started,
    )


class _Loops:
    """Keras' own train_step and test_step, looped inside tf.function over in-memory batches.

    `fit` pays Python and tf.data overhead on every step; here one TensorFlow call runs
    STEPS_PER_CALL steps of the very same train_step, on the same batches in the same order.
    """

    def __init__(self, model, data: Prepared, batch_size: int):
        import tensorflow as tf

        self.model = model
        x_train, y_train = tf.constant(data.x_train), tf.constant(data.y_train)
        x_test, y_test = tf.constant(data.x_test), tf.constant(data.y_test)
        n_train, n_test = len(data.x_train), len(data.x_test)
        self.batch_sizes = np.diff(np.r_[np.arange(0, n_train, batch_size), n_train])
        test_steps = math.ceil(n_test / batch_size)

        @tf.function(
            input_signature=[
                tf.TensorSpec([None], tf.int64),
                tf.TensorSpec([], tf.int32),
                tf.TensorSpec([], tf.int32),
            ]
        )
        def train_steps(order, start, stop):
            running_loss = tf.TensorArray(tf.float32, size=0, dynamic_size=True)
            for step in tf.range(start, stop):
                batch = order[step * batch_size : (step + 1) * batch_size]
                logs = model.train_step((tf.gather(x_train, batch), tf.gather(y_train, batch)))
                running_loss = running_loss.write(step - start, logs["loss"])
                if not tf.math.is_finite(logs["loss"]):
                    break
            return running_loss.stack(), logs

        @tf.function
        def test_steps_fn():
            for step in tf.range(test_steps):
                batch = slice(step * batch_size, (step + 1) * batch_size)
                logs = model.test_step((x_test[batch], y_test[batch]))
            return logs

        self._train_steps, self._test_steps = train_steps, test_steps_fn

    def train_epoch(self, order: np.ndarray, epoch: int, num_epochs: int, progress) -> tuple[np.ndarray, dict]:
        """One epoch in the given sample order: Keras' running mean loss after each step, and the
        epoch's final logs. Stops early at a non-finite loss."""
        self.model.reset_metrics()
        steps = len(self.batch_sizes)
        running, logs = [], {}
        for start in range(0, steps, STEPS_PER_CALL):
            chunk, logs = self._train_steps(order, start, min(start + STEPS_PER_CALL, steps))
            running.append(chunk.numpy())
            logs = {name: float(value) for name, value in logs.items()}
            if progress is not None:
                progress(Progress(epoch, num_epochs, sum(map(len, running)), steps))
            if not math.isfinite(logs["loss"]):
                break
        return np.concatenate(running), logs

    def evaluate(self) -> dict[str, float]:
        """Loss and accuracy on the test set, batch by batch as fit's validation computes them."""
        self.model.reset_metrics()
        return {name: float(value) for name, value in self._test_steps().items()}


def _per_step(running_mean: np.ndarray, batch_sizes: np.ndarray) -> np.ndarray:
    """Each step's batch loss from Keras' batch-size-weighted running mean after each step."""
    seen = np.cumsum(batch_sizes[: len(running_mean)], dtype=np.float64)
    totals = running_mean.astype(np.float64) * seen
    return np.diff(np.r_[0.0, totals]) / batch_sizes[: len(running_mean)]


def _final_accuracies(model, data: Prepared) -> tuple[float, float]:
    labels = data.y_test.argmax(axis=1)
    outputs = model.predict(data.x_test, batch_size=1000, verbose=0)
    kernel, bias = model.layers[-1].get_weights()
    logits = data.x_test.reshape(len(data.x_test), -1) @ kernel + bias
    return float(np.mean(outputs.argmax(axis=1) == labels)), float(np.mean(logits.argmax(axis=1) == labels))
