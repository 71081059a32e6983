"""What a run measured, as plain data (RunResult), where a run is while it trains (Progress),
and the one rule for its batch order, read by the trainer and by every replay of it."""

from __future__ import annotations

import dataclasses

import numpy as np

from explainer.config import RunConfig

METRICS = ("loss", "accuracy", "val_loss", "val_accuracy")
PREDICT_BATCH = 1000  # the batch size of the model.predict a run's predict accuracy comes from


@dataclasses.dataclass(frozen=True)
class Progress:
    """Where a run is: `step` of `steps_per_epoch` in epoch `epoch` (1-based) of `num_epochs`,
    the per-epoch logs of the epochs finished so far (charts fill in from them), and `loss`,
    Keras' running mean training loss of this epoch after `step` steps: what fit's progress bar
    shows at that step (None before the run's first report)."""

    epoch: int
    num_epochs: int
    step: int
    steps_per_epoch: int
    history: dict[str, list[float]] = dataclasses.field(default_factory=dict)
    loss: float | None = None

    @property
    def fraction(self) -> float:
        done = (self.epoch - 1) * self.steps_per_epoch + self.step
        return done / (self.num_epochs * self.steps_per_epoch)


@dataclasses.dataclass(frozen=True, eq=False)
class RunResult:
    """Everything measured in one run, as plain data.

    history: Keras' per-epoch logs, exactly what `fit` reports (one entry per epoch run).
    step_loss: the loss of every training step (the mini-batch loss before that step's update),
        recovered from Keras' running mean after each step; `steps_per_epoch` entries per epoch.
    kernels, biases: the Dense weights at initialisation and after each epoch.
    predict_accuracy, logit_accuracy: test accuracy of argmax(model.predict(x)) and of
        argmax(x @ W + b) for the final weights; they differ when sigmoid outputs tie at 1.0.
    first_batch_loss: the loss Keras itself reports on the first FIRST_BATCH training images
        (file order, FIRST_BATCH of them) with the final weights: which formula produced it
        tells Keras' loss path.
    diverged: None, or what went non-finite and where (training stops there).
    """

    config: RunConfig
    history: dict[str, list[float]]
    step_loss: np.ndarray
    steps_per_epoch: int
    kernels: np.ndarray
    biases: np.ndarray
    predict_accuracy: float
    logit_accuracy: float
    first_batch_loss: float
    diverged: str | None
    versions: dict[str, str]
    seconds: float

    def final(self, metric: str) -> float:
        """What Keras reported for `metric` (one of METRICS) after the last epoch run."""
        return self.history[metric][-1]


def epoch_order(rng: np.random.Generator, n: int) -> np.ndarray:
    """The next epoch's sample order: the one rule for the trainer and every replay of it."""
    return rng.permutation(n)


def batch_rows(order: np.ndarray, size: int, steps_per_call: float):
    """An epoch's `order` as the trainer's calls take it: (steps, size) int32 index arrays, one
    row per batch, at most `steps_per_call` rows each; the last, smaller batch alone, as fit
    trains it (a loop traced for one row width would be traced again for another)."""
    full = len(order) // size * size
    whole = order[:full].reshape(-1, size).astype(np.int32)
    chunk = int(min(steps_per_call, max(len(whole), 1)))
    yield from (whole[start : start + chunk] for start in range(0, len(whole), chunk))
    if full < len(order):
        yield order[full:][None, :].astype(np.int32)
