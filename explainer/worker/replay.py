"""SGD replayed exactly as the trainer ran it: each epoch's sample order and the weights after
each step, for measurements taken between the stored epochs."""

from __future__ import annotations

import math

import numpy as np

from explainer.config import RunConfig
from explainer.data import Prepared
from explainer.run import epoch_order
from explainer.worker import images


def epoch_orders(config: RunConfig, n: int, epochs: int) -> list[np.ndarray]:
    """The sample order of each epoch, drawn exactly as the trainer draws them."""
    rng = np.random.default_rng(config.seed)
    return [epoch_order(rng, n) for _ in range(epochs)]


def batches_from(config: RunConfig, n: int, epoch: int, step: int, count: int) -> list[np.ndarray]:
    """`count` consecutive mini-batches from `step` (0-based) of `epoch` (1-based) on, as trained."""
    size, steps = config.batch_size, math.ceil(n / config.batch_size)
    orders = epoch_orders(config, n, epoch + (step + count - 1) // steps)
    return [orders[epoch - 1 + s // steps][(s % steps) * size : (s % steps + 1) * size] for s in range(step, step + count)]


def sgd_iterates(theta: np.ndarray, batches: list[np.ndarray], data: Prepared, config: RunConfig) -> list[np.ndarray]:
    """theta and the weights after each SGD step on `batches` (Keras' update: theta - lr * g)."""
    iterates = [theta]
    for batch in batches:
        iterates.append(
            iterates[-1] - config.learning_rate * images.gradient(iterates[-1], data.x_train[batch], data.y_train[batch], config)
        )
    return iterates
