"""The answer in a few plain sentences, each carrying its measurement from the view's runs and
saying so when the measurement does not bear it out; the landing page opens with them."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from explainer.config import RunConfig
from explainer.findings.mechanism import PROBABILITY_LOSS_BOUND
from explainer.findings.rules import follows_learning_rate, growth_exponent, ratio, reports
from explainer.findings.verdicts import FIXED_LOSS
from explainer.fixes import base_config, fix_config
from explainer.labels import figure
from explainer.maths import measures
from explainer.maths.measures import SATURATED_PROBABILITY
from explainer.run import Progress, RunResult
from explainer.view import View

# the artifact is worth a sentence when predict's accuracy falls this far below the reported one
ARTIFACT_GAP = 0.1
SATURATION_EPOCH = 1  # the answer states the saturation after this epoch
SATURATED_SHARE = 0.9  # "saturates every output": this share of images past SATURATED_PROBABILITY after SATURATION_EPOCH


# what shows a claim at length: the reproduction, the loss surface, the fixes, the mechanism
EVIDENCE = ("reproduction", "surface", "fixes", "mechanism")


@dataclasses.dataclass(frozen=True)
class Claim:
    """One sentence of the answer: `holds` says whether the measurement in it supports the
    explanation; `evidence` names the measurements that show it at length (a page shows each:
    "reproduction", "surface", "fixes" or "mechanism")."""

    text: str
    holds: bool
    evidence: str

    def __post_init__(self):
        if self.evidence not in EVIDENCE:
            raise ValueError(f"evidence must be one of {', '.join(EVIDENCE)}; got {self.evidence!r}")


def sentence_runs(view: View) -> list[list[RunConfig]]:
    """The runs each sentence of the answer reads, in the answer's order: the question's setup
    (the sidebar's engine and run length) at the lower rate or both, the same with x / 255, and
    Keras 3 on JAX."""
    base = base_config(view.config)
    question = View(view.learning_rates, base).run_configs()
    unit = [fix_config("unit", base, lr) for lr in view.learning_rates]
    jax = [base.replace(engine="keras3_jax", learning_rate=lr) for lr in view.learning_rates]
    return [question[:1], question[:1], question, question[:1], unit, jax]


SATURATION_SENTENCE = 1  # the one sentence that also reads the `saturated_share` of the `saturation_run`


def runs_needed(view: View) -> list[RunConfig]:
    """Every run the answer reads, once each."""
    return list(dict.fromkeys(config for configs in sentence_runs(view) for config in configs))


def saturation_run(view: View) -> RunConfig:
    """The run whose saturation the answer states: the question's setup at the lower rate."""
    return sentence_runs(view)[SATURATION_SENTENCE][0]


def saturation_epoch(run: RunResult) -> int:
    """The epoch the saturation is stated after: SATURATION_EPOCH, or the run's last when it has
    fewer (initialisation for a run without any)."""
    return min(SATURATION_EPOCH, len(run.kernels) - 1)


def claim(index: int, view: View, runs: Mapping[RunConfig, RunResult], saturated: float | None) -> Claim:
    """The answer's sentence `index` for the view, from `runs` (at least the sentence's own
    `sentence_runs`) and, for the SATURATION_SENTENCE, the `saturated_share` of the `saturation_run`."""
    read = [runs[config] for config in sentence_runs(view)[index]]
    return _SAYINGS[index](read, saturated)


def claims(view: View, runs: Mapping[RunConfig, RunResult], saturated: float) -> list[Claim]:
    """The whole answer for the view, from `runs` (every config of `runs_needed`)."""
    return [claim(index, view, runs, saturated) for index in range(SENTENCES)]


def _logits(runs: list[RunResult], _saturated: float | None) -> Claim:
    (run,) = runs
    return _logits_said(run.final("loss"), "")


def early_claim(progress: Progress) -> Claim:
    """The answer's first sentence while its run still trains, from the loss Keras' progress bar
    shows so far (`Progress.loss`); the run's own sentence replaces it once the run is done."""
    so_far = (
        f" so far (epoch {progress.epoch} of {progress.num_epochs}, step {progress.step:,} of "
        f"{progress.steps_per_epoch:,}: the run is still training)"
    )
    return _logits_said(progress.loss, so_far)


def _logits_said(loss: float, when: str) -> Claim:
    # a mean of per-image losses (an epoch's, or part of one): a cross-entropy on clipped
    # probabilities is at most the bound for every image, so for any mean of them too
    bound = PROBABILITY_LOSS_BOUND
    holds = loss > bound
    text = (
        f"Keras computes the cross-entropy on the logits, not on the sigmoid outputs: it reports a training loss of "
        f"{figure(loss, '.4g')} per image{when}, and a cross-entropy on probabilities can never exceed {bound:.1f} per image."
        if holds
        else f"Here Keras reports a training loss of {figure(loss, '.4g')} per image{when}, within the {bound:.1f} a "
        "cross-entropy on probabilities can reach: this measurement does not show the logits shortcut."
    )
    return Claim(text, holds, "mechanism")


def _saturation(runs: list[RunResult], share: float) -> Claim:
    (run,) = runs
    after = "the first epoch" if saturation_epoch(run) else "initialisation"
    holds = share >= SATURATED_SHARE
    text = (
        f"The inputs are raw pixels, 0 to 255, so each step moves the logits by hundreds: after {after}, "
        f"{figure(share, '.1%')} of the training images have a largest softmax probability above {SATURATED_PROBABILITY:g}."
        if holds
        else f"After {after} only {figure(share, '.1%')} of the training images have a largest softmax "
        f"probability above {SATURATED_PROBABILITY:g}: the outputs are not saturated here, which the explanation needs."
    )
    return Claim(text, holds, "mechanism")


def _scaling(runs: list[RunResult], _saturated: float | None) -> Claim:
    low, high = runs
    lr_ratio = high.config.learning_rate / low.config.learning_rate
    norms = measures.norm_ratio(low.kernels[-1], high.kernels[-1])
    losses = ratio(high.final("loss"), low.final("loss"))
    holds = follows_learning_rate(growth_exponent(norms, lr_ratio)) and follows_learning_rate(growth_exponent(losses, lr_ratio))
    text = (
        f"Saturated, SGD's updates no longer depend on the weights' scale, so the weights grow with the learning rate: "
        f"{lr_ratio:.3g} times the rate gives weights {figure(norms, '.3g')} times larger and a loss "
        f"{figure(losses, '.3g')} times larger. Nothing diverges: the loss settles at a level the rate sets."
        if holds
        else f"Here {lr_ratio:.3g} times the rate gives weights {figure(norms, '.3g')} times larger and a loss "
        f"{figure(losses, '.3g')} times larger: they do not follow the learning rate in this setup."
    )
    return Claim(text, holds, "surface")


def _artifact(runs: list[RunResult], _saturated: float | None) -> Claim:
    (run,) = runs
    reported = run.final("val_accuracy")
    holds = reports(reported, run.logit_accuracy) and reported - run.predict_accuracy > ARTIFACT_GAP
    text = (
        f"The reported accuracy, {figure(reported, '.2f')}, is itself an artifact: it is the accuracy of the logits, "
        f"which TensorFlow's graph optimizer uses inside the training step; argmax(model.predict(x)) is right for only "
        f"{figure(run.predict_accuracy, '.2f')}, because the saturated sigmoid outputs tie at exactly 1.0."
        if holds
        else f"Keras reports a validation accuracy of {figure(reported, '.2f')}, and argmax(model.predict(x)) gets "
        f"{figure(run.predict_accuracy, '.2f')}: on this engine the reported accuracy is not the logits' artifact."
    )
    return Claim(text, holds, "mechanism")


def _fix(unit: list[RunResult], _saturated: float | None) -> Claim:
    low, high = unit
    lr_ratio = high.config.learning_rate / low.config.learning_rate
    losses = ratio(high.final("loss"), low.final("loss"))
    accuracy = low.final("val_accuracy")
    holds = low.final("loss") < FIXED_LOSS and not follows_learning_rate(growth_exponent(losses, lr_ratio))
    text = (
        f"The fix is to scale the inputs to x / 255: the loss becomes {figure(low.final('loss'), '.3g')} and "
        f"{figure(high.final('loss'), '.3g')}, no longer following the rate, and predict's accuracy "
        f"{figure(low.predict_accuracy, '.2f')} (validation {figure(accuracy, '.2f')})."
        if holds
        else f"With x / 255 the loss is {figure(low.final('loss'), '.3g')} and {figure(high.final('loss'), '.3g')} "
        "here: scaling the inputs does not settle it in this setup."
    )
    return Claim(text, holds, "fixes")


def _jax(jax: list[RunResult], _saturated: float | None) -> Claim:
    low, high = jax
    lr_ratio = high.config.learning_rate / low.config.learning_rate
    losses = ratio(high.final("loss"), low.final("loss"))
    bounded = all(run.final("loss") <= PROBABILITY_LOSS_BOUND for run in jax)
    holds = bounded and not follows_learning_rate(growth_exponent(losses, lr_ratio))
    text = (
        f"The proof: Keras 3 on its JAX backend takes no logits shortcut, and the same code's loss is "
        f"{figure(low.final('loss'), '.3g')} and {figure(high.final('loss'), '.3g')}, bounded and not "
        "following the rate: the puzzle disappears."
        if holds
        else f"On Keras 3's JAX backend the loss is {figure(low.final('loss'), '.3g')} and "
        f"{figure(high.final('loss'), '.3g')}: here it does not show the contrast the explanation predicts."
    )
    return Claim(text, holds, "reproduction")


_SAYINGS = (_logits, _saturation, _scaling, _artifact, _fix, _jax)  # in the order of `sentence_runs`
SENTENCES = len(_SAYINGS)
