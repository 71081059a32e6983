"""The on-disk store: round trip, atomic writes, corrupt entries, progress files, one training per key."""

import contextlib
import os
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import service_jobs

from explainer import cli, engines
from explainer.cli import commands
from explainer.config import RunConfig
from explainer.run import Progress, RunResult
from explainer.service import TrainingService
from explainer.store import cache
from explainer.worker import runs


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("EXPLAINER_CACHE_DIR", str(tmp_path))
    return tmp_path


@pytest.fixture
def store(cache_dir):
    return cache.RunStore(cache_dir)


def make_result(config: RunConfig | None = None) -> RunResult:
    config = config or RunConfig(num_epochs=2)
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
        first_batch_loss=12.5,
        diverged=None,
        versions={"tensorflow": "x", "tf_keras": "y"},
        seconds=1.5,
    )


def test_round_trip(store):
    result = make_result()
    assert not store.has("abc")
    store.store("abc", result)
    assert store.has("abc")
    loaded = store.load("abc")
    assert loaded.config == result.config and loaded.versions == result.versions
    assert loaded.history["accuracy"] == result.history["accuracy"] and np.isnan(loaded.history["loss"][1])
    for name in cache.ARRAYS:
        np.testing.assert_array_equal(getattr(loaded, name), getattr(result, name))
    assert (loaded.predict_accuracy, loaded.logit_accuracy, loaded.steps_per_epoch, loaded.first_batch_loss) == (
        0.3,
        0.8,
        3,
        12.5,
    )


def test_missing_entry_is_none(store):
    assert store.load("nothing") is None and not store.has("nothing")


def test_progress_is_written_read_and_cleared(store):
    assert store.read_progress("abc") is None
    store.write_progress("abc", Progress(2, 10, 375, 1875, {"loss": [320.4]}))
    assert store.read_progress("abc") == Progress(2, 10, 375, 1875, {"loss": [320.4]})
    store.clear_progress("abc")
    assert store.read_progress("abc") is None


