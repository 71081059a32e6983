"""Thin Streamlit wrappers: runs from the training service (worker processes), watched live while
they train; measurements derived from stored runs, cached per process."""

from __future__ import annotations

import concurrent.futures
import functools
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import streamlit as st
from streamlit.runtime import Runtime
from streamlit.runtime.scriptrunner import get_script_run_ctx

from explainer import plan
from explainer.config import RunConfig
from explainer.data import Mnist, MnistNotDownloaded, MnistUnavailable, load_mnist
from explainer.findings import divergence, surface
from explainer.findings.answer import SATURATION_SENTENCE, SENTENCES, Claim, claim, saturation_run, sentence_runs
from explainer.findings.answer import runs_needed as answer_runs
from explainer.findings.mechanism import Mechanism
from explainer.findings.report import DIVERGENCE_RULE, divergence_reason
from explainer.findings.verdicts import FixOutcome, outcomes
from explainer.fixes import base_config
from explainer.reader import charts
from explainer.reader.labels import describe
from explainer.run import RunResult
from explainer.service import Run, TrainingService, failure
from explainer.store.cache import RunStore, cache_dir, run_key
from explainer.store.derived import Derivation, MechanismMeasured, Saturation, StepQuality, Surface
from explainer.store.derived import load as load_derived
from explainer.view import View
from ui.notices import inert

POLL_SECONDS = 0.3
# what one process keeps of what pages show, shared by every session: a view's pages read about 60
# runs (0.4 MB each) and 7 derived results (a loss surface is about 0.5 MB)
VIEWS_KEPT = 64
RUNS_KEPT = 256
DERIVED_KEPT = 128
CHART_SECONDS = 1.5  # the live chart is redrawn at most this often: each redraw costs the server and the browser
_page = threading.local()  # one script run's warnings: each session runs its script in its own thread


def _session_alive(session: str) -> bool:
    """Whether a browser session is still connected (always, outside a running server)."""
    return not Runtime.exists() or Runtime.instance().is_active_session(session)


_services: dict[str, TrainingService] = {}
_services_lock = threading.Lock()


def service() -> TrainingService:
    """One service per cache directory for the whole server: every session shares its runs. A
    plain dict, not st.cache_resource: a page asks for it dozens of times, and Streamlit's cache
    inspects and hashes its arguments on every call (measured: 15% of the server's CPU)."""
    directory = str(cache_dir())
    with _services_lock:
        if directory not in _services:
            _services[directory] = TrainingService(RunStore(Path(directory)), session_alive=_session_alive)
        return _services[directory]


def where() -> tuple[str, str]:
    """The store and the data a page's results come from: part of every per-process cache key
    of what a page shows, so that another store or data set never shares an entry."""
    return str(service().store.directory), load_mnist().fingerprint


def mnist() -> Mnist:
    """MNIST, downloaded once by a worker if Keras' cache lacks it; when it cannot be had, the
    page says why and stops."""
    try:
        try:
            return load_mnist()
        except MnistNotDownloaded:
            with st.spinner("Downloading MNIST (11 MB) once with Keras' own loader..."):
                service().download_mnist()
            return load_mnist()
    except MnistUnavailable as error:
        st.error(f"MNIST could not be loaded, so nothing can be trained. {error}")
        st.stop()


def begin_page() -> None:
    """Where this script run's one divergence warning goes, above the page."""
    _page.warning, _page.diverged = st.empty(), {}


