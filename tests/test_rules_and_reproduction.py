"""The rules findings share, the reproduction's numbers (the pages' and the CLI's), the question's
data, and the chart builders (through the Vega-Lite spec they produce)."""

import math

import numpy as np
import pandas as pd
import pytest
from service_jobs import fake_result

from explainer.config import RunConfig
from explainer.findings import answer, reproduction, rules
from explainer.findings.mechanism import PROBABILITY_LOSS_BOUND
from explainer.logs import keras_line
from explainer.reader import charts, question, surface_charts
from explainer.run import Progress


def history(losses, accuracies) -> dict[str, list[float]]:
    return {"loss": list(losses), "accuracy": list(accuracies), "val_loss": list(losses), "val_accuracy": list(accuracies)}


def test_comparison_of_two_rates():
    comparison = reproduction.compare(history([100, 80], [0.8, 0.85]), history([300, 250], [0.81, 0.86]), 3.0)
    assert comparison.loss_ratios == [3.0, 250 / 80] and comparison.loss_ratio_range == (3.0, 250 / 80)
    assert comparison.accuracy_difference == pytest.approx(0.01)
    assert comparison.proportional  # 3.0 and 3.125, within 25% of 3
    assert not reproduction.compare(history([100], [0.8]), history([110], [0.8]), 3.0).proportional


def test_comparison_uses_the_epochs_both_runs_have():
    comparison = reproduction.compare(history([100, 80, 70], [0.1, 0.2, 0.3]), history([300], [0.4]), 3.0)
    assert comparison.loss_ratios == [3.0] and comparison.accuracy_low == 0.1


def test_loglog_slope_recovers_a_power_law_and_skips_diverged_runs():
    rates = [0.001, 0.01, 0.1, 1.0]
    assert rules.loglog_slope(rates, [5 * lr for lr in rates]) == pytest.approx(1.0)
    assert rules.loglog_slope(rates, [lr**2 for lr in rates[:3]] + [math.nan]) == pytest.approx(2.0)
    assert math.isnan(rules.loglog_slope(rates, [1.0, math.inf, math.nan, 0.0]))


def test_ratio_is_nan_for_a_zero_denominator():
    assert rules.ratio(6, 3) == 2 and math.isnan(rules.ratio(1, 0))


def test_keras_lines_and_rows():
    logs = history([315.4696], [0.8432])
    assert keras_line(logs, 0) == "loss: 315.4696 - accuracy: 0.8432 - val_loss: 315.4696 - val_accuracy: 0.8432"
    rows = reproduction.history_rows("question", 0.01, history([2.0, 1.0], [0.5, 0.6]))
    assert len(rows) == 8 and {row["split"] for row in rows} == {"training", "validation"}
    assert {row["metric"] for row in rows} == {"loss", "accuracy"}


def test_the_questions_logs():
    assert question.reported(0.03)["loss"][0] == 931.7540 and question.reported(0.03 + 1e-15) is question.reported(0.03)
    assert question.reported(0.02) is None
    assert all(len(values) == 10 for logs in question.REPORTED.values() for values in logs.values())
    assert question.is_question_setup(RunConfig(engine="keras3", learning_rate=0.03, num_epochs=2))
    assert not question.is_question_setup(RunConfig(scaling="unit"))


def test_epoch_chart_encodes_source_by_colour_and_rate_by_a_dash_its_legend_shows():
    rows = reproduction.history_rows("tf.keras 2", 0.01, history([2.0, 1.0], [0.5, 0.6]))
    rows += reproduction.history_rows("question", 0.03, history([6.0, 3.0], [0.5, 0.6]))
    spec = charts.epoch_chart(rows, "loss", "validation", log_scale=True).to_dict()
    encoding = spec["encoding"]
    assert encoding["color"]["field"] == "source" and encoding["strokeDash"]["field"] == "lr"
    assert encoding["strokeDash"]["legend"]["symbolType"] == "stroke"  # a legend of line segments shows the dashes
    assert encoding["y"]["scale"]["type"] == "log" and spec["title"] == "validation"
    values = spec["datasets"][spec["data"]["name"]]
    assert {row["metric"] for row in values} == {"loss"} and {row["split"] for row in values} == {"validation"}
    assert {row["lr"] for row in values} == {"lr 0.01", "lr 0.03"}
    assert "facet" not in spec and "hconcat" not in spec  # one panel: side by side is the page's columns, which stack on a phone


