"""Numbers the pages and the CLI state: Keras-style logs, loss ratios, sweep slopes, tidy rows."""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from explainer.reader.labels import NAMES, figure
from explainer.run import METRICS, RunResult

# the loss "follows the learning rate" when its growth exponent log(loss ratio) / log(lr ratio)
# is within this of 1 (1 is proportional, 0 is independent); one rule for every page and verdict
FOLLOWS_LR_TOLERANCE = 0.25
# a reported accuracy "is" another one when they are this close
SAME_ACCURACY = 0.01
RISING_EPOCHS = 3  # a run diverges when its loss rises in each of this many last epochs
DIVERGENCE_RULE = (
    f"a run diverges when its training loss becomes infinite or NaN, or rises in each of its last {RISING_EPOCHS} "
    "epochs (in every epoch after the first, for shorter runs)"
)


def ratio(numerator: float, denominator: float) -> float:
    """numerator / denominator, NaN when the denominator is 0 (a tiny run can fit every sample)."""
    return numerator / denominator if denominator else math.nan


def divergence_reason(result: RunResult) -> str | None:
    """How the run diverges by DIVERGENCE_RULE, in words, or None if it does not."""
    if result.diverged:
        return result.diverged
    losses = result.history["loss"][-(RISING_EPOCHS + 1) :]
    if len(losses) > 1 and all(later > earlier for earlier, later in zip(losses, losses[1:])):
        return f"its training loss rose in each of its last {len(losses) - 1} epoch(s), from {losses[0]:.4g} to {losses[-1]:.4g}"
    return None


def keras_line(history: dict[str, list[float]], epoch: int) -> str:
    """One epoch as Keras prints it: 'loss: ... - accuracy: ... - val_loss: ... - val_accuracy: ...'."""
    return " - ".join(f"{name}: {history[name][epoch]:.4f}" for name in METRICS)


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


def growth_exponent(loss_ratio: float, lr_ratio: float) -> float:
    """log(loss ratio) / log(lr ratio): 1 when the loss is proportional to the learning rate,
    0 when independent of it; NaN where a ratio is undefined (a zero or non-finite loss)."""
    if not (math.isfinite(loss_ratio) and loss_ratio > 0 and lr_ratio > 0 and lr_ratio != 1):
        return math.nan
    return math.log(loss_ratio) / math.log(lr_ratio)


def follows_learning_rate(exponent: float) -> bool:
    """A growth exponent (or a log-log slope) within FOLLOWS_LR_TOLERANCE of 1."""
    return abs(exponent - 1) <= FOLLOWS_LR_TOLERANCE


def reports(reported: float, measured: float) -> bool:
    """Whether a reported accuracy is the measured one (within SAME_ACCURACY)."""
    return abs(reported - measured) < SAME_ACCURACY


def compare(low: dict[str, list[float]], high: dict[str, list[float]], lr_ratio: float) -> Comparison:
    """Loss ratio high/low per common epoch, and final reported training accuracies."""
    epochs = min(len(low["loss"]), len(high["loss"]))
    return Comparison(
        lr_ratio=lr_ratio,
        loss_ratios=[ratio(high["loss"][e], low["loss"][e]) for e in range(epochs)],
        accuracy_low=low["accuracy"][epochs - 1],
        accuracy_high=high["accuracy"][epochs - 1],
    )


def loglog_slope(learning_rates: list[float], losses: list[float]) -> float:
    """Least-squares slope of log(loss) against log(lr): 1 means loss proportional to lr.
    Non-finite losses (diverged runs) are left out; NaN if fewer than two remain."""
    points = [(lr, loss) for lr, loss in zip(learning_rates, losses) if math.isfinite(loss) and loss > 0]
    if len(points) < 2:
        return math.nan
    x, y = np.log(np.array(points)).T
    return float(np.polyfit(x, y, 1)[0])


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
