"""The loss along directions in weight space, evaluated exactly: a linear model's logits are
affine along any line or plane, so they are computed once and the grid costs no model calls.
The workers compute these (the plane needs the compiled kernels); pages read the stored Slices."""

from __future__ import annotations

import math

import numpy as np
from scipy.sparse.linalg import LinearOperator, eigsh  # SciPy comes with JAX, as for the plane's BLAS

from explainer import jobs
from explainer.config import RunConfig
from explainer.data import Prepared
from explainer.findings.surface import PLANE_POINTS, Slices, SurfaceRequest, landing_rates
from explainer.maths import linear
from explainer.run import RunResult
from explainer.store.derived import Undefined
from explainer.worker import images, replay
from explainer.worker.plane_kernels import logsumexp_sum
from explainer.worker.sample_kernels import clipped_sum, correct_share_along

CLIPPED_PLANE_POINTS = 41  # the plane's side for the clipped-outputs loss (measured: ~7 s over 60,000 images)
# images that find how far the line must reach to hold its minimum; the full line then checks it
# (measured on x / 255 along the full-batch gradient: 0.79 s over 60,000 images, 4 lines)
FAR_END_SAMPLES = 2_000
# samples per piece of a loss evaluation: between pieces a prefetch may give its worker up
# (measured on one core, a 51 x 51 plane over all 60,000 images: 0.3 s on x / 255, 0.6 s on raw
# pixels, so a piece is 0.08-0.15 s)
PIECE_SAMPLES = 15_000
# the slice's and the plane's extent in multiples of the largest learning rate compared (t = lr is
# where SGD's step of that rate lands): a little behind the start, three steps ahead, and the
# second direction as wide on both sides
LINE_RANGE = (-0.5, 3.0)
PLANE_B_RANGE = (-1.75, 1.75)
# how far the line's far end grows, and how often at most, until the loss turns up
FAR_END_GROWTH, FAR_END_TRIES = 4.0, 5
LINE_POINTS, FAR_END_POINTS = 101, 41  # the line's points, and those of the far end's search
# the Hessian's top eigenvector is found to this relative residual where its products are exact.
# Measured over 60,000 images at the default view's three points: Lanczos took 21 products
# (2.3-2.7 s) to 1e-15 on raw pixels and x / 255, where 30 steps of power iteration (3.6-4.6 s)
# left up to 2e-3 on x / 255 (its top eigenvalues are close), 0.7-0.95 degrees off the eigenvector
HESSIAN_TOLERANCE = 1e-6
POWER_ITERATIONS = 30  # where the products are differences of gradients (top_hessian_direction)


def position(request: SurfaceRequest, result: RunResult, data: Prepared) -> tuple[np.ndarray, int, int]:
    """The weights at the requested point, and where training goes next: (theta, epoch, step)."""
    if request.point == "epoch":
        return linear.flatten(result.kernels[request.index], result.biases[request.index]), request.index + 1, 0
    theta = linear.flatten(result.kernels[0], result.biases[0])
    if request.point == "init" or request.index == 0:
        return theta, 1, 0
    batches = replay.batches_from(request.config, len(data.x_train), 1, 0, request.index)
    return replay.sgd_iterates(theta, batches, data, request.config)[-1], 1, request.index


def directions(
    request: SurfaceRequest, theta: np.ndarray, data: Prepared, epoch: int, step: int
) -> tuple[np.ndarray, np.ndarray]:
    """The step direction d1 (a gradient: SGD moves along -d1) and the plane's second axis d2,
    orthogonal to d1 and of the same length."""
    config, n = request.config, len(data.x_train)
    first, second = replay.batches_from(config, n, epoch, step, 2)
    if request.direction == "minibatch":
        d1 = images.gradient(theta, data.x_train[first], data.y_train[first], config)
    else:
        d1 = images.gradient(theta, data.x_train, data.y_train, config)
    if not np.any(d1):
        raise Undefined(
            "the gradient is exactly zero at this point (every sample fitted, or every probability clipped), "
            "so there is no step to follow"
        )
    if request.second == "next_minibatch":
        d2 = images.gradient(theta, data.x_train[second], data.y_train[second], config)
    elif request.second == "random":
        d2 = _filter_normalised(theta, config.seed)
    else:
        x, y = evaluation_data(request, data, first)
        d2 = top_hessian_direction(theta, x, y, config)
    d2 = d2 - (d2 @ d1) / (d1 @ d1) * d1
    return d1, d2 * np.linalg.norm(d1) / max(np.linalg.norm(d2), 1e-300)


