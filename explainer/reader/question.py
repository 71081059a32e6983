"""The question as asked: its code, and the training logs it reported."""

from __future__ import annotations

from explainer.config import MNIST_TRAIN_SIZE, RunConfig
from explainer.fixes import FIXES
from explainer.logs import keras_line
from explainer.run import METRICS

# the loading the question's code implies (it shows only the model, compile and fit)
LOADING = """\
import tensorflow as tf
from tensorflow.keras.models import Sequential
from tensorflow.keras.layers import Input, Flatten, Dense
from tensorflow.keras.utils import to_categorical

(x_train, y_train), (x_test, y_test) = tf.keras.datasets.mnist.load_data()
y_train = to_categorical(y_train)
y_test = to_categorical(y_test)
"""
CODE = """\
model = Sequential()
model.add(Input(shape=(28, 28)))
model.add(Flatten())
model.add(Dense(10, activation='sigmoid'))
model.compile(optimizer=tf.keras.optimizers.SGD(learning_rate=0.01),
              loss='categorical_crossentropy', metrics=['accuracy'])
history = model.fit(x_train, y_train, validation_data=(x_test, y_test),
                    batch_size=32, epochs=10)
"""

# per epoch: loss, accuracy, val_loss, val_accuracy, as printed by Keras in the question
_ROWS = {
    0.01: [
        (315.4696, 0.8432, 195.9139, 0.8957),
        (263.0978, 0.8674, 233.7138, 0.8782),
        (251.8907, 0.8730, 208.0299, 0.8906),
        (246.9039, 0.8754, 229.8979, 0.8937),
        (234.6116, 0.8786, 263.7991, 0.8682),
        (239.2780, 0.8781, 217.1707, 0.8892),
        (235.9433, 0.8805, 233.0448, 0.8926),
        (237.9058, 0.8812, 229.1561, 0.8912),
        (235.2525, 0.8826, 318.9307, 0.8683),
        (238.1098, 0.8810, 275.0455, 0.8809),
    ],
    0.03: [
        (931.7540, 0.8417, 618.5505, 0.8952),
        (767.9313, 0.8701, 618.2877, 0.8940),
        (756.3298, 0.8730, 847.1705, 0.8582),
        (739.8559, 0.8748, 687.9159, 0.8901),
        (731.3071, 0.8760, 693.1130, 0.8942),
        (728.4488, 0.8787, 685.3834, 0.8841),
        (712.8240, 0.8798, 640.9078, 0.8972),
        (693.1299, 0.8811, 657.0080, 0.8902),
        (700.5771, 0.8803, 739.0408, 0.8871),
        (696.2348, 0.8833, 785.1879, 0.8762),
    ],
}
REPORTED: dict[float, dict[str, list[float]]] = {
    lr: {name: [row[i] for row in rows] for i, name in enumerate(METRICS)} for lr, rows in _ROWS.items()
}


def reported(learning_rate: float) -> dict[str, list[float]] | None:
    """The question's per-epoch logs at this learning rate, or None if it reported none."""
    for lr, history in REPORTED.items():
        if abs(lr - learning_rate) <= 1e-12:
            return history
    return None


def log(learning_rate: float) -> str:
    """The question's log at one of its learning rates (QUESTION_LEARNING_RATES) as the asker pasted it, after the sentence
    that said which rate it was: tf.keras 2's verbose=1 lines with its numbers (each epoch's
    timing the first one's)."""
    history, steps = REPORTED[learning_rate], MNIST_TRAIN_SIZE // RunConfig().batch_size
    epochs = len(history["loss"])
    return f"This is the output when the learning rate is {learning_rate:g}:\n" + "".join(
        f"Epoch {epoch + 1}/{epochs}\n{steps}/{steps} [==============================] - 2s 946us/step - "
        f"{keras_line(history, epoch)}\n"
        for epoch in range(epochs)
    )


def is_question_setup(config: RunConfig) -> bool:
    """True when only what the question leaves open differs: engine, learning rate, run length, seed."""
    free = ("engine", "learning_rate", "num_epochs", "seed", "train_subset")
    return config == RunConfig(**{name: getattr(config, name) for name in free})


def reported_for(config: RunConfig, learning_rates: tuple[float, ...]) -> dict[float, dict[str, list[float]]]:
    """The question's logs at those of `learning_rates` it reported, when `config` is its setup."""
    if not is_question_setup(config):
        return {}
    return {lr: history for lr in learning_rates if (history := reported(lr)) is not None}


def fix_lines(fix: str) -> str:
    """The lines a fix (a code of explainer.fixes.FIXES) adds to the question's code or changes in it."""
    question = set(CODE.splitlines())
    return "\n".join(line for line in code_with(fix).splitlines() if line.strip() and line not in question)


def code_with(fix: str) -> str:
    """The question's code with one fix applied (a code of explainer.fixes.FIXES)."""
    code = CODE
    for old, new in FIXES[fix].replacements.items():
        code = code.replace(old, new)
    return FIXES[fix].before + code
