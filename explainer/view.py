"""The sidebar's state as plain data: learning rates to compare plus one RunConfig, to and from
URL query parameters (bad values fall back to defaults with a notice, never an exception)."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping

from explainer.config import LEARNING_RATE_BOUNDS, QUESTION_LEARNING_RATES, RunConfig, check_learning_rate, quoted

# the higher learning rate must be at least this multiple of the lower: the pages measure how the
# loss follows their ratio, which a ratio near 1 cannot show (0.01 against 0.010000000000000002)
MIN_LR_RATIO = 1.5
# the learning rates a view may compare: a factor of 10 inside what a run may have, because the
# Fixes page divides them by 10 and the Why page multiplies the lower one by 10
VIEW_LEARNING_RATE_BOUNDS = (LEARNING_RATE_BOUNDS[0] * 10, LEARNING_RATE_BOUNDS[1] / 10)
# the reproduce page's learning-rate sweep: three decades, one short epoch per rate by default
SWEEP_LEARNING_RATES = (0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0)
SWEEP_EPOCHS = 1
MAX_SWEEP_RATES = 12  # runs one sweep may ask for
CONFIG_KEYS = ("engine", "activation", "loss", "scaling", "optimizer", "batch_size", "num_epochs", "seed", "train_subset")
SETTINGS = ("lr", *CONFIG_KEYS)  # the URL's parameters, which are the sidebar's widget keys
# a link's settings are read one by one in this order; the batch size last, because whether a
# run is too long for it depends on the epochs and training images read before
LINK_ORDER = ("engine", "activation", "loss", "scaling", "optimizer", "num_epochs", "train_subset", "seed", "batch_size")


@dataclasses.dataclass(frozen=True)
class View:
    """What every page shows: `config` trained at each of `learning_rates` (the config carries
    the lower one, so that it names a real run)."""

    learning_rates: tuple[float, float] = QUESTION_LEARNING_RATES
    config: RunConfig = RunConfig()

    def __post_init__(self) -> None:
        check_learning_rates(self.learning_rates)
        object.__setattr__(self, "config", self.config.replace(learning_rate=self.learning_rates[0]))

    @property
    def lr_ratio(self) -> float:
        """The higher learning rate over the lower one."""
        return self.learning_rates[1] / self.learning_rates[0]

    def run_configs(self, engine: str | None = None) -> list[RunConfig]:
        """One config per learning rate, on `engine` if given (else the sidebar's engine)."""
        base = self.config if engine is None else self.config.replace(engine=engine)
        return [base.replace(learning_rate=lr) for lr in self.learning_rates]


@dataclasses.dataclass(frozen=True)
class Notice:
    """Something the reader should know about a setting: `setting` is the URL parameter (and
    sidebar key) it concerns, `text` says what happened to the value and why."""

    setting: str
    text: str


def widget_values(config: RunConfig) -> dict:
    """The sidebar widgets' values for a config (0 training images stands for all of them)."""
    return {**{name: getattr(config, name) for name in CONFIG_KEYS}, "train_subset": config.train_subset or 0}


def config_from_widgets(values: Mapping) -> RunConfig:
    """The config the sidebar widgets' values describe (the inverse of `widget_values`)."""
    return RunConfig(**{**{name: values[name] for name in CONFIG_KEYS}, "train_subset": values["train_subset"] or None})


def check_learning_rates(learning_rates: tuple[float, float]) -> None:
    """ValueError unless these are two learning rates in the view's bounds, ascending, at least
    MIN_LR_RATIO apart."""
    lowest, highest = VIEW_LEARNING_RATE_BOUNDS
    for lr in learning_rates:
        if not lowest <= check_learning_rate(lr) <= highest:
            raise ValueError(f"the learning rates to compare must be from {lowest:g} to {highest:g}; got {lr:g}")
    if len(learning_rates) != 2 or learning_rates[1] < MIN_LR_RATIO * learning_rates[0]:
        raise ValueError(f"the higher learning rate must be at least {MIN_LR_RATIO:g} times the lower; got {learning_rates}")


def parse_learning_rates(text: str) -> tuple[float, float]:
    """Two learning rates from "0.01, 0.03", ascending; ValueError saying what is wrong."""
    values = _numbers(text)
    if len(values) != 2:
        raise ValueError(f"give exactly two learning rates, like 0.01, 0.03; got {len(values)}")
    values = tuple(sorted(values))
    check_learning_rates(values)
    return values


def parse_sweep(text: str) -> list[float]:
    """Two to MAX_SWEEP_RATES distinct learning rates in bounds from "0.001, 0.01, 0.1", sorted."""
    values = sorted(set(_numbers(text)))
    if not 2 <= len(values) <= MAX_SWEEP_RATES:
        raise ValueError(f"give 2 to {MAX_SWEEP_RATES} learning rates; got {len(values)}")
    for value in values:
        check_learning_rate(value)
    return values


def _numbers(text: str) -> list[float]:
    try:
        return [float(part) for part in text.replace(";", ",").split(",") if part.strip()]
    except ValueError:
        raise ValueError(f"learning rates must be numbers separated by commas, like 0.01, 0.03; got {quoted(text)}") from None


def format_learning_rates(learning_rates: tuple[float, ...]) -> str:
    """ "0.01, 0.03": each rate written exactly as the float it is, so that it reads back the same."""
    return ", ".join(_shortest(lr) for lr in learning_rates)


def _shortest(value: float) -> str:
    """The shortest text that reads back as `value` (repr), without a needless ".0"."""
    text = repr(float(value))
    return text.removesuffix(".0") if math.isfinite(value) else text


def from_query(params: Mapping[str, str]) -> tuple[View, list[Notice]]:
    """The view a URL asks for, and one notice per parameter that was ignored (and why)."""
    notices = [Notice(name, f"Ignored the unknown link parameter {quoted(name)}.") for name in params if name not in SETTINGS]
    learning_rates = QUESTION_LEARNING_RATES
    if "lr" in params:
        try:
            learning_rates = parse_learning_rates(params["lr"])
        except ValueError as error:
            notices.append(
                Notice(
                    "lr",
                    f"Ignored lr={quoted(params['lr'])} from the link: {error}. Using {format_learning_rates(learning_rates)}.",
                )
            )
    accepted: dict[str, str] = {}
    for name in LINK_ORDER:
        if name not in params:
            continue
        candidate = {**accepted, name: params[name]}
        if candidate.get("activation") == "linear":  # a linear output is only trained with from_logits
            candidate.setdefault("loss", "from_logits")
        try:
            RunConfig.from_dict(candidate)
            accepted = candidate
        except ValueError as error:
            notices.append(Notice(name, f"Ignored {name}={quoted(params[name])} from the link: {error}. Using the default."))
    return View(learning_rates, RunConfig.from_dict(accepted)), notices


def to_query(view: View) -> dict[str, str]:
    """The URL parameters of a view: only what differs from the defaults, so links stay short."""
    query = {name: value for name, value in view.config.to_dict().items() if name in CONFIG_KEYS}
    defaults = RunConfig().to_dict()
    query = {name: value for name, value in query.items() if value != defaults[name]}
    if view.learning_rates != QUESTION_LEARNING_RATES:
        query = {"lr": format_learning_rates(view.learning_rates), **query}
    return query
