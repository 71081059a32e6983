"""The logits path's loss (log-sum-exp) over a plane of weights, summed over samples, exactly and
fast (compiled). The kernels that visit every sample at every point are in sample_kernels.py.

Each sample's logits are z(a, b) = z0 - a dz1 - b dz2. Over a rectangle of the plane a logit's
extremes are at its corners, so a class that stays more than MARGIN below another one everywhere
weighs less than exp(-MARGIN) and drops out. Then, per sample:
- one class left: logsumexp is that class's logit, affine; these sum analytically;
- the logits' spread over the rectangle is small (SPAN): exp factorises along the two axes, so
  the sum over classes is a small matrix product (BLAS), once per sample for the whole grid,
  of one exp per class and point of each axis (fast_exp.py);
- otherwise (saturated logits that move far, as on raw pixels): tile by tile, with the pruning
  redone per tile, where most samples are down to one class; the rest cell by cell, pruned again.
Logarithms, the costly part, are taken of products of PRODUCT_RUN sums at a time: each sum is
kept within [exp(-SPAN), 10], so such a product neither overflows nor underflows.
Both kernels are compiled for one part of their work, the parts run on threads (threads.py).
"""

from __future__ import annotations

import numba
import numpy as np

from explainer.worker.fast_exp import fast_exp
from explainer.worker.threads import on_threads

MARGIN = 40.0  # a class this far below another everywhere weighs < 5e-18 in the sum: dropped
SPAN = 40.0  # a sample whose logits spread less than this over the rectangle factorises
# cells per tile side for the other samples (measured on raw pixels, a 51 x 51 plane over 60,000
# images: 8 -> 4 took epoch 1 from 1.2 to 0.6 s and the initial weights from 6.7 to 2.5 s; 2, 3 no better)
TILE = 4
PRODUCT_RUN = 16  # sums multiplied before one logarithm: within (e^-SPAN)^16 and 10^16
# the factorising samples are summed in this many interleaved groups, one grid each, then the
# grids: the same sums in the same order however many threads a worker has
PARTS = 8


@numba.njit(cache=True, inline="always")
def _largest(values) -> float:
    """values.max() as a loop the kernel inlines: outside a parallel loop numba compiles `.max()`
    to a call per sample into its reduction (the raw plane took twice as long)."""
    largest = values[0]
    for k in range(1, len(values)):
        largest = max(largest, values[k])
    return largest


@numba.njit(cache=True, inline="always")
def _bounds(z0, dz1, dz2, a0, a1, b0, b1, lower, upper) -> None:
    """Per class, the lowest and the highest logit over the rectangle (at its corners)."""
    for c in range(z0.shape[0]):
        w, x = z0[c] - a0 * dz1[c], z0[c] - a1 * dz1[c]
        p, q, r, t = w - b0 * dz2[c], w - b1 * dz2[c], x - b0 * dz2[c], x - b1 * dz2[c]
        lower[c], upper[c] = min(min(p, q), min(r, t)), max(max(p, q), max(r, t))


@numba.njit(cache=True, inline="always")
def _live(lower, upper, live) -> tuple[int, float]:
    """Writes the classes that can come within MARGIN of the largest logit into `live`; returns
    how many, and the spread from the least the largest logit can be to the most any reaches."""
    floor, ceiling, count = _largest(lower), _largest(upper), 0
    for c in range(len(upper)):
        if upper[c] >= floor - MARGIN:
            live[count] = c
            count += 1
    return count, ceiling - floor


@numba.njit(cache=True)
def _classify(z0, dz1, dz2, a0, a1, b0, b1):
    """Per sample: 0 if one class is left (which: `single`), 1 if it factorises, 2 if neither."""
    n, classes = z0.shape
    kind, single = np.empty(n, np.int8), np.zeros(n, np.int64)
    lower, upper, live = np.empty(classes), np.empty(classes), np.empty(classes, np.int64)
    for s in range(n):
        _bounds(z0[s], dz1[s], dz2[s], a0, a1, b0, b1, lower, upper)
        count, spread = _live(lower, upper, live)
        kind[s] = 0 if count == 1 else 1 if spread < SPAN else 2
        single[s] = live[0]
    return kind, single


# contracted: fast_exp's polynomial in fused multiply-adds. Measured on x / 255 over 60,000 images,
# one thread, in turn with products of neighbours' exps along evenly spaced axes (before): the
# 43 landing rates (no even gaps) 0.35-0.39 -> 0.13-0.14 s, the line of 104 points 0.24-0.36 ->
# 0.17-0.25 s, the 51 x 51 plane 0.35-0.43 -> 0.36-0.41 s; not contracted, the line took 0.25 s
@numba.njit(nogil=True, cache=True, fastmath={"contract"})
def _factorised_part(z0, dz1, dz2, a, b, part, grid):
    """Adds to `grid` the sum of logsumexp over samples part, part + PARTS, ..., whose logits
    spread less than SPAN: per sample, exp(z - top) = exp(z0 - top - a dz1 + beta)
    exp(-b dz2 - beta), both factors <= 1."""
    n, classes = z0.shape
    na, nb = len(a), len(b)
    rows, columns = np.empty((classes, na)), np.empty((classes, nb))
    lower, upper = np.empty(classes), np.empty(classes)
    product, sums, run, tops = np.ones((na, nb)), np.empty((na, nb)), 0, 0.0
    for s in range(part, n, PARTS):
        _bounds(z0[s], dz1[s], dz2[s], a[0], a[-1], b[0], b[-1], lower, upper)
        top = _largest(upper)
        for c in range(classes):
            beta = max(-b[0] * dz2[s, c], -b[-1] * dz2[s, c])
            offset, slope = z0[s, c] - top + beta, dz1[s, c]
            for i in range(na):
                rows[c, i] = fast_exp(offset - a[i] * slope)
            for j in range(nb):
                columns[c, j] = fast_exp(-beta - b[j] * dz2[s, c])
        np.dot(rows.T, columns, sums)  # SciPy's BLAS (a JAX requirement): 2x the loops' speed
        product *= sums
        tops += top
        run += 1
        if run == PRODUCT_RUN:
            grid += np.log(product)
            product[:] = 1.0
            run = 0
    grid += np.log(product) + tops


