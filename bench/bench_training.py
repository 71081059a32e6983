"""Seconds per epoch of Keras' default `model.fit` and of the project's trainer, same config, each
engine in a process of its backend; a cache hit; and how much one process (as a worker) grows
over 20 runs. Prints `name: value` lines:

worker_growth_mb                 resident memory a TensorFlow process gains over --runs runs
fit_s_per_epoch ENGINE           Keras' default fit, the first epoch (tracing) left out
trainer_s_per_epoch ENGINE       this project's trainer, the same way
cache_hit_ms                     a 10-epoch run read back from the store
speedup                          fit's seconds over the trainer's, all engines together

Usage: python -m bench.bench_training [--epochs 3] [--engine ...] [--runs 20]
"""

from __future__ import annotations

import argparse
import functools
import multiprocessing
import os
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import psutil

from explainer.config import ENGINES, RunConfig
from explainer.data import load_mnist, prepare
from explainer.run import Progress
from explainer.store.cache import RunStore, run_key
from explainer.worker.model import build_model, import_engine
from explainer.worker.process import use_backend
from explainer.worker.runs import train_into
from explainer.worker.train import train


def fit_seconds_per_epoch(config: RunConfig) -> float:
    """Default fit, as the question calls it; the first epoch (tracing) is left out."""
    keras = import_engine(config.engine)
    data = prepare(load_mnist(), config)
    stamps = []
    timer = keras.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: stamps.append(time.perf_counter()))
    build_model(config).fit(
        data.x_train,
        data.y_train,
        validation_data=(data.x_test, data.y_test),
        batch_size=config.batch_size,
        epochs=config.num_epochs,
        callbacks=[timer],
        verbose=0,
    )
    return float(np.mean(np.diff(stamps)))


def trainer_seconds_per_epoch(config: RunConfig) -> float:
    """The project's trainer (no cache); epochs are timed from progress reports, first left out."""
    stamps = []

    def on_progress(progress: Progress) -> None:
        if progress.step == progress.steps_per_epoch:
            stamps.append(time.perf_counter())

    train(config, load_mnist(), progress=on_progress)
    return float(np.mean(np.diff(stamps)))


def growth_megabytes(runs: int) -> float:
    """Resident memory this process gains over `runs` one-epoch runs, after a first one (as a
    worker does: TensorFlow imported, the data's tensors kept for the next run)."""
    mnist, process = load_mnist(), psutil.Process()
    train(RunConfig(num_epochs=1), mnist)
    before = process.memory_info().rss
    for index in range(runs):
        train(RunConfig(num_epochs=1, learning_rate=0.001 * (index + 1)), mnist)
    return (process.memory_info().rss - before) / 2**20


def cache_hit_milliseconds(config: RunConfig) -> float:
    """Time of a cache hit for a full run, in a private cache directory (trains it once first)."""
    with tempfile.TemporaryDirectory() as directory:
        os.environ["EXPLAINER_CACHE_DIR"] = directory
        store, mnist = RunStore.default(), load_mnist()
        train_into(store, config, run_key(config, mnist.fingerprint), mnist)
        started = time.perf_counter()
        train_into(store, config, run_key(config, mnist.fingerprint), mnist)
        return (time.perf_counter() - started) * 1000


def engine_seconds(engine: str, epochs: int) -> tuple[float, float]:
    """(fit, trainer) seconds per epoch for `engine`, in a process of its own backend: a process
    runs one Keras backend, so the JAX engine cannot share this one with TensorFlow's."""
    config = RunConfig(engine=engine, num_epochs=epochs)
    start = functools.partial(use_backend, ENGINES[engine].backend)
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"), initializer=start) as process:
        return process.submit(fit_seconds_per_epoch, config).result(), process.submit(trainer_seconds_per_epoch, config).result()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--epochs", type=int, default=3, help="epochs per measurement, >= 2 (default: %(default)s)")
    parser.add_argument("--engine", nargs="+", choices=ENGINES, default=list(ENGINES))
    parser.add_argument("--runs", type=int, default=20, help="runs for the memory growth figure (default: %(default)s)")
    args = parser.parse_args()
    if args.epochs < 2:
        parser.error("--epochs must be at least 2: the first epoch (tracing) is left out")
    print(f"worker_growth_mb: {growth_megabytes(args.runs):.0f}", flush=True)
    totals = np.zeros(2)
    for engine in args.engine:
        seconds = np.array(engine_seconds(engine, args.epochs))
        totals += seconds
        print(f"fit_s_per_epoch {engine}: {seconds[0]:.3f}", flush=True)
        print(f"trainer_s_per_epoch {engine}: {seconds[1]:.3f}", flush=True)
    print(f"cache_hit_ms: {cache_hit_milliseconds(RunConfig()):.1f}")
    print(f"speedup: {totals[0] / totals[1]:.1f}")


if __name__ == "__main__":
    main()
