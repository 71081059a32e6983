"""In the workers: the measurements over every image that the Why page and the answer read (the
mechanism's, the answer's share of saturated images), from stored runs."""

from __future__ import annotations

import math
from collections.abc import Mapping
from importlib import metadata

import numpy as np

from explainer.config import ENGINES, OPTIMIZERS, RunConfig
from explainer.data import FIRST_BATCH, Mnist, Prepared, prepare
from explainer.findings.answer import saturation_epoch
from explainer.findings.mechanism import ARTIFACT_RUNS, COLLAPSE_FACTORS, LOGITS_PATH, Mechanism
from explainer.findings.rules import ratio
from explainer.maths import linear, measures
from explainer.run import RunResult
from explainer.worker import images, replay

# the per-image loss histogram: log10 bins of this width, from 1e-8 (smaller losses, the images
# classified correctly with saturated outputs, count in the first bin) up to the largest loss
HISTOGRAM_BIN_WIDTH, HISTOGRAM_FLOOR = 0.25, -8


def saturated_share(run: RunResult, data: Prepared) -> float:
    """The share of `data`'s training images whose largest softmax probability exceeds
    SATURATED_PROBABILITY after `saturation_epoch`; it reads every image, so a worker computes it."""
    epoch = saturation_epoch(run)
    return measures.softmax_saturated_fraction(linear.logits(run.kernels[epoch], run.biases[epoch], data.x_train))


def mechanism(
    config: RunConfig, learning_rates: tuple[float, float], runs: Mapping[RunConfig, RunResult], mnist: Mnist
) -> Mechanism:
    """All measurements for the sidebar's setup at its two learning rates, from trained `runs`
    (every config of `runs_needed`)."""

    def run(**changes):
        return runs[config.replace(**changes)]

    data = prepare(mnist, config)
    low, high = learning_rates
    return Mechanism(
        versions={name: metadata.version(name) for engine in ENGINES.values() for name in engine.packages},
        loss_paths=[_loss_path(run(engine=engine, learning_rate=low), data) for engine in ENGINES],
        inputs=_inputs(data, config.seed),
        step_sizes=[_step_sizes(run(learning_rate=lr), data) for lr in learning_rates],
        saturation=[row for lr in learning_rates for row in _saturation(run(learning_rate=lr), data)],
        scaling=[
            row
            for optimizer in OPTIMIZERS
            for row in _scaling(run(optimizer=optimizer, learning_rate=low), run(optimizer=optimizer, learning_rate=high), data)
        ],
        collapse=[
            {
                "learning_rate": r.config.learning_rate,
                "epoch": epoch + 1,
                "loss": loss,
                "loss_over_lr": loss / r.config.learning_rate,
            }
            for r in (run(learning_rate=low * factor) for factor in COLLAPSE_FACTORS)
            for epoch, loss in enumerate(r.history["loss"])
        ],
        artifact=[
            _artifact(run(engine=engine, learning_rate=low, arithmetic_optimization=optimization), data)
            for engine, optimization in ARTIFACT_RUNS.values()
        ],
        per_sample=[_per_sample(run(learning_rate=lr), data) for lr in learning_rates],
        histogram=_histogram([run(learning_rate=lr) for lr in learning_rates], data),
    )


def _loss_path(result, data) -> dict:
    """On the first training batch, with the run's final weights: what Keras reports, against
    softmax cross-entropy on the logits and clipped cross-entropy on the model's outputs."""
    kernel, bias = result.kernels[-1], result.biases[-1]
    x, y = data.x_train[:FIRST_BATCH], data.y_train[:FIRST_BATCH]
    z = linear.logits(kernel, bias, x)
    activation = result.config.activation
    candidates = {LOGITS_PATH: float(linear.softmax_crossentropy(z, y).mean())}
    if activation != "linear":  # a linear output is the logits: there is no second path
        outputs = linear.activation_outputs(z, activation)
        candidates[f"cross-entropy on clipped {activation} outputs"] = float(linear.clipped_crossentropy(outputs, y).mean())
    reported = result.first_batch_loss  # measured by Keras itself when the run was trained
    used = min(candidates, key=lambda name: abs(candidates[name] - reported))
    return {
        "engine": result.config.engine,
        "keras": reported,
        **candidates,
        "closest": used,
        "relative_gap": ratio(abs(candidates[used] - reported), abs(reported)),
    }


def _inputs(data, seed: int, pairs: int = 5000) -> dict:
    """Squared norms of the images and dot products between random pairs of them."""
    x = data.x_train.reshape(len(data.x_train), -1)
    first, second = np.random.default_rng(seed).integers(len(x), size=(2, pairs))
    squared = np.einsum("ij,ij->i", x, x, dtype=np.float64)  # cast in buffers: no float64 copy of every image
    return {
        "mean_squared_norm": float(squared.mean()),
        "mean_pair_dot": float((x[first].astype(np.float64) * x[second]).sum(axis=1).mean()),
        "sigmoid_one_threshold": measures.sigmoid_one_threshold(),
    }


