"""MNIST: loaded from MNIST_NPZ or Keras' own cache, checked, then scaled for a RunConfig."""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import os
import zipfile
from pathlib import Path

import numpy as np

from explainer.config import RunConfig

SHAPES = {
    "x_train": (60_000, 28, 28),
    "y_train": (60_000,),
    "x_test": (10_000, 28, 28),
    "y_test": (10_000,),
}
FIRST_BATCH = 32  # images of the loss-path check (the question's batch size)
HOW_TO_PROVIDE = (
    "Provide Keras' mnist.npz (11 MB, sha256 731c5ac6...): set the environment variable "
    "MNIST_NPZ to its path, or copy it to ~/.keras/datasets/mnist.npz "
    "(or $KERAS_HOME/datasets/mnist.npz), or run once on a machine with internet so that "
    "keras.datasets.mnist.load_data() downloads it."
)


class MnistUnavailable(RuntimeError):
    """MNIST could not be loaded; the message says why and how to provide the file."""


class MnistNotDownloaded(MnistUnavailable):
    """Neither MNIST_NPZ nor Keras' cache has the file: a worker may download it (`obtain.find_mnist`)."""


@dataclasses.dataclass(frozen=True, eq=False)
class Mnist:
    """The four MNIST arrays as uint8, where they were read from, and a digest of their bytes."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    source: str = "memory"

    @functools.cached_property
    def fingerprint(self) -> str:
        digest = hashlib.sha256()
        for array in (self.x_train, self.y_train, self.x_test, self.y_test):
            digest.update(str(array.shape).encode())
            digest.update(np.ascontiguousarray(array).data)
        return digest.hexdigest()[:16]


@dataclasses.dataclass(frozen=True, eq=False)
class Pixels:
    """Images that one number scales (raw pixels: 1, x / 255: 255), kept as their uint8 pixels:
    indexing gives float32 images exactly as `scaled` makes them, and the compiled products over
    every image (worker/images.py) read each pixel's scaled value from `values`. Making the
    float32 copy of the 60,000 training images (188 MB), mostly the memory's first touch, took
    0.17-0.36 s of each loss surface's job in a worker (docs/measurements.md)."""

    pixels: np.ndarray  # (n, 28, 28) uint8
    shift: np.ndarray
    scale: np.ndarray

    def __len__(self) -> int:
        return len(self.pixels)

    def __getitem__(self, index) -> np.ndarray:
        return scaled(self.pixels[index], self.shift, self.scale)

    @functools.cached_property
    def values(self) -> np.ndarray:
        """values[p]: pixel value p scaled (the images' own float32 operations), as float64."""
        return scaled(np.arange(256, dtype=np.uint8), self.shift.flat[0], self.scale.flat[0]).astype(np.float64)


@dataclasses.dataclass(frozen=True, eq=False)
class Prepared:
    """Images (n, 28, 28) scaled as the config says, as float32 arrays or as Pixels, and one-hot labels."""

    x_train: np.ndarray | Pixels
    y_train: np.ndarray
    x_test: np.ndarray | Pixels
    y_test: np.ndarray


def keras_cache_files() -> list[Path]:
    """Where keras.datasets.mnist.load_data() keeps its download (Keras 3's keras_home()):
    $KERAS_HOME/datasets, else ~/.keras/datasets, or /tmp/.keras/datasets when home is read-only."""
    if os.environ.get("KERAS_HOME"):
        homes = [Path(os.environ["KERAS_HOME"])]
    else:
        homes = [Path.home() / ".keras", Path("/tmp") / ".keras"]
    return [home / "datasets" / "mnist.npz" for home in homes]


def load_mnist() -> Mnist:
    """MNIST from $MNIST_NPZ if set, else from Keras' cache; read once per process per file.
    Reads NumPy only: a missing download raises MnistNotDownloaded (a worker downloads it: `obtain.find_mnist`)."""
    path = os.environ.get("MNIST_NPZ")
    if not path:
        found = [candidate for candidate in keras_cache_files() if candidate.is_file()]
        if not found:
            raise MnistNotDownloaded(f"MNIST_NPZ is not set and Keras' cache has no mnist.npz yet. {HOW_TO_PROVIDE}")
        path = str(found[0])
    return read_mnist(path)


