"""The proposed fixes: one record each (its words, its change to the question's setup, its edit of
the question's code). Adding a fix is one record here; its verdict follows from the rules in
findings/verdicts.py."""

from __future__ import annotations

import dataclasses

from explainer.config import RunConfig

LOWER_LR_FACTOR = 10  # the lower_lr fix divides both learning rates by this


@dataclasses.dataclass(frozen=True)
class Fix:
    """code: in URLs, JSON and the CLI. name: what a reader sees. change: the RunConfig fields it
    sets. rate_divisor: it divides the learning rates by this (its verdict then also asks the loss
    to shrink as much). before, replacements: its edit of the question's code (lines put before
    it; old text -> new text)."""

    code: str
    name: str
    change: dict = dataclasses.field(default_factory=dict)
    rate_divisor: float = 1
    before: str = ""
    replacements: dict = dataclasses.field(default_factory=dict)


FIXES: dict[str, Fix] = {
    fix.code: fix
    for fix in (
        Fix("baseline", "the question's setup"),
        Fix(
            "unit",
            "inputs scaled to x / 255",
            {"scaling": "unit"},
            before="x_train, x_test = x_train / 255, x_test / 255  # the fix: pixels from 0-255 to 0-1\n",
        ),
        Fix(
            "standardized",
            "inputs standardized per pixel",
            {"scaling": "standardized"},
            before="mean, std = x_train.mean(axis=0), x_train.std(axis=0)\nstd[std == 0] = 1  # the border pixels are always 0\n"
            "x_train, x_test = (x_train - mean) / std, (x_test - mean) / std\n",
        ),
        Fix(
            "softmax",
            "softmax instead of sigmoid",
            {"activation": "softmax"},
            replacements={"activation='sigmoid'": "activation='softmax'"},
        ),
        Fix(
            "from_logits",
            "a linear output with from_logits=True",
            {"activation": "linear", "loss": "from_logits"},
            replacements={
                "Dense(10, activation='sigmoid')": "Dense(10)",
                "loss='categorical_crossentropy'": "loss=tf.keras.losses.CategoricalCrossentropy(from_logits=True)",
            },
        ),
        Fix(
            "probabilities",
            "cross-entropy on the clipped outputs",
            {"loss": "probabilities"},
            before="def crossentropy_on_outputs(y_true, y_pred):  # what the question believed Keras computed\n"
            "    p = tf.clip_by_value(y_pred / tf.reduce_sum(y_pred, axis=-1, keepdims=True), 1e-7, 1 - 1e-7)\n"
            "    return -tf.reduce_sum(y_true * tf.math.log(p), axis=-1)\n\n",
            replacements={"loss='categorical_crossentropy'": "loss=crossentropy_on_outputs"},
        ),
        Fix(
            "lower_lr",
            f"learning rates divided by {LOWER_LR_FACTOR}",
            rate_divisor=LOWER_LR_FACTOR,
            replacements={"learning_rate=0.01": f"learning_rate={0.01 / LOWER_LR_FACTOR:g}"},
        ),
        Fix(
            "rmsprop", "RMSprop instead of SGD", {"optimizer": "rmsprop"}, replacements={"optimizers.SGD(": "optimizers.RMSprop("}
        ),
        Fix("adam", "Adam instead of SGD", {"optimizer": "adam"}, replacements={"optimizers.SGD(": "optimizers.Adam("}),
    )
}


def base_config(config: RunConfig) -> RunConfig:
    """The question's setup with the sidebar's engine and run length (epochs, batch size, training
    images, seed): what each fix is applied to."""
    kept = ("engine", "learning_rate", "batch_size", "num_epochs", "seed", "train_subset")
    return RunConfig(**{name: getattr(config, name) for name in kept})


def fix_config(fix: str, base: RunConfig, learning_rate: float) -> RunConfig:
    """The base config with one fix applied, at `learning_rate` (divided as the fix says)."""
    if fix not in FIXES:
        raise ValueError(f"fix must be one of {', '.join(FIXES)}; got {fix!r}")
    return base.replace(learning_rate=learning_rate / FIXES[fix].rate_divisor, **FIXES[fix].change)


def runs_needed(base: RunConfig, learning_rates: tuple[float, float], combination: RunConfig | None = None) -> list[RunConfig]:
    """Every fix at both learning rates, plus a combination of fixes (the sidebar's) if given."""
    runs = [fix_config(fix, base, lr) for fix in FIXES for lr in learning_rates]
    runs += [combination.replace(learning_rate=lr) for lr in learning_rates] if combination else []
    return list(dict.fromkeys(runs))
