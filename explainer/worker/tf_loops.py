"""TensorFlow's loops: Keras' own train_step and test_step (tf.keras 2, or Keras 3 on
TensorFlow) looped inside tf.function over in-memory batches, many steps per call."""

from __future__ import annotations

import contextlib
import functools
import itertools
import math
from collections.abc import Callable

import numpy as np

from explainer.config import RunConfig
from explainer.run import PREDICT_BATCH, batch_rows
from explainer.worker.model import build_model, build_training_state, import_engine, initial_weights

# steps per tf.function call: large enough that Python overhead vanishes, small enough for progress
STEPS_PER_CALL = 375
# which of a scaling's operations a traced step does, (subtracts, divides): see _scaler
OPERATIONS = list(itertools.product((False, True), repeat=2))


@contextlib.contextmanager
def options(config: RunConfig):
    """TensorFlow's graph options for this run, restored afterwards. They are process-global but
    apply when a tf.function is first traced, and each architecture's functions are traced with
    its own setting (it is part of the architecture), so under the training lock they affect
    this run only."""
    import_engine(config.engine)
    import tensorflow as tf

    previous = tf.config.optimizer.get_experimental_options().get("arithmetic_optimization", True)
    tf.config.optimizer.set_experimental_options({"arithmetic_optimization": config.arithmetic_optimization})
    try:
        yield
    finally:
        tf.config.optimizer.set_experimental_options({"arithmetic_optimization": previous})


class Loops:
    """Keras' own train_step and test_step, looped inside tf.function over in-memory batches.

    `fit` pays Python and tf.data overhead on every step; here one TensorFlow call runs
    STEPS_PER_CALL steps of the very same train_step, on the same batches in the same order.
    The data are arguments, not captured constants: TensorFlow keeps whatever a function
    captures alive after the function is gone, which leaked the ~200 MB training set per run.
    A process keeps one Loops per architecture (`compiled`) and `start`s each run on it: tracing
    Keras' steps for a new model costs ~0.6 s of a ~3 s run (once per scaling's OPERATIONS).
    """

    def __init__(self, config: RunConfig):
        import tensorflow as tf

        self.model = model = build_model(config)
        build_training_state(model, config)
        self._batch_size = batch_size = config.batch_size
        # the images stay uint8 (a quarter of float32) and are scaled batch by batch, with the
        # same float32 operations as data.scaled: the model sees exactly the prepared inputs
        images, labels = tf.TensorSpec([None, 28, 28], tf.uint8), tf.TensorSpec([None, 10], tf.float32)
        pixels = tf.TensorSpec([28, 28], tf.float32)

        # each call's batches come as rows of sample indices, and the loop stops at the first
        # non-finite loss in its condition: on one thread TensorFlow's graph runs op by op, so a
        # step costs mostly the ops it runs. Slicing the epoch's order per step and an autograph
        # `break` were a quarter of a step (tf.keras 2's epoch 0.38-0.42 -> 0.25-0.29 s). A row
        # taken by gather (one op, where a slice is four), one iteration at a time (none run
        # ahead to keep track of) and whole batches' width known when traced (TensorFlow folds
        # Keras' shape arithmetic on them) took 10-15% more off an epoch's steps (Keras 3 on
        # standardized inputs 1%), bit-identical (each engine on raw, x / 255 and standardized,
        # 15 epochs in turn with the loop before in one process)
        def train_steps(x, y, shift, scale, batches, operations):
            scaled = _scaler(shift, scale, tf.shape(batches)[1], operations)

            def step(index, running_loss, finite):
                batch = tf.gather(batches, index)
                logs = model.train_step((scaled(tf.gather(x, batch)), tf.gather(y, batch)))
                return index + 1, running_loss.write(index, logs["loss"]), tf.math.is_finite(logs["loss"])

            steps = tf.shape(batches)[0]
            done, running_loss, _ = tf.while_loop(
                lambda index, _, finite: tf.logical_and(index < steps, finite),
                step,
                (tf.constant(0), tf.TensorArray(tf.float32, size=steps), tf.constant(True)),
                parallel_iterations=1,
            )
            return running_loss.stack()[:done], model.get_metrics_result()

        def test_steps(x, y, shift, scale, operations):
            scaled = _scaler(shift, scale, batch_size, operations)

            def step(index):
                batch = slice(index * batch_size, (index + 1) * batch_size)
                model.test_step((scaled(x[batch]), y[batch]))
                return (index + 1,)

            steps = (tf.shape(x)[0] + batch_size - 1) // batch_size
            tf.while_loop(lambda index: index < steps, step, (tf.constant(0),))
            return model.get_metrics_result()

        # one function per scaling's operations (see _scaler) and batch width (whole batches, or
        # a smaller last one), each traced when first called
        self._train_steps = {
            (operations, width): traced(
                functools.partial(train_steps, operations=operations),
                [images, labels, pixels, pixels, tf.TensorSpec([None, width], tf.int32)],
            )
            for operations in OPERATIONS
            for width in (batch_size, None)
        }
        self._test_steps = {
            operations: traced(functools.partial(test_steps, operations=operations), [images, labels, pixels, pixels])
            for operations in OPERATIONS
        }

        # tf.keras 2's predict counts its steps after each output, and that changes how TensorFlow
        # computes it: without the count, 1% of its sigmoid outputs came out 1 ulp apart on an
        # AMD EPYC, enough to move an argmax among saturated 1s (Keras 3 counts nothing)
        counter = getattr(model, "_predict_counter", None)

        def predict_steps(x):
            def step(index, outputs):
                predicted = model.predict_step(x[index * PREDICT_BATCH : (index + 1) * PREDICT_BATCH])
                if counter is not None:
                    with tf.control_dependencies([predicted]):
                        counter.assign_add(1)
                return index + 1, outputs.write(index, predicted)

            steps = (tf.shape(x)[0] + PREDICT_BATCH - 1) // PREDICT_BATCH
            empty = tf.TensorArray(tf.float32, size=0, dynamic_size=True, infer_shape=False)
            _, outputs = tf.while_loop(lambda index, _: index < steps, step, (tf.constant(0), empty))
            return outputs.concat()

        self._predict_steps = traced(predict_steps, [tf.TensorSpec([None, 28, 28], tf.float32)])

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

    def train_epoch(self, train: tuple, order: np.ndarray, report: Callable[[int, float], None]) -> tuple[np.ndarray, dict]:
        """One epoch on the (x, y, shift, scale) tensors `train` in the given sample order: Keras'
        running mean loss after each step, and the epoch's final logs; `report(steps_done, running
        mean loss)` after each call. Stops early at a non-finite loss."""
        self.model.reset_metrics()
        running, logs = [], {}
        for batches in batch_rows(order, self._batch_size, STEPS_PER_CALL):
            chunk, logs = self.train_steps(train, batches)
            running.append(chunk.numpy())
            logs = {name: float(value) for name, value in logs.items()}
            report(sum(map(len, running)), float(running[-1][-1]))
            if not math.isfinite(logs["loss"]):
                break
        return np.concatenate(running), logs

    def train_steps(self, train: tuple, batches: np.ndarray) -> tuple:
        """One call of the loop: the steps of `batches` (rows of sample indices) on `train`;
        Keras' running mean loss after each step, and its metrics' results."""
        width = self._batch_size if batches.shape[1] == self._batch_size else None
        return self._train_steps[_operations(*train[2:]), width](*train, batches)

    def predict(self, x) -> np.ndarray:
        """`model.predict(x, batch_size=PREDICT_BATCH)`: Keras' own predict_step on the same batches,
        without the tf.data pipeline predict builds on every call (measured: 0.14 s of a 0.5 s run)."""
        return self._predict_steps(x).numpy()

    def evaluate(self, x, y, shift, scale) -> dict[str, float]:
        """Loss and accuracy on uint8 images x, scaled, and labels y, batch by batch, as fit's
        validation computes them."""
        self.model.reset_metrics()
        logs = self._test_steps[_operations(shift, scale)](x, y, shift, scale)
        return {name: float(value) for name, value in logs.items()}