def _filter_normalised(theta: np.ndarray, seed: int) -> np.ndarray:
    """Li et al. (2018): a Gaussian direction whose every filter (one output unit's incoming
    weights) has the norm of that filter in theta; biases left at zero."""
    kernel, _ = linear.unflatten(theta)
    random = np.random.default_rng(seed).normal(size=kernel.shape)
    random *= np.linalg.norm(kernel, axis=0) / np.linalg.norm(random, axis=0)
    return linear.flatten(random, np.zeros(10))


def top_hessian_direction(theta: np.ndarray, x: np.ndarray, y: np.ndarray, config: RunConfig) -> np.ndarray:
    """The Hessian's top eigenvector from a seeded start. On the logits' cross-entropy its
    products are exact: Lanczos iteration (SciPy's ARPACK) to a residual |Hv - lambda v| within
    HESSIAN_TOLERANCE of lambda. On clipped probabilities they are differences of gradients, not
    quite linear across the clip, which Lanczos' basis does not survive (a residual of 1e-2 on
    raw pixels, measured on synthetic images): POWER_ITERATIONS steps of power iteration there."""
    hessian_times = images.hessian_times(theta, x, y, config)

    def product(vector: np.ndarray) -> np.ndarray:
        jobs.give_way()
        result = hessian_times(np.ravel(vector))
        if not np.all(np.isfinite(result)) or not np.any(result):
            raise Undefined("the loss has no usable curvature here (saturated or clipped): choose another second direction")
        return result

    vector = np.random.default_rng(config.seed).normal(size=theta.shape)
    if config.loss != "probabilities":
        operator = LinearOperator((theta.size, theta.size), matvec=product, dtype=np.float64)
        return eigsh(operator, k=1, which="LA", v0=vector, tol=HESSIAN_TOLERANCE)[1][:, 0]
    for _ in range(POWER_ITERATIONS):
        vector = product(vector / np.linalg.norm(vector))
    return vector