def test_a_sweep_summarises_its_runs():
    runs = [fake_result(RunConfig(learning_rate=lr)) for lr in (0.01, 0.1, 1.0)]
    for r, loss, accuracy in zip(runs, (2.0, 20.0, 200.0), (0.80, 0.86, 0.83)):
        r.history.update(loss=[loss], accuracy=[accuracy])
    swept = reproduction.learning_rate_sweep(runs)
    assert swept.slope == pytest.approx(1.0) and swept.follows_learning_rate and swept.accuracy_range == (0.80, 0.86)
    runs[2].history["loss"] = [2.0]
    assert not reproduction.learning_rate_sweep(runs).follows_learning_rate


def test_epoch_rows_add_the_questions_logs_only_for_its_setup():
    run = fake_result(RunConfig(learning_rate=0.01))
    assert {row["source"] for row in reproduction.epoch_rows([run], question.reported_for(RunConfig(), (0.01, 0.02)))} == {
        "tf.keras 2",
        "question",
    }
    assert question.reported_for(RunConfig(scaling="unit"), (0.01, 0.03)) == {}


def test_sweep_and_live_charts_carry_their_data():
    points = [{"learning_rate": lr, "loss": 100 * lr, "accuracy": 0.88} for lr in (0.01, 0.1)]
    sweeps = [charts.sweep_chart(points, measure).to_dict() for measure in ("loss", "accuracy")]
    assert [sweep["encoding"]["y"]["field"] for sweep in sweeps] == ["loss", "accuracy"]
    live = charts.live_loss([{"run": "lr 0.01", "epoch": 1, "loss": 320.4}]).to_dict()
    assert live["encoding"]["y"]["scale"]["type"] == "log" and live["datasets"][live["data"]["name"]][0]["loss"] == 320.4


def test_plane_chart_cells_cover_the_grid():
    a, b = np.linspace(0, 1, 3), np.linspace(-1, 1, 5)
    lines = [{"level": 3.0, "line": 0, "order": k, "a": 0.5, "b": k / 2} for k in range(2)]
    spec = surface_charts.plane_chart(a, b, 1 + np.arange(15.0).reshape(3, 5), [{"step": 0, "a": 0.0, "b": 0.0}], lines).to_dict()
    cells = next(values for values in spec["datasets"].values() if "loss" in values[0])
    edges = spec["layer"][0]["transform"][0]
    assert len(cells) == 15 and set(cells[0]) == {"a", "b", "loss"}  # the edges are computed in the browser
    assert edges == {"calculate": "datum.a - 0.25", "as": "a0"} and min(cell["a"] for cell in cells) == 0
    assert any(values[0].get("level") == 3.0 for values in spec["datasets"].values())  # the contour lines are drawn


def test_the_plane_shows_at_most_its_cells_per_axis_each_an_exact_grid_point():
    a, b = np.linspace(-1, 1, 101), np.linspace(-2, 2, 101)
    loss = np.exp(np.add.outer(a, b))
    spec = surface_charts.plane_chart(a, b, loss, [{"step": 0, "a": 0.0, "b": 0.0}], []).to_dict()
    cells = next(values for values in spec["datasets"].values() if "loss" in values[0])
    assert len(cells) == surface_charts.PLANE_CELLS_SHOWN**2 == 51**2
    shown = {(cell["a"], cell["b"]): cell["loss"] for cell in cells}
    assert shown[(0.0, 0.0)] == 1.0 and shown[(-1.0, -2.0)] == pytest.approx(np.exp(-3), rel=1e-6)  # centre, corner
    assert spec["layer"][0]["transform"][0] == {"calculate": f"datum.a - {float(a[2] - a[0]) / 2!r}", "as": "a0"}
    assert list(surface_charts.shown_points(51)) == list(range(51)) and list(surface_charts.shown_points(52)) == list(
        range(0, 52, 2)
    )


