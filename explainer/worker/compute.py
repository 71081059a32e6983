"""In the workers: each derived result computed from its stored runs and written to the store.
The server reaches this module only by name (jobs.InWorker): what it imports, the loss
surface's compiled kernels, stays out of the server process."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from explainer import derivations
from explainer.config import RunConfig
from explainer.data import Mnist, prepare, read_mnist
from explainer.run import RunResult
from explainer.store.cache import run_key, writing
from explainer.store.derived import Derivation, DerivedJob, Undefined, load, save, save_undefined
from explainer.worker import measure, slicing, step_quality

# how each kind of derived result is computed from its trained runs (every config of its runs())
COMPUTE: dict[type[Derivation], Callable[[Derivation, Mapping[RunConfig, RunResult], Mnist], object]] = {
    derivations.Surface: lambda d, runs, mnist: slicing.compute(
        d.request, runs[d.request.config], prepare(mnist, d.request.config, copied=False), d.learning_rates
    ),
    derivations.StepQuality: lambda d, runs, mnist: step_quality.alpha_over_epoch(
        runs[d.config], prepare(mnist, d.config, copied=False)
    ),
    derivations.Saturation: lambda d, runs, mnist: measure.saturated_share(runs[d.config], prepare(mnist, d.config)),
    derivations.MechanismMeasured: lambda d, runs, mnist: measure.mechanism(d.config, d.learning_rates, runs, mnist),
}


def derive_job(job: DerivedJob) -> str:
    """Compute the derivation into its store, unless some process already has."""
    job.store.seen_here()
    return derive_into(job, read_mnist(job.mnist_path))


def derive_into(job: DerivedJob, mnist: Mnist) -> str:
    store, derivation = job.store, job.derivation
    with writing(store.directory), store.lock(job.key):  # a lock file is a write too
        if load(store, job.key, type(derivation)) is None:
            runs = {config: store.load(run_key(config, mnist.fingerprint)) for config in derivation.runs()}
            missing = [config for config, result in runs.items() if result is None]
            if missing:
                raise LookupError(f"{len(missing)} run(s) this needs are not in the cache; train them first")
            try:
                save(store, job.key, COMPUTE[type(derivation)](derivation, runs, mnist))
            except Undefined as undefined:
                save_undefined(store, job.key, str(undefined))
                raise
    return job.key