@pytest.mark.parametrize("damage", [lambda b: b[: len(b) // 2], lambda b: b"garbage", lambda b: b""])
def test_corrupt_entry_is_dropped_not_crashed_on(store, cache_dir, damage):
    store.store("abc", make_result())
    path = cache_dir / "abc.npz"
    path.write_bytes(damage(path.read_bytes()))
    assert store.load("abc") is None
    assert not path.exists()


def test_entry_under_the_wrong_name_is_rejected(store, cache_dir):
    store.store("abc", make_result())
    (cache_dir / "abc.npz").rename(cache_dir / "other.npz")
    assert store.load("other") is None


def test_interrupted_write_leaves_no_entry(store, cache_dir, monkeypatch):
    def fail(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(np, "savez_compressed", fail)
    with pytest.raises(KeyboardInterrupt):
        store.store("abc", make_result())
    assert list(cache_dir.iterdir()) == []


def test_key_depends_on_config_data_and_versions(monkeypatch):
    base = cache.run_key(RunConfig(), "data1")
    assert cache.run_key(RunConfig(), "data1") == base
    assert cache.run_key(RunConfig(seed=1), "data1") != base
    assert cache.run_key(RunConfig(), "data2") != base
    monkeypatch.setattr(engines.metadata, "version", lambda package: "0.0-other")
    engines._installed.cache_clear()  # versions are looked up, and keys computed, once per process
    cache.run_key.cache_clear()
    try:
        assert cache.run_key(RunConfig(), "data1") != base
    finally:
        engines._installed.cache_clear()
        cache.run_key.cache_clear()


def stored(config, mnist):
    """The default store's result for `config`, trained into it first if need be."""
    return runs.train_into(cache.RunStore.default(), config, cache.run_key(config, mnist.fingerprint), mnist)


def test_concurrent_callers_share_one_training(cache_dir, synthetic, monkeypatch):
    calls = []

    def slow_train(config, mnist, progress):
        calls.append(config)
        threading.Event().wait(0.3)  # long enough for the other caller to arrive meanwhile
        return make_result(config)

    monkeypatch.setattr(runs, "train", slow_train)  # threads of one process share the key's file lock
    config = RunConfig(num_epochs=2)
    results = []
    threads = [threading.Thread(target=lambda: results.append(stored(config, synthetic))) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(calls) == 1 and len(results) == 2
    assert results[0].config == results[1].config == config
    assert stored(config, synthetic).config == config and len(calls) == 1


def test_orphaned_temporary_files_are_removed_once_old(store, cache_dir):
    old, fresh = cache_dir / "a1b2.tmp", cache_dir / "progress" / "c3d4.tmp"
    fresh.parent.mkdir()
    for path in (old, fresh):
        path.write_bytes(b"")
    os.utime(old, (time.time() - 3600, time.time() - 3600))
    assert store.remove_orphans() == 1
    assert not old.exists() and fresh.exists()  # a writer may still be busy with the fresh one


def test_a_writer_killed_mid_write_leaves_nothing_behind(cache_dir):
    """kill -9 or the OOM killer mid-write, where the file system has unnamed files: neither the
    entry nor a temporary file is left (the chaos test counts what is left after its kills)."""
    probe = cache._unnamed(cache_dir)
    if probe is None:
        pytest.skip("this file system has no unnamed files: a killed writer leaves an orphan, removed later")
    os.close(probe)
    write = "import sys, time; from explainer.store import cache; from pathlib import Path\n"
    write += "with cache._atomic(Path(sys.argv[1]) / 'abc.npz') as file:\n"
    write += "    file.write(bytes(100_000)); file.flush(); print('writing', flush=True); time.sleep(60)"
    writer = subprocess.Popen([sys.executable, "-c", write, str(cache_dir)], stdout=subprocess.PIPE, text=True)
    assert writer.stdout.readline() == "writing\n"
    writer.kill()
    writer.wait(timeout=30)
    assert list(cache_dir.iterdir()) == []


def test_an_entry_is_written_whole_where_the_file_system_has_no_unnamed_files(store, monkeypatch):
    monkeypatch.setattr(cache, "_unnamed", lambda directory: None)
    store.store("abc", make_result())
    assert store.load("abc").config == make_result().config
    assert [path.name for path in store.directory.iterdir()] == ["abc.npz"]


def test_something_else_at_an_entrys_path_is_skipped_and_left_alone(store, cache_dir):
    (cache_dir / "abc.npz").mkdir()
    assert store.load("abc") is None and not store.has("abc")
    with pytest.raises(OSError, match="is in the way and is not a cache entry"):
        store.store("abc", make_result())
    assert (cache_dir / "abc.npz").is_dir()


@pytest.fixture
def small_disk(tmp_path):
    """A 64 KB file system of the test's own (tmpfs, mounted as root); skipped where this machine
    does not let a test mount one."""
    disk = tmp_path / "disk"
    disk.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(disk)], capture_output=True).returncode:
        pytest.skip("mounting a small file system is not allowed here")
    yield disk
    subprocess.run(["umount", str(disk)], check=True)


def test_a_full_cache_says_so_and_leaves_nothing_half_written(small_disk):
    store = cache.RunStore(small_disk)
    with pytest.raises(cache.CacheUnwritable, match=f"cannot be stored in {small_disk}: its disk is full; make room there"):
        store.store("abc", make_result())  # 85 KB compressed
    assert [path.name for path in small_disk.rglob("*") if path.is_file()] == []


def test_a_read_only_cache_says_so_and_still_reads(small_disk):
    store = cache.RunStore(small_disk)
    store.write_arrays("abc", {"x": np.zeros(3)})
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    with pytest.raises(cache.CacheUnwritable, match="it is on a read-only file system"):
        runs.train_into(store, RunConfig(), "other", mnist=None)  # fails at its lock, before any training
    assert store.read_arrays("abc")["x"].tolist() == [0.0, 0.0, 0.0]


def test_the_command_line_stops_with_that_sentence(small_disk, synthetic, monkeypatch, capsys):
    with contextlib.suppress(OSError), open(small_disk / "filler", "wb") as filler:
        filler.write(os.urandom(70_000))  # the disk is full
    monkeypatch.setenv("EXPLAINER_CACHE_DIR", str(small_disk))
    monkeypatch.setattr(commands, "load_mnist", lambda: synthetic)
    threads = lambda backend: ThreadPoolExecutor(1)  # noqa: E731
    monkeypatch.setattr(commands, "TrainingService", lambda store: TrainingService(store, threads, job=service_jobs.pid_job))
    assert cli.main(["run", "--epochs", "1"]) == 1
    assert "results cannot be stored" in capsys.readouterr().err and not list(small_disk.rglob("*.npz"))
