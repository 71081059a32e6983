"""Whether a reader's own training log is this puzzle: stated rules read off one or two logs (two
runs at different learning rates, as the question had) and what the reader says they know, each
rule a function with its threshold beside it. Each finding says what it measured and what it
rests on; the verdict is "this puzzle" only when one of the puzzle's own SIGNATURES holds, since a
wrong diagnosis is worse than none."""

from __future__ import annotations

import dataclasses
import math

from explainer.findings.mechanism import PROBABILITY_LOSS_BOUND
from explainer.findings.rules import (
    DIVERGENCE_RULE,
    FOLLOWS_LR_TOLERANCE,
    follows_learning_rate,
    growth_exponent,
    ratio,
    rising_reason,
)
from explainer.labels import figure
from explainer.logs import TrainingLog
from explainer.maths.linear import CLIP_EPSILON
from explainer.run import METRICS

MAX_LOGS = 2  # the rules compare at most two runs (one learning rate against another)
# "the accuracy does not move": the two runs' last reported accuracies at most this far apart
FLAT_ACCURACY = 0.02
# "the loss moves": one run's last loss at least this many times the other's
LOSS_MOVES = 1.5
# "the validation loss is far from the training loss": at least this far apart, relative to the
# training loss, in the last epoch, while the two accuracies are within FLAT_ACCURACY
VALIDATION_GAP = 0.10
SIGNATURES = ("logits_loss", "loss_follows_rate")  # the rules that say "this puzzle" on their own

# what a reader may say they know, by code (words for them: labels.KNOWN_WORDS)
LOSSES = ("categorical_crossentropy", "from_logits", "other")  # "other": no cross-entropy (MSE, ...)
VERDICTS = ("this_puzzle", "divergence", "none_found")


@dataclasses.dataclass(frozen=True)
class Known:
    """What the reader says about their runs, None where they do not say; learning_rates: one
    per log (None: the one its own text states, if any)."""

    learning_rates: tuple[float | None, ...] = ()
    activation: str | None = None
    loss: str | None = None
    inputs: str | None = None


@dataclasses.dataclass(frozen=True)
class Finding:
    """One rule checked. holds: its signature is in the log(s). text: what was measured, in a
    sentence. rests_on: what that rests on. evidence: what shows it at length (as answer.Claim's).
    fix: the code of the fix that applies when it holds."""

    rule: str
    holds: bool
    text: str
    rests_on: str
    evidence: str
    fix: str | None = None


@dataclasses.dataclass(frozen=True)
class Diagnosis:
    verdict: str  # one of VERDICTS
    findings: list[Finding]  # every rule checked, in order

    @property
    def holding(self) -> list[Finding]:
        """What says the verdict: the findings that hold, unless nothing of the puzzle does."""
        return [] if self.verdict == "none_found" else [finding for finding in self.findings if finding.holds]

    @property
    def fixes(self) -> list[str]:
        return list(dict.fromkeys(finding.fix for finding in self.holding if finding.fix))


def diagnose(logs: list[TrainingLog], known: Known = Known()) -> Diagnosis:
    """The verdict for one or two logs: divergence when a run's loss diverges (the app's rule);
    this puzzle when a SIGNATURE holds; else not this one, with everything checked."""
    rates = [
        (known.learning_rates[i] if i < len(known.learning_rates) else None) or log.learning_rate for i, log in enumerate(logs)
    ]
    names = ["your log"] if len(logs) == 1 else ["the first log", "the second log"]
    findings = [divergence(log, name) for log, name in zip(logs, names)]
    if any(finding.holds for finding in findings):
        return Diagnosis("divergence", findings)
    findings.append(logits_loss(logs, known))
    if len(logs) == 2:
        (low, low_rate), (high, high_rate) = sorted(zip(logs, rates), key=lambda pair: pair[1] or 0)
        findings += [loss_follows_rate(low, high, low_rate, high_rate, known), flat_accuracy(low, high)]
    signature = any(finding.holds for finding in findings if finding.rule in SIGNATURES)
    findings += [validation_gap(log, name) for log, name in zip(logs, names)]
    return Diagnosis("this_puzzle" if signature else "none_found", findings)


def _puzzle_fix(known: Known) -> str:
    """This puzzle's fix for the reader's setup: scale the inputs, unless they say they are
    scaled already (then a smaller learning rate)."""
    return "lower_lr" if known.inputs in ("unit", "standardized") else "unit"


def divergence(log: TrainingLog, name: str = "your log") -> Finding:
    """DIVERGENCE_RULE, on the log's training loss."""
    losses = log.series("loss")
    reason = rising_reason(losses)
    text = (
        f"{name.capitalize()} diverges: {reason}. That is not this puzzle, whose loss settles at a level the rate sets."
        if reason
        else f"{name.capitalize()} does not diverge: its training loss ends at {figure(log.last('loss'))} "
        f"after {len(losses)} epoch(s)."
    )
    return Finding("divergence", reason is not None, text, f"the training loss per epoch; {DIVERGENCE_RULE}", "fixes", "lower_lr")


