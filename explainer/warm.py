"""What `python -m explainer warm` pre-trains: every run the pages train in their default view."""

from __future__ import annotations

from explainer import fixes, mechanism
from explainer.config import ENGINES, RunConfig
from explainer.view import SWEEP_EPOCHS, SWEEP_LEARNING_RATES, View


def default_runs() -> list[RunConfig]:
    """Every run of the default view: both engines at both rates, the sweep, the fixes, the mechanism."""
    view = View()
    page = [config for engine in ENGINES for config in view.run_configs(engine)]
    sweep = [view.config.replace(learning_rate=lr, num_epochs=SWEEP_EPOCHS) for lr in SWEEP_LEARNING_RATES]
    others = fixes.runs_needed(view.config, view.learning_rates) + mechanism.runs_needed(view.config, view.learning_rates)
    return list(dict.fromkeys(page + sweep + others))
