"""On-disk cache of RunResults keyed by RunConfig, library versions and the data's digest."""
from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import tempfile
import zipfile
from collections.abc import Callable
from importlib import metadata
from pathlib import Path

import numpy as np

from explainer.config import RunConfig
from explainer.data import Mnist, load_mnist
from explainer.train import TRAINING_LOCK, Progress, RunResult, train

FORMAT = 1  # bump when RunResult or the training procedure changes
ENGINE_PACKAGES = {"keras3": "keras", "tf_keras": "tf-keras"}
ARRAYS = ("step_loss", "kernels", "biases")


def cache_dir() -> Path:
    """$EXPLAINER_CACHE_DIR, else the user's cache directory."""
    if os.environ.get("EXPLAINER_CACHE_DIR"):
        return Path(os.environ["EXPLAINER_CACHE_DIR"]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "keras-lr-explainer"


def run_key(config: RunConfig, fingerprint: str) -> str:
    """What determines a result: the config, the installed TensorFlow and Keras, the data."""
    parts = {
        "format": FORMAT,
        "config": config.key(),
        "data": fingerprint,
        "tensorflow": metadata.version("tensorflow"),
        "engine": metadata.version(ENGINE_PACKAGES[config.engine]),
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:32]


def cached_train(
    config: RunConfig,
    mnist: Mnist | None = None,
    progress: Callable[[Progress], None] | None = None,
) -> RunResult:
    """The cached result for `config`, training it first if needed; concurrent callers asking
    for the same config wait for one run and share it."""
    mnist = mnist if mnist is not None else load_mnist()
    key = run_key(config, mnist.fingerprint)
    result = load(key)
    if result is None:
        with TRAINING_LOCK:  # whoever waited here finds the entry the previous holder stored
            result = load(key)
            if result is None:
                result = train(config, mnist, progress)
                store(key, result)
    return result


def load(key: str) -> RunResult | None:
    """The stored result, or None if absent; a corrupt entry is deleted and reported as absent."""
    path = cache_dir() / f"{key}.npz"
    try:
        with np.load(path, allow_pickle=False) as npz:
            meta = json.loads(str(npz["meta"]))
            arrays = {name: npz[name] for name in ARRAYS}
        if meta.pop("key") != key:
            raise ValueError("entry stored under another key")
        meta["config"] = RunConfig.from_dict(meta["config"])
        return RunResult(**meta, **arrays)
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError, EOFError, zipfile.BadZipFile):
        path.unlink(missing_ok=True)
        return None


def store(key: str, result: RunResult) -> None:
    """Write atomically: readers see the whole entry or none."""
    directory = cache_dir()
    directory.mkdir(parents=True, exist_ok=True)
    fields = {field.name: getattr(result, field.name) for field in dataclasses.fields(result)}
    arrays = {name: fields.pop(name) for name in ARRAYS}
    meta = {**fields, "config": result.config.to_dict(), "key": key}
    descriptor, temporary = tempfile.mkstemp(dir=directory, suffix=".tmp")
    try:
        with os.fdopen(descriptor, "wb") as file:
            np.savez(file, meta=np.array(json.dumps(meta)), **arrays)
        os.replace(temporary, directory / f"{key}.npz")
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
