"""The `scaling` family: inputs of a large range, or of a range the code does not show, that reach
`fit` with nothing scaling them (a division, a scaler, a generator's rescale, a Rescaling or
Normalization layer). What counts as scaling: code/makers.MIN_SCALING_DIVISOR."""

from __future__ import annotations

import ast
import re

from explainer.code.source import Source
from explainer.code.values import Program, Training
from explainer.findings.code.rule import Edit, Finding, lines, not_known

FAMILY = "scaling"
PIXEL_MAX = 255  # what the fix divides by: the largest pixel value
SOURCES = {"pixels": "image pixels, 0 to 255", "file": "read from a file"}
# why it matters, in the mechanism's words and figures (docs/mechanism.md, steps 2 and 3)
WHY = (
    "on the question's one-layer model such inputs (an image's squared norm is about 5.7 million) make one SGD step "
    "move a logit by thousands, the softmax saturates at once, and training becomes the same up to scale: the weights "
    "and the loss grow with the learning rate while the accuracy does not move"
)


def unscaled_inputs(training: Training, program: Program, source: Source) -> Finding:
    """Inputs of a known 0-255 range, or read from a file, that reach `fit` unscaled."""
    rule = "unscaled_inputs"
    inputs = training.inputs
    if inputs is None:
        return not_known(FAMILY, rule, "the code does not show what the model is fit on", training.fit_line)
    in_model, model_line = training.model.scaling
    if in_model == "unknown" and not inputs.scaled:
        return not_known(FAMILY, rule, "the model's first layer is a Lambda, which may scale the inputs", model_line)
    if inputs.scaled or in_model:
        at = inputs.lines[-1] if inputs.scaled else model_line
        return Finding(FAMILY, rule, False, lines(at, training.fit_line), f"Checked: the inputs are scaled (line {at}).")
    if inputs.source not in SOURCES:
        return not_known(FAMILY, rule, "the code does not show where the inputs come from, so not their range", *inputs.lines)
    origin = inputs.lines[0] if inputs.lines else None
    said = f"The inputs fit on (line {training.fit_line}) are {SOURCES[inputs.source]} (line {origin}), and nothing scales them"
    if inputs.source == "file":
        said += (
            ": the code does not say their range, and the app has not seen the file. If they are pixels 0 to 255 (MNIST "
            f"from a CSV is), {WHY}."
        )
    else:
        said += f" on the way: {WHY}."
    return Finding(FAMILY, rule, True, lines(origin, training.fit_line), said, "mechanism", _divided(source, training))


def _divided(source: Source, training: Training) -> tuple[Edit, ...]:
    """The fit line with its inputs (and its validation inputs) divided by 255."""
    if not training.fit_line or not training.fit_text:
        return ()
    try:
        call = ast.parse(training.fit_text.strip(), mode="eval").body
    except SyntaxError:
        return ()
    if not isinstance(call, ast.Call):
        return ()
    first = call.args[0] if call.args else next((k.value for k in call.keywords if k.arg == "x"), None)
    named = [first] + [
        keyword.value.elts[0]
        for keyword in call.keywords
        if keyword.arg == "validation_data" and isinstance(keyword.value, ast.Tuple) and keyword.value.elts
    ]
    before = after = source.line(training.fit_line)
    for node in named:
        if isinstance(node, ast.Name | ast.Attribute | ast.Subscript):
            text = ast.unparse(node)
            after = re.sub(rf"(?<![\w.]){re.escape(text)}(?![\w\[])", f"{text} / {PIXEL_MAX:.1f}", after, count=1)
    return (Edit(training.fit_line, before, after),) if after != before else ()


RULES = (unscaled_inputs,)