def results(configs: list[RunConfig], label: str, warn_diverged: bool = True) -> list[RunResult]:
    """Results for `configs`, training missing ones in the workers while the page shows their
    progress; when a run failed, the page says why, offers a retry and stops. A stored run that
    cannot be read is removed on reading, and every such run is trained again at once, in the
    same visit. Diverged runs are listed in the warning above the page unless `warn_diverged` is
    off (runs meant to diverge)."""
    for _ in range(2):
        runs = _ask(configs)
        pending = [run for run in runs if not run.future.done()]
        if pending:
            _watch(pending, label)
        failed = [run for run in runs if run.future.exception() is not None]
        if failed:
            for run in failed:
                st.error(inert(f"{label}: the run ({describe(run.config)}) failed: {failure(run.future.exception())}"))
            st.button("Retry the failed runs", key=f"retry {label}", icon=":material/refresh:")
            st.stop()
        found = [_read(_stored, run.key) for run in runs]
        if None not in found:
            if warn_diverged:
                _warn_diverged(found)
            return found
    st.error(f"{label}: a stored run could not be read, even after training it again.")
    st.button("Train it again", key=f"reload {label}", icon=":material/refresh:")
    st.stop()


def _read(cached: Callable, *args):
    """What `cached` (a cache of the store's entries) gives for `args`, or None when the entry
    could not be read and was removed."""
    try:
        return cached(*args, str(service().store.directory))
    except LookupError:
        return None


def _ask(configs: list[RunConfig]) -> list[Run]:
    """The runs for `configs`, asked for on behalf of this session: queued unless stored."""
    data, context = mnist(), get_script_run_ctx()
    return [service().request(config, data, context.session_id if context else None) for config in configs]


def _warn_diverged(found: list[RunResult]) -> None:
    """One warning above the page listing every diverged run the page has read so far."""
    if not hasattr(_page, "diverged"):
        begin_page()
    _page.diverged.update({describe(r.config): reason for r in found if (reason := divergence_reason(r))})
    if _page.diverged:
        listed = "; ".join(f"{label}: {reason}" for label, reason in _page.diverged.items())
        _page.warning.warning(
            f"Diverged runs (the rule: {DIVERGENCE_RULE}): {listed}. Figures of a run that stopped at a NaN are NaN."
        )


def _watch(pending: list[Run], label: str) -> None:
    """Progress bars and the training loss per epoch of every pending run (started by this
    session, another one, or another process), until all are done."""
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


def _load(config: RunConfig) -> RunResult:
    """A run that `results` has made sure of, from the store."""
    return _stored(run_key(config, load_mnist().fingerprint), str(service().store.directory))


def answer(view: View) -> Iterator[Claim]:
    """The answer's sentences in order, each as soon as the runs it reads are trained: every run
    of the answer is asked for at once, then each sentence waits for its own only (on a cold host
    the first sentence needs one run, the whole answer six and a derived result)."""
    _ask(answer_runs(view))
    saturated = None
    for index, configs in enumerate(sentence_runs(view)):
        results(configs, "The answer")
        if index == SATURATION_SENTENCE:
            saturated = derived([Saturation(saturation_run(view))], "The answer")[0]
        yield _claim(index, view, saturated, where())


@st.cache_resource(show_spinner=False, max_entries=SENTENCES * VIEWS_KEPT)
def _claim(index: int, view: View, saturated: float | None, source: tuple[str, str]) -> Claim:
    return claim(index, view, {config: _load(config) for config in sentence_runs(view)[index]}, saturated)


def divergence_sweep(view: View) -> divergence.Sweep:
    """Whether any learning rate makes the model diverge, training the sweep's runs first; the
    runs that overflow are the sweep's finding, stated in it, not a warning above the page."""
    configs = divergence.runs_needed(view)
    results(configs, "Divergence sweep", warn_diverged=False)
    return divergence.sweep({config: _load(config) for config in configs}, view)


def measured_mechanism(view: View) -> Mechanism:
    """The Why page's measurements for the view, training what they read first."""
    results(plan.mechanism_runs(view), "Mechanism")
    return derived([MechanismMeasured(view.config, view.learning_rates)], "The mechanism")[0]


def fix_outcomes(view: View) -> list[FixOutcome]:
    """Every fix against the question's setup (and the sidebar's combination), training first."""
    results(plan.fix_runs(view), "Fixes")
    return _fix_outcomes(view, where())


