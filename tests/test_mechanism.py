"""The Why page's judgements on hand-made measurements whose answer is known."""

import numpy as np
import pytest

from explainer.findings import steps
from explainer.findings.mechanism import (
    ADAPTIVE_TOLERANCE,
    ARTIFACT_RUNS,
    COLLAPSE_SPREAD,
    LOGITS_PATH,
    PROBABILITY_LOSS_BOUND,
    SAME_LOSS_RTOL,
    Mechanism,
)
from explainer.worker.measure import HISTOGRAM_BIN_WIDTH, HISTOGRAM_FLOOR, histogram_edges


def mechanism(
    norm_ratio: float, losses=(233.7, 233.7, 233.7), reported=(0.89, 0.31, 0.31), collapsed=(23000, 24000, 23500)
) -> Mechanism:
    scaling = [
        {"optimizer": name, "epoch": epoch, "lr_ratio": 3.0, "norm_ratio": 1.0 if epoch == 0 else norm_ratio}
        for name in ("sgd", "rmsprop", "adam")
        for epoch in (0, 1)
    ]
    collapse = [{"learning_rate": lr, "epoch": 1, "loss_over_lr": value} for lr, value in zip((0.001, 0.01, 0.1), collapsed)]
    artifact = [
        {"loss": loss, "reported_val_accuracy": accuracy, "logit_accuracy": 0.89, "predict_accuracy": 0.31}
        | dict(zip(("engine", "arithmetic_optimization"), run))
        for loss, accuracy, run in zip(losses, reported, ARTIFACT_RUNS.values())
    ]
    return Mechanism({}, [], {}, [], [], scaling, collapse, artifact, [], [])


def test_scale_judgements():
    assert mechanism(2.95).adaptive_follow_lr and not mechanism(2.2).adaptive_follow_lr
    assert mechanism(3.0).collapses and abs(mechanism(3.0).collapse_spread - 24000 / 23000) < 1e-12


def test_artifact_judgements():
    assert mechanism(3.0).rewrite_shown and mechanism(3.0).same_artifact_loss
    assert not mechanism(3.0, reported=(0.31, 0.31, 0.31)).rewrite_shown
    assert not mechanism(3.0, losses=(233.7, 240.0, 233.7)).same_artifact_loss


def test_which_rows_the_page_reads():
    m = mechanism(2.95)
    assert m.final_sgd_scaling == {"optimizer": "sgd", "epoch": 1, "lr_ratio": 3.0, "norm_ratio": 2.95}
    assert [row["optimizer"] for row in m.adaptive_scaling] == ["rmsprop", "adam"]


def test_step_one_judges_each_engine_by_the_closest_candidate_and_the_bound():
    """The rules step 1 shows: the engines whose loss is closest to the logits' cross-entropy, and
    those past the clip's bound (strictly, at its edge)."""
    assert pytest.approx(16.118, abs=1e-3) == PROBABILITY_LOSS_BOUND  # -log(1e-7)
    m = mechanism(3.0)
    m.loss_paths.extend(
        [
            {"engine": "tf_keras", "keras": 320.4, "closest": LOGITS_PATH, "relative_gap": 0.0},
            {"engine": "keras3", "keras": PROBABILITY_LOSS_BOUND, "closest": LOGITS_PATH, "relative_gap": 0.0},
            {"engine": "keras3_jax", "keras": 1.58, "closest": "cross-entropy on clipped sigmoid outputs", "relative_gap": 0.0},
        ]
    )
    assert m.on_logits == ["tf_keras", "keras3"] and m.past_probability_bound == ["tf_keras"]
    said = steps.loss_paths(m)
    assert "tf.keras 2 report more than that" in said and "So tf.keras 2 and Keras 3 compute the loss on the logits" in said


def test_saturation_and_margin_readings():
    m = mechanism(3.0)
    m.saturation.extend(
        {"learning_rate": lr, "epoch": epoch, "softmax_saturated": epoch / 10} for lr in (0.01, 0.03) for epoch in (0, 1)
    )
    m.per_sample.extend(
        {"learning_rate": lr, "median_margin_misclassified": margin} for lr, margin in ((0.01, 1309.0), (0.03, 3923.0))
    )
    assert m.saturation_at_end == {"learning_rate": 0.01, "epoch": 1, "softmax_saturated": 0.1}
    assert m.margin_growth == pytest.approx((3923 / 1309, 3.0))


@pytest.mark.parametrize("largest", [3.1, 3.25, -8.0, float("nan")])
def test_the_loss_histogram_reaches_the_largest_loss_and_keeps_a_bin(largest):
    edges = histogram_edges(np.array([HISTOGRAM_FLOOR, -2.0, largest][: 3 if largest > -2 else 1]))
    assert edges[0] == HISTOGRAM_FLOOR and len(edges) >= 2 and np.allclose(np.diff(edges), HISTOGRAM_BIN_WIDTH)
    if largest > -2:
        assert edges[-1] >= largest > edges[-2]  # the largest loss falls in the last bin, not past it


def test_each_threshold_at_its_edge():
    """Each judgement just inside its named threshold, and at it (the rules are strict)."""
    inside, edge = 1 - 1e-9, 1.0
    assert mechanism(3.0, collapsed=(1000, 1000 * COLLAPSE_SPREAD * inside, 1000)).collapses
    assert not mechanism(3.0, collapsed=(1000, 1000 * COLLAPSE_SPREAD * edge, 1000)).collapses
    assert mechanism(3.0 * (1 + ADAPTIVE_TOLERANCE * inside)).adaptive_follow_lr
    assert not mechanism(3.0 * (1 + ADAPTIVE_TOLERANCE * 1.001)).adaptive_follow_lr
    assert mechanism(3.0, losses=(100.0, 100.0 * (1 + SAME_LOSS_RTOL / 2), 100.0)).same_artifact_loss
    assert not mechanism(3.0, losses=(100.0, 100.0 * (1 + SAME_LOSS_RTOL * 2), 100.0)).same_artifact_loss
