"""Each fix's verdict, computed from its runs against the question's setup's by rules stated once."""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from explainer.config import RunConfig
from explainer.findings.reproduction import history_rows
from explainer.findings.rules import (
    DIVERGENCE_RULE,
    FOLLOWS_LR_TOLERANCE,
    divergence_reason,
    follows_learning_rate,
    growth_exponent,
    ratio,
)
from explainer.fixes import FIXES, LOWER_LR_FACTOR, fix_config
from explainer.labels import FIX_NAMES, VERDICT_COLOURS, VERDICT_WORDS, figure
from explainer.run import RunResult

# the rules, stated once; the page prints them
IDENTICAL_RTOL = 1e-6  # every step's loss and the final weights within this relative tolerance
FIXED_LOSS = 1.0  # a cross-entropy below this means probabilities that mean something
FIXED_ACCURACY = 0.85  # reported validation accuracy, which must also match argmax(predict)
ARTIFACT_TOLERANCE = 0.02  # |reported val_accuracy - argmax(predict) accuracy|
UNCHANGED_ACCURACY = 0.03  # "accuracy unchanged" against the baseline
INDEPENDENT_EXPONENT = 0.5  # a growth exponent below this: the loss no longer follows the rate
RULES = {  # each verdict's rule, in the order they are tried
    "identical-training": "every step's loss and the final weights equal the question's setup's "
    f"(relative tolerance {IDENTICAL_RTOL:g}) at both learning rates.",
    "fixes-it": f"final loss below {FIXED_LOSS:g} at both learning rates, the loss no longer follows the learning rate "
    f"(growth exponent log(loss ratio) / log(learning-rate ratio) below {INDEPENDENT_EXPONENT:g}), and a reported "
    f"validation accuracy of at least {FIXED_ACCURACY:g} that argmax(model.predict) confirms within {ARTIFACT_TOLERANCE:g}.",
    "rescales-loss-only": f"the loss still follows the learning rate (growth exponent within {FOLLOWS_LR_TOLERANCE:g} of 1) "
    f"and the reported validation accuracy stays within {UNCHANGED_ACCURACY:g} of the question's setup's; with the "
    f"learning rates divided by {LOWER_LR_FACTOR}, the loss must also shrink {LOWER_LR_FACTOR} times.",
    "changes-training": "anything else.",
}


@dataclasses.dataclass(frozen=True)
class FixOutcome:
    """One fix at both learning rates (low, high), against the baseline at the same rates."""

    fix: str
    runs: tuple[RunResult, RunResult]
    baseline: tuple[RunResult, RunResult]

    @property
    def loss_ratio(self) -> float:
        """Loss at the higher learning rate over the loss at the lower one, last epoch."""
        return ratio(self.runs[1].final("loss"), self.runs[0].final("loss"))

    @property
    def lr_ratio(self) -> float:
        return self.runs[1].config.learning_rate / self.runs[0].config.learning_rate

    @property
    def follows_lr(self) -> bool:
        """Whether this fix's final loss still follows the learning rate (see rules.follows_learning_rate)."""
        return follows_learning_rate(growth_exponent(self.loss_ratio, self.lr_ratio))

    def words(self) -> str:
        """The verdict for a reader: VERDICT_WORDS, and for "changes training" whether the loss
        still scales with the learning rate, as measured."""
        verdict = self.verdict()
        if verdict == "changes-training" and self.follows_lr:
            return f"{VERDICT_WORDS[verdict]}, still scales with the learning rate"
        return VERDICT_WORDS[verdict]

    def verdict(self) -> str:
        if _identical(self.runs, self.baseline):  # the baseline trivially, being the reference
            return "identical-training"
        if not all(math.isfinite(r.final("loss")) for r in self.runs):
            return "changes-training"
        if self._fixes_it():
            return "fixes-it"
        if self._rescales_only():
            return "rescales-loss-only"
        return "changes-training"

    def _fixes_it(self) -> bool:
        return (
            all(r.final("loss") < FIXED_LOSS for r in self.runs)
            and growth_exponent(self.loss_ratio, self.lr_ratio) < INDEPENDENT_EXPONENT
            and all(r.final("val_accuracy") >= FIXED_ACCURACY for r in self.runs)
            and all(abs(r.final("val_accuracy") - r.predict_accuracy) <= ARTIFACT_TOLERANCE for r in self.runs)
        )

    def _rescales_only(self) -> bool:
        follows_lr = follows_learning_rate(growth_exponent(self.loss_ratio, self.lr_ratio))
        same_accuracy = all(
            abs(r.final("val_accuracy") - b.final("val_accuracy")) <= UNCHANGED_ACCURACY for r, b in zip(self.runs, self.baseline)
        )
        divisor = FIXES[self.fix].rate_divisor if self.fix in FIXES else 1
        if divisor != 1:  # the baseline's loss over this one's should be the divisor
            shrink = ratio(self.baseline[0].final("loss"), self.runs[0].final("loss"))
            follows_lr = follows_lr and follows_learning_rate(growth_exponent(shrink, divisor))
        return follows_lr and same_accuracy


def _identical(runs, baseline) -> bool:
    return all(
        len(r.step_loss) == len(b.step_loss)
        and np.allclose(r.step_loss, b.step_loss, rtol=IDENTICAL_RTOL, atol=0)
        and np.allclose(r.kernels[-1], b.kernels[-1], rtol=IDENTICAL_RTOL, atol=0)
        for r, b in zip(runs, baseline)
    )


