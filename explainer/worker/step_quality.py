"""In the workers: how good each SGD step of epoch 1 is (its alpha, worker/slicing.step_quality),
replayed from a run's initial weights."""

from __future__ import annotations

import math

import numpy as np

from explainer import jobs
from explainer.data import Prepared
from explainer.maths import linear
from explainer.run import RunResult
from explainer.worker import images, replay
from explainer.worker.slicing import line, step_quality

REACH, POINTS = 4, 81  # each step's line: t from 0 to this many learning rates, at this many points
GIVE_WAY_STEPS = 100  # a prefetch may give its worker up between this many steps


def alpha_over_epoch(result: RunResult, data: Prepared, every: int = 1) -> list[dict]:
    """Step quality of every `every`-th SGD step of epoch 1, replayed from the run's initial
    weights: at each step the slice is the mini-batch loss along that step's own gradient, for t
    up to REACH learning rates (where the line's minimum lies further, alpha is measured against
    that range)."""
    config = result.config
    batches = replay.batches_from(config, len(data.x_train), 1, 0, math.ceil(len(data.x_train) / config.batch_size))
    theta = linear.flatten(result.kernels[0], result.biases[0])
    t = np.linspace(0, REACH * config.learning_rate, POINTS)
    rows = []
    for k, batch in enumerate(batches):
        if k % GIVE_WAY_STEPS == 0:
            jobs.give_way()
        x, y = data.x_train[batch], data.y_train[batch]
        d = images.gradient(theta, x, y, config)
        if k % every == 0:
            loss, _ = line(theta, d, x, y, config, t)
            rows.append(
                {
                    "learning_rate": config.learning_rate,
                    "step": k + 1,
                    "alpha": step_quality(t, loss, config.learning_rate),
                    "loss": float(loss[0]),
                }
            )
        theta = theta - config.learning_rate * d
    return rows
