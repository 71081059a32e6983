"""The divergence sweep's finding, on hand-made runs whose answer is known."""

import math

import pytest
from service_jobs import fake_result

from explainer.findings import divergence, rules
from explainer.view import View


def runs(rising_at: float | None = None, overflow_from: float = 1e32, unit_exponent: float = 1.0) -> dict:
    """A sweep whose loss is proportional to the rate (on x / 255: to the rate to the power
    `unit_exponent`) and falls epoch over epoch, overflowing from `overflow_from` on; one run
    rising epoch over epoch if `rising_at`."""
    found = {}
    for config in divergence.runs_needed(View()):
        result = fake_result(config)
        lr = config.learning_rate
        level = lr**unit_exponent if config.scaling == "unit" else lr
        if lr >= overflow_from:
            object.__setattr__(result, "diverged", "the training loss became inf at epoch 1, step 2; training stopped there")
            result.history.update(loss=[math.inf], val_accuracy=[math.nan])
        else:
            falling = [4 * level, 2.5 * level, 2.2 * level, 2.1 * level]
            result.history.update(loss=falling[::-1] if lr == rising_at else falling, val_accuracy=[0.72])
        found[config] = result
    return found


def test_nothing_rises_and_only_float32_overflows():
    swept = divergence.sweep(runs(), View())
    assert swept.rising() == [] and swept.slope("raw") == pytest.approx(1.0)
    finding = swept.finding()
    assert finding.startswith("No learning rate from 0.0001 to 1e+38 makes the loss rise epoch over epoch")
    assert "only where float32 overflows: on raw pixels 0-255 from 1e+32 on; on x / 255 from 1e+32 on" in finding
    assert (
        "the final loss is proportional to the learning rate (log-log slope 1.00 on raw pixels 0-255 and 1.00 on x / 255)"
        in finding
    )


@pytest.mark.parametrize(
    ("exponent", "proportional"),
    [(1 - rules.FOLLOWS_LR_TOLERANCE + 0.01, True), (1 - rules.FOLLOWS_LR_TOLERANCE - 0.01, False), (0.0, False)],
)
def test_the_loss_is_called_proportional_to_the_rate_only_where_its_slope_says_so(exponent, proportional):
    finding = divergence.sweep(runs(unit_exponent=exponent), View()).finding()
    assert ("is proportional to the learning rate" in finding) is proportional
    assert ("not proportional to the rate on x / 255 (" in finding) is not proportional
    assert f"{exponent:.2f} on x / 255" in finding


def test_a_run_that_rises_is_named():
    swept = divergence.sweep(runs(rising_at=100.0), View())
    assert [(row["scaling"], row["learning_rate"]) for row in swept.rising()] == [("raw", 100.0), ("unit", 100.0)]
    assert swept.finding().startswith("These runs' losses rise epoch over epoch: raw pixels 0-255 at 100, x / 255 at 100")


def test_the_sweep_is_short_runs_on_both_scalings_up_to_float32s_edge():
    configs = divergence.runs_needed(View())
    assert {config.scaling for config in configs} == {"raw", "unit"} and max(c.learning_rate for c in configs) == 1e38
    assert all(config.num_epochs == divergence.EPOCHS and config.train_subset == divergence.SUBSET for config in configs)


def test_the_slope_reads_the_rates_from_the_plateau_rate_on():
    """A rate at PLATEAU_RATE counts, one just below it does not (its loss off the line would bend
    the slope)."""
    rows = [
        {"scaling": "raw", "learning_rate": lr, "loss": loss, "finite": True}
        for lr, loss in (
            (divergence.PLATEAU_RATE * 0.999, 1e9),
            (divergence.PLATEAU_RATE, 2.0),
            (10 * divergence.PLATEAU_RATE, 20.0),
        )
    ]
    assert divergence.Sweep(rows).slope("raw") == pytest.approx(1.0)
    assert divergence.EPOCHS == divergence.RISING_EPOCHS + 1
