"""The plane's log-sum-exp kernel against a direct float64 evaluation, on planes where every
sample is saturated, where none is, and in between."""

import numpy as np
import pytest

from explainer.maths import linear
from explainer.worker.plane_kernels import clipped_sum, logsumexp_sum


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


def test_a_single_row_and_a_single_point():
    rng = np.random.default_rng(5)
    z0, dz1, dz2 = (rng.normal(size=(50, 10)) * 100 for _ in range(3))
    a, b = np.linspace(0, 1, 9), np.zeros(1)
    np.testing.assert_allclose(logsumexp_sum(z0, dz1, dz2, a, b), reference(z0, dz1, dz2, a, b), rtol=1e-11)
    np.testing.assert_allclose(logsumexp_sum(z0, dz1, dz2, a[:1], b), reference(z0, dz1, dz2, a[:1], b), rtol=1e-11)


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
