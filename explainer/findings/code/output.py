"""The `output` family: the last layer's activation against the loss and the labels. Each rule
returns holds=None where the code does not show the output layer or the loss."""

from __future__ import annotations

from explainer.code.source import Source
from explainer.code.values import Program, Training
from explainer.findings.code.rule import Finding, edit, lines, not_known
from explainer.findings.mechanism import PROBABILITY_LOSS_BOUND
from explainer.labels import LOSS_WORDS
from explainer.maths.linear import CLIP_EPSILON

FAMILY = "output"
CROSS_ENTROPIES = ("categorical_crossentropy", "sparse_categorical_crossentropy")
PROBABILITIES = ("sigmoid", "softmax")  # activations whose outputs a cross-entropy may take as probabilities
SQUARED = ("mean_squared_error", "mean_absolute_error")
# the labels each loss takes (a binary cross-entropy over several outputs: one 0/1 column each)
LABELS_WANTED = {
    "sparse_categorical_crossentropy": "integer",
    "categorical_crossentropy": "one_hot",
    "binary_crossentropy": "one_hot",
}
# where the sigmoid's float32 output is exactly 1.0 (measured by the app's Why page: 16.64)
SIGMOID_ONE = 17


def _words(loss: str) -> str:
    return LOSS_WORDS.get(loss, loss)


def _known(training: Training, rule: str) -> Finding | None:
    """The not-known finding when the code does not show the output layer or the loss."""
    output = training.model.output
    if output is None or output.activation in (None, "unknown"):
        return not_known(FAMILY, rule, "the code does not show the model's last layer and its activation", training.model.line)
    if training.loss is None or training.loss.name is None:
        return not_known(FAMILY, rule, "the code does not show the loss it compiles with", training.compile_line)
    return None


# what each rule looks for, in words: a check that passes says it was not found
LOOKED_FOR = {
    "sigmoid_categorical": "a sigmoid output with a categorical cross-entropy",
    "outputs_not_probabilities": "a cross-entropy on outputs that are no probabilities",
    "softmax_one_unit": "a softmax over one unit",
    "softmax_binary": "a softmax with binary cross-entropy",
    "from_logits_on_probabilities": "from_logits=True on probabilities",
    "label_format": "labels of another format than the loss takes",
    "squared_error_on_classes": "a squared error on class probabilities",
}


def _checked(rule: str, training: Training, said: str) -> Finding:
    output = training.model.output
    return Finding(FAMILY, rule, False, lines(output.line, training.loss.line), f"Checked: no {LOOKED_FOR[rule]} ({said}).")


def sigmoid_categorical(training: Training, program: Program, source: Source) -> Finding:
    """A sigmoid over several classes with categorical cross-entropy: the question's output."""
    rule = "sigmoid_categorical"
    if unknown := _known(training, rule):
        return unknown
    output, loss = training.model.output, training.loss
    if not (output.activation == "sigmoid" and loss.name in CROSS_ENTROPIES and not loss.from_logits and output.units != 1):
        return _checked(rule, training, f"the output is {output.activation}, the loss {_words(loss.name)}")
    said = f"The last layer is a sigmoid (line {output.line}) and the loss a categorical cross-entropy (line {loss.line}). "
    if program.backend in (None, "tensorflow"):
        said += (
            "On TensorFlow's Keras that loss is computed on the layer's cached logits, as a softmax cross-entropy (unbounded), "
            "so the model trains exactly as with softmax; but its outputs are sigmoids, exactly 1.0 in float32 once a logit "
            f"passes about {SIGMOID_ONE}: on large inputs several outputs tie at 1.0, `model.predict(x).argmax(1)` picks the "
            "first of them, and that accuracy (the one Keras 3 reports too) breaks."
        )
    else:
        said += (
            f"On Keras 3 on {program.backend.upper()} no logits shortcut is taken: the outputs are divided by their sum and "
            f"clipped at {CLIP_EPSILON:g}, so the loss never exceeds {PROBABILITY_LOSS_BOUND:.2f} per image, and the clip "
            "cuts the gradients of saturated outputs: the model learns little."
        )
    return Finding(
        FAMILY, rule, True, lines(output.line, loss.line), said, "mechanism", edit(source, output.line, "sigmoid", "softmax")
    )


