"""Words for the codes: what a reader sees for each engine, option and choice (codes stay in
URLs, JSON and the CLI). NAMES are short (charts, headings); LABELS describe (controls)."""

import math

NAMES = {
    "tf_keras": "tf.keras 2",
    "keras3": "Keras 3",
    "keras3_jax": "Keras 3 on JAX",
    "raw": "raw pixels 0-255",
    "unit": "x / 255",
    "standardized": "standardized per pixel",
}
LABELS = {
    "tf_keras": "tf.keras 2 (tf-keras: what the question ran)",
    "keras3": "Keras 3 (today's `import keras`)",
    "keras3_jax": "Keras 3 on JAX (KERAS_BACKEND=jax)",
    "raw": "raw pixels 0-255 (question)",
    "unit": "x / 255",
    "standardized": "standardized per pixel",
    "sigmoid": "sigmoid (question)",
    "softmax": "softmax",
    "linear": "linear (logits)",
    "keras": "'categorical_crossentropy' as written",
    "probabilities": "on clipped probabilities (no logits shortcut)",
    "from_logits": "from_logits=True",
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
EVALUATE_ON = {"minibatch": "the next mini-batch", "train": "the training set", "test": "the test set"}
UNDEFINED = "undefined here"  # a ratio or slope of zero or non-finite losses


def figure(value: float, spec: str = ".4g") -> str:
    """A measured number as the pages print it; "undefined here" when it is NaN or infinite."""
    return format(value, spec) if math.isfinite(value) else UNDEFINED