def _factorised(z0, dz1, dz2, a, b) -> np.ndarray:
    """Sum of logsumexp over these samples (see _factorised_part): PARTS interleaved groups, each
    its own grid, then the grids."""
    grids = np.zeros((PARTS, len(a), len(b)))
    on_threads(lambda part: _factorised_part(z0, dz1, dz2, a, b, part, grids[part]), PARTS, len(a) * len(b) * len(z0))
    return grids.sum(axis=0)


@numba.njit(nogil=True, cache=True)
def _tile(z0, dz1, dz2, a, b, tile, out):
    """Writes into `out` the sum of logsumexp over these samples on the cells of tile number
    `tile` (TILE x TILE cells, row by row), with classes pruned per tile."""
    n, classes = z0.shape
    na, nb = len(a), len(b)
    columns = (nb + TILE - 1) // TILE
    i0, j0 = (tile // columns) * TILE, (tile % columns) * TILE
    i1, j1 = min(i0 + TILE, na), min(j0 + TILE, nb)
    lower, upper, live = np.empty(classes), np.empty(classes), np.empty(classes, np.int64)
    shift, product, run = np.zeros((i1 - i0, j1 - j0)), np.ones((i1 - i0, j1 - j0)), 0
    c0 = c1 = c2 = 0.0  # the samples down to one class in this tile: that class's logit, summed
    for s in range(n):
        _bounds(z0[s], dz1[s], dz2[s], a[i0], a[i1 - 1], b[j0], b[j1 - 1], lower, upper)
        count, _ = _live(lower, upper, live)
        if count == 1:
            c = live[0]
            c0, c1, c2 = c0 + z0[s, c], c1 + dz1[s, c], c2 + dz2[s, c]
            continue
        for i in range(i0, i1):
            for j in range(j0, j1):
                top = -np.inf
                for k in range(count):
                    c = live[k]
                    top = max(top, z0[s, c] - a[i] * dz1[s, c] - b[j] * dz2[s, c])
                total = 0.0
                for k in range(count):  # pruned again in the cell: most are left with one class
                    c = live[k]
                    below = z0[s, c] - a[i] * dz1[s, c] - b[j] * dz2[s, c] - top
                    if below == 0.0:
                        total += 1.0
                    elif below > -MARGIN:
                        total += np.exp(below)
                shift[i - i0, j - j0] += top
                product[i - i0, j - j0] *= total  # each in [1, 10]
        run += 1
        if run == PRODUCT_RUN:
            shift += np.log(product)
            product[:] = 1.0
            run = 0
    for i in range(i0, i1):
        for j in range(j0, j1):
            out[i, j] = shift[i - i0, j - j0] + np.log(product[i - i0, j - j0]) + c0 - a[i] * c1 - b[j] * c2


def _tiled(z0, dz1, dz2, a, b) -> np.ndarray:
    """Sum of logsumexp over these samples, tile by tile (tiles apart: no two threads write one cell)."""
    out = np.zeros((len(a), len(b)))
    tiles = ((len(a) + TILE - 1) // TILE) * ((len(b) + TILE - 1) // TILE)  # as _tile counts them
    on_threads(lambda tile: _tile(z0, dz1, dz2, a, b, tile, out), tiles, out.size * len(z0))
    return out


def logsumexp_sum(z0: np.ndarray, dz1: np.ndarray, dz2: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """sum_s logsumexp_c(z0[s, c] - a_i dz1[s, c] - b_j dz2[s, c]) on the grid (len(a), len(b)),
    for logits of shape (samples, classes); float64 throughout."""
    z0, dz1, dz2 = (np.ascontiguousarray(v, dtype=np.float64) for v in (z0, dz1, dz2))
    order_a, order_b = np.argsort(a), np.argsort(b)  # the kernels bound tiles by their corners: ascending axes
    a, b = np.asarray(a, np.float64)[order_a], np.asarray(b, np.float64)[order_b]
    kind, single = _classify(z0, dz1, dz2, a[0], a[-1], b[0], b[-1])
    one = np.nonzero(kind == 0)[0]
    picked = single[one]
    total = z0[one, picked].sum() - a[:, None] * dz1[one, picked].sum() - b[None, :] * dz2[one, picked].sum()
    factorises = kind == 1
    if factorises.any():
        z = (v[factorises] for v in (z0, dz1, dz2))
        total = total + _factorised(*z, a, b)
    if (kind == 2).any():
        total = total + _tiled(z0[kind == 2], dz1[kind == 2], dz2[kind == 2], a, b)
    result = np.empty_like(total)
    result[np.ix_(order_a, order_b)] = total
    return result
