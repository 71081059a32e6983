"""The nearest view the app can train to a reader's training: its activation, loss, scaling,
optimizer, batch size and epochs at the nearest knobs the sidebar has, its learning rate beside
RATE_FACTOR times it (a view compares two rates), and in words every substitution made and what
of the program the view does not have."""

from __future__ import annotations

from explainer.code.values import Program, Training
from explainer.config import ACTIVATIONS, BOUNDS, MAX_TRAINING_STEPS, MNIST_TRAIN_SIZE, OPTIMIZERS, RunConfig
from explainer.findings.code.output import CROSS_ENTROPIES
from explainer.view import VIEW_LEARNING_RATE_BOUNDS, View

RATE_FACTOR = 3  # the view's second rate: three times the code's, as the question compared 0.01 with 0.03
# Keras' own defaults, for what the code leaves to them
KERAS_RATES = {"sgd": 0.01, "adam": 0.001, "rmsprop": 0.001}
KERAS_BATCH_SIZE, KERAS_EPOCHS = 32, 1
ADAPTIVE = "adam"  # the app's stand-in for an adaptive optimizer it does not have


def nearest_view(training: Training, program: Program) -> tuple[View, list[str]]:
    """The view, within every setting's bounds (not yet the view's training budget: gate.admit),
    and the sentences that say how it differs from the code."""
    said: list[str] = []
    output = training.model.output
    activation = output.activation if output is not None else None
    if activation not in ACTIVATIONS:
        said.append(f"your {activation or 'unknown'} output is shown as softmax (the app's outputs are {', '.join(ACTIVATIONS)})")
        activation = "softmax"
    loss = _loss(training, activation, said)
    if loss == "from_logits":
        activation = "linear"
    scaling = _scaling(training, said)
    optimizer = training.optimizer.name if training.optimizer else None
    if optimizer not in OPTIMIZERS:
        stand_in = ADAPTIVE if optimizer else "sgd"
        said.append(f"your optimizer ({optimizer or 'not known'}) is shown as {stand_in}")
        optimizer = stand_in
    rate = training.optimizer.learning_rate if training.optimizer else None
    if rate is None and training.optimizer and training.optimizer.rate_written:
        said.append(f"your learning rate is a value the code computes: shown at {KERAS_RATES[optimizer]:g}, Keras' default")
    rate = rate if rate is not None else KERAS_RATES[optimizer]
    lowest, highest = VIEW_LEARNING_RATE_BOUNDS[0], VIEW_LEARNING_RATE_BOUNDS[1] / RATE_FACTOR
    if not lowest <= rate <= highest:
        said.append(
            f"your learning rate {rate:g} is shown as {min(max(rate, lowest), highest):g}, within what a view may compare"
        )
        rate = min(max(rate, lowest), highest)
    batch = _bounded("batch_size", training.batch_size or KERAS_BATCH_SIZE, said)
    epochs = _bounded("num_epochs", training.epochs or KERAS_EPOCHS, said)
    longest = MAX_TRAINING_STEPS // -(-MNIST_TRAIN_SIZE // batch)
    if epochs > longest:
        said.append(f"{epochs} epochs at batch size {batch} are more than a run may take here: shown as {longest}")
        epochs = longest
    said += _not_in_the_view(training, program)
    engine = "keras3_jax" if program.backend == "jax" else "tf_keras"
    return View((rate, rate * RATE_FACTOR), RunConfig(engine, activation, loss, scaling, optimizer, rate, batch, epochs)), said


def _loss(training: Training, activation: str, said: list[str]) -> str:
    loss = training.loss
    if loss is None or loss.name not in CROSS_ENTROPIES:
        said.append(f"your loss ({loss.name if loss and loss.name else 'not known'}) is shown as categorical cross-entropy")
        return "keras" if activation != "linear" else "from_logits"
    if loss.name.startswith("sparse"):
        said.append("sparse categorical cross-entropy is shown as categorical: the same loss on one-hot labels")
    if activation == "linear":
        if not loss.from_logits:
            said.append("a linear output is shown with from_logits=True, which the app's linear output always has")
        return "from_logits"
    if loss.from_logits:
        said.append(f"from_logits=True on a {activation} output is shown without it")
    return "keras"


def _scaling(training: Training, said: list[str]) -> str:
    inputs = training.inputs
    scaled = inputs.scaled if inputs else None
    scaled = scaled or training.model.scaling[0]
    if scaled == "unknown":
        said.append("your model's Lambda layer may scale its inputs, which the reading does not follow: shown on raw pixels")
    elif inputs is None or (inputs.source not in ("pixels", "file") and not scaled):
        said.append("where your inputs come from is not in the code: shown on raw pixels 0-255")
    return {"unit": "unit", "standardized": "standardized"}.get(scaled, "raw")


def _bounded(name: str, value: int, said: list[str]) -> int:
    lowest, highest = BOUNDS[name]
    if not lowest <= value <= highest:
        said.append(f"your {name.replace('num_', '').replace('_', ' ')} {value} is shown as {min(max(value, lowest), highest)}")
    return min(max(value, lowest), highest)


def _not_in_the_view(training: Training, program: Program) -> list[str]:
    """What of the program the app's one-layer MNIST model does not have."""
    missing = []
    layers = training.model.layers or []
    hidden = [layer for layer in layers if layer.units is not None][:-1]
    if hidden:
        kinds = ", ".join(dict.fromkeys(layer.kind for layer in hidden))
        missing.append(f"the app's model has no hidden layers: your {len(hidden)} ({kinds}) are not in the view")
    if training.model.layers is None:
        missing.append("your model's layers are not in the code: the view is the app's one-layer model")
    if training.inputs is not None and training.inputs.source == "file":
        missing.append("your data come from a file: the view trains on MNIST")
    if program.backend not in (None, "tensorflow", "jax"):
        missing.append(f"the app has no {program.backend} backend: the view runs TensorFlow's Keras")
    return missing
