"""Thin Streamlit wrappers around explainer's cached training, with a progress display."""
from __future__ import annotations

import streamlit as st

from explainer.cache import cached_train, load, run_key
from explainer.config import RunConfig
from explainer.data import MnistUnavailable, load_mnist
from explainer.fixes import FixOutcome, outcomes, runs_needed
from explainer import surface
from explainer.data import prepare
from explainer.mechanism import Mechanism, measure
from explainer.train import Progress, RunResult


@st.cache_data(show_spinner=False, max_entries=256)
def _result(config: RunConfig) -> RunResult:
    return cached_train(config)


def results(configs: list[RunConfig], label: str) -> list[RunResult] | None:
    """Results for `configs`, training missing ones with visible progress; None (after saying
    why on the page) when MNIST cannot be loaded."""
    try:
        mnist = load_mnist()
    except MnistUnavailable as error:
        st.error(f"MNIST could not be loaded, so nothing can be trained. {error}")
        return None
    missing = [config for config in configs if load(run_key(config, mnist.fingerprint)) is None]
    if missing:
        # trained here, outside st.cache_data, so the progress elements are never cached
        with st.status(f"{label}: training {len(missing)} run(s) once; later visits read the cache", expanded=True) as status:
            for config in missing:
                st.write(config.label())
                bar = st.progress(0.0)
                cached_train(config, mnist, progress=lambda p, bar=bar: bar.progress(p.fraction, _describe(p)))
            status.update(label=f"{label}: trained {len(missing)} run(s)", state="complete", expanded=False)
    found = [_result(config) for config in configs]
    for result in found:
        if result.diverged:
            st.warning(f"{result.config.label()}: {result.diverged}. Figures from this run are NaN; try a lower learning rate.")
    return found


def _describe(progress: Progress) -> str:
    return f"epoch {progress.epoch}/{progress.num_epochs}, step {progress.step}/{progress.steps_per_epoch}"


@st.cache_data(show_spinner=False, max_entries=32)
def mechanism(config: RunConfig, learning_rates: tuple[float, float]) -> Mechanism:
    return measure(config, learning_rates, load_mnist())


@st.cache_data(show_spinner=False, max_entries=32)
def fix_outcomes(base: RunConfig, learning_rates: tuple[float, float], combination: RunConfig | None) -> list[FixOutcome]:
    configs = runs_needed(base, learning_rates, combination)
    return outcomes({config: _result(config) for config in configs}, base, learning_rates, combination)


@st.cache_data(show_spinner=False, max_entries=64)
def surface_view(request: surface.SurfaceRequest, learning_rates: tuple[float, float]) -> surface.SurfaceView:
    mnist = load_mnist()
    return surface.compute(request, _result(request.config), prepare(mnist, request.config), learning_rates)


@st.cache_data(show_spinner=False, max_entries=64)
def step_quality(config: RunConfig, every: int) -> list[dict]:
    return surface.alpha_over_epoch(_result(config), prepare(load_mnist(), config), every)
