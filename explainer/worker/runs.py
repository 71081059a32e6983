"""In a worker: a run trained into its store, once across every process that shares the store."""

from __future__ import annotations

from collections.abc import Callable

from explainer import jobs
from explainer.config import RunConfig
from explainer.data import Mnist, read_mnist
from explainer.jobs import Job
from explainer.run import Progress, RunResult
from explainer.store.cache import RunStore, writing
from explainer.worker.train import train


def train_into(
    store: RunStore, config: RunConfig, key: str, mnist: Mnist, progress: Callable[[Progress], None] | None = None
) -> RunResult:
    """The stored result for `key`, training `config` first if no process has: under the key's
    lock, so concurrent callers anywhere wait for one run and share it. Progress goes to the
    progress file (for any reader) and to `progress` if given."""

    def report(update: Progress) -> None:
        jobs.give_way()
        store.write_progress(key, update)
        if progress is not None:
            progress(update)

    with writing(store.directory), store.lock(key):  # a lock file is a write too
        result = store.load(key)
        if result is None:
            try:
                result = train(config, mnist, report)
                store.store(key, result)
            finally:
                store.clear_progress(key)
        return result


def train_job(job: Job) -> str:
    """Train the job's run into its store, unless some process already has."""
    train_into(job.store.seen_here(), job.config, job.key, read_mnist(job.mnist_path))
    return job.key
