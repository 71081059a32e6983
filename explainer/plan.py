"""Every run a view's pages train, page by page, and the training budget one view must fit: the
pages ask for these runs, the gate adds up their SGD steps, `python -m explainer warm` pre-trains
the default view's."""

from __future__ import annotations

import itertools
from collections.abc import Iterable

from explainer import fixes
from explainer.config import ACTIVATIONS, CHOICES, ENGINES, OPTIMIZERS, SCALINGS, RunConfig, losses_for
from explainer.derivations import MechanismMeasured, Saturation, StepQuality, Surface
from explainer.findings import answer, divergence, mechanism, surface
from explainer.store.derived import Derivation
from explainer.view import SWEEP_EPOCHS, SWEEP_LEARNING_RATES, View

# SGD steps every page of one view may train together: the default view at the longest run the
# sidebar allows (20 epochs of the full training set at batch 32) fits, with room to spare
MAX_VIEW_STEPS = 1_500_000


def reproduce_runs(view: View) -> list[RunConfig]:
    """The Reproduce page: the sidebar's setup on every engine at both learning rates."""
    return [config for engine in ENGINES for config in view.run_configs(engine)]


def sweep_runs(view: View, learning_rates: Iterable[float] = SWEEP_LEARNING_RATES, epochs: int = SWEEP_EPOCHS) -> list[RunConfig]:
    """The Reproduce page's learning-rate sweep."""
    return [view.config.replace(learning_rate=lr, num_epochs=epochs) for lr in learning_rates]


def surface_requests(view: View, *controls) -> dict[str, surface.SurfaceRequest]:
    """The loss-surface page's request per input scaling, for its controls (a SurfaceRequest's
    point, index, direction, second direction and what the loss is averaged over)."""
    return {scaling: surface.SurfaceRequest(config, *controls) for scaling, config in surface_configs(view).items()}


def surface_configs(view: View) -> dict[str, RunConfig]:
    """The loss-surface page's run per input scaling, at the lower learning rate (SGD only)."""
    return (
        {scaling: view.config.replace(scaling=scaling) for scaling in surface.COMPARED_SCALINGS}
        if view.config.optimizer == "sgd"
        else {}
    )


def surface_runs(view: View) -> list[RunConfig]:
    return [config.replace(learning_rate=lr) for config in surface_configs(view).values() for lr in view.learning_rates]


def fix_runs(view: View) -> list[RunConfig]:
    """The Fixes page: every fix on the question's setup, plus the sidebar's combination."""
    base = fixes.base_config(view.config)
    return fixes.runs_needed(base, view.learning_rates, view.config if view.config != base else None)


def mechanism_runs(view: View) -> list[RunConfig]:
    return mechanism.runs_needed(view.config, view.learning_rates)


def view_runs(view: View) -> list[RunConfig]:
    """Every run of every page of the view, once each."""
    pages = (answer.runs_needed, reproduce_runs, sweep_runs, surface_runs, fix_runs, divergence.runs_needed, mechanism_runs)
    return list(dict.fromkeys(config for page in pages for config in page(view)))


def view_derivations(view: View) -> list[Derivation]:
    """Every derived result the view's pages show with their controls as they open: the
    answer's saturation, the mechanism, and per input scaling the loss surface and the step
    quality at both rates."""
    found = [Saturation(answer.saturation_run(view))]
    found.append(MechanismMeasured(view.config, view.learning_rates))
    for config in surface_configs(view).values():
        found.append(Surface(surface.SurfaceRequest(config), view.learning_rates))
        found += [StepQuality(config.replace(learning_rate=lr)) for lr in view.learning_rates]
    return found


def all_views() -> list[View]:
    """Every combination of the sidebar's choices at the default learning rates and run length."""
    return [
        View(config=RunConfig(engine=engine, scaling=scaling, optimizer=optimizer, activation=activation, loss=loss))
        for engine, scaling, optimizer, activation in itertools.product(ENGINES, SCALINGS, OPTIMIZERS, ACTIVATIONS)
        for loss in losses_for(activation)
    ]


def check_budget(configs: Iterable[RunConfig], what: str) -> None:
    """ValueError, saying the figures, when `configs` ask for more than MAX_VIEW_STEPS SGD steps."""
    configs = list(dict.fromkeys(configs))
    steps = sum(config.training_steps for config in configs)
    if steps > MAX_VIEW_STEPS:
        raise ValueError(
            f"{what} would train {steps:,} SGD steps in {len(configs)} runs, and may train at most {MAX_VIEW_STEPS:,}: "
            "fewer epochs, fewer training images or a larger batch size bring it within that"
        )


def neighbours(view: View) -> list[View]:
    """The views one sidebar choice away (engine, scaling, activation, loss or optimizer): what a
    visitor toggles next, so what idle workers train ahead."""
    found = []
    for name, options in CHOICES.items():
        for option in options:
            if option == getattr(view.config, name):
                continue
            changes = {name: option}
            if name == "activation":  # the sidebar switches the loss with the activation
                changes["loss"] = view.config.loss if view.config.loss in losses_for(option) else losses_for(option)[0]
            elif name == "loss" and option not in losses_for(view.config.activation):
                continue
            found.append(View(view.learning_rates, view.config.replace(**changes)))
    return found
