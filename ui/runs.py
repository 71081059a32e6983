"""Runs and derived results for a page, through the one request routine (explainer/obtain.py):
what is missing is made in the workers while the page shows its progress; what is stored is read
once per process and shared by every session. A failure is said on the page, with a retry where
one can help, and the page stops."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from explainer.config import RunConfig
from explainer.obtain import Asked, Failed, derived_asked, obtain, runs_asked
from explainer.run import Progress, RunResult
from explainer.service import Run
from explainer.store.cache import RunStore, run_key
from explainer.store.derived import Derivation
from explainer.store.derived import load as load_derived
from ui import progress, source
from ui.diverged import DivergedRuns
from ui.notices import inert
from ui.source import mnist, service

# what one process keeps of what pages show, shared by every session: a view's pages read about 60
# runs (0.4 MB each) and 7 derived results (a loss surface is about 0.5 MB)
RUNS_KEPT = 256
DERIVED_KEPT = 128


def _session() -> str | None:
    context = get_script_run_ctx()
    return context.session_id if context else None


def _obtained(ask: Callable[[], list[Asked]], wait: Callable[[list[Asked]], None], label: str, hint: str = "") -> list:
    """`obtain`, its failure said on the page (with a retry where one can help) before the page stops."""
    try:
        return obtain(ask, wait)
    except Failed as failed:
        for reason in failed.reasons:
            st.error(inert(f"{label}: {reason}. {hint}".rstrip()))
        if failed.retry:
            st.button("Try again", key=f"retry {label}", icon=":material/refresh:")
        st.stop()


def results(configs: list[RunConfig], label: str, warn_diverged: bool = True) -> list[RunResult]:
    """Results for `configs`, training missing ones in the workers while the page shows their
    progress. Diverged runs are listed in the warning above the page unless `warn_diverged` is
    off (runs meant to diverge)."""
    data, directory = mnist(), str(service().store.directory)

    def asked() -> list[Asked]:
        return runs_asked(service(), configs, data, functools.partial(_read, _stored, directory=directory), _session())

    found = _obtained(asked, lambda pending: progress.watch([item.run for item in pending], label), label)
    if warn_diverged:
        DivergedRuns.of_this_page().add(found)
    return found


def derived(derivations: list[Derivation], label: str, hint: str = "") -> list:
    """Results derived from stored runs: from the store, else computed in the workers while the
    page waits; `hint` says what to do when one cannot be had."""
    data, directory = mnist(), str(service().store.directory)

    def asked() -> list[Asked]:
        return derived_asked(service(), derivations, data, functools.partial(_read, _derived, directory=directory), _session())

    def wait(pending: list[Asked]) -> None:
        with st.spinner(f"{label}: computing {len(pending)} result(s) in the workers, once..."):
            progress.wait([item.future for item in pending])

    return _obtained(asked, wait, label, hint)


def _read(cached: Callable, *args, directory: str):
    """What `cached` (a cache of the store's entries) gives for `args`, or None when the entry
    could not be read and was removed."""
    try:
        return cached(*args, directory)
    except LookupError:
        return None


def ask(configs: list[RunConfig]) -> list[Run]:
    """The runs for `configs`, asked for on behalf of this session: queued unless stored."""
    data = mnist()
    return service().request_all(configs, data, _session())


def first_report(config: RunConfig, label: str) -> Progress | None:
    """The first progress of the run for `config` that carries Keras' loss, watched as `results`
    watches runs until it comes, the watch then removed; None when the run is done (or ends) first."""
    (run,) = ask([config])
    store = service().store

    def reported() -> Progress | None:
        report = store.read_progress(run.key)
        return report if report is not None and report.loss is not None else None

    if run.future.done():
        return None
    shown = st.empty()
    with shown.container():
        progress.watch([run], label, until=lambda: reported() is not None)
    shown.empty()
    return None if run.future.done() else reported()


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
    return _stored(run_key(config, source.SOURCE.mnist().fingerprint), str(service().store.directory))


def prefetch(configs: list[RunConfig] = (), derivations: list[Derivation] = ()) -> None:
    """Queue runs and results nobody asked for yet, behind everything somebody waits for: what a
    reader is likely to ask next. Returns at once; the page never waits for them."""
    data = mnist()
    service().request_all(list(configs), data, prefetch=True)
    for derivation in derivations:
        service().derive(derivation, data, prefetch=True)


@functools.lru_cache(maxsize=DERIVED_KEPT)
def _derived(key: str, kind: type[Derivation], directory: str):
    result = load_derived(RunStore(Path(directory)), key, kind)
    if result is None:  # raising keeps the miss out of the cache
        raise LookupError(key)
    return result
