"""Thin Streamlit wrappers: runs from the training service (worker processes), watched live while
they train; measurements derived from stored runs, cached per process."""

from __future__ import annotations

import concurrent.futures
import dataclasses
import functools
import pickle
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path

import streamlit as st
from streamlit.runtime import Runtime
from streamlit.runtime.scriptrunner import get_script_run_ctx

from explainer.config import RunConfig
from explainer.data import Mnist, MnistNotDownloaded, MnistUnavailable, load_mnist
from explainer.findings import surface
from explainer.findings.rules import DIVERGENCE_RULE, divergence_reason
from explainer.reader import charts
from explainer.reader.labels import describe
from explainer.run import Progress, RunResult
from explainer.service import Run, TrainingService, failure
from explainer.store.cache import RunStore, cache_dir, run_key
from explainer.store.derived import Derivation
from explainer.store.derived import load as load_derived
from explainer.view import View
from ui.notices import inert

POLL_SECONDS = 0.3
# what one process keeps of what pages show, shared by every session: a view's pages read about 60
# runs (0.4 MB each) and 7 derived results (a loss surface is about 0.5 MB)
RUNS_KEPT = 256
DERIVED_KEPT = 128
CHART_SECONDS = 1.5  # the live chart is redrawn at most this often: each redraw costs the server and the browser


def _session_alive(session: str) -> bool:
    """Whether a browser session is still connected (always, outside a running server)."""
    return not Runtime.exists() or Runtime.instance().is_active_session(session)


@dataclasses.dataclass(frozen=True)
class Source:
    """Where the pages' runs come from: the service made for a store, and MNIST. The app's are
    the real ones; tests put synthetic data and their own workers here (`SOURCE`)."""

    service: Callable[[RunStore], TrainingService] = lambda store: TrainingService(store, session_alive=_session_alive)
    mnist: Callable[[], Mnist] = load_mnist


SOURCE = Source()
_services: dict[str, TrainingService] = {}
_services_lock = threading.Lock()


def service() -> TrainingService:
    """One service per cache directory for the whole server: every session shares its runs. A
    plain dict, not st.cache_resource: a page asks for it dozens of times, and Streamlit's cache
    inspects and hashes its arguments on every call (measured: 15% of the server's CPU)."""
    directory = str(cache_dir())
    with _services_lock:
        if directory not in _services:
            _services[directory] = SOURCE.service(RunStore(Path(directory)))
        return _services[directory]


def where() -> tuple[str, str]:
    """The store and the data a page's results come from: part of every per-process cache key
    of what a page shows, so that another store or data set never shares an entry."""
    return str(service().store.directory), SOURCE.mnist().fingerprint


# how the per-process caches of what pages show hash the records in their keys (st.cache_resource's
# hash_funcs): Streamlit hashes a dataclass through dataclasses.asdict, 0.26 ms for a View, and a
# page asks those caches about 20 times; pickled, 7 us. Unequal records never pickle alike, so no
# view is ever given another's entry
RECORDS = {View: pickle.dumps, RunConfig: pickle.dumps, surface.SurfaceRequest: pickle.dumps}


def mnist() -> Mnist:
    """MNIST, downloaded once by a worker if Keras' cache lacks it; when it cannot be had, the
    page says why and stops."""
    try:
        try:
            return SOURCE.mnist()
        except MnistNotDownloaded:
            with st.spinner("Downloading MNIST (11 MB) once with Keras' own loader..."):
                service().download_mnist()
            return SOURCE.mnist()
    except MnistUnavailable as error:
        st.error(f"MNIST could not be loaded, so nothing can be trained. {error}")
        st.stop()


@dataclasses.dataclass(frozen=True)
class _Asked:
    """One thing a page asked the service for: its future, what to call it if it fails, how to
    read it from the store (None when the entry could not be read and was removed), and the run
    itself when it is one (its progress is watched)."""

    future: Future
    name: str
    read: Callable[[], object]
    run: Run | None = None


