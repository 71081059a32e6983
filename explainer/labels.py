"""Words for the codes: what a reader sees for each engine, option, fix, verdict and measured
quantity (codes stay in URLs, JSON and the CLI). NAMES are short (charts, headings); LABELS
describe (controls); `describe` says a whole configuration in words."""

from __future__ import annotations

import math
from collections.abc import Iterable

from explainer.config import ENGINES, RunConfig
from explainer.fixes import FIXES

NAMES = {
    **{code: engine.name for code, engine in ENGINES.items()},
    "raw": "raw pixels 0-255",
    "unit": "x / 255",
    "standardized": "standardized per pixel",
}
LABELS = {
    **{code: engine.label for code, engine in ENGINES.items()},
    "raw": "raw pixels 0-255 (question)",
    "unit": "x / 255",
    "standardized": "standardized per pixel",
    "sigmoid": "sigmoid (question)",
    "softmax": "softmax",
    "linear": "linear (logits)",
    "keras": "'categorical_crossentropy' as written",
    "probabilities": "on clipped probabilities (no logits shortcut)",
    "from_logits": "`from_logits=True`",
    "sgd": "SGD (question)",
    "rmsprop": "RMSprop",
    "adam": "Adam",
    # the loss-surface page's choices
    "init": "initial weights",
    "step": "after step k of epoch 1",
    "epoch": "end of epoch e",
    "minibatch": "next mini-batch's gradient (SGD's step)",
    "fullbatch": "full-batch gradient",
    "next_minibatch": "following mini-batch's gradient",
    "random": "filter-normalised random",
    "hessian": "top Hessian eigenvector",
    "train": "the training set",
    "test": "the test set",
}
EVALUATION_WORDS = {"minibatch": "the next mini-batch", "train": "the training set", "test": "the test set"}
UNDEFINED = "undefined here"  # a ratio or slope of zero or non-finite losses


def figure(value: float, spec: str = ".4g") -> str:
    """A measured number as the pages print it; "undefined here" when it is NaN or infinite."""
    return format(value, spec) if math.isfinite(value) else UNDEFINED


FIX_NAMES = {code: fix.name for code, fix in FIXES.items()} | {"combination": "the sidebar's combination"}
VERDICT_WORDS = {
    "fixes-it": "fixes it",
    "identical-training": "changes nothing in training",
    "rescales-loss-only": "only rescales the loss",
    "changes-training": "changes training",
}
DIAGNOSIS_WORDS = {
    "this_puzzle": "This is the puzzle",
    "sibling": "A sibling of this puzzle",
    "divergence": "A diverging run: not this puzzle",
    "none_found": "None of this puzzle's faults found",
}
# what each family of a reader's case checks
FAMILY_WORDS = {"output": "the output", "scaling": "the inputs' scale", "learning_rate": "the learning rate", "log": "the log"}
# a check of a reader's case, by whether the fault it looks for holds (None: the case does not say)
CHECK_WORDS = {True: "found", False: "passed", None: "not known"}
# the losses a reader's code may name, in words (code/values.LOSS_NAMES' codes)
LOSS_WORDS = {
    "categorical_crossentropy": "categorical cross-entropy",
    "sparse_categorical_crossentropy": "sparse categorical cross-entropy",
    "binary_crossentropy": "binary cross-entropy",
    "mean_squared_error": "mean squared error",
    "mean_absolute_error": "mean absolute error",
    "categorical_crossentropy_logits": "softmax cross-entropy on logits",
    "sparse_categorical_crossentropy_logits": "sparse softmax cross-entropy on logits",
}
KNOWN_WORDS = {
    None: "not sure",
    "categorical_crossentropy": "a cross-entropy as written ('categorical_crossentropy')",
    "from_logits": "a cross-entropy with from_logits=True",
    "other": "another loss (MSE, ...)",
    "sigmoid": "sigmoid",
    "softmax": "softmax",
    "linear": "linear (logits)",
    "raw": "0 to 255 (raw pixels)",
    "unit": "0 to 1 (x / 255)",
    "standardized": "standardized (mean 0, std 1)",
}
VERDICT_COLOURS = {"fixes-it": "green", "identical-training": "gray", "rescales-loss-only": "orange", "changes-training": "blue"}
OPTIMIZER_NAMES = {"sgd": "SGD", "rmsprop": "RMSprop", "adam": "Adam"}
# the column headings of the pages' tables, for the keys of the rows explainer/ returns
HEADERS = {
    "engine": "Keras engine",
    "fix": "fix",
    "verdict": "verdict",
    "optimizer": "optimizer",
    "learning_rate": "learning rate",
    "epoch": "epoch",
    "loss": "final training loss",
    "accuracy": "reported training accuracy",
    "val_loss": "validation loss",
    "val_accuracy": "reported validation accuracy",
    "predict_accuracy": "accuracy of argmax(model.predict)",
    "logit_accuracy": "accuracy of argmax(logits)",
    "reported_val_accuracy": "reported validation accuracy",
    "keras": "loss Keras reports",
    "closest": "closest candidate",
    "relative_gap": "relative gap",
    "steps": "steps measured",
    "median_largest_logit_move": "median move of an image's largest logit, per step",
    "max_logit_move": "largest logit move",
    "lr_ratio": "learning-rate ratio",
    "norm_ratio": "weight-norm ratio",
    "cosine": "cosine similarity of the weights",
    "agreement": "test predictions that agree",
    "loss_ratio": "loss ratio",
    "arithmetic_optimization": "TensorFlow's arithmetic rewrite",
    "tied_fraction": "test images with tied sigmoid outputs",
}


def describe(config: RunConfig) -> str:
    """What differs from the question's setup, in words ("the question's setup" if nothing)."""
    default, parts = RunConfig(), []
    if config.engine != default.engine:
        parts.append(NAMES[config.engine])
    if config.scaling != default.scaling:
        parts.append(f"inputs {NAMES[config.scaling]}")
    if config.activation != default.activation:
        parts.append(f"{config.activation} output")
    if config.loss == "probabilities":
        parts.append("cross-entropy on the clipped outputs")
    if config.optimizer != default.optimizer:
        parts.append(OPTIMIZER_NAMES[config.optimizer])
    if config.learning_rate != default.learning_rate:
        parts.append(f"learning rate {config.learning_rate:g}")
    if config.batch_size != default.batch_size:
        parts.append(f"batch size {config.batch_size:,}")
    if config.num_epochs != default.num_epochs:
        parts.append(f"{config.num_epochs} epoch{'s' if config.num_epochs > 1 else ''}")
    if config.train_subset is not None:
        parts.append(f"the first {config.train_subset:,} training images")
    if config.seed != default.seed:
        parts.append(f"seed {config.seed}")
    if not config.arithmetic_optimization:
        parts.append("TensorFlow's arithmetic rewrite off")
    return ", ".join(parts) or "the question's setup"


def setup(config: RunConfig) -> str:
    """The question's setup in words, followed by how `config` differs from it, if it does."""
    differences = describe(config)
    return differences if differences == describe(RunConfig()) else f"the question's setup ({differences})"


def table(rows: Iterable[dict]) -> list[dict]:
    """Rows for a reader: headings in words (HEADERS), codes in words, yes/no for switches."""
    words = {**NAMES, **FIX_NAMES, **VERDICT_WORDS, **OPTIMIZER_NAMES}

    def shown(value):
        if isinstance(value, bool):
            return "on" if value else "off"
        return words.get(value, value) if isinstance(value, str) else value

    return [{HEADERS.get(key, key): shown(value) for key, value in row.items()} for row in rows]
