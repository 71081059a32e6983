"""Exact loss slices: against Keras' own loss, against brute force, and alpha on a known quadratic."""

import math

import numba
import numpy as np
import pytest

from explainer.config import RunConfig
from explainer.data import Pixels, prepare
from explainer.findings import surface
from explainer.labels import describe
from explainer.maths import linear
from explainer.store.derived import Undefined
from explainer.worker import images, replay, slicing
from explainer.worker.model import build_model
from explainer.worker.train import train


def keras_loss(config: RunConfig, kernel: np.ndarray, bias: np.ndarray, x: np.ndarray, y: np.ndarray) -> float:
    """The loss Keras itself reports for these weights on (x, y), through the config's own path."""
    model = build_model(config)
    model.layers[-1].set_weights([kernel, bias])
    return float(model.evaluate(x, y, batch_size=len(x), verbose=0, return_dict=True)["loss"])


SETUPS = [
    RunConfig(num_epochs=1),
    RunConfig(num_epochs=1, loss="probabilities", scaling="unit"),  # on raw pixels the clip leaves no gradient
    RunConfig(num_epochs=1, activation="softmax", loss="probabilities", scaling="unit"),
    RunConfig(num_epochs=1, activation="linear", loss="from_logits", scaling="unit"),
]


@pytest.mark.integration
@pytest.mark.parametrize("config", SETUPS, ids=describe)
def test_slice_is_keras_own_loss(synthetic, config):
    result, data = train(config, synthetic), prepare(synthetic, config, copied=False)
    request = surface.SurfaceRequest(config, point="step", index=2, evaluate_on="test")  # not yet fitted
    theta, epoch, step = slicing.position(request, result, data)
    d1, _ = slicing.directions(request, theta, data, epoch, step)
    t = np.array([0.0, 0.3 * config.learning_rate, config.learning_rate, 2 * config.learning_rate])
    loss, _ = slicing.line(theta, d1, data.x_test, data.y_test, config, t)
    for value, step_length in zip(loss, t):
        kernel, bias = linear.unflatten(theta - step_length * d1)
        expected = keras_loss(config, kernel.astype(np.float32), bias.astype(np.float32), data.x_test[:], data.y_test)
        assert value == pytest.approx(expected, rel=1e-4)


def test_gradient_matches_finite_differences(synthetic):
    for config in SETUPS:
        data = prepare(synthetic, config, copied=False)
        x, y = data.x_train[:16], data.y_train[:16]
        theta = np.random.default_rng(0).normal(size=7850) * 0.01
        direction = np.random.default_rng(1).normal(size=7850)
        mean_loss = lambda th, x=x, y=y, config=config: linear.losses(images.logits_at(th, x), y, config).mean()  # noqa: E731
        # the outputs are float32, as Keras computes them: a step of 1e-4 keeps round-off below 1e-3
        numeric = (mean_loss(theta + 1e-4 * direction) - mean_loss(theta - 1e-4 * direction)) / 2e-4
        assert images.gradient(theta, x, y, config) @ direction == pytest.approx(numeric, rel=1e-3, abs=1e-6)


