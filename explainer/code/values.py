"""What a reader's program says, as records: each value the reading follows (the data, a layer, a
model, a loss, an optimizer) and each training (a model compiled and fit), with the lines it rests
on. Nothing here judges: explainer/findings/code.py does."""

from __future__ import annotations

import dataclasses

# Keras' image data sets and the loaders of image files: pixels 0-255
PIXEL_DATASETS = ("mnist", "fashion_mnist", "cifar10", "cifar100")
# what the optimizers' names are read as (the app's codes where it has them)
OPTIMIZER_CODES = {
    "sgd": "sgd",
    "gradientdescentoptimizer": "sgd",
    "momentumoptimizer": "sgd",
    "adam": "adam",
    "adamoptimizer": "adam",
    "adamw": "adamw",
    "rmsprop": "rmsprop",
    "rmspropoptimizer": "rmsprop",
    "adagrad": "adagrad",
    "adagradoptimizer": "adagrad",
    "adadelta": "adadelta",
    "adamax": "adamax",
    "nadam": "nadam",
    "ftrl": "ftrl",
}
# the losses' names, strings, functions and classes alike, as one code each
LOSS_CODES = {
    "categorical_crossentropy": "categorical_crossentropy",
    "categoricalcrossentropy": "categorical_crossentropy",
    "sparse_categorical_crossentropy": "sparse_categorical_crossentropy",
    "sparsecategoricalcrossentropy": "sparse_categorical_crossentropy",
    "binary_crossentropy": "binary_crossentropy",
    "binarycrossentropy": "binary_crossentropy",
    "mse": "mean_squared_error",
    "mean_squared_error": "mean_squared_error",
    "meansquarederror": "mean_squared_error",
    "mae": "mean_absolute_error",
    "mean_absolute_error": "mean_absolute_error",
    "meanabsoluteerror": "mean_absolute_error",
    "softmax_cross_entropy_with_logits": "categorical_crossentropy_logits",
    "softmax_cross_entropy_with_logits_v2": "categorical_crossentropy_logits",
    "sparse_softmax_cross_entropy_with_logits": "sparse_categorical_crossentropy_logits",
}
KERAS_ACTIVATIONS = ("sigmoid", "softmax", "linear", "relu", "tanh", "elu", "selu", "softplus", "swish", "gelu", "exponential")
# layers that change nothing of the output's activation or of the inputs' range
ACTIVATION_LAYERS = ("Activation", "Softmax", "ReLU", "LeakyReLU", "PReLU", "ELU")
PASSING_LAYERS = ("Dropout", "Flatten", "Reshape", "InputLayer", "Input", "GaussianNoise", "ActivityRegularization")


@dataclasses.dataclass(frozen=True)
class Data:
    """An array the program makes. source: "pixels" (a 0-255 image data set, image files),
    "file" (read from a file: its range is not in the code), "array" (made in the code), or
    "unknown". scaled: how it was brought to a small range ("unit": divided into it;
    "standardized": by a scaler or a value the code computes), None if not. labels: "one_hot" or
    "integer" for labels, None if not known. lines: where it was read and changed."""

    source: str = "unknown"
    scaled: str | None = None
    labels: str | None = None
    lines: tuple[int, ...] = ()

    def changed(self, line: int, **changes) -> Data:
        return dataclasses.replace(self, lines=tuple(dict.fromkeys((*self.lines, line))), **changes)


@dataclasses.dataclass(frozen=True)
class Layer:
    """A layer as written: its class, units, activation (None: Keras' default, linear), and for
    a rescaling layer its factor."""

    kind: str
    line: int
    units: int | None = None
    activation: str | None = None
    scale: float | None = None


@dataclasses.dataclass(frozen=True)
class Loss:
    """name: one of LOSS_CODES' codes, or the name as written, None if not known. from_logits:
    as written (None: not said, Keras' default False)."""

    name: str | None
    line: int
    from_logits: bool | None = None


@dataclasses.dataclass(frozen=True)
class Optimizer:
    """name: one of OPTIMIZER_CODES' codes (None: not known); learning_rate where the code sets
    it to a number it shows, and the line that sets it; rate_written: whether the code passes a
    rate at all (if it does and learning_rate is None, the rate is not known)."""

    name: str | None
    line: int
    learning_rate: float | None = None
    rate_line: int | None = None
    schedule: bool = False
    rate_written: bool = False


@dataclasses.dataclass
class Model:
    """A model the program builds: its layers in order (None: not known, a model loaded or
    built where the code does not show), the line that makes it, and its compile calls."""

    layers: list[Layer] | None
    line: int
    compiles: list[tuple[Loss | None, Optimizer | None, int]] = dataclasses.field(default_factory=list)

    @property
    def output(self) -> Layer | None:
        """The layer that makes the output: the last with units, its activation replaced by any
        activation layer after it (the layers that pass values on between them skipped)."""
        last = None
        for layer in self.layers or []:
            if layer.units is not None:
                last = layer
            elif layer.kind in ACTIVATION_LAYERS and last is not None:
                last = dataclasses.replace(last, activation=layer.activation, line=layer.line)
        return last

    @property
    def scaling(self) -> tuple[str | None, int | None]:
        """How the model itself scales its inputs (its first layers; "unknown" for a Lambda, whose
        function is not followed), and the line."""
        for layer in self.layers or []:
            if layer.kind == "Rescaling" and layer.scale is not None:
                return ("unit" if layer.scale <= 1 / 127.5 else None), layer.line
            if layer.kind in ("Normalization", "BatchNormalization"):
                return "standardized", layer.line
            if layer.kind == "Lambda":  # it may scale the inputs: the code of a lambda is not followed
                return "unknown", layer.line
            if layer.kind not in PASSING_LAYERS:
                break
        return None, None


@dataclasses.dataclass(frozen=True)
class Training:
    """A model compiled and fit: its loss and optimizer (None: not known), the inputs and the
    labels fit on, the batch size and epochs as written, and the lines of each step."""

    model: Model
    loss: Loss | None
    optimizer: Optimizer | None
    compile_line: int | None
    inputs: Data | None
    labels: Data | None
    fit_line: int | None
    fit_text: str = ""
    batch_size: int | None = None
    epochs: int | None = None


@dataclasses.dataclass(frozen=True)
class Program:
    """Everything the reading found: each training in the order fit, the backend the program
    chooses (None: not said, TensorFlow's), and what could not be read."""

    trainings: list[Training]
    backend: str | None
    unread: tuple[str, ...]