@st.cache_resource(show_spinner=False, max_entries=VIEWS_KEPT)
def _fix_outcomes(view: View, source: tuple[str, str]) -> list[FixOutcome]:
    base = base_config(view.config)
    runs = {config: _load(config) for config in plan.fix_runs(view)}
    return outcomes(runs, base, view.learning_rates, view.config if view.config != base else None)


def surface_views(requests: dict[str, surface.SurfaceRequest], view: View) -> dict[str, surface.Slices]:
    """The loss-surface computations for each request (one per input scaling), training the
    runs they stand on first; a request the run cannot answer stops the page with why."""
    results(plan.surface_runs(view), "Loss surface")
    asked = [Surface(request, view.learning_rates) for request in requests.values()]
    return dict(zip(requests, derived(asked, "The loss surface", "Choose another point or direction.")))


def step_quality(configs: list[RunConfig], every: int) -> list[list[dict]]:
    """Step quality through epoch 1 of each run (trained by `surface_views`)."""
    return derived([StepQuality(config, every) for config in configs], "Step quality")


def prefetch(configs: list[RunConfig] = (), derivations: list[Derivation] = ()) -> None:
    """Queue runs and results nobody asked for yet, behind everything somebody waits for: what a
    reader is likely to ask next. Returns at once; the page never waits for them."""
    data = mnist()
    for config in configs:
        service().request(config, data, prefetch=True)
    for derivation in derivations:
        service().derive(derivation, data, prefetch=True)


def prefetch_neighbours(view: View) -> None:
    """Train ahead what the landing page shows for every view one sidebar choice away."""
    prefetch(configs=_neighbour_runs(view))


@st.cache_resource(show_spinner=False, max_entries=VIEWS_KEPT)
def _neighbour_runs(view: View) -> list[RunConfig]:
    """Planned once per view: a hundred configurations, each built and validated."""
    return [config for near in plan.neighbours(view) for config in answer_runs(near) + plan.reproduce_runs(near)]


def prefetch_surfaces(requests: dict[str, surface.SurfaceRequest], view: View) -> None:
    """Compute ahead the surfaces one control away on the loss-surface page."""
    lrs = view.learning_rates
    prefetch(derivations=[Surface(near, lrs) for r in requests.values() for near in surface.neighbours(r)])


def derived(derivations: list[Derivation], label: str, hint: str = "") -> list:
    """Results derived from stored runs: from the store, else computed in the workers while the
    page waits (a stored one that cannot be read is removed on reading and computed again, every
    such one at once, in the same visit); when one does not exist here or cannot be computed, the
    page says why (and `hint`), offers a retry if trying again may help, and stops."""
    data, context = mnist(), get_script_run_ctx()
    for _ in range(2):
        asked = [(d, *service().derive(d, data, context.session_id if context else None)) for d in derivations]
        pending = [future for _, _, future in asked if not future.done()]
        if pending:
            with st.spinner(f"{label}: computing {len(pending)} result(s) in the workers, once..."):
                concurrent.futures.wait(pending)
        # a result that does not exist at its point is stored as such, and read below like any other
        faults = [error for _, _, future in asked if not isinstance(error := future.exception(), surface.Undefined | None)]
        if faults:
            st.error(inert(f"{label}: {failure(faults[0])}. {hint}"))
            st.button("Try again", key=f"retry {label}", icon=":material/refresh:")
            st.stop()
        try:
            found = [_read(_derived, key, type(d)) for d, key, _ in asked]
        except surface.Undefined as undefined:  # a fact about the run: trying again changes nothing
            st.error(inert(f"{label}: {undefined}. {hint}"))
            st.stop()
        if None not in found:
            return found
    st.error(f"{label}: a stored result could not be read, even after computing it again.")
    st.stop()


@functools.lru_cache(maxsize=DERIVED_KEPT)
def _derived(key: str, kind: type[Derivation], directory: str):
    result = load_derived(RunStore(Path(directory)), key, kind)
    if result is None:  # raising keeps the miss out of the cache
        raise LookupError(key)
    return result
