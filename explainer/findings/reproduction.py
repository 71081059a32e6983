"""The question reproduced: the loss ratio epoch by epoch, the learning-rate sweep's slope,
tidy rows of the histories, an engine's sentence."""

from __future__ import annotations

import dataclasses

from explainer.findings.rules import follows_learning_rate, growth_exponent, loglog_slope, ratio
from explainer.labels import NAMES, figure
from explainer.run import METRICS, RunResult


@dataclasses.dataclass(frozen=True)
class Comparison:
    """A higher learning rate against a lower one, epoch by epoch."""

    lr_ratio: float
    loss_ratios: list[float]
    accuracy_low: float
    accuracy_high: float

    @property
    def accuracy_difference(self) -> float:
        return self.accuracy_high - self.accuracy_low

    @property
    def loss_ratio_range(self) -> tuple[float, float]:
        return min(self.loss_ratios), max(self.loss_ratios)

    @property
    def proportional(self) -> bool:
        """Every epoch's loss follows the learning rate (see `follows_learning_rate`)."""
        return all(follows_learning_rate(growth_exponent(ratio, self.lr_ratio)) for ratio in self.loss_ratios)


def compare(low: dict[str, list[float]], high: dict[str, list[float]], lr_ratio: float) -> Comparison:
    """Loss ratio high/low per common epoch, and final reported training accuracies."""
    epochs = min(len(low["loss"]), len(high["loss"]))
    return Comparison(
        lr_ratio=lr_ratio,
        loss_ratios=[ratio(high["loss"][e], low["loss"][e]) for e in range(epochs)],
        accuracy_low=low["accuracy"][epochs - 1],
        accuracy_high=high["accuracy"][epochs - 1],
    )


def history_rows(source: str, learning_rate: float, history: dict[str, list[float]]) -> list[dict]:
    """One row per epoch and metric, for charts and CSV; `source` names the engine or the question."""
    return [
        {
            "source": source,
            "learning_rate": learning_rate,
            "epoch": epoch + 1,
            "metric": name.removeprefix("val_"),
            "split": "validation" if name.startswith("val_") else "training",
            "value": value,
        }
        for name in METRICS
        for epoch, value in enumerate(history[name])
    ]


def epoch_rows(results: list[RunResult], reported: dict[float, dict[str, list[float]]]) -> list[dict]:
    """Per-epoch rows of every run (its engine's name as the source) and of the question's logs."""
    rows = [row for r in results for row in history_rows(NAMES[r.config.engine], r.config.learning_rate, r.history)]
    return rows + [row for lr, history in reported.items() for row in history_rows("question", lr, history)]


@dataclasses.dataclass(frozen=True)
class LearningRateSweep:
    """Final loss and reported accuracy per learning rate; the log-log slope of loss on rate."""

    points: list[dict]

    @property
    def slope(self) -> float:
        return loglog_slope([p["learning_rate"] for p in self.points], [p["loss"] for p in self.points])

    @property
    def follows_learning_rate(self) -> bool:
        return follows_learning_rate(self.slope)

    @property
    def accuracy_range(self) -> tuple[float, float]:
        accuracies = [p["accuracy"] for p in self.points]
        return min(accuracies), max(accuracies)


def learning_rate_sweep(results: list[RunResult]) -> LearningRateSweep:
    return LearningRateSweep(
        [{"learning_rate": r.config.learning_rate, "loss": r.final("loss"), "accuracy": r.final("accuracy")} for r in results]
    )


def engine_sentence(comparison: Comparison, low: RunResult) -> str:
    """What one engine shows at the two rates, in one measured sentence."""
    lowest, highest = comparison.loss_ratio_range
    follows = "follows the learning rate" if comparison.proportional else "does not follow the learning rate"
    return (
        f"Over {len(comparison.loss_ratios)} epoch(s) the loss ratio stays between {figure(lowest, '.2f')} and "
        f"{figure(highest, '.2f')} for a rate ratio of {comparison.lr_ratio:.2f}: the loss {follows}. Keras reports a "
        f"validation accuracy of {figure(low.final('val_accuracy'), '.3f')}; argmax(model.predict) is right for "
        f"{figure(low.predict_accuracy, '.3f')} and argmax of the logits for {figure(low.logit_accuracy, '.3f')}."
    )
