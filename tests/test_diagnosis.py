"""A reader's own log diagnosed: the question's two logs give the whole diagnosis, every rule at
its threshold's edge, bad input gives a message; the page (AppTest) and the command line."""

import json
import math

import numpy as np
import pytest
import service_jobs
from conftest import session_workers
from pages_helper import ROOT, plain, said
from streamlit.testing.v1 import AppTest

from explainer.cli import main
from explainer.config import ENGINES, QUESTION_LEARNING_RATES, RunConfig
from explainer.findings import diagnosis
from explainer.findings.diagnosis import FLAT_ACCURACY, LOSS_MOVES, VALIDATION_GAP, Known, diagnose
from explainer.findings.log_report import report
from explainer.findings.mechanism import PROBABILITY_LOSS_BOUND
from explainer.findings.rules import FOLLOWS_LR_TOLERANCE
from explainer.logs import TrainingLog, read
from explainer.reader import question


def log(loss, accuracy=0.88, val_loss=None, val_accuracy=None, learning_rate=None) -> TrainingLog:
    losses = loss if isinstance(loss, list) else [loss]
    metrics = {"loss": losses, "accuracy": [accuracy] * len(losses)}
    if val_loss is not None:
        metrics |= {"val_loss": [val_loss] * len(losses), "val_accuracy": [val_accuracy or accuracy] * len(losses)}
    return TrainingLog(metrics, "progress", learning_rate)


def holding(found: diagnosis.Diagnosis) -> set[str]:
    return {finding.rule for finding in found.holding}


def test_the_questions_two_logs_are_the_puzzle_with_every_signature():
    found = report([question.log(lr) for lr in QUESTION_LEARNING_RATES])
    assert found.problems == [] and found.diagnosis.verdict == "this_puzzle"
    assert holding(found.diagnosis) == {"logits_loss", "loss_follows_rate", "flat_accuracy", "validation_gap"}
    texts = " ".join(finding.text for finding in found.diagnosis.holding)
    assert "a loss of up to 931.8 per image" in texts and "-log(1e-07) = 16.12" in texts
    assert "a loss 2.92 times the run at 0.01's, for 3 times the rate (growth exponent 0.98" in texts
    assert found.diagnosis.fixes == ["unit"]


def test_the_learning_rates_come_from_the_text_where_it_states_them():
    found = report([question.log(lr) for lr in QUESTION_LEARNING_RATES])
    assert found.learning_rates == (0.01, 0.03) and "loss_follows_rate" in holding(found.diagnosis)
    typed = report([question.log(lr) for lr in QUESTION_LEARNING_RATES], ["0.02", ""])
    assert typed.learning_rates == (0.02, 0.03)  # what the reader types comes first


@pytest.mark.parametrize("above, holds", [(1e-9, True), (-1e-9, False)])
def test_a_loss_above_the_probability_bound_is_the_logits_shortcut(above, holds):
    found = diagnosis.logits_loss([log(PROBABILITY_LOSS_BOUND + above)], Known())
    assert found.holds is holds
    assert diagnose([log(PROBABILITY_LOSS_BOUND + above)]).verdict == ("this_puzzle" if holds else "none_found")


def test_a_loss_that_is_no_cross_entropy_is_never_the_logits_shortcut():
    assert not diagnosis.logits_loss([log(300.0)], Known(loss="other")).holds
    assert "as you ask, on the logits" in diagnosis.logits_loss([log(300.0)], Known(activation="linear")).text


@pytest.mark.parametrize("margin, holds", [(-1e-6, True), (1e-6, False)])
def test_the_loss_follows_the_rate_within_the_apps_tolerance(margin, holds):
    """A loss ratio of 3^(1 - tolerance + margin) for 3 times the rate: just inside or outside."""
    low, high = log(1.0), log(3 ** (1 - FOLLOWS_LR_TOLERANCE - margin))
    assert diagnosis.loss_follows_rate(low, high, 0.01, 0.03, Known()).holds is holds


