"""The rules every finding shares, each threshold named beside it: a ratio, the loss's growth
exponent and whether it follows the learning rate, whether a reported accuracy is a measured
one, the log-log slope, and when a run diverges."""

from __future__ import annotations

import math

import numpy as np

from explainer.run import RunResult

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
    return result.diverged or rising_reason(result.history["loss"])


def rising_reason(losses: list[float]) -> str | None:
    """How per-epoch training losses diverge by DIVERGENCE_RULE, in words, or None if they do not."""
    if any(not math.isfinite(loss) for loss in losses):
        return f"its training loss became {'NaN' if any(map(math.isnan, losses)) else 'infinite'}"
    last = losses[-(RISING_EPOCHS + 1) :]
    if len(last) > 1 and all(later > earlier for earlier, later in zip(last, last[1:])):
        return f"its training loss rose in each of its last {len(last) - 1} epoch(s), from {last[0]:.4g} to {last[-1]:.4g}"
    return None


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


def loglog_slope(learning_rates: list[float], losses: list[float]) -> float:
    """Least-squares slope of log(loss) against log(lr): 1 means loss proportional to lr.
    Non-finite losses (diverged runs) are left out; NaN if fewer than two remain."""
    points = [(lr, loss) for lr, loss in zip(learning_rates, losses) if math.isfinite(loss) and loss > 0]
    if len(points) < 2:
        return math.nan
    x, y = np.log(np.array(points)).T
    return float(np.polyfit(x, y, 1)[0])