def test_the_growth_exponent_rule():
    assert rules.growth_exponent(3.0, 3.0) == pytest.approx(1) and rules.growth_exponent(1.0, 3.0) == 0
    assert rules.follows_learning_rate(rules.growth_exponent(2.96, 3.0))
    assert not rules.follows_learning_rate(rules.growth_exponent(0.89, 3.0))
    assert math.isnan(rules.growth_exponent(math.nan, 3.0)) and math.isnan(rules.growth_exponent(0.0, 3.0))
    assert not rules.follows_learning_rate(math.nan)


@pytest.mark.parametrize(
    "losses, diverges",
    [
        ([986.0, 787.0, 735.0, 702.0], False),  # the question's plateau: falling
        ([931.8, 767.9, 756.3, 739.9, 731.3, 728.4, 712.8, 693.1, 700.6, 696.2], False),  # rises once, then falls
        ([1.0, 2.0, 3.0, 4.0, 5.0], True),  # rising in each of the last three epochs
        ([5.0, 1.0, 2.0, 3.0, 4.0], True),
        ([5.0, 1.0, 2.0, 1.5, 4.0], False),
        ([2.0, 3.0], True),  # a two-epoch run: every epoch after the first rose
        ([2.0], False),  # one epoch: only a non-finite loss can show divergence
    ],
)
def test_divergence_rule(losses, diverges):
    result = fake_result(RunConfig(num_epochs=len(losses)))
    result.history["loss"] = losses
    assert (rules.divergence_reason(result) is not None) == diverges


def test_a_non_finite_run_diverges_with_its_own_reason():
    result = fake_result(RunConfig())
    object.__setattr__(result, "diverged", "the training loss became nan at epoch 1, step 3")
    assert rules.divergence_reason(result) == "the training loss became nan at epoch 1, step 3"


@pytest.mark.parametrize("steps", [charts.MAX_LINE_POINTS, charts.MAX_LINE_POINTS + 1, 1875])
def test_a_line_keeps_at_most_what_a_reader_can_see_and_every_spike(steps):
    rng = np.random.default_rng(steps)
    alpha = rng.normal(size=steps)
    alpha[steps // 3], alpha[steps // 2] = 400.0, -50.0  # an overshoot and a dip
    rows = [
        {"scaling": s, "learning_rate": 0.01, "step": k + 1, "alpha": a} for s in ("raw", "unit") for k, a in enumerate(alpha)
    ]
    frame = charts.thinned(pd.DataFrame(rows), "step", "alpha", ["scaling", "learning_rate"])
    for _, line in frame.groupby("scaling"):
        assert len(line) <= charts.MAX_LINE_POINTS and line["step"].is_monotonic_increasing
        assert line["alpha"].max() == 400.0 and line["alpha"].min() == -50.0
        assert len(line) == steps if steps <= charts.MAX_LINE_POINTS else len(line) < steps


@pytest.mark.parametrize("above, holds", [(1e-9, True), (0.0, False)])
def test_the_early_first_sentence_holds_above_the_bound_and_says_how_far_the_run_is(above, holds):
    claim = answer.early_claim(Progress(1, 10, 375, 1875, {}, PROBABILITY_LOSS_BOUND + above))
    assert claim.holds == holds and claim.evidence == "mechanism"
    assert "per image so far (epoch 1 of 10, step 375 of 1,875: the run is still training)" in claim.text
