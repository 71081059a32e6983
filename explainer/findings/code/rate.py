"""The `learning_rate` family: a rate set in the code outside named bounds for its optimizer,
judged on scaled inputs only. On unscaled inputs the mechanism says a rate only rescales the loss
(docs/mechanism.md, step 3): that is said instead of blaming the rate."""

from __future__ import annotations

import re

from explainer.code.source import Source
from explainer.code.values import Program, Training
from explainer.findings.code.rule import Finding, edit, lines, not_known

FAMILY = "learning_rate"
# the rates judged sound, per optimizer, on inputs scaled to 0-1. Measured with this app (`python -m
# explainer run --scaling unit --activation softmax --optimizer O --lr R`, 10 epochs, all 60,000
# images, validation loss / accuracy): SGD at 1e-5 0.246 accurate, 1e-4 0.760, 1 0.37 / 0.912, 10
# 3.26 / 0.890 (the loss ten times larger: the saturated regime again); Adam at 1e-6 0.534, 1e-5
# 0.867, 1e-2 0.38 / 0.908, 0.1 2.60 / 0.865; RMSprop at 1e-2 0.39 / 0.912, 0.1 2.13 / 0.888.
# Below the lower bound ten epochs leave the model far from trained; above the upper the loss
# jumps tenfold while the accuracy drops. The other adaptive optimizers step like Adam
BOUNDS = {
    "sgd": (1e-4, 1.0),
    "adam": (1e-5, 1e-2),
    "adamw": (1e-5, 1e-2),
    "rmsprop": (1e-5, 1e-2),
    "nadam": (1e-5, 1e-2),
    "adamax": (1e-5, 1e-2),
}


def learning_rate_in_bounds(training: Training, program: Program, source: Source, scaled: bool | None) -> Finding:
    """The rate against BOUNDS for its optimizer, where the inputs are `scaled` (True), not (False),
    or not known (None)."""
    rule = "learning_rate_in_bounds"
    optimizer = training.optimizer
    if optimizer is None or optimizer.name is None:
        return not_known(FAMILY, rule, "the code does not show the optimizer", training.compile_line)
    at = lines(optimizer.rate_line or optimizer.line)
    if optimizer.schedule:
        return Finding(FAMILY, rule, None, at, "Not known: the rate follows a schedule, which this reading does not judge.")
    if optimizer.learning_rate is None and optimizer.rate_written:
        return Finding(FAMILY, rule, None, at, "Not known: the rate is a value the code computes (a loop, a parameter).")
    if optimizer.learning_rate is None:
        return Finding(FAMILY, rule, False, at, f"Checked: the optimizer ({optimizer.name}) keeps Keras' default rate.")
    rate = optimizer.learning_rate
    if scaled is False:
        said = (
            f"The rate, {rate:g} (line {at[0]}), is not what decides here: on unscaled inputs a rate only rescales the loss "
            "(training is the same up to scale), so scale the inputs first and judge the rate then."
        )
        return Finding(FAMILY, rule, False, at, said, "surface")
    if optimizer.name not in BOUNDS:
        return Finding(FAMILY, rule, None, at, f"Not known: no bounds are set here for {optimizer.name}.")
    low, high = BOUNDS[optimizer.name]
    if low <= rate <= high:
        return Finding(FAMILY, rule, False, at, f"Checked: {rate:g} is within {low:g} to {high:g} for {optimizer.name}.")
    nearest = low if rate < low else high
    said = (
        f"The rate, {rate:g} (line {at[0]}), is {'below' if rate < low else 'above'} the {low:g} to {high:g} this app holds "
        f"sound for {optimizer.name} on scaled inputs: "
        + ("the weights barely move in the epochs a run has." if rate < low else "its steps overshoot and the loss jumps.")
    )
    text = source.line(at[0])
    written = next((token for token in _numbers(text) if _equals(token, rate)), None)
    fix = edit(source, at[0], rf"(?<![\w.]){re.escape(written)}(?![\w.])", f"{nearest:g}") if written else ()
    return Finding(FAMILY, rule, True, at, said, "reproduction", fix)


def _numbers(text: str) -> list[str]:
    return re.findall(r"(?<![\w.])\d[\d_]*\.?\d*(?:[eE][-+]?\d+)?", text)


def _equals(token: str, value: float) -> bool:
    try:
        return abs(float(token.replace("_", "")) - value) <= 1e-12 * max(1.0, abs(value))
    except ValueError:
        return False