def test_the_compiled_image_products_are_numpys_float64_products():
    """Zero pixels skipped, the same products as NumPy's over every pixel, whatever the threads;
    and a zero pixel times a non-finite weight is NaN as in NumPy (a diverged run's weights)."""
    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, size=(images.COMPILED_ROWS + 37, 28, 28), dtype=np.uint8)
    pixels[rng.random(pixels.shape) < 0.8] = 0  # as sparse as MNIST: what the kernels skip
    x = Pixels(pixels, np.zeros((28, 28), np.float32), np.full((28, 28), 255, np.float32))
    rows = x[:].reshape(len(x), -1).astype(np.float64)
    matrix, g = rng.normal(size=(784, 30)), rng.normal(size=(len(x), 10))
    products = images.images_times(x, matrix), images.images_transposed_times(x, g)
    np.testing.assert_allclose(products[0], rows @ matrix, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(products[1], rows.T @ g, rtol=1e-12, atol=1e-12)
    threads = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one_thread = images.images_times(x, matrix), images.images_transposed_times(x, g)
    finally:
        numba.set_num_threads(threads)
    for product, alone in zip(products, one_thread):
        np.testing.assert_array_equal(product, alone)
    pixel = tuple(np.argwhere(rows == 0)[0])
    matrix[pixel[1], 0], g[pixel[0], 0] = np.inf, np.nan
    assert np.isnan(images.images_times(x, matrix)[pixel[0], 0])
    assert np.isnan(images.images_transposed_times(x, g)[pixel[1], 0])


@pytest.mark.integration
@pytest.mark.parametrize("config", SETUPS[:2], ids=describe)
def test_a_surface_in_pieces_is_the_surface_at_once(synthetic, config, monkeypatch):
    """The loss summed piece by piece (where a prefetch may give way) equals it in one piece."""
    result, data = train(config, synthetic), prepare(synthetic, config, copied=False)
    request = surface.SurfaceRequest(config, point="step", index=2, direction="fullbatch")  # not yet fitted
    whole = slicing.compute(request, result, data, (0.01, 0.1), plane_points=7)
    monkeypatch.setattr(slicing, "PIECE_SAMPLES", 7)  # not a divisor of the images' count
    assert len(data.x_train) % 7
    pieces = slicing.compute(request, result, data, (0.01, 0.1), plane_points=7)
    for name in ("loss", "plane_loss", "landing_loss"):
        np.testing.assert_allclose(getattr(pieces, name), getattr(whole, name), rtol=1e-12)


def test_plane_agrees_with_brute_force_and_the_line(synthetic):
    config = RunConfig()
    data = prepare(synthetic, config, copied=False)
    rng = np.random.default_rng(2)
    theta, d1, d2 = (rng.normal(size=7850) * scale for scale in (0.01, 0.001, 0.001))
    a, b = np.linspace(-1, 2, 7), np.linspace(-1, 1, 5)
    grid = slicing.plane(theta, d1, d2, data.x_test, data.y_test, config, a, b)
    assert grid.shape == (7, 5)
    brute = [
        [linear.losses(images.logits_at(theta - ai * d1 - bj * d2, data.x_test), data.y_test, config).mean() for bj in b]
        for ai in a
    ]
    np.testing.assert_allclose(grid, brute, rtol=1e-4)
    line, accuracy = slicing.line(theta, d1, data.x_test, data.y_test, config, a)
    np.testing.assert_allclose(line, grid[:, 2], rtol=1e-6)  # b[2] == 0
    assert accuracy.shape == a.shape and np.all((accuracy >= 0) & (accuracy <= 1))


def test_hessian_vector_products_match_gradient_differences(synthetic):
    """One product function per point serves every vector (the eigenvector's search asks it about 20 times)."""
    config = RunConfig(scaling="unit")
    data = prepare(synthetic, config, copied=False)
    x, y = data.x_train[:64], data.y_train[:64]
    rng = np.random.default_rng(3)
    theta = rng.normal(size=7850) * 0.1
    hessian_times = images.hessian_times(theta, x, y, config)
    for vector in rng.normal(size=(2, 7850)):
        numeric = (
            images.gradient(theta + 1e-5 * vector, x, y, config) - images.gradient(theta - 1e-5 * vector, x, y, config)
        ) / 2e-5
        np.testing.assert_allclose(hessian_times(vector), numeric, rtol=1e-4, atol=1e-8)


@pytest.mark.parametrize("scaling", ["raw", "unit"])
def test_the_top_hessian_direction_is_the_eigenvector_of_the_largest_eigenvalue(synthetic, scaling):
    """To Lanczos' tolerance (30 steps of power iteration left a residual of 1.7e-2 here on x / 255)."""
    config = RunConfig(scaling=scaling)
    data = prepare(synthetic, config, copied=False)
    rng = np.random.default_rng(0)
    theta = rng.normal(size=7850) * 0.01
    hessian_times = images.hessian_times(theta, data.x_train, data.y_train, config)
    vector = slicing.top_hessian_direction(theta, data.x_train, data.y_train, config)
    vector /= np.linalg.norm(vector)
    product = hessian_times(vector)
    eigenvalue = vector @ product
    assert np.linalg.norm(product - eigenvalue * vector) <= 10 * slicing.HESSIAN_TOLERANCE * abs(eigenvalue)
    for other in rng.normal(size=(5, 7850)):  # no direction curves more
        other /= np.linalg.norm(other)
        assert other @ hessian_times(other) < eigenvalue


def test_alpha_on_a_known_quadratic():
    t = np.linspace(-1, 4, 501)
    loss = (t - 1.0) ** 2 + 3
    assert slicing.step_quality(t, loss, 0.0) == pytest.approx(-1)
    assert slicing.step_quality(t, loss, 0.5) == pytest.approx(-0.25)
    assert slicing.step_quality(t, loss, 1.0) == pytest.approx(0, abs=1e-9)
    assert slicing.step_quality(t, loss, 2.0) == pytest.approx(1)
    assert slicing.step_quality(t, loss, 3.0) == pytest.approx(4)
    assert math.isnan(slicing.step_quality(t, (t + 1) ** 2, 1.0))  # rising from the start: no descent


def test_second_directions_are_orthogonal_and_scaled(synthetic):
    config = RunConfig(num_epochs=1)
    result, data = train(config, synthetic), prepare(synthetic, config, copied=False)
    for second in surface.SECOND_DIRECTIONS:
        request = surface.SurfaceRequest(config, point="step", index=2, second=second, evaluate_on="minibatch")
        theta, epoch, step = slicing.position(request, result, data)
        d1, d2 = slicing.directions(request, theta, data, epoch, step)
        assert abs(d1 @ d2) < 1e-9 * (d1 @ d1) and np.linalg.norm(d2) == pytest.approx(np.linalg.norm(d1))


def test_a_zero_gradient_is_reported(synthetic):
    config = RunConfig(num_epochs=1)  # the synthetic classes are separable: after an epoch every sample is fitted
    result, data = train(config, synthetic), prepare(synthetic, config, copied=False)
    request = surface.SurfaceRequest(config, point="epoch", index=1)
    theta, epoch, step = slicing.position(request, result, data)
    with pytest.raises(Undefined, match="gradient is exactly zero"):
        slicing.directions(request, theta, data, epoch, step)


def test_requests_are_validated():
    with pytest.raises(ValueError, match="point must be one of"):
        surface.SurfaceRequest(RunConfig(), point="middle")
    with pytest.raises(ValueError, match="out of range"):
        surface.SurfaceRequest(RunConfig(num_epochs=2), point="epoch", index=3)
    with pytest.raises(ValueError, match=r"0 to 2\)"):  # 64 images make 2 steps of 32
        surface.SurfaceRequest(RunConfig(train_subset=64), point="step", index=3)
    with pytest.raises(ValueError, match="SGD"):
        surface.SurfaceRequest(RunConfig(optimizer="adam"))


@pytest.mark.integration
def test_replayed_sgd_follows_keras(mnist):
    """The step points replay SGD in NumPy (float64); Keras trains in float32. On raw pixels the
    saturated dynamics amplify round-off, so 50 steps are compared, to 1e-3."""
    config = RunConfig(num_epochs=1, train_subset=4000)
    result, data = train(config, mnist), prepare(mnist, config, copied=False)
    batches = replay.batches_from(config, len(data.x_train), 1, 0, 50)
    iterates = replay.sgd_iterates(linear.flatten(result.kernels[0], result.biases[0]), batches, data, config)
    replayed = [
        linear.losses(images.logits_at(theta, data.x_train[batch]), data.y_train[batch], config).mean()
        for theta, batch in zip(iterates, batches)
    ]
    np.testing.assert_allclose(replayed, result.step_loss[:50], rtol=1e-3)
    epoch_end = replay.sgd_iterates(
        linear.flatten(result.kernels[0], result.biases[0]),
        replay.batches_from(config, len(data.x_train), 1, 0, result.steps_per_epoch),
        data,
        config,
    )[-1]
    assert replay.batches_from(config, len(data.x_train), 2, 0, 1)[0].shape == (32,)
    assert np.linalg.norm(epoch_end - linear.flatten(result.kernels[1], result.biases[1])) < 0.05 * np.linalg.norm(epoch_end)


def test_page_judgements_on_known_values():
    config = RunConfig(num_epochs=3, train_subset=640)  # 20 steps an epoch
    assert surface.index_range(config, "step") == (0, 20) and surface.default_index(config, "step") == 20
    assert surface.default_index(config, "epoch") == 1 and surface.default_index(config, "init") == 0
    t = np.array([-0.1, 0.0, 0.5, 1.0])
    rates = np.array([0.01, 0.03, 0.1])
    view = surface.Slices(t, np.array([3.0, 2.0, 1.0, 0.5]), t, 1.0, 0.5, [], t, t, t, [], rates, np.array([2.0, 3.0, 6.0]))
    assert view.start_loss == 2.0 and view.minimum_at_edge and view.landing(0.03) == 3.0
    view = surface.Slices(t, t, t, 0.005, 1.5, [], t, t, t, [], rates, 100 * rates)  # past its minimum, in proportion
    assert surface.landing_growth(view) == pytest.approx(1.0)
    rows = [{"scaling": "x / 255", "learning_rate": 0.01, "alpha": value} for value in (0.1, math.nan, 0.3, 0.2)]
    rows += [{"scaling": "raw", "learning_rate": 0.01, "alpha": math.nan}]
    medians = surface.median_alphas(rows)
    assert medians[("x / 255", 0.01)] == pytest.approx(0.2) and math.isnan(medians[("raw", 0.01)])


def test_contour_lines_lie_on_their_level():
    a = b = np.linspace(-1, 1, 41)
    bowl = a[:, None] ** 2 + b[None, :] ** 2 + 1.0
    t = np.zeros(1)
    plane = surface.Slices(t, t, t, 0.0, 0.0, [], a, b, bowl, [], t, t)
    rows = surface.contours(plane, levels=3)
    assert len({row["level"] for row in rows}) == 3
    for row in rows:  # a circle: a^2 + b^2 = level - 1, to the grid's interpolation
        assert row["a"] ** 2 + row["b"] ** 2 == pytest.approx(row["level"] - 1, abs=0.01)


def test_neighbours_change_one_control():
    request = surface.SurfaceRequest(RunConfig(num_epochs=2))
    near = surface.neighbours(request)
    assert len(near) == 2 + 1 + 2 + 2 and len(set(near)) == len(near)
    assert all(
        sum(getattr(n, f) != getattr(request, f) for f in ("point", "direction", "second", "evaluate_on")) == 1 for n in near
    )


def test_alpha_words_change_at_their_named_marks():
    """Strictly past each mark, and at it."""
    assert surface.describe_alpha(surface.OVERSHOOT_ALPHA).startswith("passes the line's minimum")
    assert surface.describe_alpha(math.nextafter(surface.OVERSHOOT_ALPHA, math.inf)).startswith("overshoots")
    assert surface.describe_alpha(surface.LINE_MINIMUM_ALPHA).startswith("stops short")
    assert surface.describe_alpha(math.nextafter(surface.LINE_MINIMUM_ALPHA, math.inf)).startswith("passes the line's minimum")
