"""The current view as a Jupyter notebook in plain Keras, NumPy and matplotlib, which imports
nothing of this project (it runs in Colab or any Jupyter as it is): the question's model trained
at the view's two learning rates with the view's engine and fixes, from the app's initial weights
and in its batch order, so that on the same library versions every number it prints is the app's
to the printed digit; then what the answer's sentences rest on, measured, and x / 255 applied."""

from __future__ import annotations

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from explainer.config import MNIST_TRAIN_SIZE, RunConfig
from explainer.engines import ENGINES, engine_versions
from explainer.findings.answer import ARTIFACT_GAP, SATURATED_SHARE
from explainer.findings.mechanism import PROBABILITY_LOSS_BOUND
from explainer.findings.rules import FOLLOWS_LR_TOLERANCE
from explainer.labels import OPTIMIZER_NAMES, describe
from explainer.maths.linear import CLIP_EPSILON
from explainer.maths.measures import SATURATED_PROBABILITY
from explainer.run import PREDICT_BATCH
from explainer.view import View, format_learning_rates

SCALINGS = {  # the inputs as the app computes them, in float32: (x - shift) / scale, rounded once each
    "raw": "shift, scale = np.float32(0), np.float32(1)  # raw pixels 0-255, as the question",
    "unit": "shift, scale = np.float32(0), np.float32(255)  # x / 255",
    "standardized": (
        "pixels = x_train_all.astype(np.float32)  # per pixel, over all 60,000 training images\n"
        "shift = pixels.mean(axis=0)\n"
        "scale = np.sqrt(((pixels - shift) ** 2).mean(axis=0))\n"
        "scale = np.where(scale > 0, scale, 1).astype(np.float32)  # the border pixels are always 0"
    ),
}
# the cross-entropy on the outputs themselves (loss "probabilities"), as the app's fix defines it
ON_OUTPUTS = """def crossentropy_on_outputs(y_true, y_pred):  # normalised, clipped at {epsilon:g}: no logits shortcut
    p = {ops}clip(y_pred / {ops}{sum}(y_pred, axis=-1, keepdims=True), {epsilon:g}, 1 - {epsilon:g})
    return -{ops}{sum}(y_true * {ops}log(p), axis=-1)


"""


def notebook(view: View) -> nbformat.NotebookNode:
    """The notebook of `view` (its config's engine, fixes, run length and seed, at both rates)."""
    config = view.config
    versions = ", ".join(f"{package} {version}" for package, version in engine_versions(config.engine).items())
    cells = [
        new_markdown_cell(
            "# Why does the loss grow with the learning rate? The explainer's view, in plain Keras\n\n"
            f"This notebook re-runs the explainer's view ({describe(config)}, learning rates "
            f"{format_learning_rates(view.learning_rates)}) with Keras' own `fit`, on Keras' own MNIST. It imports nothing of "
            f"the explainer. It was made with {versions}: with those versions, every number it prints is the app's to the "
            "printed digit (the next cell prints yours)."
        ),
        new_code_cell(_imports(config)),
        new_code_cell(_settings(view)),
        new_markdown_cell(
            "MNIST from Keras' own loader: the first `TRAIN_IMAGES` training images, the inputs scaled as the view scales "
            "them, the labels one-hot."
        ),
        new_code_cell(_data(config)),
        new_markdown_cell(
            "The question's model with the view's settings. Every run starts from the same Glorot-uniform weights, drawn by "
            "NumPy from the seed as the app draws them, and sees the training images in the app's order: a new permutation "
            "each epoch, drawn from the seed, fitted one epoch at a time. Keras prints its own line for each epoch."
        ),
        new_code_cell(_model(config)),
        new_code_cell("runs = {lr: train(lr, x_train, x_test) for lr in LEARNING_RATES}"),
        new_markdown_cell(_measures_words()),
        new_code_cell(MEASURES),
        new_code_cell(PLOT),
    ]
    if config.scaling != "unit":
        cells += [
            new_markdown_cell(
                "**The fix: scale the inputs to x / 255.** The same runs on inputs from 0 to 1: the loss no longer follows the "
                "learning rate."
            ),
            new_code_cell(FIX),
        ]
    for index, cell in enumerate(cells):
        cell.id = f"cell-{index}"  # the same view, the same file
    return new_notebook(
        cells=cells, metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}
    )