def test_without_two_learning_rates_the_loss_is_not_compared_with_the_rate():
    assert not diagnosis.loss_follows_rate(log(1.0), log(3.0), None, 0.03, Known()).holds
    assert not diagnosis.loss_follows_rate(log(1.0), log(3.0), 0.03, 0.03, Known()).holds


@pytest.mark.parametrize(
    "accuracy_gap, loss_factor, holds",
    [(FLAT_ACCURACY - 1e-9, LOSS_MOVES, True), (FLAT_ACCURACY + 1e-9, LOSS_MOVES, False), (0.0, LOSS_MOVES - 1e-9, False)],
)
def test_a_flat_accuracy_while_the_loss_moves(accuracy_gap, loss_factor, holds):
    low, high = log(1.0, accuracy=0.5), log(loss_factor, accuracy=0.5 + accuracy_gap)
    assert diagnosis.flat_accuracy(low, high).holds is holds


@pytest.mark.parametrize("gap, holds", [(VALIDATION_GAP, True), (VALIDATION_GAP - 1e-6, False)])
def test_a_validation_loss_far_from_the_training_loss_at_the_same_accuracy(gap, holds):
    assert diagnosis.validation_gap(log(100.0, val_loss=100.0 * (1 + gap))).holds is holds
    assert not diagnosis.validation_gap(log(100.0, accuracy=0.8, val_loss=200.0, val_accuracy=0.9)).holds


def test_a_rising_or_non_finite_loss_is_divergence_not_this_puzzle():
    assert diagnose([log([300.0, 400.0, 500.0, 600.0])]).verdict == "divergence"  # rises in each of its last 3 epochs
    assert diagnose([log([300.0, 400.0, 350.0, 600.0])]).verdict == "this_puzzle"
    assert diagnose([log([0.5, math.nan])]).verdict == "divergence"


def test_no_signature_is_not_this_one_and_says_what_was_checked():
    found = diagnose([log(0.30, val_loss=0.29, learning_rate=0.01), log(0.28, val_loss=0.27, learning_rate=0.03)])
    assert found.verdict == "none_found" and found.holding == []
    assert not any(finding.holds for finding in found.findings if finding.rule in diagnosis.SIGNATURES)
    assert [finding.rule for finding in found.findings] == [
        "divergence",
        "divergence",
        "logits_loss",
        "loss_follows_rate",
        "flat_accuracy",
        "validation_gap",
        "validation_gap",
    ]


@pytest.mark.parametrize(
    "texts, rates, problem",
    [
        (["hello"], [], "log 1: no training log found"),
        ([question.log(0.01)], ["fast"], "log 1's learning rate"),
    ],
)
def test_bad_input_gives_a_message(texts, rates, problem):
    assert problem in " ".join(report(texts, rates).problems)


def test_two_logs_of_different_lengths_compare_at_their_last_common_epoch():
    found = diagnosis.loss_follows_rate(log([400.0, 300.0]), log([1200.0, 900.0, 950.0]), 0.01, 0.03, Known())
    assert found.holds and found.text.startswith("At epoch 2,")


def test_the_command_line_diagnoses_files_and_writes_json(tmp_path, capsys):
    paths = []
    for lr in QUESTION_LEARNING_RATES:
        paths.append(tmp_path / f"{lr}.log")
        paths[-1].write_text(question.log(lr))
    assert main(["diagnose", *map(str, paths), "--json", str(tmp_path / "d.json")]) == 0
    printed = capsys.readouterr().out
    assert "This is the puzzle." in printed and "x_train, x_test = x_train / 255" in printed
    assert json.loads((tmp_path / "d.json").read_text())["verdict"] == "this_puzzle"
    (tmp_path / "binary").write_bytes(b"\0\1\2")
    assert main(["diagnose", str(tmp_path / "binary")]) == 1
    assert "binary file" in capsys.readouterr().err
    assert main(["diagnose", str(tmp_path / "missing")]) == 1
    (tmp_path / "empty").write_text(" \n")
    assert main(["diagnose", str(tmp_path / "empty")]) == 1 and "the files are empty" in capsys.readouterr().err


def your_case() -> AppTest:
    """The page opened by its link: it trains nothing, so no other page runs first."""
    test = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    test.switch_page("app_pages/your_case.py")
    return test.run()


