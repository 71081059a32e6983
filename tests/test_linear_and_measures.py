"""Measurement primitives on small arrays whose answers are known by hand."""

import math

import numpy as np

from explainer.config import RunConfig
from explainer.maths import linear, measures
from explainer.worker.train import train


def test_softmax_crossentropy_is_exact_and_stable():
    z = np.array([[0.0, 0.0], [1000.0, 0.0]])
    y = np.array([[1.0, 0.0], [0.0, 1.0]])
    np.testing.assert_allclose(linear.softmax_crossentropy(z, y), [math.log(2), 1000.0])


def test_clipped_crossentropy_is_bounded_by_the_clip():
    outputs = np.array([[1.0, 0.0, 0.0], [0.5, 0.5, 0.0]], np.float32)
    y = np.array([[0, 0, 1], [1, 0, 0]], np.float32)
    np.testing.assert_allclose(linear.clipped_crossentropy(outputs, y), [-math.log(1e-7), math.log(2)], rtol=1e-6)


def test_float32_sigmoid_ties_at_one():
    outputs = linear.sigmoid32(np.array([[15.0, 17.0, 30.0]], np.float32))
    assert outputs[0, 0] < 1 and outputs[0, 1] == outputs[0, 2] == 1.0
    assert measures.tied_fraction(np.vstack([outputs, [[0.1, 0.2, 0.3]]])) == 0.5


def test_sigmoid_reaches_one_near_the_float32_limit():
    # 1 - sigmoid(z) ~ exp(-z) falls below half a float32 ulp of 1 (2^-25) at z = 25 ln 2 = 17.3;
    # float32 rounding of 1 + exp(-z) reaches 1 a little earlier
    assert 15.5 < measures.sigmoid_one_threshold() < 17.4


def test_saturation_agreement_norms_and_margins():
    z = np.array([[10.0, 0.0], [0.1, 0.0]])
    assert measures.softmax_saturated_fraction(z) == 0.5
    a = np.arange(6.0).reshape(2, 3)
    assert math.isclose(measures.norm_ratio(a, 3 * a), 3) and math.isclose(measures.cosine(a, 3 * a), 1)
    assert measures.agreement(z, -z) == 0.0
    np.testing.assert_allclose(measures.margins(z, np.array([[0, 1], [1, 0]])), [10.0, 0.0])


def test_logits_are_the_dense_layer_on_a_known_answer():
    """An image of ones through a kernel whose column j is all j: logit j is 784 j plus the bias."""
    kernel = np.tile(np.arange(10, dtype=np.float32), (784, 1))
    bias = np.full(10, 0.5, np.float32)
    z = linear.logits(kernel, bias, np.ones((2, 28, 28), np.float32))
    np.testing.assert_array_equal(z, np.tile(784 * np.arange(10) + 0.5, (2, 1)))
    assert z.dtype == np.float32


def test_saturated_sgd_scales_with_the_learning_rate(synthetic):
    """The known answer of DESIGN step 3, on synthetic raw-pixel data: 3x the rate, 3x the
    weights, the same predictions (the initial weights keep the ratio from being exactly 3)."""
    low, high = (train(RunConfig(learning_rate=lr, num_epochs=2), synthetic) for lr in (0.01, 0.03))
    assert abs(measures.norm_ratio(low.kernels[-1], high.kernels[-1]) - 3) < 0.3
    x = synthetic.x_test.astype(np.float32)
    scores = [linear.logits(r.kernels[-1], r.biases[-1], x) for r in (low, high)]
    assert measures.agreement(*scores) > 0.95
