"""RunConfig: defaults, validation messages, round trip through strings, stable keys."""

import dataclasses
import math
import subprocess
import sys
from pathlib import Path

import pytest

from explainer.config import RunConfig


def test_defaults_are_the_question():
    config = RunConfig()
    assert (config.activation, config.loss, config.scaling, config.optimizer) == ("sigmoid", "keras", "raw", "sgd")
    assert (config.learning_rate, config.batch_size, config.num_epochs, config.train_subset) == (0.01, 32, 10, None)


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"learning_rate": 0}, "a learning rate must be a number from 1e-08 to 1e"),
        ({"learning_rate": -0.01}, "a learning rate must be a number from"),
        ({"learning_rate": math.nan}, "a learning rate must be a number from"),
        ({"learning_rate": math.inf}, "a learning rate must be a number from"),
        ({"learning_rate": 1e39}, "a learning rate must be a number from"),
        ({"learning_rate": "0.01"}, "a learning rate must be a number from"),
        ({"learning_rate": True}, "a learning rate must be a number from"),
        ({"engine": "jax"}, "engine must be one of tf_keras, keras3"),
        ({"optimizer": "lbfgs"}, "optimizer must be one of"),
        ({"batch_size": 0}, "batch_size must be a whole number from 1 to 60,000"),
        ({"batch_size": 2**31}, "batch_size must be a whole number from 1 to 60,000; got 2147483648"),
        ({"num_epochs": 2.5}, "num_epochs must be a whole number"),
        ({"num_epochs": 21}, "num_epochs must be a whole number from 1 to 20"),
        ({"seed": -1}, "seed must be a whole number from 0 to 2,147,483,647"),
        ({"seed": 2**31}, "seed must be a whole number from 0 to 2,147,483,647; got 2147483648"),
        ({"train_subset": 0}, "train_subset must be a whole number from 1 to 60,000"),
        ({"train_subset": 60_001}, "train_subset must be a whole number from 1 to 60,000"),
        ({"engine": "x" * 1000}, "got 'xxxxx"),
        ({"loss": "from_logits"}, "needs activation 'linear'"),
        ({"activation": "linear"}, "needs loss 'from_logits'"),
    ],
)
def test_invalid_values_raise_clear_errors(changes, message):
    with pytest.raises(ValueError, match=message):
        RunConfig(**changes)


def test_round_trip_through_strings():
    config = RunConfig(
        engine="keras3",
        activation="linear",
        loss="from_logits",
        scaling="unit",
        optimizer="adam",
        learning_rate=0.003,
        batch_size=64,
        num_epochs=3,
        seed=7,
        train_subset=500,
        arithmetic_optimization=False,
    )
    flat = config.to_dict()
    assert all(isinstance(value, str) for value in flat.values())
    assert RunConfig.from_dict(flat) == config
    assert RunConfig.from_dict(RunConfig().to_dict()) == RunConfig()


def test_from_dict_fills_defaults_and_rejects_unknown_or_malformed():
    assert RunConfig.from_dict({"learning_rate": "0.03"}) == RunConfig(learning_rate=0.03)
    with pytest.raises(ValueError, match="unknown setting"):
        RunConfig.from_dict({"lr": "0.03"})
    with pytest.raises(ValueError, match="learning_rate must be a number"):
        RunConfig.from_dict({"learning_rate": "fast"})
    with pytest.raises(ValueError, match="batch_size must be a whole number"):
        RunConfig.from_dict({"batch_size": "3.5"})


def test_key_distinguishes_every_field_and_is_stable_across_processes():
    base = RunConfig()
    changed = {
        "engine": "keras3",
        "activation": "softmax",
        "loss": "probabilities",
        "scaling": "unit",
        "optimizer": "rmsprop",
        "learning_rate": 0.03,
        "batch_size": 16,
        "num_epochs": 2,
        "seed": 1,
        "train_subset": 10,
        "arithmetic_optimization": False,
    }
    keys = {base.replace(**{name: value}).key() for name, value in changed.items()}
    assert len(keys | {base.key()}) == len(changed) + 1
    assert {field.name for field in dataclasses.fields(RunConfig)} == set(changed)
    other = subprocess.run(
        [sys.executable, "-c", "from explainer.config import RunConfig; print(RunConfig().key())"],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).parents[1],
    )
    assert other.stdout.strip() == base.key()


def test_a_run_longer_than_the_step_limit_is_refused_with_the_figures():
    with pytest.raises(ValueError, match=r"would take 120,000 SGD steps .* at most 60,000"):
        RunConfig(batch_size=1, num_epochs=2)
    assert RunConfig(batch_size=1, num_epochs=1).training_steps == 60_000


def test_a_long_value_is_cut_in_the_message():
    with pytest.raises(ValueError) as error:
        RunConfig(engine="x" * 10_000)
    assert len(str(error.value)) < 200 and str(error.value).endswith("...")