def _step_sizes(result, data, steps: int = 50) -> dict:
    """How far one SGD step moves the logits of the next batch's images, over the first steps of
    epoch 1 (SGD replayed from the run's initial weights)."""
    config = result.config
    batches = replay.batches_from(config, len(data.x_train), 1, 0, steps + 1)
    iterates = replay.sgd_iterates(linear.flatten(result.kernels[0], result.biases[0]), batches[:-1], data, config)
    moves = np.concatenate(
        [
            np.abs(images.logits_at(after - before, data.x_train[batch])).max(axis=1)
            for before, after, batch in zip(iterates, iterates[1:], batches[1:])
        ]
    )
    return {
        "learning_rate": config.learning_rate,
        "steps": steps,
        "median_largest_logit_move": float(np.median(moves)),
        "max_logit_move": float(moves.max()),
    }


def _saturation(result, data) -> list[dict]:
    rows = []
    for epoch, (kernel, bias) in enumerate(zip(result.kernels, result.biases)):
        z = linear.logits(kernel, bias, data.x_train)
        outputs = linear.sigmoid32(z)
        rows.append(
            {
                "learning_rate": result.config.learning_rate,
                "epoch": epoch,
                "softmax_saturated": measures.softmax_saturated_fraction(z),
                "sigmoid_ties": measures.tied_fraction(outputs),
            }
        )
    return rows


def _scaling(low, high, data) -> list[dict]:
    lr_ratio = high.config.learning_rate / low.config.learning_rate
    return [
        {
            "optimizer": low.config.optimizer,
            "epoch": epoch,
            "lr_ratio": lr_ratio,
            "norm_ratio": measures.norm_ratio(low.kernels[epoch], high.kernels[epoch]),
            "cosine": measures.cosine(low.kernels[epoch], high.kernels[epoch]),
            "agreement": measures.agreement(
                linear.logits(low.kernels[epoch], low.biases[epoch], data.x_test),
                linear.logits(high.kernels[epoch], high.biases[epoch], data.x_test),
            ),
            "loss_ratio": ratio(high.history["loss"][epoch - 1], low.history["loss"][epoch - 1]) if epoch else math.nan,
        }
        for epoch in range(min(len(low.kernels), len(high.kernels)))
    ]


def _artifact(result, data) -> dict:
    z = linear.logits(result.kernels[-1], result.biases[-1], data.x_test)
    return {
        "engine": result.config.engine,
        "arithmetic_optimization": result.config.arithmetic_optimization,
        "loss": result.final("loss"),
        "reported_val_accuracy": result.final("val_accuracy"),
        "predict_accuracy": result.predict_accuracy,
        "logit_accuracy": result.logit_accuracy,
        "tied_fraction": measures.tied_fraction(linear.sigmoid32(z)),
    }


def _per_sample(result, data) -> dict:
    z = linear.logits(result.kernels[-1], result.biases[-1], data.x_test)
    losses = linear.softmax_crossentropy(z, data.y_test)
    wrong = z.argmax(axis=1) != data.y_test.argmax(axis=1)
    margin = measures.margins(z, data.y_test)
    return {
        "learning_rate": result.config.learning_rate,
        "mean_loss": float(losses.mean()),
        "misclassified": float(wrong.mean()),
        "loss_share_of_misclassified": ratio(float(losses[wrong].sum()), float(losses.sum())),
        "median_margin_misclassified": float(np.median(margin[wrong])) if wrong.any() else 0.0,
        "mean_loss_correct": float(losses[~wrong].mean()),
    }


def histogram_edges(exponents: np.ndarray) -> np.ndarray:
    """Bin edges from HISTOGRAM_FLOOR past the largest finite value, at least one bin (a run can
    fit every image, all its losses at the floor)."""
    finite = exponents[np.isfinite(exponents)]
    top = np.ceil(finite.max() / HISTOGRAM_BIN_WIDTH) * HISTOGRAM_BIN_WIDTH if len(finite) else HISTOGRAM_FLOOR
    top = max(top, HISTOGRAM_FLOOR + HISTOGRAM_BIN_WIDTH)
    return np.arange(HISTOGRAM_FLOOR, top + HISTOGRAM_BIN_WIDTH / 2, HISTOGRAM_BIN_WIDTH)


def _histogram(results, data) -> list[dict]:
    """Counts of test images per log10 bin of their loss, one set of bins for every run, reaching
    the largest loss (no image piles on an edge but the floor's, which says "this or less")."""
    exponents = []
    for result in results:
        z = linear.logits(result.kernels[-1], result.biases[-1], data.x_test)
        with np.errstate(divide="ignore"):
            exponents.append(np.maximum(np.log10(linear.softmax_crossentropy(z, data.y_test)), HISTOGRAM_FLOOR))
    edges = histogram_edges(np.concatenate(exponents))
    rows = []
    for result, values in zip(results, exponents):
        counts, _ = np.histogram(values[np.isfinite(values)], bins=edges)
        rows += [
            {"learning_rate": result.config.learning_rate, "log10_loss": float(a), "log10_loss_end": float(b), "samples": int(n)}
            for a, b, n in zip(edges[:-1], edges[1:], counts)
        ]
    return rows
