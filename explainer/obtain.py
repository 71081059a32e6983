"""The one routine by which the app and the command line get runs and derived results from the
training service: ask (queued unless stored), wait while the workers make what is missing, read;
a stored entry that cannot be read is removed on reading, and every such one is made again at
once. MNIST is found here too, downloaded once by a worker when Keras' cache lacks it. How the
wait is shown (a page's progress bars, the terminal's lines) and how a failure is said are the
caller's."""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable, Iterable
from concurrent.futures import Future

from explainer.calls import DOWNLOAD_MNIST
from explainer.config import RunConfig
from explainer.data import Mnist, MnistNotDownloaded, MnistUnavailable
from explainer.jobs import failure
from explainer.labels import describe
from explainer.service import Run, TrainingService
from explainer.store.derived import Derivation, Undefined

ATTEMPTS = 2  # a damaged entry is made again once; damaged again, it is said


@dataclasses.dataclass(frozen=True)
class Asked:
    """One thing asked of the service: its future, what to call it if it fails, how to read it
    from the store (None when the entry could not be read and was removed), and the run itself
    when it is one (its progress can be watched)."""

    future: Future
    name: str
    read: Callable[[], object]
    run: Run | None = None


class Failed(RuntimeError):
    """What was asked for could not be had: `reasons`, one sentence each; `retry`: whether asking
    again may help (not for a result that does not exist at its point: a fact about its run)."""

    def __init__(self, reasons: list[str], retry: bool = True):
        super().__init__("; ".join(reasons))
        self.reasons, self.retry = reasons, retry


def obtain(
    ask: Callable[[], list[Asked]],
    wait: Callable[[list[Asked]], None],
    damaged: Callable[[list[Asked]], None] = lambda items: None,
) -> list:
    """What `ask()` asks for, read from the store once `wait(pending)` has returned for what was
    not there yet; `damaged(items)` is told of entries that could not be read (removed, and now
    asked again). Raises Failed with every failure's sentence."""
    for _ in range(ATTEMPTS):
        asked = ask()
        pending = [item for item in asked if not item.future.done()]
        if pending:
            wait(pending)
        failed = [item for item in asked if not isinstance(item.future.exception(), Undefined | None)]
        if failed:
            raise Failed([f"{item.name} failed: {failure(item.future.exception())}" for item in failed])
        try:
            found = [item.read() for item in asked]
        except Undefined as undefined:
            raise Failed([str(undefined)], retry=False) from None
        if None not in found:
            return found
        damaged([item for item, value in zip(asked, found) if value is None])
    raise Failed(["a stored entry could not be read, even after it was made again"])


def runs_asked(
    service: TrainingService,
    configs: Iterable[RunConfig],
    mnist: Mnist,
    read: Callable[[str], object],
    session: str | None = None,
) -> list[Asked]:
    """The runs for `configs`, asked for (on behalf of `session`), each read by its key."""
    runs = service.request_all(list(configs), mnist, session)
    return [Asked(run.future, f"the run ({describe(run.config)})", lambda key=run.key: read(key), run) for run in runs]


def derived_asked(
    service: TrainingService,
    derivations: Iterable[Derivation],
    mnist: Mnist,
    read: Callable[[str, type[Derivation]], object],
    session: str | None = None,
) -> list[Asked]:
    """The derived results, asked for (their runs must be stored), each read by its key and kind."""
    asked = []
    for derivation in derivations:
        key, future = service.derive(derivation, mnist, session)
        kind = type(derivation)
        asked.append(Asked(future, "computing it", lambda key=key, kind=kind: read(key, kind)))
    return asked


def find_mnist(
    service: TrainingService, load: Callable[[], Mnist], downloading: Callable[[], contextlib.AbstractContextManager]
) -> Mnist:
    """MNIST from `load`; when Keras' cache lacks it, Keras' own download into its cache, in a
    worker (Keras is imported there), while `downloading()` is entered. MnistUnavailable, with the
    worker's message or why it stopped, when it cannot be had."""
    try:
        return load()
    except MnistNotDownloaded:
        with downloading():
            error = service.submit(DOWNLOAD_MNIST).exception()
        if error is not None:
            raise MnistUnavailable(failure(error)) from None
        return load()
