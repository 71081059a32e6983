"""MNIST loading errors and preprocessing, on small files written by the tests."""

import numpy as np
import pytest

from explainer.config import SCALINGS, RunConfig
from explainer.data import SHAPES, MnistUnavailable, Pixels, load_mnist, prepare


def write_npz(path, **overrides):
    arrays = {name: np.zeros(shape, np.uint8) for name, shape in SHAPES.items()}
    arrays.update(overrides)
    np.savez_compressed(path, **arrays)
    return path


@pytest.fixture
def use_file(monkeypatch):
    def use(path):
        monkeypatch.setenv("MNIST_NPZ", str(path))
        return load_mnist()

    return use


def test_well_formed_file_loads_once_per_process(tmp_path, use_file):
    path = write_npz(tmp_path / "mnist.npz")
    first = use_file(path)
    assert first.x_train.shape == (60_000, 28, 28) and first.y_test.dtype == np.uint8
    assert use_file(path) is first


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda p: p, "cannot read the file"),
        (lambda p: write_npz(p) and p.write_bytes(p.read_bytes()[:5000]) and p, "not a readable .npz"),
        (lambda p: p.write_bytes(b"not a zip at all") and p, "not a readable .npz"),
        (lambda p: np.savez(p, x_train=np.zeros(3)) or p, "y_train, x_test, y_test missing"),
        (lambda p: write_npz(p, x_test=np.zeros((10_000, 784), np.uint8)), r"x_test has shape \(10000, 784\)"),
        (lambda p: write_npz(p, y_train=np.zeros(60_000, np.int64)), "y_train has shape .* dtype int64"),
        (lambda p: write_npz(p, y_test=np.full(10_000, 12, np.uint8)), "labels outside 0-9"),
    ],
    ids=["missing", "truncated", "not-a-zip", "missing-member", "wrong-shape", "wrong-dtype", "bad-labels"],
)
def test_bad_files_raise_one_error_type_that_says_how_to_fix(tmp_path, use_file, make, message):
    path = make(tmp_path / "mnist.npz")
    with pytest.raises(MnistUnavailable, match=message) as error:
        use_file(path)
    assert "MNIST_NPZ" in str(error.value) and "~/.keras/datasets/mnist.npz" in str(error.value)


def test_replaced_file_is_read_again(tmp_path, use_file):
    path = write_npz(tmp_path / "mnist.npz")
    use_file(path)
    path.write_bytes(b"corrupted since")
    with pytest.raises(MnistUnavailable):
        use_file(path)


def test_prepare_scales_subsets_and_one_hot_encodes(synthetic):
    raw = prepare(synthetic, RunConfig(train_subset=100))
    assert raw.x_train.shape == (100, 28, 28) and raw.x_train.dtype == np.float32
    assert raw.x_train.max() == 255
    np.testing.assert_array_equal(raw.y_train.argmax(axis=1), synthetic.y_train[:100])
    assert raw.y_test.sum(axis=1).tolist() == [1.0] * len(synthetic.y_test)
    assert prepare(synthetic, RunConfig(scaling="unit")).x_train.max() == 1.0
    standardized = prepare(synthetic, RunConfig(scaling="standardized")).x_train
    assert np.all(np.isfinite(standardized))
    np.testing.assert_allclose(standardized.mean(axis=0), 0, atol=1e-4)
    varying = synthetic.x_train.std(axis=0) > 0
    np.testing.assert_allclose(standardized.std(axis=0)[varying], 1, rtol=1e-3)


@pytest.mark.parametrize("scaling", SCALINGS)
def test_images_kept_as_pixels_read_as_the_prepared_images(synthetic, scaling):
    """Images that one number scales stay uint8 unless copied; read, they are the float32 images to the bit."""
    config = RunConfig(scaling=scaling, train_subset=100)
    copied, kept = prepare(synthetic, config), prepare(synthetic, config, copied=False)
    for images, pixels, source in (
        (copied.x_train, kept.x_train, synthetic.x_train),
        (copied.x_test, kept.x_test, synthetic.x_test),
    ):
        assert isinstance(pixels, Pixels) == (scaling != "standardized")
        np.testing.assert_array_equal(pixels[:], images)
        if isinstance(pixels, Pixels):
            assert np.shares_memory(pixels.pixels, source)  # MNIST's own array, not a copy
            np.testing.assert_array_equal(pixels.values[pixels.pixels], images)
