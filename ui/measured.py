"""What the pages show for a view, from its runs and derived results (ui/runs.py): computed once
per process and shared by every session that asks for the same view, keyed by the view, the store
and the data (`source.where()`); and what a reader may ask next, prefetched."""

from __future__ import annotations

from collections.abc import Iterator

import pandas as pd
import streamlit as st

from explainer import notebook, plan
from explainer.config import RunConfig
from explainer.derivations import MechanismMeasured, Saturation, StepQuality, Surface
from explainer.findings import divergence, surface
from explainer.findings.answer import SATURATION_SENTENCE, SENTENCES, Claim, claim, early_claim, saturation_run, sentence_runs
from explainer.findings.answer import runs_needed as answer_runs
from explainer.findings.mechanism import Mechanism
from explainer.findings.reproduction import epoch_rows
from explainer.findings.verdicts import FixOutcome, outcomes
from explainer.fixes import base_config
from explainer.labels import NAMES
from explainer.reader import question
from explainer.view import View
from ui.runs import ask, derived, first_report, load, prefetch, results
from ui.source import RECORDS, where

VIEWS_KEPT = 64  # views whose page data one process keeps


def answer(view: View) -> Iterator[tuple[int, Claim]]:
    """The answer's sentences in order, as (index, sentence), each as soon as the runs it reads
    are trained: every run of the answer is asked for at once, then each sentence waits for its
    own only (on a cold host the first sentence needs one run, the whole answer six and a derived
    result). While the first sentence's run trains, that sentence comes first from what Keras has
    reported so far, then again once the run is done: a page shows each index in one place."""
    ask(answer_runs(view))
    progress = first_report(sentence_runs(view)[0][0], "The answer")
    if progress is not None:
        yield 0, early_claim(progress)
    saturated = None
    for index, configs in enumerate(sentence_runs(view)):
        results(configs, "The answer")
        if index == SATURATION_SENTENCE:
            saturated = derived([Saturation(saturation_run(view))], "The answer")[0]
        yield index, _claim(index, view, saturated, where())


@st.cache_resource(show_spinner=False, max_entries=SENTENCES * VIEWS_KEPT, hash_funcs=RECORDS)
def _claim(index: int, view: View, saturated: float | None, source: tuple[str, str]) -> Claim:
    return claim(index, view, {config: load(config) for config in sentence_runs(view)[index]}, saturated)


@st.cache_resource(show_spinner=False, max_entries=VIEWS_KEPT, hash_funcs=RECORDS)
def notebook_file(view: View) -> str:
    """The view as a Jupyter notebook's file (explainer/notebook.py), made once per view."""
    return notebook.text(view)


def histories(view: View) -> tuple[list[dict], str]:
    """The reproduction's loss and accuracy per epoch of every run, beside the question's own
    numbers where it reported them: rows for the charts, and the same rows as CSV. Its runs must
    be trained (the page has asked for them with `results`)."""
    return _histories(view, where())


@st.cache_resource(show_spinner=False, max_entries=VIEWS_KEPT, hash_funcs=RECORDS)
def _histories(view: View, source: tuple[str, str]) -> tuple[list[dict], str]:
    reported = question.reported_for(view.config, view.learning_rates)
    rows = epoch_rows([load(config) for config in plan.reproduce_runs(view)], reported)
    return rows, pd.DataFrame(rows).to_csv(index=False)


def divergence_sweep(view: View) -> divergence.Sweep:
    """Whether any learning rate makes the model diverge, training the sweep's runs first; the
    runs that overflow are the sweep's finding, stated in it, not a warning above the page."""
    configs = divergence.runs_needed(view)
    results(configs, "Divergence sweep", warn_diverged=False)
    return divergence.sweep({config: load(config) for config in configs}, view)


def measured_mechanism(view: View) -> Mechanism:
    """The Why page's measurements for the view, training what they read first."""
    results(plan.mechanism_runs(view), "Mechanism")
    return derived([MechanismMeasured(view.config, view.learning_rates)], "The mechanism")[0]


def fix_outcomes(view: View) -> list[FixOutcome]:
    """Every fix against the question's setup (and the sidebar's combination), training first."""
    results(plan.fix_runs(view), "Fixes")
    return _fix_outcomes(view, where())


@st.cache_resource(show_spinner=False, max_entries=VIEWS_KEPT, hash_funcs=RECORDS)
def _fix_outcomes(view: View, source: tuple[str, str]) -> list[FixOutcome]:
    base = base_config(view.config)
    runs = {config: load(config) for config in plan.fix_runs(view)}
    return outcomes(runs, base, view.learning_rates, view.config if view.config != base else None)


def surface_views(requests: dict[str, surface.SurfaceRequest], view: View) -> dict[str, surface.Slices]:
    """The loss-surface computations for each request (one per input scaling), training the
    runs they stand on first; a request the run cannot answer stops the page with why."""
    results(plan.surface_runs(view), "Loss surface")
    asked = [Surface(request, view.learning_rates) for request in requests.values()]
    return dict(zip(requests, derived(asked, "The loss surface", "Choose another point or direction.")))


def step_quality(requests: dict[str, surface.SurfaceRequest], view: View) -> list[dict]:
    """Step quality through epoch 1 of each request's run at both learning rates (trained by
    `surface_views`), every step, one row per step naming its scaling in words."""
    runs = {
        (scaling, lr): request.config.replace(learning_rate=lr)
        for scaling, request in requests.items()
        for lr in view.learning_rates
    }
    qualities = derived([StepQuality(config) for config in runs.values()], "Step quality")
    return surface.quality_rows(dict(zip(runs, qualities)), NAMES)


def prefetch_neighbours(view: View) -> None:
    """Train ahead what the landing page shows for every view one sidebar choice away."""
    prefetch(configs=_neighbour_runs(view))


@st.cache_resource(show_spinner=False, max_entries=VIEWS_KEPT, hash_funcs=RECORDS)
def _neighbour_runs(view: View) -> list[RunConfig]:
    """Planned once per view: a hundred configurations, each built and validated."""
    return [config for near in plan.neighbours(view) for config in answer_runs(near) + plan.reproduce_runs(near)]


def prefetch_surfaces(requests: dict[str, surface.SurfaceRequest], view: View) -> None:
    """Compute ahead the surfaces one control away on the loss-surface page."""
    lrs = view.learning_rates
    prefetch(derivations=[Surface(near, lrs) for r in requests.values() for near in surface.neighbours(r)])
