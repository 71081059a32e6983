"""RunConfig: every knob of one training run, validated in one place; the key of the cache."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math

from explainer.engines import ENGINES

# where TensorFlow's graph optimizer runs
TENSORFLOW_ENGINES = tuple(code for code, engine in ENGINES.items() if engine.backend == "tensorflow")
ACTIVATIONS = ("sigmoid", "softmax", "linear")
LOSSES = ("keras", "from_logits", "probabilities")
SCALINGS = ("raw", "unit", "standardized")
OPTIMIZERS = ("sgd", "rmsprop", "adam")
CHOICES = {
    "engine": tuple(ENGINES),
    "activation": ACTIVATIONS,
    "loss": LOSSES,
    "scaling": SCALINGS,
    "optimizer": OPTIMIZERS,
}
# the question's two learning rates: its runs, the default view, the command line's default
QUESTION_LEARNING_RATES = (0.01, 0.03)
MNIST_TRAIN_SIZE = 60_000
# what anyone may ask for, from a link, the sidebar or the command line; the sidebar's controls
# show exactly these ranges, so a value that passes can always be shown
BOUNDS = {
    "batch_size": (1, MNIST_TRAIN_SIZE),
    "num_epochs": (1, 20),
    "seed": (0, 2**31 - 1),
    "train_subset": (1, MNIST_TRAIN_SIZE),
}
# the learning rates anyone may ask for: float32 overflows near 3.4e38, which the divergence
# sweep reaches on purpose
LEARNING_RATE_BOUNDS = (1e-8, 1e38)
# the longest run anyone may ask for: 32 epochs of the full training set at batch 32, about
# 10 s in a worker; a URL or a CLI flag asking for more is refused with this figure
MAX_TRAINING_STEPS = 60_000


@dataclasses.dataclass(frozen=True)
class RunConfig:
    """One training run; the defaults are the question's code exactly.

    engine: "tf_keras" (legacy tf.keras 2, what the question ran), "keras3" (`import keras` on
    TensorFlow) or "keras3_jax" (Keras 3 on its JAX backend, where Keras takes no logits shortcut).
    loss: "keras" is 'categorical_crossentropy' as the question writes it, whatever path Keras
    takes; "from_logits" is CategoricalCrossentropy(from_logits=True) on a linear output;
    "probabilities" is cross-entropy on the activation's outputs, normalised and clipped at
    1e-7, without Keras' logits shortcut (what the asker believed was computed).
    scaling: "raw" 0-255 pixels, "unit" x/255, "standardized" per-pixel training mean/std.
    train_subset: train on the first N training images only (None: all 60,000).
    arithmetic_optimization: TensorFlow's Grappler arithmetic optimizer, on by default; off, it
    cannot rewrite argmax(sigmoid(z)) into argmax(z), which changes tf.keras 2's reported accuracy.
    """

    engine: str = "tf_keras"
    activation: str = "sigmoid"
    loss: str = "keras"
    scaling: str = "raw"
    optimizer: str = "sgd"
    learning_rate: float = QUESTION_LEARNING_RATES[0]
    batch_size: int = 32
    num_epochs: int = 10
    seed: int = 0
    train_subset: int | None = None
    arithmetic_optimization: bool = True

    def __post_init__(self) -> None:
        for name, allowed in CHOICES.items():
            value = getattr(self, name)
            if value not in allowed:
                raise ValueError(f"{name} must be one of {', '.join(allowed)}; got {quoted(value)}")
        if self.loss == "from_logits" and self.activation != "linear":
            raise ValueError("loss 'from_logits' needs activation 'linear': the outputs are the logits")
        if self.activation == "linear" and self.loss != "from_logits":
            raise ValueError("activation 'linear' outputs logits, so it needs loss 'from_logits'")
        object.__setattr__(self, "learning_rate", check_learning_rate(self.learning_rate))
        for name, (lowest, highest) in BOUNDS.items():
            value = getattr(self, name)
            if name == "train_subset" and value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, int) or not lowest <= value <= highest:
                raise ValueError(f"{name} must be a whole number from {lowest:,} to {highest:,}; got {quoted(value)}")
        if not isinstance(self.arithmetic_optimization, bool):
            raise ValueError(f"arithmetic_optimization must be True or False; got {quoted(self.arithmetic_optimization)}")
        if not self.arithmetic_optimization and self.engine not in TENSORFLOW_ENGINES:
            raise ValueError(f"arithmetic_optimization is TensorFlow's: it applies to {', '.join(TENSORFLOW_ENGINES)} only")
        if self.training_steps > MAX_TRAINING_STEPS:
            raise ValueError(
                f"this run would take {self.training_steps:,} SGD steps ({self.num_epochs:,} epochs of "
                f"{self.training_steps // self.num_epochs:,} steps); a run may take at most {MAX_TRAINING_STEPS:,}"
            )

    @property
    def training_steps(self) -> int:
        """SGD steps the whole run takes."""
        return math.ceil((self.train_subset or MNIST_TRAIN_SIZE) / self.batch_size) * self.num_epochs

    def replace(self, **changes) -> RunConfig:
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, str]:
        """Flat dict of strings (URL query parameters, JSON); `from_dict` reverses it."""
        return {
            field.name: "" if value is None else repr(value) if isinstance(value, float) else str(value)
            for field in dataclasses.fields(self)
            for value in [getattr(self, field.name)]
        }

    @classmethod
    def from_dict(cls, values: dict[str, str]) -> RunConfig:
        """Parse a flat dict of strings; missing keys take the defaults, unknown keys are errors."""
        fields = {field.name: field for field in dataclasses.fields(cls)}
        unknown = sorted(set(values) - set(fields))
        if unknown:
            raise ValueError(f"unknown setting(s): {', '.join(unknown)}")
        parsed = {name: _parse(name, str(text)) for name, text in values.items()}
        return cls(**parsed)

    def key(self) -> str:
        """Stable digest of every field: equal configs, equal keys, across processes."""
        text = json.dumps(self.to_dict(), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:24]


def losses_for(activation: str) -> tuple[str, ...]:
    """The loss modes an activation trains with: a linear output only with from_logits."""
    return ("from_logits",) if activation == "linear" else ("keras", "probabilities")


def _parse(name: str, text: str):
    text = text.strip()
    if name == "learning_rate":
        try:
            return float(text)
        except ValueError:
            raise ValueError(f"learning_rate must be a number; got {quoted(text)}") from None
    if name in ("batch_size", "num_epochs", "seed", "train_subset"):
        if name == "train_subset" and text in ("", "None"):
            return None
        try:
            return int(text)
        except ValueError:
            raise ValueError(f"{name} must be a whole number; got {quoted(text)}") from None
    if name == "arithmetic_optimization":
        if text.lower() not in ("true", "false"):
            raise ValueError(f"arithmetic_optimization must be true or false; got {quoted(text)}")
        return text.lower() == "true"
    return text


def quoted(value, limit: int = 60) -> str:
    """A value as code would write it, cut to `limit` characters: a link can carry a whole page."""
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."


def check_learning_rate(value) -> float:
    """`value` as a float if it is a learning rate anyone may ask for (LEARNING_RATE_BOUNDS)."""
    lowest, highest = LEARNING_RATE_BOUNDS
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not lowest <= value <= highest:
        raise ValueError(f"a learning rate must be a number from {lowest:g} to {highest:g}; got {quoted(value)}")
    return float(value)