def outputs_not_probabilities(training: Training, program: Program, source: Source) -> Finding:
    """A cross-entropy on outputs that are no probabilities (linear, relu, tanh), without from_logits."""
    rule = "outputs_not_probabilities"
    if unknown := _known(training, rule):
        return unknown
    output, loss = training.model.output, training.loss
    if output.activation in PROBABILITIES or loss.name not in CROSS_ENTROPIES or loss.from_logits or output.units == 1:
        return _checked(rule, training, f"the output is {output.activation}, the loss {_words(loss.name)}")
    said = (
        f"The last layer's outputs are {output.activation} (line {output.line}), no probabilities, and the cross-entropy "
        f"(line {loss.line}) is not told so (`from_logits=True`): Keras divides the outputs by their sum and clips them at "
        f"{CLIP_EPSILON:g}, which gives a loss that means nothing and gradients that vanish where the clip holds."
    )
    if output.activation == "linear":
        fix = edit(source, loss.line, r"(['\"])((?:sparse_)?categorical_crossentropy)\1", _from_logits_class)
        fix = fix or edit(source, loss.line, r"Crossentropy\(\)", "Crossentropy(from_logits=True)")
    else:
        fix = edit(source, output.line, output.activation, "softmax")
    return Finding(FAMILY, rule, True, lines(output.line, loss.line), said, "fixes", fix)


def _from_logits_class(match) -> str:
    name = "SparseCategoricalCrossentropy" if match.group(2).startswith("sparse") else "CategoricalCrossentropy"
    return f"keras.losses.{name}(from_logits=True)"


def softmax_one_unit(training: Training, program: Program, source: Source) -> Finding:
    """A softmax over one unit: its output is 1.0 whatever the input."""
    rule = "softmax_one_unit"
    if unknown := _known(training, rule):
        return unknown
    output = training.model.output
    if not (output.activation == "softmax" and output.units == 1):
        return _checked(rule, training, f"the output is {output.activation} over {output.units or 'several'} unit(s)")
    said = (
        f"The last layer is a softmax over one unit (line {output.line}): a softmax normalises over its units, so that "
        "output is 1.0 for every input and nothing can be learned. One unit wants a sigmoid (with binary cross-entropy)."
    )
    return Finding(FAMILY, rule, True, lines(output.line), said, "fixes", edit(source, output.line, "softmax", "sigmoid"))


def softmax_binary(training: Training, program: Program, source: Source) -> Finding:
    """A softmax over several classes with binary cross-entropy."""
    rule = "softmax_binary"
    if unknown := _known(training, rule):
        return unknown
    output, loss = training.model.output, training.loss
    if not (output.activation == "softmax" and loss.name == "binary_crossentropy" and (output.units or 3) > 2):
        return _checked(rule, training, f"the output is {output.activation}, the loss {_words(loss.name)}")
    said = (
        f"The last layer is a softmax over {output.units or 'several'} classes (line {output.line}) with binary "
        f"cross-entropy (line {loss.line}): Keras averages one yes/no loss per class, and its 'accuracy' becomes the "
        "binary accuracy over every output, 0.9 with ten classes for a model that outputs nothing but zeros."
    )
    fix = edit(source, loss.line, r"(['\"])binary_crossentropy\1", r"\1categorical_crossentropy\1")
    return Finding(FAMILY, rule, True, lines(output.line, loss.line), said, "fixes", fix)