def text(view: View) -> str:
    """The notebook as the .ipynb file's text (nbformat's JSON), validated."""
    made = notebook(view)
    nbformat.validate(made)
    return nbformat.writes(made)


def _imports(config: RunConfig) -> str:
    return (
        "import os\n\n"
        "import matplotlib.pyplot as plt\n"
        "import numpy as np\n\n"
        f"{ENGINES[config.engine].imports}\n\n"
        "from importlib.metadata import version\n\n"
        f'print(", ".join(f"{{package}} {{version(package)}}" for package in {ENGINES[config.engine].packages!r}))'
    )


def _settings(view: View) -> str:
    config = view.config
    return (
        f"LEARNING_RATES = {tuple(view.learning_rates)!r}\n"
        f"EPOCHS, BATCH_SIZE, SEED = {config.num_epochs}, {config.batch_size}, {config.seed}\n"
        f"TRAIN_IMAGES = {config.train_subset or MNIST_TRAIN_SIZE}"
    )


def _data(config: RunConfig) -> str:
    return (
        "(x_train_all, y_train_all), (x_test_images, y_test_labels) = keras.datasets.mnist.load_data()\n"
        f"{SCALINGS[config.scaling]}\n\n\n"
        "def scaled(images):\n"
        "    return (images.astype(np.float32) - shift) / scale\n\n\n"
        "one_hot = np.eye(10, dtype=np.float32)\n"
        "x_train, y_train = scaled(x_train_all[:TRAIN_IMAGES]), one_hot[y_train_all[:TRAIN_IMAGES]]\n"
        "x_test, y_test = scaled(x_test_images), one_hot[y_test_labels]\n"
        "print(x_train.shape, x_train.min(), x_train.max())"
    )


def _model(config: RunConfig) -> str:
    loss = {
        "keras": '"categorical_crossentropy"',
        "from_logits": "keras.losses.CategoricalCrossentropy(from_logits=True)",
        "probabilities": "crossentropy_on_outputs",
    }[config.loss]
    on_outputs = ""
    if config.loss == "probabilities":
        ops = ("tf.", "reduce_sum") if config.engine == "tf_keras" else ("keras.ops.", "sum")
        on_outputs = ("import tensorflow as tf\n\n\n" if config.engine == "tf_keras" else "") + ON_OUTPUTS.format(
            ops=ops[0], sum=ops[1], epsilon=CLIP_EPSILON
        )
    return (
        f"{on_outputs}def initial_weights():\n"
        "    limit = np.sqrt(6 / (784 + 10))  # Glorot-uniform, as Keras' Dense\n"
        "    kernel = np.random.default_rng(SEED).uniform(-limit, limit, size=(784, 10))\n"
        "    return [kernel.astype(np.float32), np.zeros(10, np.float32)]\n\n\n"
        "def train(learning_rate, x_train, x_test):\n"
        '    """The model fitted at `learning_rate`; its history, and its Dense weights after each epoch."""\n'
        "    keras.utils.set_random_seed(SEED)\n"
        "    model = keras.Sequential([\n"
        "        keras.Input(shape=(28, 28)), keras.layers.Flatten(),\n"
        f'        keras.layers.Dense(10, activation="{config.activation}"),\n'
        "    ])\n"
        "    model.layers[-1].set_weights(initial_weights())\n"
        f"    optimizer = keras.optimizers.{OPTIMIZER_NAMES[config.optimizer]}(learning_rate=learning_rate)\n"
        f'    model.compile(optimizer=optimizer, loss={loss}, metrics=["accuracy"])\n'
        "    rng, history, weights = np.random.default_rng(SEED), {}, [model.layers[-1].get_weights()]\n"
        "    for epoch in range(EPOCHS):\n"
        "        order = rng.permutation(len(x_train))\n"
        "        logs = model.fit(\n"
        "            x_train[order], y_train[order], validation_data=(x_test, y_test),\n"
        "            batch_size=BATCH_SIZE, epochs=1, shuffle=False, verbose=2,\n"
        "        ).history\n"
        "        for name, values in logs.items():\n"
        "            history.setdefault(name, []).extend(values)\n"
        "        weights.append(model.layers[-1].get_weights())\n"
        "    return model, history, weights"
    )


