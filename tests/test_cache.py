"""The on-disk cache: round trip, atomic writes, corrupt entries, one training per config."""
import threading

import numpy as np
import pytest

from explainer import cache
from explainer.config import RunConfig
from explainer.train import RunResult


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("EXPLAINER_CACHE_DIR", str(tmp_path))
    return tmp_path


def make_result(config=RunConfig(num_epochs=2)) -> RunResult:
    rng = np.random.default_rng(0)
    return RunResult(
        config=config,
        history={"loss": [3.0, float("nan")], "accuracy": [0.5, 0.25], "val_loss": [2.0, 1.0], "val_accuracy": [0.6, 0.7]},
        step_loss=rng.normal(size=6),
        steps_per_epoch=3,
        kernels=rng.normal(size=(3, 784, 10)).astype(np.float32),
        biases=rng.normal(size=(3, 10)).astype(np.float32),
        predict_accuracy=0.3,
        logit_accuracy=0.8,
        diverged=None,
        versions={"tensorflow": "x", "tf_keras": "y"},
        seconds=1.5,
    )


def test_round_trip(cache_dir):
    result = make_result()
    cache.store("abc", result)
    loaded = cache.load("abc")
    assert loaded.config == result.config and loaded.versions == result.versions
    assert loaded.history["accuracy"] == result.history["accuracy"] and np.isnan(loaded.history["loss"][1])
    for name in cache.ARRAYS:
        np.testing.assert_array_equal(getattr(loaded, name), getattr(result, name))
    assert (loaded.predict_accuracy, loaded.logit_accuracy, loaded.steps_per_epoch) == (0.3, 0.8, 3)


def test_missing_entry_is_none(cache_dir):
    assert cache.load("nothing") is None


@pytest.mark.parametrize("damage", [lambda b: b[: len(b) // 2], lambda b: b"garbage", lambda b: b""])
def test_corrupt_entry_is_dropped_not_crashed_on(cache_dir, damage):
    cache.store("abc", make_result())
    path = cache_dir / "abc.npz"
    path.write_bytes(damage(path.read_bytes()))
    assert cache.load("abc") is None
    assert not path.exists()


def test_entry_under_the_wrong_name_is_rejected(cache_dir):
    cache.store("abc", make_result())
    (cache_dir / "abc.npz").rename(cache_dir / "other.npz")
    assert cache.load("other") is None


def test_interrupted_write_leaves_no_entry(cache_dir, monkeypatch):
    def fail(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(np, "savez", fail)
    with pytest.raises(KeyboardInterrupt):
        cache.store("abc", make_result())
    assert list(cache_dir.iterdir()) == []


def test_key_depends_on_config_data_and_versions(monkeypatch):
    base = cache.run_key(RunConfig(), "data1")
    assert cache.run_key(RunConfig(), "data1") == base
    assert cache.run_key(RunConfig(seed=1), "data1") != base
    assert cache.run_key(RunConfig(), "data2") != base
    monkeypatch.setattr(cache.metadata, "version", lambda package: "0.0-other")
    assert cache.run_key(RunConfig(), "data1") != base


def test_concurrent_callers_share_one_training(cache_dir, synthetic, monkeypatch):
    calls = []

    def slow_train(config, mnist, progress):
        calls.append(config)
        threading.Event().wait(0.3)  # long enough for the other caller to arrive meanwhile
        return make_result(config)

    monkeypatch.setattr(cache, "train", slow_train)
    config = RunConfig(num_epochs=2)
    results = []
    threads = [threading.Thread(target=lambda: results.append(cache.cached_train(config, synthetic))) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(calls) == 1 and len(results) == 2
    assert results[0].config == results[1].config == config
    assert cache.cached_train(config, synthetic).config == config and len(calls) == 1