def _obtain(ask: Callable[[], list[_Asked]], wait: Callable[[list[_Asked]], None], label: str, hint: str = "") -> list:
    """The one protocol of runs and derived results: ask (queued unless stored), wait while the
    workers make what is missing, read. A failure is said, with a retry, and the page stops; a
    result that does not exist at its point (surface.Undefined) is said, without a retry (a fact
    about the run: trying again changes nothing). A stored entry that cannot be read is removed
    on reading, and every such one is made again at once, in the same visit."""
    for _ in range(2):
        asked = ask()
        pending = [item for item in asked if not item.future.done()]
        if pending:
            wait(pending)
        failed = [item for item in asked if not isinstance(item.future.exception(), surface.Undefined | None)]
        if failed:
            for item in failed:
                st.error(inert(f"{label}: {item.name} failed: {failure(item.future.exception())}. {hint}".rstrip()))
            st.button("Try again", key=f"retry {label}", icon=":material/refresh:")
            st.stop()
        try:
            found = [item.read() for item in asked]
        except surface.Undefined as undefined:
            st.error(inert(f"{label}: {undefined}. {hint}".rstrip()))
            st.stop()
        if None not in found:
            return found
    st.error(f"{label}: a stored entry could not be read, even after it was made again.")
    st.button("Try again", key=f"reload {label}", icon=":material/refresh:")
    st.stop()


def results(configs: list[RunConfig], label: str, warn_diverged: bool = True) -> list[RunResult]:
    """Results for `configs`, training missing ones in the workers while the page shows their
    progress (see `_obtain`). Diverged runs are listed in the warning above the page unless
    `warn_diverged` is off (runs meant to diverge)."""

    def asked() -> list[_Asked]:
        return [
            _Asked(run.future, f"the run ({describe(run.config)})", functools.partial(_read, _stored, run.key), run)
            for run in ask(configs)
        ]

    found = _obtain(asked, lambda pending: _watch([item.run for item in pending], label), label)
    if warn_diverged:
        DivergedRuns.of_this_page().add(found)
    return found


def _read(cached: Callable, *args):
    """What `cached` (a cache of the store's entries) gives for `args`, or None when the entry
    could not be read and was removed."""
    try:
        return cached(*args, str(service().store.directory))
    except LookupError:
        return None


def ask(configs: list[RunConfig]) -> list[Run]:
    """The runs for `configs`, asked for on behalf of this session: queued unless stored."""
    data, context = mnist(), get_script_run_ctx()
    return [service().request(config, data, context.session_id if context else None) for config in configs]


@dataclasses.dataclass
class DivergedRuns:
    """One warning above the page listing every diverged run the page has read so far: its place
    is taken before the page runs, and each script run starts a new one."""

    slot: object
    reasons: dict[str, str] = dataclasses.field(default_factory=dict)

    @classmethod
    def above_the_page(cls) -> None:
        st.session_state[DIVERGED_KEY] = cls(st.empty())

    @classmethod
    def of_this_page(cls) -> DivergedRuns:
        if DIVERGED_KEY not in st.session_state:  # a page run on its own, without app.py
            cls.above_the_page()
        return st.session_state[DIVERGED_KEY]

    def add(self, found: list[RunResult]) -> None:
        self.reasons.update({describe(r.config): reason for r in found if (reason := divergence_reason(r))})
        if self.reasons:
            listed = "; ".join(f"{label}: {reason}" for label, reason in self.reasons.items())
            self.slot.warning(
                f"Diverged runs (the rule: {DIVERGENCE_RULE}): {listed}. Figures of a run that stopped at a NaN are NaN."
            )


DIVERGED_KEY = "diverged runs"


def first_report(config: RunConfig, label: str) -> Progress | None:
    """The first progress of the run for `config` that carries Keras' loss, watched as `results`
    watches runs until it comes, the watch then removed; None when the run is done (or ends) first."""
    (run,) = ask([config])
    store = service().store

    def reported() -> Progress | None:
        progress = store.read_progress(run.key)
        return progress if progress is not None and progress.loss is not None else None

    if run.future.done():
        return None
    watch = st.empty()
    with watch.container():
        _watch([run], label, until=lambda: reported() is not None)
    watch.empty()
    return None if run.future.done() else reported()


