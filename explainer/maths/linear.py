"""The linear model's maths, exact: logits x @ W + b, its activations, the two cross-entropies
Keras can compute, their gradients and Hessian-vector products; weights as one vector. Shared
by the loss surface and the mechanism."""

from __future__ import annotations

import numpy as np

from explainer.config import RunConfig

CLIP_EPSILON = 1e-7  # Keras' backend epsilon: the clip of cross-entropy on probabilities


def logits(kernel: np.ndarray, bias: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Pre-activation outputs x @ W + b in float32, as the Dense layer computes them (no copy of
    float32 images: all 60,000 would be 188 MB more)."""
    return x.reshape(len(x), -1).astype(np.float32, copy=False) @ kernel + bias


def sigmoid32(z: np.ndarray) -> np.ndarray:
    """Sigmoid in float32: exactly 1.0 once exp(-z) drops below half a float32 ulp of 1 (z > ~16.6)."""
    with np.errstate(over="ignore"):
        return (1 / (1 + np.exp(-z.astype(np.float32)))).astype(np.float32)


def softmax(z: np.ndarray) -> np.ndarray:
    """Row-wise softmax, in z's own precision."""
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def activation_outputs(z: np.ndarray, activation: str) -> np.ndarray:
    """The model's float32 outputs for logits z: sigmoid, softmax, or the logits themselves."""
    z32 = z.astype(np.float32)
    if activation == "sigmoid":
        return sigmoid32(z32)
    return softmax(z32) if activation == "softmax" else z32


def softmax_crossentropy(z: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Per-sample cross-entropy of softmax(z) against one-hot y, computed stably on the logits."""
    z = z.astype(np.float64)
    top = z.max(axis=1, keepdims=True)
    log_normaliser = top[:, 0] + np.log(np.exp(z - top).sum(axis=1))
    return log_normaliser - (z * y).sum(axis=1)


def clipped_crossentropy(outputs: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Per-sample cross-entropy on outputs as Keras computes it on probabilities: normalised to
    sum 1, clipped to [1e-7, 1 - 1e-7]; never more than -log(1e-7) = 16.1 per sample."""
    outputs = outputs.astype(np.float64)
    probabilities = np.clip(outputs / outputs.sum(axis=1, keepdims=True), CLIP_EPSILON, 1 - CLIP_EPSILON)
    return -(y * np.log(probabilities)).sum(axis=1)


def losses(z: np.ndarray, y: np.ndarray, config: RunConfig) -> np.ndarray:
    """Per-sample loss Keras trains on: softmax cross-entropy on the logits (its shortcut for
    sigmoid and softmax outputs, and from_logits), or clipped cross-entropy on the outputs."""
    if config.loss != "probabilities":
        return softmax_crossentropy(z, y)
    return clipped_crossentropy(activation_outputs(z, config.activation), y)


def logit_gradient(z: np.ndarray, y: np.ndarray, config: RunConfig, samples: int | None = None) -> np.ndarray:
    """d(mean loss)/d(logits), per sample (n, 10), the mean over `samples` (default: these n)."""
    z = z.astype(np.float64)
    samples = samples or len(z)
    if config.loss != "probabilities":
        return (softmax(z) - y) / samples
    outputs = activation_outputs(z, config.activation).astype(np.float64)
    total = outputs.sum(axis=1, keepdims=True)
    p_label = (outputs * y).sum(axis=1, keepdims=True) / total
    live = (p_label > CLIP_EPSILON) & (p_label < 1 - CLIP_EPSILON)  # the clip cuts the gradient
    if config.activation == "softmax":
        return np.where(live, softmax(z) - y, 0.0) / samples
    d_outputs = -(y / total - p_label / total) / p_label
    return np.where(live, d_outputs * outputs * (1 - outputs), 0.0) / samples


def flatten(kernel: np.ndarray, bias: np.ndarray) -> np.ndarray:
    return np.concatenate([kernel.ravel(), bias]).astype(np.float64)


def unflatten(theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return theta[:-10].reshape(784, 10), theta[-10:]


CHUNK_ROWS = 8192  # images made float64 at a time: all 60,000 at once would be a 376 MB copy


def float64_chunks(x: np.ndarray):
    """The images as float64 rows (k, 784), CHUNK_ROWS at a time, with their first row's index;
    one buffer for all of them (a fresh copy per chunk costs its page faults again)."""
    flat = x.reshape(len(x), -1)
    buffer = np.empty((min(CHUNK_ROWS, len(x)), flat.shape[1]))
    for start in range(0, len(x), CHUNK_ROWS):
        chunk = buffer[: len(flat[start : start + CHUNK_ROWS])]
        chunk[...] = flat[start : start + CHUNK_ROWS]
        yield start, chunk


def images_times(x: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """The images as float64 rows (n, 784) times `matrix` (784, k)."""
    out = np.empty((len(x), matrix.shape[1]))
    for start, chunk in float64_chunks(x):
        out[start : start + len(chunk)] = chunk @ matrix
    return out


def images_transposed_times(x: np.ndarray, g: np.ndarray) -> np.ndarray:
    """The images' float64 rows, transposed (784, n), times `g` (n, k)."""
    return sum(chunk.T @ g[start : start + len(chunk)] for start, chunk in float64_chunks(x))


def logits_at(theta: np.ndarray, x: np.ndarray) -> np.ndarray:
    """x @ kernel + bias for the weights (or a direction) as one vector."""
    kernel, bias = unflatten(theta)
    return images_times(x, kernel) + bias


def logits_along(x: np.ndarray, *vectors: np.ndarray) -> list[np.ndarray]:
    """`logits_at(v, x)` for each vector, with one matrix product."""
    kernels, biases = zip(*(unflatten(v) for v in vectors))
    z = images_times(x, np.concatenate(kernels, axis=1)) + np.concatenate(biases)
    return np.split(z, len(vectors), axis=1)


def gradient(theta: np.ndarray, x: np.ndarray, y: np.ndarray, config: RunConfig) -> np.ndarray:
    """Gradient of the mean loss over (x, y) with respect to [kernel, bias]: one float64 copy
    of each chunk of images for both its logits and its share of the gradient."""
    kernel, bias = unflatten(theta)
    weights, biases = np.zeros_like(kernel), np.zeros_like(bias)
    for start, chunk in float64_chunks(x):
        g = logit_gradient(chunk @ kernel + bias, y[start : start + len(chunk)], config, len(x))
        weights += chunk.T @ g
        biases += g.sum(axis=0)
    return np.concatenate([weights.ravel(), biases])


def hessian_vector(theta: np.ndarray, vector: np.ndarray, x: np.ndarray, y: np.ndarray, config: RunConfig) -> np.ndarray:
    """H @ vector for the mean loss: exact for softmax cross-entropy (the logit Hessian is
    diag(p) - p p^T per sample), a central difference of exact gradients otherwise."""
    if config.loss == "probabilities":
        scale = 1e-4 * max(np.linalg.norm(theta), 1.0)
        return (gradient(theta + scale * vector, x, y, config) - gradient(theta - scale * vector, x, y, config)) / (2 * scale)
    p = softmax(logits_at(theta, x))
    u = logits_at(vector, x)
    g = (p * u - p * (p * u).sum(axis=1, keepdims=True)) / len(x)
    return np.concatenate([images_transposed_times(x, g).ravel(), g.sum(axis=0)])