def evaluation_data(request: SurfaceRequest, data: Prepared, batch: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    if request.evaluate_on == "minibatch":
        return data.x_train[batch], data.y_train[batch]
    if request.evaluate_on == "test":
        return data.x_test, data.y_test
    return data.x_train, data.y_train


def line(
    theta: np.ndarray, d: np.ndarray, x: np.ndarray, y: np.ndarray, config: RunConfig, t: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Mean loss and accuracy at theta - t*d for each t."""
    loss = plane(theta, d, np.zeros_like(d), x, y, config, t, np.zeros(1))[:, 0]
    z0, dz = images.logits_along(x, theta, d)
    return loss, accuracy_along(z0, dz, y, t)


def accuracy_along(z0: np.ndarray, dz: np.ndarray, y: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Accuracy of argmax(z0 - t dz) for each t, in float32 as Keras' outputs are."""
    as_float32 = (np.ascontiguousarray(v, np.float32) for v in (z0, dz, t))
    return correct_share_along(*as_float32, np.ascontiguousarray(y.argmax(axis=1), np.int64))


def plane(theta, d1, d2, x, y, config: RunConfig, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Mean loss at theta - a_i*d1 - b_j*d2 on the grid (len(a), len(b))."""
    logits = images.logits_along(x, theta, d1, d2)
    if config.loss == "probabilities":
        return clipped_sum(*logits, y.argmax(axis=1), a, b, config.activation) / len(x)
    return plane_of_logits(logits, y, a, b)


def plane_of_logits(logits: list[np.ndarray], y: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Mean softmax cross-entropy at z0 - a_i dz1 - b_j dz2, for logits (z0, dz1, dz2) of the
    samples whose one-hot labels are y: logsumexp(z) - z_label, the label term affine in (a, b)."""
    z0, dz1, dz2 = logits
    label = [float((v * y).sum(axis=1).mean()) for v in (z0, dz1, dz2)]
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return logsumexp_sum(z0, dz1, dz2, a, b) / len(z0) - (label[0] - a[:, None] * label[1] - b[None, :] * label[2])


def step_quality(t: np.ndarray, loss: np.ndarray, t_step: float) -> float:
    """Cockpit's alpha (f-dangel/cockpit), read off the slice: -1 = no progress, 0 = the minimum
    along the line, +1 = the same loss as the start on the far side, > 1 = overshoot. Before the
    minimum it is -(L(t) - L*)/(L(0) - L*), after it +(L(t) - L*)/(L(0) - L*); t must include 0."""
    forward = t >= 0
    ts, ls = t[forward], loss[forward]
    best = int(np.argmin(ls))
    start = float(np.interp(0.0, ts, ls))
    at_step = float(np.interp(t_step, ts, ls))
    drop = start - ls[best]
    if drop <= 0:
        return math.nan  # no descent along this line: alpha is undefined
    sign = -1.0 if t_step <= ts[best] else 1.0
    return sign * (at_step - ls[best]) / drop


def compute(
    request: SurfaceRequest,
    result: RunResult,
    data: Prepared,
    learning_rates: tuple[float, ...],
    plane_points: int = PLANE_POINTS,
) -> Slices:
    """Everything the loss-surface page draws for one run at one point (exact, from logits)."""
    theta, epoch, step = position(request, result, data)
    jobs.give_way()
    d1, d2 = directions(request, theta, data, epoch, step)
    jobs.give_way()
    batch = replay.batches_from(request.config, len(data.x_train), epoch, step, 1)[0]
    x, y = evaluation_data(request, data, batch)
    logits = images.logits_along(x, theta, d1, d2)  # once: every slice below is read off them

    def summed(a: np.ndarray, b: np.ndarray, start: int, end: int) -> np.ndarray:
        """The loss summed over samples start:end, after a chance for a prefetch to give way."""
        jobs.give_way()
        z, labels = [v[start:end] for v in logits], y[start:end]
        if request.config.loss == "probabilities":
            return clipped_sum(*z, labels.argmax(axis=1), a, b, request.config.activation)
        return plane_of_logits(z, labels, a, b) * len(labels)

    def loss_at(a: np.ndarray, b: np.ndarray, samples: int | None = None) -> np.ndarray:
        n = len(y[:samples])
        return sum(summed(a, b, start, min(start + PIECE_SAMPLES, n)) for start in range(0, n, PIECE_SAMPLES)) / n

    reach = max(learning_rates)
    t, loss = _line_to_minimum(loss_at, LINE_RANGE[0] * reach, LINE_RANGE[1] * reach, learning_rates)
    accuracy = accuracy_along(logits[0], logits[1], y, t)
    best = int(np.argmin(loss))
    markers = [
        {
            "learning_rate": lr,
            "t": lr,
            "loss": float(loss[t == lr][0]),
            "accuracy": float(accuracy[t == lr][0]),
            "alpha": step_quality(t, loss, lr),
        }
        for lr in learning_rates
    ]
    if request.config.loss == "probabilities":  # no log-sum-exp to prune: every cell costs all its samples
        plane_points = min(plane_points, CLIPPED_PLANE_POINTS)
    a = np.linspace(LINE_RANGE[0] * reach, LINE_RANGE[1] * reach, plane_points)
    b = np.linspace(PLANE_B_RANGE[0] * reach, PLANE_B_RANGE[1] * reach, plane_points)
    iterates = replay.sgd_iterates(
        theta, replay.batches_from(request.config, len(data.x_train), epoch, step, 5), data, request.config
    )
    rates = landing_rates(learning_rates)
    return Slices(
        t=t,
        loss=loss,
        accuracy=accuracy,
        best_t=float(t[best]),
        best_loss=float(loss[best]),
        markers=markers,
        plane_a=a,
        plane_b=b,
        plane_loss=loss_at(a, b),
        iterates=[
            {"step": k, "a": float(-(v - theta) @ d1 / (d1 @ d1)), "b": float(-(v - theta) @ d2 / (d2 @ d2))}
            for k, v in enumerate(iterates)
        ],
        landing_rates=rates,
        landing_loss=loss_at(rates, np.zeros(1))[:, 0],
    )


def _line_to_minimum(loss_at, start: float, end: float, marked: tuple[float, ...]) -> tuple[np.ndarray, np.ndarray]:
    """The line from `start` far enough to contain its minimum, with 0 and the `marked` points:
    (t, loss). Its far end is `end` grown by FAR_END_GROWTH until the loss turns up (at most
    FAR_END_TRIES times), found on FAR_END_SAMPLES images, then grown further while the whole line
    still falls at its end."""
    farthest = end * FAR_END_GROWTH**FAR_END_TRIES
    for _ in range(FAR_END_TRIES):
        if np.argmin(loss_at(np.linspace(0, end, FAR_END_POINTS), np.zeros(1), FAR_END_SAMPLES)) < FAR_END_POINTS - 1:
            break
        end *= FAR_END_GROWTH
    while True:
        t = np.unique(np.r_[np.linspace(start, end, LINE_POINTS), 0.0, marked])
        loss = loss_at(t, np.zeros(1))[:, 0]
        if np.argmin(loss) < len(t) - 1 or end >= farthest:
            return t, loss
        end = min(end * FAR_END_GROWTH, farthest)