def read_mnist(path: str) -> Mnist:
    """MNIST from Keras' mnist.npz at `path`, read once per process while the file is unchanged."""
    # not resolved: pages ask on every visit, and resolving was 4% of the server's time under 10 visitors
    expanded = os.path.abspath(os.path.expanduser(path))
    try:
        stat = os.stat(expanded)
    except OSError as error:
        raise MnistUnavailable(f"{path}: cannot read the file ({error.strerror}). {HOW_TO_PROVIDE}") from None
    return _read_npz(expanded, stat.st_size, stat.st_mtime_ns)


@functools.lru_cache(maxsize=2)
def _read_npz(path: str, size: int, mtime_ns: int) -> Mnist:
    # size and mtime are part of the cache key so that a replaced file is read again
    try:
        with np.load(path, allow_pickle=False) as npz:
            missing = [name for name in SHAPES if name not in npz.files]
            if missing:
                raise MnistUnavailable(f"{path} is not Keras' mnist.npz: {', '.join(missing)} missing. {HOW_TO_PROVIDE}")
            arrays = {name: npz[name] for name in SHAPES}
    except (OSError, ValueError, EOFError, AttributeError, TypeError, zipfile.BadZipFile) as error:
        raise MnistUnavailable(f"{path} is not a readable .npz file ({error}). {HOW_TO_PROVIDE}") from None
    return checked(arrays, source=path)


def checked(arrays: dict[str, np.ndarray], source: str) -> Mnist:
    """Mnist from the four arrays, or MnistUnavailable naming the first wrong shape or dtype."""
    for name, shape in SHAPES.items():
        array = arrays[name]
        if array.shape != shape or array.dtype != np.uint8:
            raise MnistUnavailable(
                f"{source}: {name} has shape {array.shape} and dtype {array.dtype}, expected {shape} uint8. {HOW_TO_PROVIDE}"
            )
    if arrays["y_train"].max() > 9 or arrays["y_test"].max() > 9:
        raise MnistUnavailable(f"{source}: labels outside 0-9. {HOW_TO_PROVIDE}")
    return Mnist(**arrays, source=source)


def scaling(mnist: Mnist, config: RunConfig) -> tuple[np.ndarray, np.ndarray]:
    """The config's input scaling as float32 (shift, scale), each (28, 28): the model sees
    (x - shift) / scale. Raw pixels are (0, 1), exactly the pixels; x / 255 is (0, 255);
    standardized is the per-pixel mean and standard deviation of the full training set in
    float32 (like the usual 0.1307 / 0.3081 constants, per pixel), as np.std computes them, a
    standard deviation of 0 (border pixels, always 0) replaced by 1."""
    if config.scaling == "raw":
        return np.zeros((28, 28), np.float32), np.ones((28, 28), np.float32)
    if config.scaling == "unit":
        return np.zeros((28, 28), np.float32), np.full((28, 28), 255, np.float32)
    return _pixel_statistics(mnist.fingerprint, mnist)


@functools.lru_cache(maxsize=1)
def _pixel_statistics(fingerprint: str, mnist: Mnist) -> tuple[np.ndarray, np.ndarray]:
    deviations = mnist.x_train.astype(np.float32)  # one copy, worked in place
    mean = deviations.mean(axis=0)
    deviations -= mean
    np.multiply(deviations, deviations, out=deviations)
    std = np.sqrt(deviations.mean(axis=0))
    return mean, np.where(std > 0, std, 1.0).astype(np.float32)


def scaled(images: np.ndarray, shift: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """(images - shift) / scale in float32, each operation rounded once (as TensorFlow does it);
    one that changes nothing skipped (x - 0 and x / 1 are x): raw pixels are only cast."""
    x = images.astype(np.float32)
    if shift.any():
        x -= shift
    if (scale != 1).any():
        x /= scale
    return x


def prepare(mnist: Mnist, config: RunConfig, copied: bool = True) -> Prepared:
    """The arrays the model sees: the training subset, scaled inputs, one-hot labels. Not
    `copied`, images that one number scales stay Pixels (what the loss surfaces read)."""
    shift, scale = scaling(mnist, config)
    eye = np.eye(10, dtype=np.float32)
    if copied or shift.any() or (scale != scale.flat[0]).any():
        images = functools.partial(scaled, shift=shift, scale=scale)
    else:
        images = functools.partial(Pixels, shift=shift, scale=scale)
    return Prepared(
        x_train=images(mnist.x_train[: config.train_subset]),
        y_train=eye[mnist.y_train[: config.train_subset]],
        x_test=images(mnist.x_test),
        y_test=eye[mnist.y_test],
    )
