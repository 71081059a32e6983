"""The question's model (Input 28x28, Flatten, Dense(10)) built and compiled for a RunConfig."""

from __future__ import annotations

import contextlib
import importlib
import os
import sys
from types import ModuleType

import numpy as np

from explainer.config import RunConfig
from explainer.engines import ENGINES
from explainer.labels import OPTIMIZER_NAMES
from explainer.maths.linear import CLIP_EPSILON


def import_engine(engine: str) -> ModuleType:
    """The Keras module for an engine: legacy tf.keras 2 (`tf_keras`), or Keras 3 (`import
    keras`) on TensorFlow or on JAX. A process runs one backend: importing the other one's
    engine raises ValueError (the training service gives each backend its own workers)."""
    backend = ENGINES[engine].backend
    os.environ.setdefault("KERAS_BACKEND", backend)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if os.environ["KERAS_BACKEND"] != backend:
        raise ValueError(f"this process runs Keras on {os.environ['KERAS_BACKEND']}; the engine {engine} needs {backend}")
    name = ENGINES[engine].module
    # silence only the first import: other threads' messages must not vanish on later calls
    with contextlib.nullcontext() if name in sys.modules else _quiet_native_stderr():
        module = importlib.import_module(name)
    if backend == "tensorflow":
        # every run builds a fresh model and so traces fresh tf.functions: retracing warnings are noise
        importlib.import_module("tensorflow").get_logger().setLevel("ERROR")
    if name == "keras" and module.backend.backend() != backend:
        raise ValueError(f"Keras 3 runs on the {module.backend.backend()} backend here; the engine {engine} needs {backend}")
    return module


@contextlib.contextmanager
def _quiet_native_stderr():
    """TensorFlow's native libraries print start-up notes (oneDNN, no CUDA driver, a cuInit
    "error") to file descriptor 2 before its log level applies: silence fd 2 while they load.
    Python's own errors are raised, not printed, so nothing real is lost."""
    sys.stderr.flush()
    saved = os.dup(2)
    with open(os.devnull, "w") as devnull:
        os.dup2(devnull.fileno(), 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def initial_weights(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Glorot-uniform kernel and zero bias, as Keras' Dense initialises them, drawn by NumPy.

    Both engines start from these exact weights, so any difference between them is Keras' code.
    """
    limit = np.sqrt(6 / (784 + 10))
    kernel = np.random.default_rng(seed).uniform(-limit, limit, size=(784, 10))
    return kernel.astype(np.float32), np.zeros(10, np.float32)


def build_model(config: RunConfig):
    """A compiled model of the config's engine, at `initial_weights(config.seed)`."""
    keras = import_engine(config.engine)
    keras.utils.set_random_seed(config.seed)
    # the weights are set right below: Keras' own Glorot draw would be thrown away, and on JAX it
    # is a program XLA compiles in every new worker (1.7 s of a cold host's first JAX run)
    model = keras.Sequential(
        [
            keras.Input(shape=(28, 28)),
            keras.layers.Flatten(),
            keras.layers.Dense(10, activation=config.activation, kernel_initializer="zeros"),
        ]
    )
    model.layers[-1].set_weights(list(initial_weights(config.seed)))
    model.compile(optimizer=_optimizer(keras, config), loss=_loss(keras, config), metrics=["accuracy"])
    return model


def build_training_state(model, config: RunConfig) -> None:
    """The optimizer's and the compiled metrics' variables, made before the first train_step as
    Keras 3's fit makes them. Made inside a tf.function's first call instead, they make TensorFlow
    trace it twice (measured: a new architecture's first call 0.6-1.3 s, 0.5-0.8 s made before)."""
    x, y = np.zeros((config.batch_size, 28, 28), np.float32), np.zeros((config.batch_size, 10), np.float32)
    if ENGINES[config.engine].module == "keras":
        model._symbolic_build(data_batch=(x, y))
        return
    # tf.keras 2 has no such step (its fit makes them in its first call): the same three builds
    import tensorflow as tf

    y_pred = model(x)
    model.compiled_loss.build(y_pred)
    model.compiled_metrics.build(y_pred, tf.constant(y))
    model.optimizer.build(model.trainable_variables)


def _optimizer(keras: ModuleType, config: RunConfig):
    return getattr(keras.optimizers, OPTIMIZER_NAMES[config.optimizer])(learning_rate=config.learning_rate)


def _loss(keras: ModuleType, config: RunConfig):
    if config.loss == "from_logits":
        return keras.losses.CategoricalCrossentropy(from_logits=True)
    if config.loss == "probabilities":
        return probabilities_crossentropy(keras)
    return "categorical_crossentropy"


def probabilities_crossentropy(keras: ModuleType):
    """Cross-entropy on the outputs themselves, normalised and clipped at CLIP_EPSILON as Keras
    does on probabilities; it never looks at the cached logits, so Keras' shortcut cannot apply.
    Written with the engine's own operations (Keras 3's ops on its backend, tf.keras 2's backend)."""
    ops = keras.ops if hasattr(keras, "ops") else keras.backend

    def probabilities_crossentropy(y_true, y_pred):
        probabilities = y_pred / ops.sum(y_pred, axis=-1, keepdims=True)
        probabilities = ops.clip(probabilities, CLIP_EPSILON, 1 - CLIP_EPSILON)
        return -ops.sum(y_true * ops.log(probabilities), axis=-1)

    return probabilities_crossentropy
