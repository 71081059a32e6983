"""The sidebar's state as plain data: learning rates to compare plus one RunConfig, to and from
URL query parameters (bad values fall back to defaults with a notice, never an exception)."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping

from explainer.config import RunConfig

DEFAULT_LEARNING_RATES = (0.01, 0.03)
# the reproduce page's learning-rate sweep: three decades, one short epoch per rate by default
SWEEP_LEARNING_RATES = (0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0)
SWEEP_EPOCHS = 1
MAX_SWEEP_RATES = 12  # runs one sweep may ask for
CONFIG_KEYS = ("engine", "activation", "loss", "scaling", "optimizer", "batch_size", "num_epochs", "seed", "train_subset")


@dataclasses.dataclass(frozen=True)
class View:
    """What every page shows: `config` trained at each of `learning_rates` (the config carries
    the lower one, so that it names a real run)."""

    learning_rates: tuple[float, float] = DEFAULT_LEARNING_RATES
    config: RunConfig = RunConfig()

    def __post_init__(self) -> None:
        object.__setattr__(self, "config", self.config.replace(learning_rate=self.learning_rates[0]))

    @property
    def lr_ratio(self) -> float:
        """The higher learning rate over the lower one."""
        return self.learning_rates[1] / self.learning_rates[0]

    def run_configs(self, engine: str | None = None) -> list[RunConfig]:
        """One config per learning rate, on `engine` if given (else the sidebar's engine)."""
        base = self.config if engine is None else self.config.replace(engine=engine)
        return [base.replace(learning_rate=lr) for lr in self.learning_rates]


def widget_values(config: RunConfig) -> dict:
    """The sidebar widgets' values for a config (0 training images stands for all of them)."""
    return {**{name: getattr(config, name) for name in CONFIG_KEYS}, "train_subset": config.train_subset or 0}


def config_from_widgets(values: Mapping) -> RunConfig:
    """The config the sidebar widgets' values describe (the inverse of `widget_values`)."""
    return RunConfig(**{**{name: values[name] for name in CONFIG_KEYS}, "train_subset": values["train_subset"] or None})


def parse_learning_rates(text: str) -> tuple[float, float]:
    """Two distinct learning rates from "0.01, 0.03"; ValueError saying what is wrong."""
    parts = [part for part in text.replace(";", ",").split(",") if part.strip()]
    try:
        values = tuple(float(part) for part in parts)
    except ValueError:
        raise ValueError(f"learning rates must be numbers, like 0.01, 0.03; got {text!r}") from None
    if len(values) != 2:
        raise ValueError(f"give exactly two learning rates, like 0.01, 0.03; got {len(values)}")
    if not all(math.isfinite(value) and value > 0 for value in values):
        raise ValueError(f"learning rates must be finite and > 0; got {text!r}")
    if values[0] == values[1]:
        raise ValueError("the two learning rates must differ")
    return tuple(sorted(values))


def parse_sweep(text: str) -> list[float]:
    """Two to MAX_SWEEP_RATES distinct learning rates > 0 from "0.001, 0.01, 0.1", sorted."""
    try:
        values = sorted({float(part) for part in text.replace(";", ",").split(",") if part.strip()})
    except ValueError:
        raise ValueError(f"learning rates must be numbers separated by commas; got {text!r}") from None
    if not 2 <= len(values) <= MAX_SWEEP_RATES:
        raise ValueError(f"give 2 to {MAX_SWEEP_RATES} learning rates; got {len(values)}")
    if not all(math.isfinite(value) and value > 0 for value in values):
        raise ValueError("learning rates must be finite and > 0")
    return values


def format_learning_rates(learning_rates: tuple[float, float]) -> str:
    return ", ".join(f"{lr:g}" for lr in learning_rates)


def from_query(params: Mapping[str, str]) -> tuple[View, list[str]]:
    """The view a URL asks for, and one notice per parameter that was ignored (and why)."""
    notices = [f"Ignored the unknown URL parameter {name!r}." for name in params if name not in ("lr", *CONFIG_KEYS)]
    learning_rates = DEFAULT_LEARNING_RATES
    if "lr" in params:
        try:
            learning_rates = parse_learning_rates(params["lr"])
        except ValueError as error:
            notices.append(f"Ignored lr={params['lr']!r}: {error}. Using {format_learning_rates(learning_rates)}.")
    accepted: dict[str, str] = {}
    for name in CONFIG_KEYS:
        if name not in params:
            continue
        candidate = {**accepted, name: params[name]}
        if candidate.get("activation") == "linear":  # a linear output is only trained with from_logits
            candidate.setdefault("loss", "from_logits")
        try:
            RunConfig.from_dict(candidate)
            accepted = candidate
        except ValueError as error:
            notices.append(f"Ignored {name}={params[name]!r}: {error}. Using the default.")
    return View(learning_rates, RunConfig.from_dict(accepted)), notices


def to_query(view: View) -> dict[str, str]:
    """The URL parameters of a view: only what differs from the defaults, so links stay short."""
    query = {name: value for name, value in view.config.to_dict().items() if name in CONFIG_KEYS}
    defaults = RunConfig().to_dict()
    query = {name: value for name, value in query.items() if value != defaults[name]}
    if view.learning_rates != DEFAULT_LEARNING_RATES:
        query = {"lr": format_learning_rates(view.learning_rates), **query}
    return query
