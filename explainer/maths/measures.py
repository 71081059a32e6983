"""Measurements of the mechanism on logits and weights: saturation, argmax ties, agreement,
weight-norm ratios, margins."""

from __future__ import annotations

import numpy as np

from explainer.maths.linear import sigmoid32, softmax

SATURATED_PROBABILITY = 0.999


def sigmoid_one_threshold() -> float:
    """The smallest logit (to 0.001) whose float32 sigmoid is exactly 1.0."""
    z = np.arange(10, 20, 0.001, dtype=np.float32)
    return float(z[np.argmax(sigmoid32(z) == 1.0)])


def softmax_saturated_fraction(z: np.ndarray) -> float:
    """Fraction of samples whose largest softmax probability exceeds 0.999."""
    return float(np.mean(softmax(z.astype(np.float64)).max(axis=1) > SATURATED_PROBABILITY))


def tied_fraction(outputs: np.ndarray) -> float:
    """Fraction of samples whose largest output is attained by two or more classes: argmax then
    picks the lowest index, whatever the logits say."""
    return float(np.mean((outputs == outputs.max(axis=1, keepdims=True)).sum(axis=1) > 1))


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
