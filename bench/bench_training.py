"""Seconds per epoch of Keras' default `model.fit` and of the project's trainer, same config, each
engine in a process of its backend; a cache hit; and how much one process (as a worker) grows
over 20 runs. Prints `name: value` lines:

worker_growth_mb                 resident memory a TensorFlow process gains over --runs runs
numpy_s_per_epoch                the floor: the same SGD written in plain NumPy, one BLAS thread
fit_s_per_epoch ENGINE           Keras' default fit, the first epoch (tracing) left out
trainer_s_per_epoch ENGINE       this project's trainer, the same way (median of --rounds)
trainer_over_floor ENGINE        the trainer's seconds per epoch over the floor's, measured right
                                 after it, the median of --rounds such pairs
keras_step_share ENGINE          TensorFlow's engines: the share of the trainer's step spent in Keras'
                                 own train_step (the step repeated on one batch, against the loop's)
cache_hit_ms                     a 10-epoch run read back from the store
speedup                          fit's seconds over the trainer's, all engines together

Usage: python -m bench.bench_training [--epochs 3] [--engine ...] [--runs 20] [--rounds 5] [--subset N]
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
import threadpoolctl

from explainer.config import ENGINES, RunConfig
from explainer.data import load_mnist, prepare
from explainer.run import Progress, batch_rows, epoch_order
from explainer.store.cache import RunStore, run_key
from explainer.worker import tf_loops
from explainer.worker.device import device_data
from explainer.worker.model import build_model, import_engine, initial_weights
from explainer.worker.process import start
from explainer.worker.runs import train_into
from explainer.worker.train import architecture, train

PROFILE_CALLS = 7  # pairs of calls of STEPS_PER_CALL steps timed for keras_step_share, the median taken


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


def numpy_seconds_per_epoch(config: RunConfig) -> float:
    """The floor: the config's SGD (softmax cross-entropy on the logits, the loss Keras trains the
    question's model on) in plain float32 NumPy on one BLAS thread, batch by batch from the uint8
    images, each epoch ending with the validation loss and accuracy as the trainer's does."""
    mnist = load_mnist()
    x, y = mnist.x_train[: config.train_subset].reshape(-1, 784), mnist.y_train[: config.train_subset]
    eye = np.eye(10, dtype=np.float32)
    x_test, y_test = mnist.x_test.reshape(len(mnist.x_test), -1).astype(np.float32), eye[mnist.y_test]
    kernel, bias = initial_weights(config.seed)
    rng, size, rate, stamps = np.random.default_rng(config.seed), config.batch_size, np.float32(config.learning_rate), []

    def losses(inputs: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        z = inputs @ kernel + bias
        shifted = z - z.max(axis=1, keepdims=True)
        e = np.exp(shifted)
        total = e.sum(axis=1, keepdims=True)
        return e / total, np.log(total[:, 0]) - (shifted * labels).sum(axis=1)

    with threadpoolctl.threadpool_limits(1, user_api="blas"):
        for _ in range(config.num_epochs):
            order, total, correct = epoch_order(rng, len(x)), 0.0, 0
            for start in range(0, len(x), size):
                batch = order[start : start + size]
                inputs, labels = x[batch].astype(np.float32), eye[y[batch]]
                p, loss = losses(inputs, labels)
                # the running loss and accuracy, as Keras' metrics keep them every step: the same work
                total, correct = total + loss.sum(), correct + int((p.argmax(axis=1) == y[batch]).sum())
                g = (p - labels) / np.float32(len(batch))
                kernel -= rate * (inputs.T @ g)
                bias -= rate * g.sum(axis=0)
            p, loss = losses(x_test, y_test)
            validation = float(loss.mean()), float((p.argmax(axis=1) == mnist.y_test).mean())
            stamps.append(time.perf_counter())
    assert all(np.isfinite(validation)), "the floor's SGD diverged: its time would not be an epoch's"
    return float(np.mean(np.diff(stamps)))


def trainer_seconds_per_epoch(config: RunConfig) -> float:
    """The project's trainer (no cache); epochs are timed from progress reports, first left out.
    An epoch ends at its last report: its steps are reported done before its validation too."""
    ends = {}

    def on_progress(progress: Progress) -> None:
        ends[progress.epoch] = time.perf_counter()

    train(config, load_mnist(), progress=on_progress)
    return float(np.mean(np.diff(list(ends.values()))))


def keras_step_share(config: RunConfig) -> float:
    """What is left to a TensorFlow engine's trainer: a call of Keras' train_step repeated on one
    batch in a tf.function loop over a call of the trainer's own loop right after it (its steps
    on the epoch's batches), each STEPS_PER_CALL steps; the median of PROFILE_CALLS such pairs."""
    import tensorflow as tf

    with tf_loops.options(config):
        loops = tf_loops.compiled(architecture(config))
        loops.start(config)
        x, y, shift, scale = device_data(load_mnist(), config, tf_loops.put).train
        order = epoch_order(np.random.default_rng(config.seed), len(x))
        rows = next(batch_rows(order, config.batch_size, tf_loops.STEPS_PER_CALL))
        batch = ((tf.cast(tf.gather(x, rows[0]), tf.float32) - shift) / scale, tf.gather(y, rows[0]))

        @tf.function
        def repeated(steps):
            for _ in tf.range(steps):
                logs = loops.model.train_step(batch)
            return logs["loss"]

        def seconds(call) -> float:
            started = time.perf_counter()
            np.asarray(call()[0])
            return time.perf_counter() - started

        keras, loop = lambda: [repeated(tf.constant(len(rows)))], lambda: loops.train_steps((x, y, shift, scale), rows)
        keras(), loop()  # each traces on its first call
        # in turn, as the trainer and the floor: the machine's speed drifts between calls
        return float(np.median([seconds(keras) / seconds(loop) for _ in range(PROFILE_CALLS)]))


def growth_megabytes(runs: int, subset: int | None) -> float:
    """Resident memory this process gains over `runs` one-epoch runs, after a first one (as a
    worker does: TensorFlow imported, the data's tensors kept for the next run)."""
    mnist, process = load_mnist(), psutil.Process()
    train(RunConfig(num_epochs=1, train_subset=subset), mnist)
    before = process.memory_info().rss
    for index in range(runs):
        train(RunConfig(num_epochs=1, learning_rate=0.001 * (index + 1), train_subset=subset), mnist)
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


def engine_seconds(engine: str, epochs: int, rounds: int, subset: int | None) -> dict[str, float]:
    """Seconds per epoch of fit, the trainer and the floor for `engine` (and the share of its
    step in Keras' own for a TensorFlow engine), in a process started as a worker of its backend
    is (one thread, its engines imported): a process runs one Keras backend, so the JAX engine
    cannot share this one with TensorFlow's. The trainer and the floor alternate, `rounds` times
    in the same process: this machine's speed drifts by a third within a minute, so the ratio is
    the median of each round's, a trainer's epochs over the floor's measured right after them."""
    config = RunConfig(engine=engine, num_epochs=epochs, train_subset=subset)
    initializer = functools.partial(start, ENGINES[engine].backend, os.getpid(), None)
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"), initializer=initializer) as process:
        seconds = {"fit": process.submit(fit_seconds_per_epoch, config).result()}
        if ENGINES[engine].backend == "tensorflow":
            seconds["keras_share"] = process.submit(keras_step_share, config).result()
        trainer, floor = np.array(
            [
                [process.submit(measure, config).result() for measure in (trainer_seconds_per_epoch, numpy_seconds_per_epoch)]
                for _ in range(rounds)
            ]
        ).T
    return seconds | {"trainer": np.median(trainer), "floor": np.median(floor), "ratio": np.median(trainer / floor)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--epochs", type=int, default=3, help="epochs per measurement, >= 2 (default: %(default)s)")
    parser.add_argument("--engine", nargs="+", choices=ENGINES, default=list(ENGINES))
    parser.add_argument("--runs", type=int, default=20, help="runs for the memory growth figure (default: %(default)s)")
    parser.add_argument(
        "--rounds", type=int, default=5, help="the trainer and the floor in turn, for their ratio (default: %(default)s)"
    )
    parser.add_argument("--subset", type=int, help="training images of every run (default: all 60,000)")
    args = parser.parse_args()
    if args.epochs < 2:
        parser.error("--epochs must be at least 2: the first epoch (tracing) is left out")
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    print(f"worker_growth_mb: {growth_megabytes(args.runs, args.subset):.0f}", flush=True)
    totals = np.zeros(2)
    for engine in args.engine:
        seconds = engine_seconds(engine, args.epochs, args.rounds, args.subset)
        totals += seconds["fit"], seconds["trainer"]
        print(f"numpy_s_per_epoch: {seconds['floor']:.3f}", flush=True)
        print(f"fit_s_per_epoch {engine}: {seconds['fit']:.3f}", flush=True)
        print(f"trainer_s_per_epoch {engine}: {seconds['trainer']:.3f}", flush=True)
        print(f"trainer_over_floor {engine}: {seconds['ratio']:.2f}", flush=True)
        if "keras_share" in seconds:
            print(f"keras_step_share {engine}: {seconds['keras_share']:.2f}", flush=True)
    print(f"cache_hit_ms: {cache_hit_milliseconds(RunConfig(train_subset=args.subset)):.1f}")
    print(f"speedup: {totals[0] / totals[1]:.1f}")


if __name__ == "__main__":
    main()
