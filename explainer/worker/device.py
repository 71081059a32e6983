"""In a worker: a run's data in its backend's arrays, and Keras' own download of MNIST."""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable

import numpy as np

from explainer.config import RunConfig
from explainer.data import FIRST_BATCH, HOW_TO_PROVIDE, Mnist, MnistUnavailable, scaled, scaling
from explainer.worker.model import import_engine


def download_mnist() -> None:
    """Let Keras download mnist.npz into its cache. Imports Keras: call it in a worker process."""
    keras = import_engine("keras3")
    try:
        keras.datasets.mnist.load_data()
    except Exception as error:  # Keras raises bare Exception for failed downloads
        raise MnistUnavailable(f"keras.datasets.mnist.load_data() could not download MNIST ({error}). {HOW_TO_PROVIDE}") from None


@dataclasses.dataclass(frozen=True, eq=False)
class DeviceData:
    """A run's data in a backend's arrays: `train`, `test` and `first_batch` (the first
    FIRST_BATCH training images, file order) are (uint8 images, one-hot labels, shift, scale):
    the loops scale each batch as `scaled` does. `scaled_test()` gives the test images scaled, as
    the backend's array for predict and as NumPy with their one-hot labels for the logits; made
    when a run first needs them, at its end, so that its first progress report does not wait for
    them (0.15 s), then kept."""

    n_train: int
    train: tuple
    test: tuple
    first_batch: tuple
    scaled_test: Callable[[], tuple[object, tuple[np.ndarray, np.ndarray]]]


def device_data(mnist: Mnist, config: RunConfig, put: Callable[[np.ndarray], object]) -> DeviceData:
    """The config's data, each array made the backend's by `put`. The images stay uint8, a
    quarter of the float32 prepared arrays (a worker's memory is the server's budget)."""
    shift, scale = (put(array) for array in scaling(mnist, config))
    eye = np.eye(10, dtype=np.float32)
    images, labels = mnist.x_train[: config.train_subset], eye[mnist.y_train[: config.train_subset]]

    @functools.cache
    def scaled_test() -> tuple[object, tuple[np.ndarray, np.ndarray]]:
        x_test = scaled(mnist.x_test, *scaling(mnist, config))
        return put(x_test), (x_test, eye[mnist.y_test])

    return DeviceData(
        n_train=len(images),
        train=(put(images), put(labels), shift, scale),
        test=(put(mnist.x_test), put(eye[mnist.y_test]), shift, scale),
        first_batch=(put(images[:FIRST_BATCH]), put(labels[:FIRST_BATCH]), shift, scale),
        scaled_test=scaled_test,
    )
