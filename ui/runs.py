"""Thin Streamlit wrappers: runs from the training service (worker processes), watched live while
they train; measurements derived from stored runs, cached per process."""

from __future__ import annotations

import concurrent.futures
from pathlib import Path

import streamlit as st

from explainer import charts, surface
from explainer.cache import RunStore, cache_dir, run_key
from explainer.config import RunConfig
from explainer.data import Mnist, MnistNotDownloaded, MnistUnavailable, download_mnist, load_mnist, prepare
from explainer.fixes import FixOutcome, base_config, outcomes, runs_needed
from explainer.mechanism import Mechanism, measure
from explainer.mechanism import runs_needed as mechanism_runs
from explainer.service import Run, TrainingService, failure
from explainer.train import RunResult
from explainer.view import View

POLL_SECONDS = 0.3


@st.cache_resource(show_spinner=False)
def _service(directory: str) -> TrainingService:
    """One service per cache directory for the whole server: every session shares its runs."""
    return TrainingService(RunStore(Path(directory)))


def service() -> TrainingService:
    return _service(str(cache_dir()))


def mnist() -> Mnist:
    """MNIST, downloaded once by a worker if Keras' cache lacks it; when it cannot be had, the
    page says why and stops."""
    try:
        try:
            return load_mnist()
        except MnistNotDownloaded:
            with st.spinner("Downloading MNIST (11 MB) once with Keras' own loader..."):
                error = service().submit(download_mnist).exception()
            if error is not None:  # the worker's own message, or why the worker stopped
                raise MnistUnavailable(failure(error)) from None
            return load_mnist()
    except MnistUnavailable as error:
        st.error(f"MNIST could not be loaded, so nothing can be trained. {error}")
        st.stop()


def results(configs: list[RunConfig], label: str) -> list[RunResult]:
    """Results for `configs`, training missing ones in the workers while the page shows their
    progress; when a run failed, the page says why, offers a retry and stops."""
    data = mnist()
    runs = [service().request(config, data) for config in configs]
    pending = [run for run in runs if not run.future.done()]
    if pending:
        _watch(pending, label)
    failed = [run for run in runs if run.future.exception() is not None]
    if failed:
        for run in failed:
            st.error(f"{label}: the run ({run.config.label()}) failed: {failure(run.future.exception())}")
        st.button("Retry the failed runs", key=f"retry {label}", icon=":material/refresh:")
        st.stop()
    try:
        found = [_stored(run.key, str(service().store.directory)) for run in runs]
    except LookupError as error:
        st.error(f"{label}: {error}")
        st.button("Train it again", key=f"reload {label}", icon=":material/refresh:")
        st.stop()
    for result in found:
        if result.diverged:
            st.warning(f"{result.config.label()}: {result.diverged}. Figures from this run are NaN; try a lower learning rate.")
    return found


def _watch(pending: list[Run], label: str) -> None:
    """Progress bars and the training loss per epoch of every pending run (started by this
    session, another one, or another process), until all are done."""
    store = service().store
    with st.status(
        f"{label}: training {len(pending)} run(s) once; later visits read them from the cache", expanded=True
    ) as status:
        bars = {run.key: st.progress(0.0, text=f"{run.config.label()}: waiting for a free worker") for run in pending}
        chart, shown = st.empty(), {}
        while True:
            texts, rows = {}, []
            for run in pending:
                progress = store.read_progress(run.key)
                if run.future.done():
                    texts[run.key] = 1.0, f"{run.config.label()}: done"
                elif progress is not None:
                    texts[run.key] = (
                        progress.fraction,
                        f"{run.config.label()}: epoch {progress.epoch}/{progress.num_epochs}, "
                        f"step {progress.step}/{progress.steps_per_epoch}",
                    )
                    rows += [
                        {"run": run.config.label(), "epoch": epoch + 1, "loss": loss}
                        for epoch, loss in enumerate(progress.history.get("loss", []))
                    ]
            # only what changed goes to the browser: redrawing a chart costs the visitor's CPU
            for key, (fraction, text) in texts.items():
                if shown.get(key) != (fraction, text):
                    bars[key].progress(fraction, text=text)
                    shown[key] = fraction, text
            if rows and shown.get("chart") != len(rows):
                chart.altair_chart(charts.live_loss(rows))
                shown["chart"] = len(rows)
            if all(run.future.done() for run in pending):
                break
            concurrent.futures.wait([run.future for run in pending], timeout=POLL_SECONDS, return_when="FIRST_COMPLETED")
        chart.empty()  # the page's own charts take over
        failed = any(run.future.exception() is not None for run in pending)
        status.update(
            label=f"{label}: {'a run failed' if failed else f'trained {len(pending)} run(s)'}",
            state="error" if failed else "complete",
            expanded=failed,
        )


@st.cache_data(show_spinner=False, max_entries=256)
def _stored(key: str, directory: str) -> RunResult:
    result = RunStore(Path(directory)).load(key)
    if result is None:  # raising keeps the miss out of st.cache_data
        raise LookupError("a stored run could not be read and was removed; it is trained again on the next request")
    return result


def _load(config: RunConfig) -> RunResult:
    """A run that `results` has made sure of, from the store."""
    return _stored(run_key(config, load_mnist().fingerprint), str(service().store.directory))


def measured_mechanism(view: View) -> Mechanism:
    """The Why page's measurements for the view, training what they read first."""
    results(mechanism_runs(view.config, view.learning_rates), "Mechanism")
    return _mechanism(view.config, view.learning_rates)


@st.cache_data(show_spinner=False, max_entries=32)
def _mechanism(config: RunConfig, learning_rates: tuple[float, float]) -> Mechanism:
    runs = {needed: _load(needed) for needed in mechanism_runs(config, learning_rates)}
    return measure(config, learning_rates, runs, load_mnist())


def fix_outcomes(view: View) -> list[FixOutcome]:
    """Every fix against the question's setup (and the sidebar's combination), training first."""
    base = base_config(view.config)
    combination = view.config if view.config != base else None
    results(runs_needed(base, view.learning_rates, combination), "Fixes")
    return _fix_outcomes(base, view.learning_rates, combination)


@st.cache_data(show_spinner=False, max_entries=32)
def _fix_outcomes(base: RunConfig, learning_rates: tuple[float, float], combination: RunConfig | None) -> list[FixOutcome]:
    configs = runs_needed(base, learning_rates, combination)
    return outcomes({config: _load(config) for config in configs}, base, learning_rates, combination)


def surface_views(requests: dict[str, surface.SurfaceRequest], learning_rates: tuple[float, float]) -> dict:
    """The loss-surface computations for each request (one per input scaling), training the
    runs they stand on first; a request the run cannot answer stops the page with why."""
    results([request.config.replace(learning_rate=lr) for request in requests.values() for lr in learning_rates], "Loss surface")
    try:
        return {name: _surface_view(request, learning_rates) for name, request in requests.items()}
    except ValueError as error:
        st.error(f"{error}. Choose another point or direction.")
        st.stop()


@st.cache_data(show_spinner=False, max_entries=64)
def _surface_view(request: surface.SurfaceRequest, learning_rates: tuple[float, float]) -> surface.Slices:
    return surface.compute(request, _load(request.config), prepare(load_mnist(), request.config), learning_rates)


@st.cache_data(show_spinner=False, max_entries=64)
def step_quality(config: RunConfig, every: int) -> list[dict]:
    """Alpha through epoch 1 of a run that `surface_views` has trained."""
    return surface.alpha_over_epoch(_load(config), prepare(load_mnist(), config), every)
