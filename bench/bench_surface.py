"""The loss surface's speed. Prints `name: value` lines:

grid_seconds         the exact 101 x 101 plane over all 60,000 training images (goal <= 2)
speedup              against Keras evaluating the model point by point, extrapolated (goal >= 1,000)
max_relative_error   the largest relative gap to Keras at the sampled points (goal <= 1e-6)
alpha_epoch_seconds  step quality for every step of epoch 1 (goal <= 1)
kernels_compile_s    the surface's compiled kernels compiled in a new process on an empty cache, as
                     a host that wakes with an empty disk does before its first surface
page_first_s         the loss-surface page's first appearance in a fresh process, its runs cached (AppTest)
control_change_s     a change of one control on that page, right away (goal <= 2)
control_change_each_s  the control change at each arrival
control_change_after_prefetch_s  the same once idle workers have computed what one control away shows
The page's figures are medians over --arrivals fresh arrivals, each by a link to the page (the
landing page never runs: its prefetch of the views one choice away, some 50 runs, is nothing measured here).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import streamlit as st

from bench.serve import app_test, empty_cache
from explainer import plan
from explainer.config import RunConfig
from explainer.data import MnistUnavailable, Pixels, load_mnist, prepare
from explainer.derivations import StepQuality, Surface
from explainer.findings import surface
from explainer.maths import linear
from explainer.store.cache import RunStore, run_key
from explainer.view import from_query
from explainer.worker import images, plane_kernels, process, sample_kernels, slicing, step_quality
from explainer.worker.model import build_model
from explainer.worker.runs import train_into
from ui import runs, source

PAGE = "app_pages/loss_surface.py"


def timed(action) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def compile_kernels() -> None:
    """Every compiled kernel of a surface called once on small inputs: logits that factorise and
    logits that do not (both plane kernels), the clipped loss, the accuracy, the image products.
    Prints the seconds it took."""
    rng = np.random.default_rng(0)
    z0, dz1, dz2 = (rng.normal(size=(300, 10)) * 30.0 * factor for factor in (1, 0.2, 0.2))
    pixels = rng.integers(0, 256, (images.COMPILED_ROWS, 28, 28), dtype=np.uint8)  # fewer are multiplied by NumPy
    x = Pixels(pixels, np.zeros((28, 28), np.float32), np.full((28, 28), 255, np.float32))
    labels, axis = rng.integers(0, 10, 300), np.linspace(-1, 1, 9)
    seconds = timed(
        lambda: (
            plane_kernels.logsumexp_sum(z0, dz1, dz2, axis, axis),
            sample_kernels.clipped_sum(z0, dz1, dz2, labels, axis, axis, "softmax"),
            sample_kernels.correct_share_along(z0.astype(np.float32), dz1.astype(np.float32), axis, labels),
            images.images_times(x, rng.normal(size=(784, 10))),
            images.images_transposed_times(x, rng.normal(size=(len(x), 10))),
        )
    )
    print(f"{seconds:.1f}")


def compile_seconds() -> float:
    """compile_kernels in a new process with an empty numba cache."""
    with tempfile.TemporaryDirectory() as kernels:
        command = [sys.executable, "-c", "from bench.bench_surface import compile_kernels; compile_kernels()"]
        printed = subprocess.run(command, env={**os.environ, "NUMBA_CACHE_DIR": kernels}, capture_output=True, text=True)
    if printed.returncode:
        raise RuntimeError(printed.stderr[-2000:])
    return float(printed.stdout.split()[-1])


def page_seconds(query: dict[str, str], arrivals: int) -> list[tuple[float, float, float]]:
    """(first appearance, control change, a control change once the prefetch is done) of the
    loss-surface page for the view `query`, its runs trained beforehand, for each of `arrivals`
    fresh arrivals, with nothing derived stored but what the first appearance shows."""
    app_test(query, timeout_s=1800).switch_page(PAGE).run()  # trains what the page needs (not measured)
    view, _ = from_query(query)
    shown = {
        derivation.key(source.mnist().fingerprint)
        for derivation in [
            *(Surface(request, view.learning_rates) for request in plan.surface_requests(view).values()),
            *(StepQuality(config) for config in plan.surface_runs(view)),
        ]
    }
    return [arrival(query, shown) for _ in range(arrivals)]


def workers_idle() -> None:
    """Wait while the workers compute what one control away shows."""
    while not source.service().idle:
        time.sleep(0.5)


def arrival(query: dict[str, str], shown: set[str]) -> tuple[float, float, float]:
    """One arrival on the page as the first visitor of a fresh process, with nothing derived
    stored but the results `shown`, then the control changes."""
    workers_idle()
    for stored in (RunStore.default().directory / "derived").glob("derived-*.npz"):
        if stored.stem not in shown:
            stored.unlink()
    runs._derived.cache_clear()  # as in a fresh process: nothing derived is kept, no chart built
    st.cache_resource.clear()
    fresh = app_test(query, timeout_s=1800).switch_page(PAGE)
    first = timed(fresh.run)
    change = timed(lambda: fresh.radio(key="surface_direction").set_value("fullbatch").run())
    workers_idle()
    prefetched = timed(lambda: fresh.radio(key="surface_data").set_value("test").run())
    if fresh.exception:
        raise RuntimeError(fresh.exception[0].message)
    return first, change, prefetched


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--points", type=int, default=101, help="grid points per axis (default: %(default)s)")
    parser.add_argument("--keras-points", type=int, default=20)
    parser.add_argument("--page-epochs", type=int, default=10, help="run length of the page's view (default: %(default)s)")
    parser.add_argument("--page-subset", type=int, help="training images of the page's view (default: all 60,000)")
    parser.add_argument("--arrivals", type=int, default=3, help="page figures are medians of this many (default: %(default)s)")
    args = parser.parse_args()
    try:
        mnist = load_mnist()
    except MnistUnavailable as error:
        parser.exit(1, f"bench_surface: {error}\n")
    # the page first, this process as the server (process.start below gives it a worker's priority)
    with empty_cache():
        query = {"num_epochs": str(args.page_epochs)} | ({"train_subset": str(args.page_subset)} if args.page_subset else {})
        first, change, prefetched = zip(*page_seconds(query, args.arrivals))
    process.start("tensorflow", os.getppid(), None)  # measured as a worker computes: its threads, its kernels loaded
    config = RunConfig(num_epochs=1)
    result, data = (
        train_into(RunStore.default(), config, run_key(config, mnist.fingerprint), mnist),
        prepare(mnist, config, copied=False),
    )
    request = surface.SurfaceRequest(config, point="epoch", index=1)
    theta, epoch, step = slicing.position(request, result, data)
    d1, d2 = slicing.directions(request, theta, data, epoch, step)
    axis = np.linspace(-0.015, 0.09, args.points)
    slicing.plane(theta, d1, d2, data.x_train[:100], data.y_train[:100], config, axis[:3], axis[:3])  # compiled kernels loaded

    grid = None

    def compute() -> None:
        nonlocal grid
        grid = slicing.plane(theta, d1, d2, data.x_train, data.y_train, config, axis, axis)

    grid_seconds = timed(compute)
    model = build_model(config)
    rng = np.random.default_rng(0)
    cells = [(rng.integers(args.points), rng.integers(args.points)) for _ in range(args.keras_points)]
    started = time.perf_counter()
    keras_losses = []
    for i, j in cells:
        model.layers[-1].set_weights(list(linear.unflatten(theta - axis[i] * d1 - axis[j] * d2)))
        keras_losses.append(model.evaluate(data.x_train[:], data.y_train, batch_size=1000, verbose=0, return_dict=True)["loss"])
    keras_seconds = (time.perf_counter() - started) / args.keras_points * args.points**2
    error = max(abs(k - grid[i, j]) / abs(k) for k, (i, j) in zip(keras_losses, cells))
    print(f"grid: {args.points} x {args.points} over {len(data.x_train)} images; Keras extrapolated: {keras_seconds:.0f} s")
    print(f"grid_seconds: {grid_seconds:.2f}")
    print(f"speedup: {keras_seconds / grid_seconds:.0f}")
    print(f"max_relative_error: {error:.1e}")
    print(f"alpha_epoch_seconds: {timed(lambda: step_quality.alpha_over_epoch(result, data, 1)):.2f}")
    print(f"kernels_compile_s: {compile_seconds():.1f}")
    print(f"page_first_s: {np.median(first):.1f}")
    print(f"control_change_s: {np.median(change):.2f}")
    print(f"control_change_each_s: {' '.join(f'{seconds:.2f}' for seconds in change)}")
    print(f"control_change_after_prefetch_s: {np.median(prefetched):.2f}")


if __name__ == "__main__":
    main()
