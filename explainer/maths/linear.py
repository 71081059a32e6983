"""The linear model's maths on its logits, exact: logits x @ W + b in float32 as Keras computes
them, its activations, the two cross-entropies Keras can compute and their gradients with
respect to the logits; weights as one vector. The same over every image in float64 (gradients,
Hessian-vector products) is the workers' (worker/images.py)."""

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


def logit_gradient(z: np.ndarray, y: np.ndarray, config: RunConfig) -> np.ndarray:
    """d(mean loss)/d(logits), per sample (n, 10), the mean over these n."""
    z = z.astype(np.float64)
    samples = len(z)
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