def logits_loss(logs: list[TrainingLog], known: Known) -> Finding:
    """A cross-entropy on probabilities clipped at CLIP_EPSILON never exceeds
    PROBABILITY_LOSS_BOUND per image: a reported loss above it was computed on the logits."""
    rests_on = f"the loss per image the log reports, and Keras' clipping of probabilities at {CLIP_EPSILON:g}"
    if known.loss == "other":
        return Finding(
            "logits_loss", False, "The loss is no cross-entropy, you say: the bound does not apply.", rests_on, "mechanism"
        )
    reported = [value for log in logs for name in ("loss", "val_loss") for value in log.series(name) if math.isfinite(value)]
    largest, bound = max(reported, default=math.nan), f"-log({CLIP_EPSILON:g}) = {PROBABILITY_LOSS_BOUND:.2f}"
    holds = largest > PROBABILITY_LOSS_BOUND
    on_logits = known.loss == "from_logits" or known.activation == "linear"
    computed = "as you ask, on the logits" if on_logits else "on the logits, whatever the activation"
    text = (
        f"The log reports a loss of up to {figure(largest)} per image, and a cross-entropy on probabilities, which Keras "
        f"clips at {CLIP_EPSILON:g}, can never exceed {bound} per image: Keras computed it {computed}, where "
        "saturated outputs give losses in the hundreds."
        if holds
        else f"The largest loss in the log, {figure(largest)} per image, is within the {bound} a cross-entropy on "
        "probabilities can reach: it does not show the logits shortcut."
    )
    return Finding("logits_loss", holds, text, rests_on, "mechanism", _puzzle_fix(known))


def loss_follows_rate(
    low: TrainingLog, high: TrainingLog, low_rate: float | None, high_rate: float | None, known: Known
) -> Finding:
    """Between two runs, the loss ratio at their last common epoch against their learning-rate
    ratio: within the app's FOLLOWS_LR_TOLERANCE of proportional is the saturated regime."""
    rests_on = (
        "the two runs' training loss at their last common epoch and their learning rates; the app's rule: a growth "
        f"exponent within {FOLLOWS_LR_TOLERANCE} of 1"
    )
    if known.loss == "other":
        return Finding(
            "loss_follows_rate", False, "The loss is no cross-entropy, you say: the rule does not apply.", rests_on, "surface"
        )
    if not (low_rate and high_rate) or low_rate == high_rate:
        text = "The two learning rates are not known, or equal: type them beside the logs to compare the loss with the rate."
        return Finding("loss_follows_rate", False, text, rests_on, "surface")
    epoch = min(len(low.series("loss")), len(high.series("loss")))
    loss_ratio, lr_ratio = ratio(high.series("loss")[epoch - 1], low.series("loss")[epoch - 1]), high_rate / low_rate
    exponent = growth_exponent(loss_ratio, lr_ratio)
    holds = follows_learning_rate(exponent)
    text = (
        f"At epoch {epoch}, the run at learning rate {high_rate:g} has a loss {figure(loss_ratio, '.3g')} times the run at "
        f"{low_rate:g}'s, for {lr_ratio:.3g} times the rate (growth exponent {figure(exponent, '.2f')}; 1 is proportional)"
    )
    text += (
        ": the loss follows the learning rate. That is the saturated regime, where SGD's steps no longer depend on the "
        "weights' scale, so the weights and the loss grow with the rate."
        if holds
        else ": the loss does not follow the learning rate."
    )
    return Finding("loss_follows_rate", holds, text, rests_on, "surface", _puzzle_fix(known))


def flat_accuracy(low: TrainingLog, high: TrainingLog) -> Finding:
    """Two runs whose last reported accuracies are within FLAT_ACCURACY while one loss is at least
    LOSS_MOVES times the other: what moves the loss is not what the accuracy counts."""
    rests_on = f"the two runs' last reported accuracy (apart by {FLAT_ACCURACY} at most) and training loss"
    accuracies, losses = (low.last("accuracy"), high.last("accuracy")), (low.last("loss"), high.last("loss"))
    if not all(map(math.isfinite, accuracies)):
        return Finding("flat_accuracy", False, "The logs do not both report an accuracy.", rests_on, "mechanism")
    factor = ratio(max(losses), min(losses))
    holds = abs(accuracies[0] - accuracies[1]) <= FLAT_ACCURACY and factor >= LOSS_MOVES
    text = f"Their reported accuracies end at {accuracies[0]:.4f} and {accuracies[1]:.4f}, while one loss is "
    text += f"{figure(factor, '.3g')} times the other" + (": the accuracy does not move with the loss." if holds else ".")
    return Finding("flat_accuracy", holds, text, rests_on, "mechanism", "unit")


def validation_gap(log: TrainingLog, name: str = "your log") -> Finding:
    """In the last epoch, a validation loss at least VALIDATION_GAP away from the training loss
    (relative to it), at accuracies within FLAT_ACCURACY."""
    rests_on = f"the last epoch's training and validation loss and accuracy (apart by {FLAT_ACCURACY} at most)"
    loss, accuracy, val_loss, val_accuracy = (log.last(metric) for metric in METRICS)
    if not all(map(math.isfinite, (loss, val_loss, accuracy, val_accuracy))):
        return Finding("validation_gap", False, f"In {name}, no validation loss to compare.", rests_on, "reproduction")
    gap = abs(val_loss - loss) / loss if loss else math.nan
    holds = gap >= VALIDATION_GAP and abs(val_accuracy - accuracy) <= FLAT_ACCURACY
    text = (
        f"In {name}'s last epoch the validation loss, {figure(val_loss)}, is {figure(gap, '.0%')} away from the "
        f"training loss, {figure(loss)}, at accuracies of {val_accuracy:.4f} and {accuracy:.4f}"
    )
    text += ": the loss moves where the accuracy does not." if holds else "."
    return Finding("validation_gap", holds, text, rests_on, "reproduction", "unit")
