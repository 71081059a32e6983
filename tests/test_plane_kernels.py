"""The plane's log-sum-exp kernel against a direct float64 evaluation, on planes where every
sample is saturated, where none is, and in between; the line's accuracy against NumPy's argmax."""

import numba
import numpy as np
import pytest

from explainer.maths import linear
from explainer.worker.plane_kernels import logsumexp_sum
from explainer.worker.sample_kernels import clipped_sum, correct_share_along


def reference(z0, dz1, dz2, a, b) -> np.ndarray:
    z = z0[None, None] - a[:, None, None, None] * dz1[None, None] - b[None, :, None, None] * dz2[None, None]
    top = z.max(axis=-1, keepdims=True)
    return (np.log(np.exp(z - top).sum(axis=-1)) + top[..., 0]).sum(axis=-1)


@pytest.mark.parametrize(
    "scale, step",
    [
        (1.0, 1.0),  # moderate logits that move little: every sample factorises
        (3000.0, 5.0),  # raw-pixel logits, saturated everywhere, moving by thousands: tiles
        (30.0, 2.0),  # in between: some of each
        (3000.0, 0.0),  # saturated and still: one class left everywhere, affine
    ],
)
def test_the_kernel_is_the_direct_evaluation(scale, step):
    rng = np.random.default_rng(int(scale + step))
    z0, dz1, dz2 = (rng.normal(size=(300, 10)) * scale * factor for factor in (1, step / 10, step / 10))
    a, b = np.linspace(-1, 3, 23), np.linspace(-2, 2, 17)
    np.testing.assert_allclose(logsumexp_sum(z0, dz1, dz2, a, b), reference(z0, dz1, dz2, a, b), rtol=1e-11)


def test_the_plane_is_the_same_to_the_bit_on_one_thread_and_on_two():
    """A plane computed on a 2-core machine and on a 1-core one is one result (the cache holds either)."""
    rng = np.random.default_rng(4)
    z0, dz1, dz2 = (rng.normal(size=(301, 10)) * 30.0 * factor for factor in (1, 0.2, 0.2))  # factorised and tiled
    a, b = np.linspace(-1, 3, 23), np.linspace(-2, 2, 17)
    threads = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        alone = logsumexp_sum(z0, dz1, dz2, a, b)
        numba.set_num_threads(min(2, numba.config.NUMBA_NUM_THREADS))
        np.testing.assert_array_equal(logsumexp_sum(z0, dz1, dz2, a, b), alone)
    finally:
        numba.set_num_threads(threads)


def test_a_single_row_and_a_single_point():
    rng = np.random.default_rng(5)
    z0, dz1, dz2 = (rng.normal(size=(50, 10)) * 100 for _ in range(3))
    a, b = np.linspace(0, 1, 9), np.zeros(1)
    np.testing.assert_allclose(logsumexp_sum(z0, dz1, dz2, a, b), reference(z0, dz1, dz2, a, b), rtol=1e-11)
    np.testing.assert_allclose(logsumexp_sum(z0, dz1, dz2, a[:1], b), reference(z0, dz1, dz2, a[:1], b), rtol=1e-11)


def test_a_line_with_points_between_its_even_ones_and_a_long_one():
    """The line the page draws: evenly spaced, with 0 and the learning rates put in between; and
    2,001 points in a row."""
    rng = np.random.default_rng(7)
    z0, dz1, dz2 = (rng.normal(size=(200, 10)) * scale for scale in (3.0, 1.0, 1.0))
    for a in (np.unique(np.r_[np.linspace(-0.05, 0.3, 101), 0.0, 0.01, 0.1]), np.linspace(-2, 6, 2001)):
        b = np.zeros(1)
        np.testing.assert_allclose(logsumexp_sum(z0, dz1, dz2, a, b), reference(z0, dz1, dz2, a, b), rtol=1e-11)


@pytest.mark.parametrize("rising", [True, False])
def test_a_class_that_comes_up_from_underflow_along_the_axis(rising):
    """A class 8,000 below the top at one end of the line and level with it at the other, 80 a
    point: its exp underflows to 0 for all but the last few points, which must still count."""
    z0 = np.zeros((1, 10)) - 1000.0
    z0[0, 0] = 0.0
    z0[0, 1] = -8000.0 if rising else 0.0
    dz1 = np.zeros((1, 10))
    dz1[0, 1] = -8000.0 if rising else 8000.0  # z = z0 - a dz1: class 1 from -8,000 to 0, or from 0 to -8,000
    a, b = np.linspace(0, 1, 101), np.zeros(1)
    np.testing.assert_allclose(
        logsumexp_sum(z0, dz1, np.zeros((1, 10)), a, b), reference(z0, dz1, np.zeros((1, 10)), a, b), rtol=1e-11
    )


@pytest.mark.parametrize("activation", ["sigmoid", "softmax"])
@pytest.mark.parametrize("scale", [1.0, 50.0])  # outputs in between, and saturated (ties at 1.0, clipped)
def test_the_clipped_kernel_is_keras_loss_on_the_outputs(activation, scale):
    rng = np.random.default_rng(int(scale))
    z0, dz1, dz2 = (rng.normal(size=(200, 10)) * scale for _ in range(3))
    y = np.eye(10)[rng.integers(10, size=200)]
    a, b = np.linspace(-1, 1, 7), np.linspace(-0.5, 0.5, 5)
    expected = [
        [linear.clipped_crossentropy(linear.activation_outputs(z0 - ai * dz1 - bj * dz2, activation), y).sum() for bj in b]
        for ai in a
    ]
    np.testing.assert_allclose(clipped_sum(z0, dz1, dz2, y.argmax(axis=1), a, b, activation), expected, rtol=1e-6)


@pytest.mark.parametrize("scale", [1.0, 3000.0])
def test_the_accuracy_along_a_line_is_numpy_argmax_in_float32(scale):
    """The share of correct argmaxes of z0 - t dz, equal to NumPy's float32 evaluation to the
    last sample, ties included (saturated logits, as on raw pixels, tie at whole numbers)."""
    rng = np.random.default_rng(int(scale))
    z0, dz = (np.round(rng.normal(size=(500, 10)) * scale).astype(np.float32) for _ in range(2))
    z0[:50, :3] = z0[:50, :1] + 10 * scale  # at t = 0 the first three classes tie on top: NumPy takes the first
    labels, t = rng.integers(0, 10, size=500), np.r_[0.0, np.linspace(-0.5, 2, 37)].astype(np.float32)
    numpy = [((z0 - step * dz).argmax(axis=1) == labels).mean() for step in t]
    assert list(correct_share_along(z0, dz, t, labels)) == numpy