def matrix_rows(outcomes: list[FixOutcome]) -> list[dict]:
    """The fix-by-learning-rate matrix: one row per fix and learning rate (the JSON format)."""
    return [
        {
            "fix": outcome.fix,
            "learning_rate": run.config.learning_rate,
            "loss": run.final("loss"),
            "accuracy": run.final("accuracy"),
            "val_loss": run.final("val_loss"),
            "val_accuracy": run.final("val_accuracy"),
            "predict_accuracy": run.predict_accuracy,
            "verdict": verdict,
        }
        for outcome in outcomes
        for verdict in [outcome.verdict()]
        for run in outcome.runs
    ]


def outcomes(
    results: dict[RunConfig, RunResult],
    base: RunConfig,
    learning_rates: tuple[float, float],
    combination: RunConfig | None = None,
) -> list[FixOutcome]:
    """FixOutcomes from trained runs keyed by their configs (see `runs_needed`); the combination,
    if given, comes last under the name "combination"."""

    def pair(fix: str) -> tuple[RunResult, RunResult]:
        return tuple(results[fix_config(fix, base, lr)] for lr in learning_rates)

    found = [FixOutcome(fix, pair(fix), pair("baseline")) for fix in FIXES]
    if combination:
        runs = tuple(results[combination.replace(learning_rate=lr)] for lr in learning_rates)
        found.append(FixOutcome("combination", runs, pair("baseline")))
    return found


@dataclasses.dataclass(frozen=True)
class AcceptedAnswerCheck:
    """The accepted answer's two claims against the runs: "the learning rate is too high, hence
    the divergence" (the baseline diverges, by `rules.DIVERGENCE_RULE`) and "use softmax, not sigmoid"
    (whether softmax changes any training step)."""

    baseline: FixOutcome
    lower: FixOutcome
    softmax: FixOutcome

    @property
    def divergence(self) -> bool:
        return any(divergence_reason(run) for run in self.baseline.runs)

    @property
    def softmax_identical(self) -> bool:
        return self.softmax.verdict() == "identical-training"

    def divergence_sentence(self) -> str:
        """The first claim against the runs, with the rule and the figures it was judged on."""
        high, low_lower, low = self.baseline.runs[1], self.lower.runs[0], self.baseline.runs[0]
        losses = high.history["loss"]
        trend = f"goes from {figure(losses[0], '.4g')} after epoch 1 to {figure(losses[-1], '.4g')} after epoch {len(losses)}"
        return (
            f"At learning rate {high.config.learning_rate:g} the training loss {trend}: by the rule ({DIVERGENCE_RULE}) "
            f"it {'diverges' if self.divergence else 'does not diverge'}. Dividing the learning rates by {LOWER_LR_FACTOR} "
            f"{self.lower.words()}: the loss becomes {figure(low_lower.final('loss'), '.4g')} instead of "
            f"{figure(low.final('loss'), '.4g')}, the validation accuracy "
            f"{figure(low_lower.final('val_accuracy'), '.3f')} "
            f"instead of {figure(low.final('val_accuracy'), '.3f')}."
        )

    def softmax_sentence(self) -> str:
        """The second claim against the runs: what softmax changes in training, and in predict."""
        low, softmax = self.baseline.runs[0], self.softmax.runs[0]
        training = (
            "every training step is the same as with sigmoid, because Keras computes the loss on the logits either way"
            if self.softmax_identical
            else f"training changes (the verdict: {self.softmax.words()})"
        )
        return (
            f"With softmax {training}. What does change is model.predict: its argmax is right for "
            f"{figure(softmax.predict_accuracy, '.3f')} of the test set with softmax and {figure(low.predict_accuracy, '.3f')} "
            f"with sigmoid, whose saturated outputs tie at 1.0 (the logits themselves classify "
            f"{figure(low.logit_accuracy, '.3f')})."
        )


def check_accepted_answer(outcomes: list[FixOutcome]) -> AcceptedAnswerCheck:
    by_fix = {outcome.fix: outcome for outcome in outcomes}
    return AcceptedAnswerCheck(by_fix["baseline"], by_fix["lower_lr"], by_fix["softmax"])


def curve_rows(outcomes: list[FixOutcome], fix: str) -> list[dict]:
    """Per-epoch rows of the baseline and of `fix` at both learning rates; `source` says which."""
    by_fix = {outcome.fix: outcome for outcome in outcomes}
    return [
        row
        for name in ("baseline", fix)
        for run in by_fix[name].runs
        for row in history_rows(name, run.config.learning_rate, run.history)
    ]


def sentence(outcome: FixOutcome) -> str:
    """One fix's verdict with its figures, for a reader (Markdown, the verdict as a coloured badge)."""
    (low, high), verdict = outcome.runs, outcome.verdict()
    badge = "the reference" if outcome.fix == "baseline" else f":{VERDICT_COLOURS[verdict]}-badge[{outcome.words()}]"
    return (
        f"{badge} **{FIX_NAMES[outcome.fix]}**: final loss {figure(low.final('loss'), '.4g')} and "
        f"{figure(high.final('loss'), '.4g')} (ratio {figure(outcome.loss_ratio, '.2f')} for a rate ratio of "
        f"{outcome.lr_ratio:.2f}); validation accuracy {figure(low.final('val_accuracy'), '.3f')} as reported, "
        f"{figure(low.predict_accuracy, '.3f')} by argmax(model.predict)."
    )