def _measures_words() -> str:
    return (
        "**What the app's answer rests on**, measured here:\n\n"
        f"- *The loss per image.* A cross-entropy on probabilities, which Keras clips at {CLIP_EPSILON:g}, can never exceed "
        f"-log({CLIP_EPSILON:g}) = {PROBABILITY_LOSS_BOUND:.2f} per image: a larger loss was computed on the logits.\n"
        "- *The loss ratio against the learning-rate ratio.* The loss follows the learning rate when "
        "log(loss ratio) / log(learning-rate ratio) is within "
        f"{FOLLOWS_LR_TOLERANCE} of 1.\n"
        f"- *The share of saturated images* after the first epoch: those whose largest softmax probability exceeds "
        f"{SATURATED_PROBABILITY:g} (the app calls every output saturated from {SATURATED_SHARE:.0%}).\n"
        "- *The weight-norm ratio*: saturated, SGD's steps no longer depend on the weights' scale, so the weights grow "
        "with the learning rate.\n"
        "- *The reported accuracy against argmax(model.predict(x))*: the app calls the reported one an artifact when "
        f"predict's is more than {ARTIFACT_GAP} below it."
    )


MEASURES = f"""low, high = LEARNING_RATES
(model, history, weights), (_, history_high, weights_high) = runs[low], runs[high]
loss_ratio = history_high["loss"][-1] / history["loss"][-1]
exponent = np.log(loss_ratio) / np.log(high / low)
print(f"largest training loss per image: {{max(history['loss'] + history_high['loss']):.4g}}")
print(f"loss ratio {{loss_ratio:.4g}} for a learning-rate ratio of {{high / low:.4g}} (growth exponent {{exponent:.2f}})")

kernel, bias = weights[min(1, EPOCHS)]  # after the first epoch
logits = (x_train.reshape(len(x_train), -1) @ kernel + bias).astype(np.float64)
softmax = np.exp(logits - logits.max(axis=1, keepdims=True))
softmax /= softmax.sum(axis=1, keepdims=True)
print(f"saturated images after epoch 1: {{np.mean(softmax.max(axis=1) > {SATURATED_PROBABILITY}):.1%}}")
print(f"weight-norm ratio: {{np.linalg.norm(weights_high[-1][0]) / np.linalg.norm(weights[-1][0]):.4g}}")

predicted = model.predict(x_test, batch_size={PREDICT_BATCH}, verbose=0).argmax(axis=1)
print(f"reported validation accuracy {{history['val_accuracy'][-1]:.4f}}, argmax(model.predict(x)) "
      f"{{np.mean(predicted == y_test_labels):.4f}}")"""

PLOT = """figure, axes = plt.subplots(1, 2, figsize=(10, 3.5))
for lr, (_, run_history, _) in runs.items():
    epochs = range(1, EPOCHS + 1)
    axes[0].plot(epochs, run_history["loss"], marker="o", label=f"lr {lr:g}")
    axes[1].plot(epochs, run_history["accuracy"], marker="o", label=f"lr {lr:g}")
axes[0].set(yscale="log", xlabel="epoch", ylabel="training loss (log scale)")
axes[1].set(xlabel="epoch", ylabel="reported accuracy")
axes[0].legend()
plt.show()"""

FIX = """x_train, x_test = (images.astype(np.float32) / np.float32(255) for images in (x_train_all[:TRAIN_IMAGES], x_test_images))
unit = {lr: train(lr, x_train, x_test) for lr in LEARNING_RATES}
low_loss, high_loss = (unit[lr][1]["loss"][-1] for lr in LEARNING_RATES)
print(f"with x / 255: loss {low_loss:.4g} and {high_loss:.4g}, ratio {high_loss / low_loss:.4g} "
      f"(growth exponent {np.log(high_loss / low_loss) / np.log(LEARNING_RATES[1] / LEARNING_RATES[0]):.2f})")"""
