"""Seconds for the exact 101 x 101 loss plane over all 60,000 training images, against Keras
evaluating the model at 20 grid points (extrapolated to the whole grid)."""

from __future__ import annotations

import argparse
import time

import numpy as np

from explainer import linear, surface
from explainer.cache import cached_train
from explainer.config import RunConfig
from explainer.data import load_mnist, prepare
from explainer.model import build_model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--points", type=int, default=101, help="grid points per axis (default: %(default)s)")
    parser.add_argument("--keras-points", type=int, default=20)
    args = parser.parse_args()
    config = RunConfig(num_epochs=1)
    mnist = load_mnist()
    result, data = cached_train(config, mnist), prepare(mnist, config)
    request = surface.SurfaceRequest(config, point="epoch", index=1)
    theta, epoch, step = surface.position(request, result, data)
    d1, d2 = surface.directions(request, theta, data, epoch, step)
    axis = np.linspace(-0.015, 0.09, args.points)

    started = time.perf_counter()
    grid = surface.plane(theta, d1, d2, data.x_train, data.y_train, config, axis, axis)
    grid_seconds = time.perf_counter() - started

    model = build_model(config)
    rng = np.random.default_rng(0)
    cells = [(rng.integers(args.points), rng.integers(args.points)) for _ in range(args.keras_points)]
    started = time.perf_counter()
    keras_losses = []
    for i, j in cells:
        model.layers[-1].set_weights(list(linear.unflatten(theta - axis[i] * d1 - axis[j] * d2)))
        keras_losses.append(model.evaluate(data.x_train, data.y_train, batch_size=1000, verbose=0, return_dict=True)["loss"])
    keras_seconds = (time.perf_counter() - started) / args.keras_points * args.points**2
    error = max(abs(k - grid[i, j]) / abs(k) for k, (i, j) in zip(keras_losses, cells))
    print(f"grid: {args.points} x {args.points} over {len(data.x_train)} images")
    print(f"largest relative difference from Keras at {args.keras_points} points: {error:.1e}")
    print(f"keras_seconds (extrapolated): {keras_seconds:.0f}")
    print(f"grid_seconds: {grid_seconds:.2f}")
    print(f"speedup: {keras_seconds / grid_seconds:.1f}x")


if __name__ == "__main__":
    main()
