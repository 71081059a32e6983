"""Numbers the pages and the CLI state: Keras-style logs, loss ratios, sweep slopes, tidy rows."""
from __future__ import annotations

import dataclasses
import math

import numpy as np

from explainer.train import METRICS, RunResult

ENGINE_NAMES = {"tf_keras": "tf.keras 2", "keras3": "Keras 3"}


def ratio(numerator: float, denominator: float) -> float:
    """numerator / denominator, NaN when the denominator is 0 (a tiny run can fit every sample)."""
    return numerator / denominator if denominator else math.nan


def keras_line(history: dict[str, list[float]], epoch: int) -> str:
    """One epoch as Keras prints it: 'loss: ... - accuracy: ... - val_loss: ... - val_accuracy: ...'."""
    return " - ".join(f"{name}: {history[name][epoch]:.4f}" for name in METRICS)


def keras_log(result: RunResult) -> str:
    lines = [
        f"Epoch {epoch + 1}/{result.config.num_epochs} - {keras_line(result.history, epoch)}"
        for epoch in range(len(result.history["loss"]))
    ]
    if result.diverged:
        lines.append(f"Stopped: {result.diverged}")
    return "\n".join(lines)


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
        """Every epoch's loss ratio within 25% of the learning-rate ratio."""
        return all(abs(ratio / self.lr_ratio - 1) < 0.25 for ratio in self.loss_ratios)


def compare(low: dict[str, list[float]], high: dict[str, list[float]], lr_ratio: float) -> Comparison:
    """Loss ratio high/low per common epoch, and final reported training accuracies."""
    epochs = min(len(low["loss"]), len(high["loss"]))
    return Comparison(
        lr_ratio=lr_ratio,
        loss_ratios=[high["loss"][e] / low["loss"][e] for e in range(epochs)],
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