def test_the_page_diagnoses_the_questions_code_and_logs_and_links_each_sentence():
    test = your_case()
    assert not test.warning and "This is the puzzle" not in said(test)  # nothing pasted yet: nothing said
    test.button[0].click().run()
    assert not test.exception
    assert [header.value for header in test.main.header] == ["This is the puzzle"]
    text = said(test)
    assert "a loss of up to 931.8 per image" in text and "the loss follows the learning rate" in text
    assert "activation='sigmoid'" in text or any("activation='sigmoid'" in block.value for block in test.code)
    assert any("model.fit(x_train / 255.0, y_train" in block.value for block in test.code)  # the fix, on its own line
    assert len([element for element in test.main if element.type == "vega_lite_chart"]) == 2
    assert [button.url for button in test.get("link_button")] == ["./"]  # the question's own view


def test_the_page_says_what_it_could_not_read_and_shows_it_inert():
    test = your_case()
    test.text_area(key="log 0").input("[click](http://example.invalid) :red[x]").run()
    assert not test.exception
    warning = test.warning[0].value
    assert "no training log found" in plain(warning) and "[click]" not in warning.replace("\\[click\\]", "")


# real fit runs: (engine, scaling, activation), the verbosity their logs are printed with, the verdict
REAL_RUNS = [
    (("tf_keras", "raw", "sigmoid"), 1, "this_puzzle"),  # the question
    (("tf_keras", "unit", "sigmoid"), 2, "none_found"),  # its fix
    (("tf_keras", "raw", "softmax"), 1, "this_puzzle"),
    (("keras3", "raw", "sigmoid"), 2, "this_puzzle"),
    (("keras3_jax", "raw", "sigmoid"), 1, "none_found"),  # no logits shortcut: the loss is bounded
]
REAL_RATES = (0.01, 0.03)


@pytest.fixture(scope="module")
def real_logs(mnist):
    """Each REAL_RUNS setup fitted by Keras' own fit at both REAL_RATES (2,000 images, 3 epochs),
    in the session's workers of its backend: what fit printed, the history, the CSVLogger file."""
    futures = {}
    for (engine, scaling, activation), verbose, _ in REAL_RUNS:
        for lr in REAL_RATES:
            config = RunConfig(engine=engine, scaling=scaling, activation=activation, learning_rate=lr, num_epochs=3)
            config = config.replace(train_subset=2000)
            pool = session_workers(ENGINES[engine].backend)
            futures[engine, scaling, activation, lr] = pool.submit(service_jobs.fit_logs, config, str(mnist.source), verbose)
    return {key: future.result(timeout=600) for key, future in futures.items()}


@pytest.mark.integration
@pytest.mark.parametrize("setup, verbose, verdict", REAL_RUNS, ids=["-".join(run[0]) for run in REAL_RUNS])
def test_real_fit_logs_read_alike_in_every_format_and_get_their_verdict(real_logs, setup, verbose, verdict):
    logs = {lr: real_logs[(*setup, lr)] for lr in REAL_RATES}
    for texts in logs.values():
        history = read(texts["history"])
        for kind in ("printed", "csv"):
            found = read(texts[kind])
            assert found.metrics.keys() == history.metrics.keys(), kind
            for name, values in found.metrics.items():
                np.testing.assert_allclose(values, history.metrics[name], rtol=1e-4, atol=1e-4, err_msg=f"{kind} {name}")
    printed = report([logs[lr]["printed"] for lr in REAL_RATES], [str(lr) for lr in REAL_RATES])
    assert printed.problems == [] and printed.diagnosis.verdict == verdict, [f.text for f in printed.diagnosis.findings]


def test_at_most_max_logs_are_read():
    """A log past MAX_LOGS is not read (the rules compare one rate against another)."""
    logs = [question.log(lr) for lr in QUESTION_LEARNING_RATES]
    assert len(report(logs[: diagnosis.MAX_LOGS]).logs) == diagnosis.MAX_LOGS
    assert len(report([*logs, logs[0]][: diagnosis.MAX_LOGS + 1]).logs) == diagnosis.MAX_LOGS
