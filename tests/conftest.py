"""Shared fixtures: the real MNIST file, small synthetic data, and a private training cache."""
from __future__ import annotations

import os

import numpy as np
import pytest

from explainer.data import Mnist, MnistUnavailable, load_mnist


@pytest.fixture(scope="session", autouse=True)
def private_cache(tmp_path_factory):
    """Every test run trains into its own cache, never the user's; shared within the session."""
    directory = tmp_path_factory.mktemp("run-cache")
    previous = os.environ.get("EXPLAINER_CACHE_DIR")
    os.environ["EXPLAINER_CACHE_DIR"] = str(directory)
    yield directory
    if previous is None:
        os.environ.pop("EXPLAINER_CACHE_DIR", None)
    else:
        os.environ["EXPLAINER_CACHE_DIR"] = previous


@pytest.fixture(scope="session")
def mnist() -> Mnist:
    """Real MNIST. Fails (never skips) when MNIST_NPZ is set but unreadable."""
    try:
        return load_mnist()
    except MnistUnavailable as error:
        if os.environ.get("MNIST_NPZ"):
            pytest.fail(str(error))
        pytest.skip(f"real MNIST not available: {error}")


@pytest.fixture(scope="session")
def synthetic() -> Mnist:
    """A small learnable stand-in: each class lights its own block of pixels, plus noise."""
    rng = np.random.default_rng(1)

    def images(labels: np.ndarray) -> np.ndarray:
        x = rng.integers(0, 60, size=(len(labels), 28, 28))
        for index, label in enumerate(labels):
            x[index, 2 * label : 2 * label + 6, 4:24] = 255
        return x.astype(np.uint8)

    y_train = (np.arange(320) % 10).astype(np.uint8)
    y_test = (np.arange(100) % 10).astype(np.uint8)
    return Mnist(images(y_train), y_train, images(y_test), y_test)
