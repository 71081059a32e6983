"""The linear model over images, in the workers: logits, gradients and Hessian-vector products of
x @ W + b in float64 over up to every image. The products with every image are compiled, read
the images' uint8 pixels (data.Pixels: raw pixels and x / 255, the loss surfaces' images) and
skip zero pixels: most of MNIST's are 0, so over 60,000 images a product takes a third to a half
of a float64 BLAS product over every pixel (measured on 2 cores with a worker's threads, two
compiled and one BLAS: images times 30 columns 0.09 s against 0.21 s raw and 0.35 s x / 255,
their transpose times 10 columns 0.05 s against 0.14-0.20 s). Images given as float32 arrays
are multiplied by NumPy: mini-batches, and standardized images, which have few zeros (compiled,
they had taken 0.18 s against NumPy's 0.23 s) and no loss surface of their own."""

from __future__ import annotations

from collections.abc import Callable

import numba
import numpy as np

from explainer.config import RunConfig
from explainer.data import Pixels
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
def _times(pixels, values, matrix, finite, start, stop, out):
    """out[start:stop] = rows start:stop of the images (pixels p, each the float64 values[p];
    values[0] is 0) times matrix (784, k), each row's sum in pixel order; out starts at zero. A
    zero pixel is skipped where its row of `matrix` is finite (`finite`): its products are zeros."""
    for r in range(start, stop):
        for c in range(pixels.shape[1]):
            pixel = pixels[r, c]
            if pixel != 0 or not finite[c]:
                value = values[pixel]
                for j in range(matrix.shape[1]):
                    out[r, j] += value * matrix[c, j]


@numba.njit(nogil=True, cache=True)
def _transposed_times(pixels, values, g, finite, part, sums):
    """sums = the part-th of PARTS runs of the images' rows (as in _times) transposed, times the
    same rows of g (n, k); sums start at zero. A zero pixel is skipped where its row of g is
    finite (`finite`)."""
    n = pixels.shape[0]
    for r in range(part * n // PARTS, (part + 1) * n // PARTS):
        for c in range(pixels.shape[1]):
            pixel = pixels[r, c]
            if pixel != 0 or not finite[r]:
                value = values[pixel]
                for j in range(g.shape[1]):
                    sums[c, j] += value * g[r, j]


def _compiled(x: np.ndarray | Pixels) -> bool:
    return isinstance(x, Pixels) and len(x) >= COMPILED_ROWS


def _floats(x: np.ndarray | Pixels) -> np.ndarray:
    """The images as float64 rows (n, 784)."""
    return (x[:] if isinstance(x, Pixels) else x).reshape(len(x), -1).astype(np.float64)


def images_times(x: np.ndarray | Pixels, matrix: np.ndarray) -> np.ndarray:
    """The images as float64 rows (n, 784) times `matrix` (784, k)."""
    matrix = np.ascontiguousarray(matrix, np.float64)
    if not _compiled(x):
        return _floats(x) @ matrix
    pixels, out, finite = x.pixels.reshape(len(x), -1), np.zeros((len(x), matrix.shape[1])), np.isfinite(matrix).all(axis=1)
    on_row_runs(lambda start, stop: _times(pixels, x.values, matrix, finite, start, stop, out), len(x), pixels.size)
    return out


def images_transposed_times(x: np.ndarray | Pixels, g: np.ndarray) -> np.ndarray:
    """The images' float64 rows, transposed (784, n), times `g` (n, k)."""
    g = np.ascontiguousarray(g, np.float64)
    if not _compiled(x):
        return _floats(x).T @ g
    pixels, finite = x.pixels.reshape(len(x), -1), np.isfinite(g).all(axis=1)
    parts = np.zeros((PARTS, pixels.shape[1], g.shape[1]))  # each part its own sums
    on_threads(lambda part: _transposed_times(pixels, x.values, g, finite, part, parts[part]), PARTS, pixels.size)
    return parts.sum(axis=0)


def logits_at(theta: np.ndarray, x: np.ndarray | Pixels) -> np.ndarray:
    """x @ kernel + bias for the weights (or a direction) as one vector."""
    kernel, bias = unflatten(theta)
    return images_times(x, kernel) + bias


def logits_along(x: np.ndarray | Pixels, *vectors: np.ndarray) -> list[np.ndarray]:
    """`logits_at(v, x)` for each vector, with one product."""
    kernels, biases = zip(*(unflatten(v) for v in vectors))
    z = images_times(x, np.concatenate(kernels, axis=1)) + np.concatenate(biases)
    return np.split(z, len(vectors), axis=1)


def _through_weights(x: np.ndarray | Pixels, g: np.ndarray) -> np.ndarray:
    """A derivative with respect to the logits (n, 10) carried to [kernel, bias] as one vector."""
    return np.concatenate([images_transposed_times(x, g).ravel(), g.sum(axis=0)])


def gradient(theta: np.ndarray, x: np.ndarray | Pixels, y: np.ndarray, config: RunConfig) -> np.ndarray:
    """Gradient of the mean loss over (x, y) with respect to [kernel, bias]."""
    return _through_weights(x, logit_gradient(logits_at(theta, x), y, config))


def hessian_times(
    theta: np.ndarray, x: np.ndarray | Pixels, y: np.ndarray, config: RunConfig
) -> Callable[[np.ndarray], np.ndarray]:
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