def from_logits_on_probabilities(training: Training, program: Program, source: Source) -> Finding:
    """from_logits=True on outputs that are already probabilities."""
    rule = "from_logits_on_probabilities"
    if unknown := _known(training, rule):
        return unknown
    output, loss = training.model.output, training.loss
    if not (loss.from_logits and output.activation in PROBABILITIES):
        return _checked(rule, training, f"from_logits is {bool(loss.from_logits)} on a {output.activation} output")
    said = (
        f"The loss is told its inputs are logits (`from_logits=True`, line {loss.line}), but the last layer already "
        f"applies {output.activation} (line {output.line}): the loss squashes them a second time, so the gradients "
        "shrink and the loss no longer says how wrong the model is."
    )
    return Finding(
        FAMILY,
        rule,
        True,
        lines(output.line, loss.line),
        said,
        "fixes",
        edit(source, loss.line, r"from_logits\s*=\s*True", "from_logits=False"),
    )


def label_format(training: Training, program: Program, source: Source) -> Finding:
    """Labels of another format than the loss takes: sparse cross-entropy on one-hot labels, or a
    categorical (or binary, over several outputs) cross-entropy on integer labels."""
    rule = "label_format"
    if unknown := _known(training, rule):
        return unknown
    loss, labels = training.loss, training.labels
    if labels is None or labels.labels is None:
        return not_known(FAMILY, rule, "the code does not show whether the labels are integers or one-hot", training.fit_line)
    wanted = LABELS_WANTED.get(loss.name)
    if wanted is None or wanted == labels.labels or training.model.output.units == 1:
        return _checked(rule, training, f"{labels.labels.replace('_', '-')} labels with {_words(loss.name)}")
    other = "categorical_crossentropy" if loss.name == "sparse_categorical_crossentropy" else "sparse_categorical_crossentropy"
    said = (
        f"The labels are {labels.labels.replace('_', '-')} (line {labels.lines[-1]}) but the loss is {_words(loss.name)} (line "
        f"{loss.line}), which wants {wanted.replace('_', '-')} labels: Keras stops with a shape error, or compares the "
        "wrong things."
    )
    fix = edit(source, loss.line, loss.name, other)
    return Finding(FAMILY, rule, True, lines(labels.lines[-1], loss.line), said, "fixes", fix)


def squared_error_on_classes(training: Training, program: Program, source: Source) -> Finding:
    """A squared (or absolute) error on classes: on class probabilities, or on one-hot labels."""
    rule = "squared_error_on_classes"
    if unknown := _known(training, rule):
        return unknown
    output, loss, labels = training.model.output, training.loss, training.labels
    one_hot = labels is not None and labels.labels == "one_hot"
    if not (loss.name in SQUARED and (output.units or 2) > 1 and (output.activation in PROBABILITIES or one_hot)):
        return _checked(rule, training, f"the loss is {_words(loss.name)} on a {output.activation} output")
    if output.activation in PROBABILITIES:
        said = (
            f"The loss is {_words(loss.name)} (line {loss.line}) on {output.activation} class probabilities (line "
            f"{output.line}): its gradient vanishes where a {output.activation} saturates, right or wrong, so a wrong "
            "class learns slowly; a cross-entropy's does not."
        )
        replacement = r"\1categorical_crossentropy\1"
    else:
        said = (
            f"The loss is {_words(loss.name)} (line {loss.line}) on one-hot classes (line {labels.lines[-1]}), from "
            f"{output.activation} outputs (line {output.line}): they regress on zeros and ones instead of giving "
            "probabilities, and the loss says little of how wrong a class is; a cross-entropy on the logits does."
        )
        replacement = "keras.losses.CategoricalCrossentropy(from_logits=True)"
    pattern = r"(['\"])(mse|mean_squared_error|mae|mean_absolute_error)\1"
    fix = edit(source, loss.line, pattern, replacement)
    return Finding(FAMILY, rule, True, lines(output.line, loss.line), said, "fixes", fix)


RULES = (
    sigmoid_categorical,
    outputs_not_probabilities,
    softmax_one_unit,
    softmax_binary,
    from_logits_on_probabilities,
    label_format,
    squared_error_on_classes,
)