def _watch(pending: list[Run], label: str, until: Callable[[], bool] = lambda: False) -> None:
    """Progress bars and the training loss per epoch of every pending run (started by this
    session, another one, or another process), until all are done or `until()` holds."""
    store = service().store
    with st.status(
        f"{label}: training {len(pending)} run(s) once; later visits read them from the cache", expanded=True
    ) as status:
        bars = {run.key: st.progress(0.0, text=f"{describe(run.config)}: waiting for a free worker") for run in pending}
        chart, shown = st.empty(), {}
        while True:
            texts, rows = {}, []
            for run in pending:
                progress = store.read_progress(run.key)
                if run.future.done():
                    texts[run.key] = 1.0, f"{describe(run.config)}: done"
                elif progress is not None:
                    texts[run.key] = (
                        progress.fraction,
                        f"{describe(run.config)}: epoch {progress.epoch}/{progress.num_epochs}, "
                        f"step {progress.step}/{progress.steps_per_epoch}",
                    )
                    rows += [
                        {"run": describe(run.config), "epoch": epoch + 1, "loss": loss}
                        for epoch, loss in enumerate(progress.history.get("loss", []))
                    ]
            # only what changed goes to the browser: redrawing a chart costs the visitor's CPU
            for key, (fraction, text) in texts.items():
                if shown.get(key) != (fraction, text):
                    bars[key].progress(fraction, text=text)
                    shown[key] = fraction, text
            if rows and shown.get("chart") != len(rows) and time.monotonic() >= shown.get("chart_due", 0):
                chart.altair_chart(charts.live_loss(rows))
                shown["chart"], shown["chart_due"] = len(rows), time.monotonic() + CHART_SECONDS
            if until():
                return  # whoever asked takes it from here, and removes this watch
            waiting = [run.future for run in pending if not run.future.done()]
            if not waiting:
                break
            concurrent.futures.wait(waiting, timeout=POLL_SECONDS, return_when="FIRST_COMPLETED")
        chart.empty()  # the page's own charts take over
        failed = any(run.future.exception() is not None for run in pending)
        status.update(
            label=f"{label}: {'a run failed' if failed else f'trained {len(pending)} run(s)'}",
            state="error" if failed else "complete",
            expanded=failed,
        )


# Results are kept as they are, shared by every session (st.cache_data would copy each one on
# every read: a run is about 0.4 MB of weights), and never changed by a reader; an LRU cache, as
# for the service, since a page reads dozens of them per visit
@functools.lru_cache(maxsize=RUNS_KEPT)
def _stored(key: str, directory: str) -> RunResult:
    result = RunStore(Path(directory)).load(key)
    if result is None:  # raising keeps the miss out of the cache
        raise LookupError(key)
    return result


def load(config: RunConfig) -> RunResult:
    """A run that `results` has made sure of, from the store."""
    return _stored(run_key(config, SOURCE.mnist().fingerprint), str(service().store.directory))


def prefetch(configs: list[RunConfig] = (), derivations: list[Derivation] = ()) -> None:
    """Queue runs and results nobody asked for yet, behind everything somebody waits for: what a
    reader is likely to ask next. Returns at once; the page never waits for them."""
    data = mnist()
    for config in configs:
        service().request(config, data, prefetch=True)
    for derivation in derivations:
        service().derive(derivation, data, prefetch=True)


def derived(derivations: list[Derivation], label: str, hint: str = "") -> list:
    """Results derived from stored runs: from the store, else computed in the workers while the
    page waits (see `_obtain`); `hint` says what to do when one cannot be had."""
    data, context = mnist(), get_script_run_ctx()

    def asked() -> list[_Asked]:
        keys = [(d, *service().derive(d, data, context.session_id if context else None)) for d in derivations]
        return [_Asked(future, "computing it", functools.partial(_read, _derived, key, type(d))) for d, key, future in keys]

    def wait(pending: list[_Asked]) -> None:
        with st.spinner(f"{label}: computing {len(pending)} result(s) in the workers, once..."):
            concurrent.futures.wait([item.future for item in pending])

    return _obtain(asked, wait, label, hint)


@functools.lru_cache(maxsize=DERIVED_KEPT)
def _derived(key: str, kind: type[Derivation], directory: str):
    result = load_derived(RunStore(Path(directory)), key, kind)
    if result is None:  # raising keeps the miss out of the cache
        raise LookupError(key)
    return result
