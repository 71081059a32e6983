"""Compiled kernels that visit every sample at every point (nothing prunes them): the outputs
path's clipped cross-entropy over a plane of weights, and the accuracy along a line."""

from __future__ import annotations

import numba
import numpy as np

from explainer.maths.linear import CLIP_EPSILON
from explainer.worker.threads import on_row_runs


@numba.njit(nogil=True, cache=True)
def _clipped(z0, dz1, dz2, labels, a, b, sigmoid, start, stop, out):
    """Rows start:stop of `out` = the sum of the clipped cross-entropy on the float32 outputs
    (sigmoid, else softmax) of the logits z0 - a dz1 - b dz2, as
    `linear.clipped_crossentropy(linear.activation_outputs(z))`."""
    n, classes = z0.shape
    nb = len(b)
    for i in range(start, stop):
        mine = np.empty(classes, np.float32)
        for j in range(nb):
            total = 0.0
            for s in range(n):
                top = np.float32(-np.inf)
                for c in range(classes):
                    mine[c] = np.float32(z0[s, c] - a[i] * dz1[s, c] - b[j] * dz2[s, c])
                    top = max(top, mine[c])
                exps = np.float32(0.0)
                for c in range(classes):
                    if sigmoid:
                        mine[c] = np.float32(1.0) / (np.float32(1.0) + np.exp(-mine[c]))
                    else:
                        mine[c] = np.exp(mine[c] - top)
                        exps += mine[c]
                norm = 0.0  # the outputs' sum in float64, as the loss normalises them
                for c in range(classes):
                    if not sigmoid:  # softmax's own normalisation, in float32 as Keras' outputs are
                        mine[c] = mine[c] / exps
                    norm += np.float64(mine[c])
                p = np.float64(mine[labels[s]]) / norm
                total -= np.log(min(max(p, CLIP_EPSILON), 1 - CLIP_EPSILON))
            out[i, j] = total


def clipped_sum(
    z0: np.ndarray, dz1: np.ndarray, dz2: np.ndarray, labels: np.ndarray, a: np.ndarray, b: np.ndarray, activation: str
) -> np.ndarray:
    """sum_s of the clipped cross-entropy on the `activation` ("sigmoid" or "softmax") outputs of
    z0[s] - a_i dz1[s] - b_j dz2[s] against class labels[s], on the grid (len(a), len(b))."""
    z0, dz1, dz2 = (np.ascontiguousarray(v, dtype=np.float64) for v in (z0, dz1, dz2))
    a, b = np.ascontiguousarray(a, np.float64), np.ascontiguousarray(b, np.float64)
    labels, out = np.ascontiguousarray(labels, np.int64), np.zeros((len(a), len(b)))
    sigmoid = activation == "sigmoid"
    on_row_runs(lambda start, stop: _clipped(z0, dz1, dz2, labels, a, b, sigmoid, start, stop, out), len(a), out.size * len(z0))
    return out


@numba.njit(nogil=True, cache=True)
def _correct_share(z0, dz, t, labels, start, stop, out):
    """out[start:stop]: for each of t[start:stop], the share of samples whose argmax of
    z0 - t dz (float32, the first largest on a tie, as NumPy's argmax) is their label."""
    n, classes = z0.shape
    for k in range(start, stop):
        correct = 0
        for s in range(n):
            best, top = 0, z0[s, 0] - t[k] * dz[s, 0]
            for c in range(1, classes):
                value = z0[s, c] - t[k] * dz[s, c]
                if value > top:
                    best, top = c, value
            correct += best == labels[s]
        out[k] = correct / n


def correct_share_along(z0: np.ndarray, dz: np.ndarray, t: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """For each t, the share of samples whose argmax of z0 - t dz (as float32 logits, the first
    largest on a tie, as NumPy's argmax) is their label."""
    out = np.zeros(len(t))
    on_row_runs(lambda start, stop: _correct_share(z0, dz, t, labels, start, stop, out), len(t), len(t) * len(z0))
    return out
