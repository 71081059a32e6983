"""The linear model over images, in the workers: logits, gradients and Hessian-vector products of
x @ W + b in float64 over up to every image. The products with the images are compiled and skip
zero pixels: most of MNIST's are 0 on raw pixels and x / 255, so over 60,000 images a product
takes a third to a half of a float64 BLAS product over every pixel (measured on 2 cores with a
worker's threads, two compiled and one BLAS: images times 30 columns 0.09 s against 0.21 s raw
and 0.35 s x / 255, their transpose times 10 columns 0.05 s against 0.14-0.20 s; standardized
images, which have few zeros, 0.18 against 0.23 s)."""

from __future__ import annotations

from collections.abc import Callable

import numba
import numpy as np

from explainer.config import RunConfig
from explainer.maths.linear import logit_gradient, softmax, unflatten
from explainer.worker.threads import on_row_runs, on_threads

# the transposed product adds its rows up in this many fixed parts, then the parts: the same
# sums in the same order however many threads a worker has
PARTS = 8
# fewer images than this are multiplied by NumPy over every pixel: on a mini-batch the compiled
# loop's checks and its threads' start cost more than the zeros save (measured: 1,875 gradients
# of 32 images took 0.13-0.20 s with NumPy, 0.44-0.67 s compiled)
COMPILED_ROWS = 1_000


@numba.njit(nogil=True, cache=True)
def _times(x, matrix, finite, start, stop, out):
    """out[start:stop] = x[start:stop] (rows of p), as float64, times matrix (p, k), each row's
    sum in pixel order; out starts at zero. A zero pixel is skipped where its row of `matrix` is
    finite (`finite`): its products are zeros."""
    for r in range(start, stop):
        for c in range(x.shape[1]):
            value = np.float64(x[r, c])
            if value != 0.0 or not finite[c]:
                for j in range(matrix.shape[1]):
                    out[r, j] += value * matrix[c, j]


@numba.njit(nogil=True, cache=True)
def _transposed_times(x, g, finite, part, sums):
    """sums = the part-th of PARTS runs of rows of x (n, p) transposed, as float64, times the same
    rows of g (n, k); sums start at zero. A zero pixel is skipped where its row of g is finite
    (`finite`)."""
    n = x.shape[0]
    for r in range(part * n // PARTS, (part + 1) * n // PARTS):
        for c in range(x.shape[1]):
            value = np.float64(x[r, c])
            if value != 0.0 or not finite[r]:
                for j in range(g.shape[1]):
                    sums[c, j] += value * g[r, j]


def _rows(x: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(x.reshape(len(x), -1))


def images_times(x: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """The images as float64 rows (n, 784) times `matrix` (784, k)."""
    rows, matrix = _rows(x), np.ascontiguousarray(matrix, np.float64)
    if len(rows) < COMPILED_ROWS:
        return rows.astype(np.float64) @ matrix
    out, finite = np.zeros((len(rows), matrix.shape[1])), np.isfinite(matrix).all(axis=1)
    on_row_runs(lambda start, stop: _times(rows, matrix, finite, start, stop, out), len(rows), rows.size)
    return out


def images_transposed_times(x: np.ndarray, g: np.ndarray) -> np.ndarray:
    """The images' float64 rows, transposed (784, n), times `g` (n, k)."""
    rows, g = _rows(x), np.ascontiguousarray(g, np.float64)
    if len(rows) < COMPILED_ROWS:
        return rows.T.astype(np.float64) @ g
    parts, finite = np.zeros((PARTS, rows.shape[1], g.shape[1])), np.isfinite(g).all(axis=1)
    on_threads(lambda part: _transposed_times(rows, g, finite, part, parts[part]), PARTS, rows.size)  # each its own sums
    return parts.sum(axis=0)


def logits_at(theta: np.ndarray, x: np.ndarray) -> np.ndarray:
    """x @ kernel + bias for the weights (or a direction) as one vector."""
    kernel, bias = unflatten(theta)
    return images_times(x, kernel) + bias


def logits_along(x: np.ndarray, *vectors: np.ndarray) -> list[np.ndarray]:
    """`logits_at(v, x)` for each vector, with one product."""
    kernels, biases = zip(*(unflatten(v) for v in vectors))
    z = images_times(x, np.concatenate(kernels, axis=1)) + np.concatenate(biases)
    return np.split(z, len(vectors), axis=1)


def _through_weights(x: np.ndarray, g: np.ndarray) -> np.ndarray:
    """A derivative with respect to the logits (n, 10) carried to [kernel, bias] as one vector."""
    return np.concatenate([images_transposed_times(x, g).ravel(), g.sum(axis=0)])


def gradient(theta: np.ndarray, x: np.ndarray, y: np.ndarray, config: RunConfig) -> np.ndarray:
    """Gradient of the mean loss over (x, y) with respect to [kernel, bias]."""
    return _through_weights(x, logit_gradient(logits_at(theta, x), y, config))


def hessian_times(theta: np.ndarray, x: np.ndarray, y: np.ndarray, config: RunConfig) -> Callable[[np.ndarray], np.ndarray]:
    """vector -> H @ vector for the mean loss at theta: exact for softmax cross-entropy (the logit
    Hessian is diag(p) - p p^T per sample, p computed once for every vector), a central
    difference of exact gradients otherwise."""
    if config.loss == "probabilities":
        scale = 1e-4 * max(np.linalg.norm(theta), 1.0)
        return lambda vector: (
            (gradient(theta + scale * vector, x, y, config) - gradient(theta - scale * vector, x, y, config)) / (2 * scale)
        )
    p = softmax(logits_at(theta, x))

    def times(vector: np.ndarray) -> np.ndarray:
        u = logits_at(vector, x)
        return _through_weights(x, (p * u - p * (p * u).sum(axis=1, keepdims=True)) / len(x))

    return times
