"""Shared fixtures: the real MNIST file, small synthetic data, and a private training cache."""

from __future__ import annotations

import os

import pytest
from service_jobs import synthetic_mnist

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
    """A small learnable stand-in for MNIST (see service_jobs.synthetic_mnist)."""
    return synthetic_mnist()
