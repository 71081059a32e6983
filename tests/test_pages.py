"""Every page through AppTest on small synthetic data, fast: the data loader is replaced and the
workers train on synthetic data (through the real store and service), so no MNIST file is
needed. Each test checks what the page computed against the runs in the store."""

import pytest
from pages_helper import page

from explainer import fixes, report
from explainer.cache import RunStore, run_key
from explainer.config import ENGINES, RunConfig
from explainer.labels import figure

pytestmark = pytest.mark.usefixtures("store")


def stored(store: RunStore, synthetic, **changes):
    return store.load(run_key(RunConfig(num_epochs=2).replace(**changes), synthetic.fingerprint))


def test_reproduce_states_the_stored_runs_ratios(store, synthetic):
    test = page("app_pages/reproduce.py")
    low, high = stored(store, synthetic, learning_rate=0.01), stored(store, synthetic, learning_rate=0.03)
    expected = report.compare(low.history, high.history, 3.0).loss_ratios[-1]
    metrics = [metric for metric in test.metric if metric.label == "loss ratio, last epoch"]
    assert metrics[0].value == figure(expected, ".2f") and len(metrics) == len(ENGINES)
    assert any("log-log slope" in metric.label for metric in test.metric)


def test_fixes_gives_each_verdict_computed_from_the_runs(store, synthetic):
    test = page("app_pages/fixes.py")
    text = " ".join(block.value for block in test.markdown)
    base = RunConfig(num_epochs=2)
    pair = lambda fix: tuple(store.load(run_key(fixes.fix_config(fix, base, lr), synthetic.fingerprint)) for lr in (0.01, 0.03))  # noqa: E731
    for fix in ("softmax", "unit", "adam"):
        assert f"**{fix}**: `{fixes.FixOutcome(fix, pair(fix), pair('baseline')).verdict()}`" in text
    assert "**softmax**: `identical-training`" in text  # Keras computes the loss on the logits either way


def test_why_shows_every_step_and_the_loss_path(store):
    test = page("app_pages/why.py")
    assert [header.value[:2] for header in test.main.header] == ["1.", "2.", "3.", "4.", "5.", "6."]
    assert any("closest candidate is **softmax cross-entropy on the logits**" in block.value for block in test.markdown)


def test_loss_surface_marks_both_steps_on_both_scalings(store):
    test = page("app_pages/loss_surface.py")
    test.radio(key="surface_point").set_value("init").run()  # the synthetic runs fit every image within an epoch
    assert not test.exception
    assert [header.value for header in test.main.subheader][:2] == ["raw pixels 0-255", "x / 255"]
    assert len([metric for metric in test.metric if metric.label.startswith("alpha at lr")]) == 4
