"""Does any learning rate make this model diverge? A sweep up to where float32 overflows, on raw
pixels and on x / 255, judged by rules.DIVERGENCE_RULE, set beside the question's plateau."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from explainer.config import RunConfig
from explainer.findings.rules import (
    DIVERGENCE_RULE,
    FOLLOWS_LR_TOLERANCE,
    RISING_EPOCHS,
    divergence_reason,
    follows_learning_rate,
    loglog_slope,
)
from explainer.fixes import base_config
from explainer.labels import NAMES, figure
from explainer.run import RunResult
from explainer.view import View

LEARNING_RATES = tuple(10.0**k for k in range(-4, 39, 3))  # 1e-4 to 1e38, the edge of float32
EPOCHS = RISING_EPOCHS + 1  # enough epochs for the rule to see a rise in each of the last RISING_EPOCHS
# the final loss's log-log slope is taken over the rates of at least this that stay finite (where
# a rate is large enough for the loss to sit on its plateau); it is "proportional to the rate"
# by rules.follows_learning_rate
PLATEAU_RATE = 1.0
SUBSET = 10_000  # images per run: a rise or an overflow shows as well on a sixth of the set
SWEPT_SCALINGS = ("raw", "unit")


def runs_needed(view: View) -> list[RunConfig]:
    """The question's setup (the sidebar's engine and seed) at every rate, on both scalings."""
    base = base_config(view.config).replace(num_epochs=EPOCHS, train_subset=min(view.config.train_subset or SUBSET, SUBSET))
    return [base.replace(scaling=scaling, learning_rate=lr) for scaling in SWEPT_SCALINGS for lr in LEARNING_RATES]


@dataclasses.dataclass(frozen=True)
class Sweep:
    """Per run: its scaling, rate, final loss (if finite), reported validation accuracy, and
    how it diverged (None if it did not)."""

    rows: list[dict]

    def diverged(self, scaling: str) -> list[dict]:
        return [row for row in self.rows if row["scaling"] == scaling and row["diverged"]]

    def rising(self) -> list[dict]:
        """Runs that diverge with a finite loss: rising epoch over epoch, not merely overflowing."""
        return [row for row in self.rows if row["diverged"] and row["finite"]]

    def slope(self, scaling: str) -> float:
        """Log-log slope of the final loss over the rates of PLATEAU_RATE and more that stay finite."""
        points = [
            row for row in self.rows if row["scaling"] == scaling and row["finite"] and row["learning_rate"] >= PLATEAU_RATE
        ]
        return loglog_slope([row["learning_rate"] for row in points], [row["loss"] for row in points])

    def finding(self) -> str:
        """The answer in words, with the rule and the figures."""
        lowest, highest = LEARNING_RATES[0], LEARNING_RATES[-1]
        rising = self.rising()
        verdict = (
            f"No learning rate from {lowest:g} to {highest:g} makes the loss rise epoch over epoch, on raw pixels or on x / 255"
            if not rising
            else "These runs' losses rise epoch over epoch: "
            + ", ".join(f"{NAMES[row['scaling']]} at {row['learning_rate']:g}" for row in rising)
        )
        overflow = "; ".join(
            f"on {NAMES[scaling]} from {min(row['learning_rate'] for row in rows):g} on"
            for scaling in SWEPT_SCALINGS
            if (rows := [row for row in self.diverged(scaling) if not row["finite"]])
        )
        return (
            f"{verdict} ({EPOCHS} epochs on {SUBSET:,} images each; the rule: {DIVERGENCE_RULE}). "
            + (f"The loss becomes infinite or NaN only where float32 overflows: {overflow}. " if overflow else "")
            + self.plateau()
        )

    def plateau(self) -> str:
        """Whether the final loss is proportional to the rate from PLATEAU_RATE on, per scaling, with its slope."""
        slopes = {scaling: self.slope(scaling) for scaling in SWEPT_SCALINGS}
        words = " and ".join(f"{figure(slope, '.2f')} on {NAMES[scaling]}" for scaling, slope in slopes.items())
        if all(map(follows_learning_rate, slopes.values())):
            return (
                f"From a rate of {PLATEAU_RATE:g} on, the final loss is proportional to the learning rate "
                f"(log-log slope {words}): the same plateau as the question's, at a level the rate sets."
            )
        apart = " or ".join(NAMES[scaling] for scaling, slope in slopes.items() if not follows_learning_rate(slope))
        return (
            f"From a rate of {PLATEAU_RATE:g} on, the final loss's log-log slope against the learning rate is {words}: "
            f"not proportional to the rate on {apart} (proportional is a slope within {FOLLOWS_LR_TOLERANCE:g} of 1)."
        )


def sweep(runs: Mapping[RunConfig, RunResult], view: View) -> Sweep:
    """The sweep from trained `runs` (every config of `runs_needed`)."""
    rows = []
    for config in runs_needed(view):
        result = runs[config]
        reason = divergence_reason(result)
        loss = result.final("loss")
        rows.append(
            {
                "scaling": config.scaling,
                "learning_rate": config.learning_rate,
                "loss": loss,
                "finite": result.diverged is None,
                "val_accuracy": result.final("val_accuracy"),
                "diverged": reason,
            }
        )
    return Sweep(rows)
