"""One gate for every input a visitor gives: a link's parameters or the sidebar's values become
a View that every setting's bounds and the view's training budget allow, or notices that name
the value and the bound. Nothing outside the bounds reaches a widget or a worker."""

from __future__ import annotations

from collections.abc import Mapping

from explainer.config import RunConfig
from explainer.plan import check_budget, sweep_runs, view_runs
from explainer.view import Notice, View, from_query, parse_sweep

RUN_LENGTH = ("num_epochs", "batch_size", "train_subset")  # what the budget depends on


def admit(view: View) -> View:
    """The view if its pages' runs fit the training budget; ValueError saying why not."""
    check_budget(view_runs(view), "this view")
    return view


def from_link(params: Mapping[str, str]) -> tuple[View, list[Notice]]:
    """The view a link asks for, with a notice per value it could not have; a view over the
    budget keeps the link's settings but the default run length."""
    view, notices = from_query(params)
    try:
        return admit(view), notices
    except ValueError as error:
        shorter = View(view.learning_rates, view.config.replace(**{name: getattr(View().config, name) for name in RUN_LENGTH}))
        asked = ", ".join(f"{name}={params[name]}" for name in RUN_LENGTH if name in params)
        notice = Notice(
            next((name for name in RUN_LENGTH if name in params), RUN_LENGTH[0]),
            f"Ignored {asked} from the link: {error}. Using the default run length.",
        )
        return shorter, [*notices, notice]


def admit_sweep(view: View, text: str, epochs: int) -> list[RunConfig]:
    """The runs of a learning-rate sweep typed as "0.001, 0.01, 0.1", within bounds and budget."""
    configs = sweep_runs(view, parse_sweep(text), epochs)
    check_budget(configs, "this sweep")
    return configs
