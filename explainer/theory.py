"""Measurements of the mechanism: loss paths, saturation, ties, scale equivariance, margins."""

from __future__ import annotations

import numpy as np

from explainer.model import CLIP_EPSILON

SATURATED_PROBABILITY = 0.999


def logits(kernel: np.ndarray, bias: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Pre-activation outputs x @ W + b in float32, as the Dense layer computes them."""
    return x.reshape(len(x), -1).astype(np.float32) @ kernel + bias


def sigmoid32(z: np.ndarray) -> np.ndarray:
    """Sigmoid in float32: exactly 1.0 once exp(-z) drops below half a float32 ulp of 1 (z > ~16.6)."""
    with np.errstate(over="ignore"):
        return (1 / (1 + np.exp(-z.astype(np.float32)))).astype(np.float32)


def sigmoid_one_threshold() -> float:
    """The smallest logit (to 0.001) whose float32 sigmoid is exactly 1.0."""
    z = np.arange(10, 20, 0.001, dtype=np.float32)
    return float(z[np.argmax(sigmoid32(z) == 1.0)])


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


def softmax_saturated_fraction(z: np.ndarray) -> float:
    """Fraction of samples whose largest softmax probability exceeds 0.999."""
    return float(np.mean(softmax(z.astype(np.float64)).max(axis=1) > SATURATED_PROBABILITY))


def tied_fraction(outputs: np.ndarray) -> float:
    """Fraction of samples whose largest output is attained by two or more classes: argmax then
    picks the lowest index, whatever the logits say."""
    return float(np.mean((outputs == outputs.max(axis=1, keepdims=True)).sum(axis=1) > 1))


def accuracy(scores: np.ndarray, y: np.ndarray) -> float:
    """Accuracy of argmax(scores) (ties go to the lowest index, as in NumPy and TensorFlow)."""
    return float(np.mean(scores.argmax(axis=1) == y.argmax(axis=1)))


def agreement(a: np.ndarray, b: np.ndarray) -> float:
    """Fraction of samples on which two score matrices predict the same class."""
    return float(np.mean(a.argmax(axis=1) == b.argmax(axis=1)))


def norm_ratio(a: np.ndarray, b: np.ndarray) -> float:
    """||b|| / ||a|| (Frobenius)."""
    return float(np.linalg.norm(b) / np.linalg.norm(a))


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    """Cosine similarity of two weight arrays, flattened."""
    a, b = a.ravel().astype(np.float64), b.ravel().astype(np.float64)
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def margins(z: np.ndarray, y: np.ndarray) -> np.ndarray:
    """max_j z_j - z_label per sample: 0 when correct; in saturation the sample's loss."""
    z = z.astype(np.float64)
    return z.max(axis=1) - (z * y).sum(axis=1)
