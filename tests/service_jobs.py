"""Jobs for the service tests: top-level functions, so that spawned worker processes can import
them; each stands in for training where the test is about the service, not the model."""

import contextlib
import functools
import io
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import threadpoolctl

from explainer import jobs
from explainer.backends import BACKENDS
from explainer.config import RunConfig
from explainer.data import Mnist, prepare, read_mnist
from explainer.jobs import Job
from explainer.run import Progress, RunResult
from explainer.store import cache
from explainer.store.derived import Undefined
from explainer.worker import compute, plane_kernels, runs
from explainer.worker import train as training
from explainer.worker.model import build_model, import_engine
from explainer.worker.train import train


@functools.lru_cache(maxsize=1)
def synthetic_mnist() -> Mnist:
    """A small learnable stand-in for MNIST: each class lights its own block of pixels, plus
    noise. Seeded, so every process builds the same arrays (and so the same run keys)."""
    rng = np.random.default_rng(1)

    def images(labels: np.ndarray) -> np.ndarray:
        x = rng.integers(0, 60, size=(len(labels), 28, 28))
        for index, label in enumerate(labels):
            x[index, 2 * label : 2 * label + 6, 4:24] = 255
        return x.astype(np.uint8)

    y_train = (np.arange(320) % 10).astype(np.uint8)
    y_test = (np.arange(100) % 10).astype(np.uint8)
    return Mnist(images(y_train), y_train, images(y_test), y_test)


def train_on_synthetic(config: RunConfig) -> RunResult:
    """Real training of `config` on `synthetic_mnist()`, in this process."""
    return train(config, synthetic_mnist())


def train_with_progress(config: RunConfig) -> tuple[RunResult, list[Progress]]:
    reports = []
    return train(config, synthetic_mnist(), progress=reports.append), reports


def train_reused_then_fresh(first: RunConfig, other: RunConfig) -> list[RunResult]:
    """`first`, `other` and `first` again on the process's kept models, then `other` on fresh ones."""
    reused = [train(config, synthetic_mnist()) for config in (first, other, first)]
    for backend in BACKENDS:
        training.loops(backend).compiled.cache_clear()
    return [*reused, train(other, synthetic_mnist())]


def derive_synthetic(job) -> str:
    """A derived result computed, in a worker, on `synthetic_mnist()` instead of the file."""
    return compute.derive_into(job, synthetic_mnist())


def train_synthetic(job: Job) -> str:
    """Real training, in a worker, on `synthetic_mnist()` instead of the file."""
    runs.train_into(job.store, job.config, job.key, synthetic_mnist())
    return job.key


def train_synthetic_held(job: Job) -> str:
    """train_synthetic, held at each progress report (once the report is written) while
    `<store>/hold` exists, 30 s at most: a run caught training."""

    def hold(_update: Progress) -> None:
        deadline = time.monotonic() + 30
        while (job.store.directory / "hold").exists() and time.monotonic() < deadline:
            time.sleep(0.05)

    runs.train_into(job.store, job.config, job.key, synthetic_mnist(), progress=hold)
    return job.key


def fake_result(config: RunConfig, seconds: float = 0.0) -> RunResult:
    rng = np.random.default_rng(0)
    history = {"loss": [3.0], "accuracy": [0.5], "val_loss": [2.0], "val_accuracy": [0.6]}
    return RunResult(
        config=config,
        history=history,
        step_loss=rng.normal(size=3),
        steps_per_epoch=3,
        kernels=np.zeros((2, 784, 10), np.float32),
        biases=np.zeros((2, 10), np.float32),
        predict_accuracy=0.3,
        logit_accuracy=0.8,
        first_batch_loss=12.0,
        diverged=None,
        versions={},
        seconds=seconds,
    )


def pid_job(job: Job) -> int:
    """Stores a result and answers which process ran it."""
    job.store.store(job.key, fake_result(job.config))
    return os.getpid()


def pid_derived(job) -> int:
    """A derived result that answers which process computed it."""
    return os.getpid()


