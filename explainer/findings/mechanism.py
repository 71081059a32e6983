"""The Why page's measurements of the sidebar's setup (measured in a worker: worker/measure.py) and
the page's judgements of them, each threshold beside its rule."""

from __future__ import annotations

import dataclasses
import math

from explainer.config import ENGINES, OPTIMIZERS, RunConfig
from explainer.findings.rules import ratio, reports
from explainer.maths.linear import CLIP_EPSILON

# cross-entropy on probabilities clipped at CLIP_EPSILON can never exceed this per sample
PROBABILITY_LOSS_BOUND = -math.log(CLIP_EPSILON)
COLLAPSE_FACTORS = (0.1, 1.0, 10.0)  # learning rates of the collapse chart, relative to the lower one
COLLAPSE_RANGE = COLLAPSE_FACTORS[-1] / COLLAPSE_FACTORS[0]
# the accuracy artifact's three runs, by name: (engine, TensorFlow's arithmetic rewrite on)
ARTIFACT_RUNS = {"legacy": ("tf_keras", True), "legacy_unrewritten": ("tf_keras", False), "current": ("keras3", True)}
# step 1's candidate loss that only Keras' logits shortcut computes: an engine whose first-batch
# loss is closest to it computes its loss on the logits
LOGITS_PATH = "softmax cross-entropy on the logits"
# the Why page's judgements, each threshold beside its rule
COLLAPSE_SPREAD = 1.5  # "loss / lr collapses": the largest over the smallest below this, across COLLAPSE_RANGE
ADAPTIVE_TOLERANCE = 0.15  # "the weight norm follows the rate": within this relative distance of the rate ratio
SAME_LOSS_RTOL = 1e-6  # "trained identically": the largest loss over the smallest within 1 + this


def runs_needed(config: RunConfig, learning_rates: tuple[float, float]) -> list[RunConfig]:
    """Every run the measurements read, so a page can train them first with progress."""
    low = learning_rates[0]
    runs = [
        config.replace(engine=engine, optimizer=optimizer, learning_rate=lr)
        for engine in ENGINES
        for optimizer in OPTIMIZERS
        for lr in learning_rates
        if engine == config.engine or optimizer == config.optimizer
    ]
    runs += [config.replace(learning_rate=low * factor) for factor in COLLAPSE_FACTORS]
    runs += [
        config.replace(engine=engine, arithmetic_optimization=on, learning_rate=low) for engine, on in ARTIFACT_RUNS.values()
    ]
    return list(dict.fromkeys(runs))


@dataclasses.dataclass(frozen=True)
class Mechanism:
    """Plain rows, one list per step of the explanation."""

    versions: dict[str, str]
    loss_paths: list[dict]
    inputs: dict
    step_sizes: list[dict]
    saturation: list[dict]
    scaling: list[dict]
    collapse: list[dict]
    artifact: list[dict]
    per_sample: list[dict]
    histogram: list[dict]

    # the page's judgements, with their thresholds, computed here so that they can be tested
    @property
    def collapse_spread(self) -> float:
        """Largest over smallest loss / lr among the collapse runs, at the last epoch."""
        last = max(row["epoch"] for row in self.collapse)
        values = [row["loss_over_lr"] for row in self.collapse if row["epoch"] == last]
        return ratio(max(values), min(values))

    @property
    def collapses(self) -> bool:
        return self.collapse_spread < COLLAPSE_SPREAD

    @property
    def saturation_at_end(self) -> dict:
        """The low learning rate's saturation row after its last epoch."""
        low = min(row["learning_rate"] for row in self.saturation)
        return [row for row in self.saturation if row["learning_rate"] == low][-1]

    @property
    def margin_growth(self) -> tuple[float, float]:
        """How much larger the misclassified images' median margin is at the higher learning rate,
        and the learning-rate ratio it is compared with."""
        low, high = self.per_sample
        margins = ratio(high["median_margin_misclassified"], low["median_margin_misclassified"])
        return margins, ratio(high["learning_rate"], low["learning_rate"])

    @property
    def final_scaling(self) -> list[dict]:
        """The weight-scaling rows of the last epoch, one per optimizer."""
        last = max(row["epoch"] for row in self.scaling)
        return [row for row in self.scaling if row["epoch"] == last]

    @property
    def final_sgd_scaling(self) -> dict:
        """SGD's weight-scaling row of the last epoch."""
        return next(row for row in self.final_scaling if row["optimizer"] == "sgd")

    @property
    def adaptive_scaling(self) -> list[dict]:
        """The last epoch's rows of the adaptive optimizers (RMSprop, Adam)."""
        return [row for row in self.final_scaling if row["optimizer"] != "sgd"]

    @property
    def adaptive_follow_lr(self) -> bool:
        """RMSprop's and Adam's final weight-norm ratios within ADAPTIVE_TOLERANCE of the learning-rate ratio."""
        return all(abs(ratio(row["norm_ratio"], row["lr_ratio"]) - 1) < ADAPTIVE_TOLERANCE for row in self.adaptive_scaling)

    @property
    def on_logits(self) -> list[str]:
        """The engines whose first-batch loss is closest to LOGITS_PATH: they compute it on the logits."""
        return [row["engine"] for row in self.loss_paths if row["closest"] == LOGITS_PATH]

    @property
    def past_probability_bound(self) -> list[str]:
        """The engines whose first-batch loss exceeds what a cross-entropy on clipped probabilities
        can reach (PROBABILITY_LOSS_BOUND): only a loss on the logits can."""
        return [row["engine"] for row in self.loss_paths if row["keras"] > PROBABILITY_LOSS_BOUND]

    @property
    def same_artifact_loss(self) -> bool:
        """The three accuracy-artifact runs trained identically (losses within SAME_LOSS_RTOL)."""
        losses = [row["loss"] for row in self.artifact]
        return ratio(max(losses), min(losses)) - 1 < SAME_LOSS_RTOL

    def artifact_run(self, name: str) -> dict:
        """The row of the artifact run `name` (ARTIFACT_RUNS)."""
        engine, rewrite = ARTIFACT_RUNS[name]
        return next(row for row in self.artifact if (row["engine"], row["arithmetic_optimization"]) == (engine, rewrite))

    def reports(self, run: str, accuracy: str) -> bool:
        """Artifact run `run` (ARTIFACT_RUNS) reports the `accuracy` ("logit_accuracy" or "predict_accuracy")."""
        row = self.artifact_run(run)
        return reports(row["reported_val_accuracy"], row[accuracy])

    @property
    def rewrite_shown(self) -> bool:
        """tf.keras 2 reports the logits' accuracy with the graph optimizer on, predict's with it off."""
        return self.reports("legacy", "logit_accuracy") and self.reports("legacy_unrewritten", "predict_accuracy")