def _operations(shift, scale) -> tuple[bool, bool]:
    """Which of `(x - shift) / scale`'s operations change anything: (subtracts, divides)."""
    return bool(np.any(np.asarray(shift) != 0)), bool(np.any(np.asarray(scale) != 1))


def _scaler(shift, scale, rows, operations: tuple[bool, bool]):
    """`(x - shift) / scale` for uint8 batches of at most `rows` images, rounded as `data.scaled`
    rounds it, at a loop's speed: shift and scale are broadcast once per call rather than on every
    step (TensorFlow's broadcasting path is several times slower than its same-shape one), and
    an operation that changes nothing is left out of the traced step, as `data.scaled` leaves it
    out (x - 0 and x / 1 are x: raw pixels are only cast, x / 255 only divided). Measured side by
    side, an epoch's steps and its validation on raw pixels with the broadcast once: tf.keras 2
    0.22 + 0.027 -> 0.18 + 0.021 s, Keras 3 0.28 + 0.037 -> 0.22 + 0.031 s; without the branch
    that chose raw pixels in every step, an epoch's steps 5-8% shorter (both engines, raw and
    x / 255, alternated in one process). Every number bit-identical on each scaling."""
    import tensorflow as tf

    subtracts, divides = operations
    shape = tf.stack([rows, *shift.shape])
    shift, scale = tf.broadcast_to(shift, shape), tf.broadcast_to(scale, shape)

    def scaled(images):
        x, n = tf.cast(images, tf.float32), tf.shape(images)[0]
        if subtracts:
            x = x - shift[:n]
        if divides:
            x = x / scale[:n]
        return x

    return scaled


@functools.lru_cache(maxsize=8)
def compiled(architecture: RunConfig) -> Loops:
    """One Loops per architecture in a process (see `train.architecture`)."""
    return Loops(architecture)


def traced(function: Callable, signature: list):
    """`function` as a tf.function of that input signature, traced as it is written: its loops
    are TensorFlow's own (tf.while_loop), so AutoGraph, which would rewrite it and every Keras
    function it calls, has nothing to do. Measured in a new worker, tf.keras 2's first run, in
    turn with AutoGraph: the train loop's first call (its trace and 375 steps) 0.41-0.44 s instead
    of 0.63-0.69 s, the validation's 0.20-0.24 s instead of 0.34-0.51 s, predict's 0.12 s instead
    of 0.39-0.63 s; the same graphs, node for node."""
    import tensorflow as tf

    return tf.function(function, input_signature=signature, autograph=False)


def put(array: np.ndarray):
    """A NumPy array as a TensorFlow tensor (a copy)."""
    import tensorflow as tf

    return tf.constant(array)


def configure() -> None:
    """A worker's TensorFlow on one thread (the worker's start): a batch of 32 gains nothing from
    threads, and workers would contend."""
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)