def start_when_present(path: str) -> None:
    """A worker's start that waits until `path` exists."""
    while not os.path.exists(path):
        time.sleep(0.05)


def held_job(job: Job) -> str:
    """Writes its pid to `<store>/running`, waits while `<store>/hold` exists, then stores."""
    (job.store.directory / "running").write_text(str(os.getpid()))
    while (job.store.directory / "hold").exists():
        time.sleep(0.05)
    job.store.store(job.key, fake_result(job.config))
    return job.key


def courteous(waited) -> None:
    """A worker's initializer: the server's shared count of waited jobs, as process.start sets it."""
    jobs.waited = waited


def courteous_job(job: Job) -> str:
    """Seed 1 appends a line to `<store>/starts` and, while `<store>/hold` exists, gives way
    between pieces of work as a prefetch does; then (any seed) stores its result."""
    if job.config.seed == 1:
        with open(job.store.directory / "starts", "a") as starts:
            starts.write("started\n")
        while (job.store.directory / "hold").exists():
            jobs.give_way()
            time.sleep(0.05)
    job.store.store(job.key, fake_result(job.config))
    return job.key


def counted_job(job: Job) -> str:
    """The app's own train_into on `synthetic_mnist()`, appending a line to `<store>/trained` when
    a training starts: one line per training, whichever process or thread."""
    started = []

    def count(update: Progress) -> None:
        if not started:
            started.append(update)
            with open(job.store.directory / "trained", "a") as trained:
                trained.write(f"{os.getpid()}\n")

    runs.train_into(job.store, job.config, job.key, synthetic_mnist(), count)
    return job.key


def raising_job(job: Job) -> str:
    raise ValueError(f"learning rate {job.config.learning_rate:g} is not allowed here")


def train_through_the_lock(directory: str, key: str, log: str) -> float:
    """In a separate process: runs.train_into for `key`, with training replaced by a 1-second
    stand-in that logs its pid; returns the stored result's `seconds`, unique per training."""

    def slow_train(config, mnist, progress):
        with open(log, "a") as file:
            file.write(f"{os.getpid()}\n")
        time.sleep(1.0)
        return fake_result(config, seconds=time.time())

    runs.train = slow_train
    return runs.train_into(cache.RunStore(Path(directory)), RunConfig(), key, mnist=None).seconds


def derive_undefined_surfaces(job) -> str:
    """derive_synthetic, except that every loss surface is undefined (as where no gradient is left)."""
    if job.derivation.kind == "surface":
        raise Undefined("the gradient is exactly zero at this point")
    return derive_synthetic(job)


def derive_failing(job) -> str:
    """A derivation that raises as a fault would (not a fact about the run)."""
    raise OSError("no disk left")


def trained_and_fitted(config: RunConfig, mnist_path: str) -> tuple[dict, np.ndarray, dict, np.ndarray]:
    """The trainer's history and final kernel for `config`, beside Keras' own `fit` given the
    same initial weights, the same batches in the same order, epoch by epoch; in the calling
    process, which must run the engine's backend."""
    mnist = read_mnist(mnist_path)
    ours = train(config, mnist)
    data = prepare(mnist, config)
    model = build_model(config)
    rng = np.random.default_rng(config.seed)
    fitted = {name: [] for name in ours.history}
    for _ in range(config.num_epochs):
        order = rng.permutation(len(data.x_train))
        logs = model.fit(
            data.x_train[order],
            data.y_train[order],
            validation_data=(data.x_test, data.y_test),
            batch_size=config.batch_size,
            epochs=1,
            shuffle=False,
            verbose=0,
        ).history
        for name in fitted:
            fitted[name].append(logs[name][0])
    return ours.history, ours.kernels[-1], fitted, np.asarray(model.layers[-1].get_weights()[0])


def what_the_worker_ran() -> tuple[str | None, bool]:
    """In a worker: the file its parent's main module was imported again from (spawn does that
    before any job), and whether Streamlit was imported with it."""
    return getattr(sys.modules.get("__mp_main__"), "__file__", None), "streamlit" in sys.modules


