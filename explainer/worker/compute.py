"""In the workers: each derived result computed from its stored runs and written to the store.
The server reaches this module only by name (service.InWorker): what it imports, the loss
surface's compiled kernels, stays out of the server process."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from explainer.config import RunConfig
from explainer.data import Mnist, prepare, read_mnist
from explainer.findings import answer, mechanism
from explainer.findings.surface import Undefined
from explainer.run import RunResult
from explainer.store.cache import run_key, writing
from explainer.store.derived import Derivation, DerivedJob, load, save, save_undefined
from explainer.worker import slicing
from explainer.worker.plane_kernels import logsumexp_sum


def compute(derivation: Derivation, runs: Mapping[RunConfig, RunResult], mnist: Mnist):
    """The derivation's result, from the trained `runs` (every config of `derivation.runs()`)."""
    if derivation.kind == "surface":
        config = derivation.request.config
        return slicing.compute(derivation.request, runs[config], prepare(mnist, config), derivation.learning_rates)
    if derivation.kind == "step_quality":
        return slicing.alpha_over_epoch(runs[derivation.config], prepare(mnist, derivation.config), derivation.every)
    if derivation.kind == "saturation":
        return answer.saturated_share(runs[derivation.config], prepare(mnist, derivation.config))
    return mechanism.measure(derivation.config, derivation.learning_rates, runs, mnist)


def derive_job(job: DerivedJob) -> str:
    """Compute the derivation into its store, unless some process already has."""
    return derive_into(job, read_mnist(job.mnist_path))


def derive_into(job: DerivedJob, mnist: Mnist) -> str:
    store, derivation = job.store, job.derivation
    with writing(store.directory), store.lock(job.key):  # a lock file is a write too
        if load(store, job.key, derivation.kind) is None:
            runs = {config: store.load(run_key(config, mnist.fingerprint)) for config in derivation.runs()}
            missing = [config for config, result in runs.items() if result is None]
            if missing:
                raise LookupError(f"{len(missing)} run(s) this needs are not in the cache; train them first")
            try:
                save(store, job.key, compute(derivation, runs, mnist))
            except Undefined as undefined:
                save_undefined(store, job.key, str(undefined))
                raise
    return job.key


def load_kernels() -> None:
    """The compiled kernels loaded (or compiled, the first time on a machine) before any request."""
    logits = np.linspace(-50.0, 50.0, 40).reshape(4, 10)
    logsumexp_sum(logits, logits, 100 * logits, np.linspace(0, 1, 9), np.linspace(0, 1, 9))
