"""Verdict rules on hand-made results, where the right verdict is known."""

import numpy as np
import pytest

from explainer.config import RunConfig
from explainer.findings.verdicts import FixOutcome
from explainer.fixes import FIXES, base_config, fix_config, runs_needed
from explainer.labels import FIX_NAMES
from explainer.reader import question
from explainer.run import RunResult


def result(lr, loss, val_accuracy, predict_accuracy=None, steps=None, kernel_scale=1.0, **changes):
    steps = np.linspace(loss * 2, loss, 10) if steps is None else steps
    return RunResult(
        config=RunConfig(learning_rate=lr, **changes),
        history={"loss": [loss], "accuracy": [val_accuracy], "val_loss": [loss], "val_accuracy": [val_accuracy]},
        step_loss=steps,
        steps_per_epoch=10,
        kernels=np.full((2, 784, 10), kernel_scale * lr, np.float32),
        biases=np.zeros((2, 10), np.float32),
        predict_accuracy=val_accuracy if predict_accuracy is None else predict_accuracy,
        logit_accuracy=val_accuracy,
        first_batch_loss=loss,
        diverged=None,
        versions={},
        seconds=0.0,
    )


BASELINE = (result(0.01, 230, 0.89, 0.31), result(0.03, 700, 0.90, 0.33))


def test_identical_training_means_every_step_within_the_tolerance():
    same = tuple(result(r.config.learning_rate, r.history["loss"][0], 0.89, steps=r.step_loss * (1 + 1e-7)) for r in BASELINE)
    assert FixOutcome("softmax", same, BASELINE).verdict() == "identical-training"
    one_step_off = BASELINE[0].step_loss.copy()
    one_step_off[3] *= 1 + 1e-4
    apart = (result(0.01, 230, 0.89, 0.31, steps=one_step_off), BASELINE[1])
    assert FixOutcome("softmax", apart, BASELINE).verdict() != "identical-training"


def test_bounded_loss_that_ignores_the_rate_with_real_accuracy_fixes_it():
    runs = (result(0.01, 0.32, 0.915), result(0.03, 0.29, 0.92))
    assert FixOutcome("unit", runs, BASELINE).verdict() == "fixes-it"
    inflated = (result(0.01, 0.32, 0.915, predict_accuracy=0.3), result(0.03, 0.29, 0.92))
    assert FixOutcome("unit", inflated, BASELINE).verdict() != "fixes-it"  # the accuracy is an artifact


def test_lower_rate_that_divides_the_loss_rescales_only():
    runs = (result(0.001, 23, 0.88), result(0.003, 70, 0.90))
    assert FixOutcome("lower_lr", runs, BASELINE).verdict() == "rescales-loss-only"
    not_tenfold = (result(0.001, 200, 0.88), result(0.003, 600, 0.90))
    assert FixOutcome("lower_lr", not_tenfold, BASELINE).verdict() == "changes-training"


def test_everything_else_changes_training():
    runs = (result(0.01, 1.9, 0.27), result(0.03, 2.1, 0.10))
    assert FixOutcome("probabilities", runs, BASELINE).verdict() == "changes-training"
    diverged = (result(0.01, float("nan"), 0.1), result(0.03, float("nan"), 0.1))
    assert FixOutcome("adam", diverged, BASELINE).verdict() == "changes-training"


def test_fix_configs():
    base = RunConfig(num_epochs=2)
    assert fix_config("lower_lr", base, 0.03).learning_rate == pytest.approx(0.003)
    assert fix_config("from_logits", base, 0.01).loss == "from_logits"
    assert len(runs_needed(base, (0.01, 0.03))) == 2 * len(FIXES)
    assert len(runs_needed(base, (0.01, 0.03), base.replace(activation="softmax"))) == 2 * len(FIXES)  # already a fix
    with pytest.raises(ValueError, match="fix must be one of"):
        fix_config("dropout", base, 0.01)


def test_fixes_apply_to_the_question_with_the_sidebars_engine_and_length():
    sidebar = RunConfig(engine="keras3", scaling="unit", optimizer="adam", learning_rate=0.001, num_epochs=3, seed=4)
    assert base_config(sidebar) == RunConfig(engine="keras3", learning_rate=0.001, num_epochs=3, seed=4)


def test_a_zero_loss_gives_no_verdict_error():
    fitted = (result(0.01, 0.0, 1.0), result(0.03, 0.0, 1.0))
    assert FixOutcome("unit", fitted, BASELINE).verdict() == "changes-training"


def test_verdicts_in_words_say_whether_the_loss_still_follows_the_rate():
    adaptive = (result(0.01, 50, 0.80), result(0.03, 151, 0.89))  # loss 3x for 3x the rate, accuracy moved
    moved = (result(0.01, 1.9, 0.27), result(0.03, 2.1, 0.10))
    assert FixOutcome("adam", adaptive, BASELINE).words() == "changes training, still scales with the learning rate"
    assert FixOutcome("probabilities", moved, BASELINE).words() == "changes training"
    assert FixOutcome("unit", (result(0.01, 0.32, 0.915), result(0.03, 0.29, 0.92)), BASELINE).words() == "fixes it"


@pytest.mark.parametrize("fix", [fix for fix in FIXES if fix != "baseline"])
def test_every_fix_has_code_that_compiles_and_applies_each_of_its_edits(fix):
    code = question.code_with(fix)
    compile(code, f"<{fix}>", "exec")
    assert code != question.CODE
    for old, new in FIXES[fix].replacements.items():
        assert old in question.CODE and new in code  # an edit that matches nothing would silently show the question's code


def test_the_baseline_is_the_question_and_an_unknown_fix_has_no_code():
    assert question.code_with("baseline") == question.CODE
    with pytest.raises(KeyError):
        question.code_with("dropout")


def test_the_learning_rate_divisor_is_applied_in_the_config_the_words_and_the_code():
    lower = FIXES["lower_lr"]
    assert fix_config("lower_lr", RunConfig(), 0.01).learning_rate == pytest.approx(0.01 / lower.rate_divisor)
    assert f"{lower.rate_divisor:g}" in FIX_NAMES["lower_lr"]
    assert f"learning_rate={0.01 / lower.rate_divisor:g}" in question.code_with("lower_lr")