def what_a_started_worker_holds() -> dict[str, object]:
    """In a worker that has run no job yet: what its start left in it."""
    return {
        "engines imported": all(name in sys.modules for name in ("tensorflow", "tf_keras", "keras")),
        "models traced": training.loops("tensorflow").compiled.cache_info().currsize,
        "kernels loaded": any(kernel.signatures for kernel in (plane_kernels._classify, plane_kernels._tile)),
        "kept out": kept_out(["jax", "pandas", "matplotlib", "IPython"]),
        "niceness above its parent's": os.getpriority(os.PRIO_PROCESS, 0) - os.getpriority(os.PRIO_PROCESS, os.getppid()),
        "BLAS libraries": len(threadpoolctl.threadpool_info()),
        "threads of each": sorted({library["num_threads"] for library in threadpoolctl.threadpool_info()}),
    }


def kept_out(names: list[str]) -> list[str]:
    """In a worker: those of `names` it cannot import (its start kept them out)."""
    return [name for name in names if sys.modules.get(name, "") is None]


def fit_logs(config: RunConfig, mnist_path: str, verbose: int) -> dict[str, str]:
    """The question's model for `config` trained by Keras' own `fit` on the file's MNIST (validated
    on as many test images as it trains on: the 10,000 took most of a small run's time), and its
    log as a reader has it: what fit printed (verbose 1 or 2), the printed history.history and
    the CSVLogger file; in the calling process, which must run the engine's backend."""
    data = prepare(read_mnist(mnist_path), config)
    model, keras = build_model(config), import_engine(config.engine)
    printed = io.StringIO()
    with tempfile.TemporaryDirectory() as directory, contextlib.redirect_stdout(printed):
        logger = keras.callbacks.CSVLogger(os.path.join(directory, "log.csv"))
        history = model.fit(
            data.x_train,
            data.y_train,
            validation_data=(data.x_test[: len(data.x_train)], data.y_test[: len(data.x_train)]),
            batch_size=config.batch_size,
            epochs=config.num_epochs,
            verbose=verbose,
            callbacks=[logger],
        ).history
        csv = Path(directory, "log.csv").read_text()
    return {"printed": printed.getvalue(), "history": str(history), "csv": csv}


def cores_during_a_run_and_after() -> tuple[set[int], set[int]]:
    """In a JAX worker: how many cores each of its threads may run on while XLA's CPU client
    computes inside a run's options, and after them."""
    import jax

    from explainer.worker import jax_loops

    def cores() -> set[int]:
        return {len(os.sched_getaffinity(int(thread))) for thread in os.listdir("/proc/self/task")}

    with jax_loops.options(RunConfig(engine="keras3_jax")):
        jax.numpy.ones(3).sum().block_until_ready()
        during = cores()
    return during, cores()


def compiles_loaded(config: RunConfig) -> tuple[int, int, RunResult]:
    """In a JAX worker: `config` trained on the synthetic data; of the programs XLA was asked for
    meanwhile, how many went through its cache on disk, and how many were loaded from it."""
    import jax

    counted = dict.fromkeys(("/jax/compilation_cache/compile_requests_use_cache", "/jax/compilation_cache/cache_hits"), 0)

    def listen(event: str, **_) -> None:
        if event in counted:
            counted[event] += 1

    jax.monitoring.register_event_listener(listen)
    result = train_on_synthetic(config)
    return *counted.values(), result


def programs_building(config: RunConfig) -> list[str]:
    """In a JAX worker: the names of the programs JAX compiles while a model of `config` is built,
    as in a new worker (whatever the worker compiled before is forgotten first)."""
    import logging

    import jax

    jax.clear_caches()
    logged = []
    handler = logging.Handler()
    handler.emit = lambda record: logged.append(record.getMessage())
    logger = logging.getLogger("jax")
    logger.addHandler(handler)
    try:
        with jax.log_compiles():
            build_model(config)
    finally:
        logger.removeHandler(handler)
    return [message.split()[1] for message in logged if message.startswith("Compiling ")]
