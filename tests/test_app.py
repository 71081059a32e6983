"""Every page through Streamlit's AppTest, on a small training subset of the real MNIST, trained in
real worker processes."""

from pathlib import Path

import pytest
from pages_helper import figures, plain, said
from streamlit.testing.v1 import AppTest

from explainer.config import ENGINES

pytestmark = pytest.mark.integration
ROOT = Path(__file__).parents[1]
SMALL = {"num_epochs": "1", "train_subset": "2000"}


def app(**query) -> AppTest:
    test = AppTest.from_file(str(ROOT / "app.py"), default_timeout=600)
    test.query_params.update({**SMALL, **query})
    return test.run()


def charts(test: AppTest) -> list:
    return [element for element in test.main if element.type == "vega_lite_chart"]


@pytest.mark.usefixtures("mnist")
def test_reproduce_page_renders_measurements_and_charts():
    test = app()
    assert not test.exception
    ratios = dict(zip(ENGINES, map(float, figures(test, "loss ratio, last epoch")), strict=True))
    assert 2 < ratios["tf_keras"] < 4 and 2 < ratios["keras3"] < 4
    assert ratios["keras3_jax"] < 2  # JAX computes no logits shortcut: the loss does not follow the rate
    assert figures(test, "log-log slope of final loss against learning rate")
    assert len(charts(test)) == 6  # loss and accuracy, training and validation apart; the sweep's loss and accuracy
    text = " ".join(plain(block.value) for block in test.markdown)
    assert "the loss follows the learning rate" in text and "the loss does not follow the learning rate" in text
    assert "Keras computes the cross-entropy on the logits" in text and "Keras 3 on its JAX backend" in text


@pytest.mark.usefixtures("mnist")
def test_sidebar_changes_are_mirrored_in_the_url():
    test = app()
    assert "scaling" not in test.query_params
    test.sidebar.radio(key="scaling").set_value("unit").run()
    assert not test.exception
    assert test.query_params["scaling"] == "unit"
    loss_ratio = float(figures(test, "loss ratio, last epoch")[0])
    assert loss_ratio < 2  # with x/255 the loss no longer scales with the learning rate
    test.sidebar.text_input(key="lr").input("0.001, 0.1").run()
    assert test.query_params["lr"] == "0.001, 0.1"


@pytest.mark.usefixtures("mnist")
def test_link_state_is_restored_and_bad_values_fall_back_with_a_notice():
    test = app(lr="0.02,abc", optimizer="adam", engine="jax", bogus="1")
    assert not test.exception
    assert test.sidebar.radio(key="optimizer").value == "adam"
    assert test.sidebar.radio(key="engine").value == "tf_keras"
    assert test.sidebar.text_input(key="lr").value == "0.01, 0.03"
    notices = " ".join(plain(warning.value) for warning in test.warning)
    assert "lr='0.02,abc'" in notices and "engine='jax'" in notices and "'bogus'" in notices


@pytest.mark.usefixtures("mnist")
def test_invalid_learning_rate_in_the_sidebar_keeps_the_last_valid_view():
    test = app()
    test.sidebar.text_input(key="lr").input("0.01, -5").run()
    assert not test.exception
    assert "a learning rate must be a number from 1e-08" in plain(test.sidebar.error[0].value)
    assert "lr" not in test.query_params  # still the defaults
    assert len(charts(test)) == 6


@pytest.mark.usefixtures("mnist")
def test_fixes_page_gives_verdicts_and_checks_the_accepted_answer():
    test = app()
    test.switch_page("app_pages/fixes.py").run()
    assert not test.exception
    verdicts = " ".join(plain(block.value) for block in test.markdown)
    assert "[changes nothing in training] **softmax instead of sigmoid**" in verdicts
    assert "[changes nothing in training] **a linear output with from_logits=True**" in verdicts
    assert "**inputs scaled to x / 255**" in verdicts  # (one short epoch on 2,000 images does not fix it yet)
    claims = [header.value for header in test.subheader]
    assert any(claim.startswith('"Use softmax, not sigmoid": not supported') for claim in claims)
    assert len(charts(test)) == 7  # two matrices, loss and accuracy on each split, the divergence sweep


@pytest.mark.usefixtures("mnist")
def test_why_page_shows_each_step_with_its_measurement():
    test = app()
    test.switch_page("app_pages/why.py").run()
    assert not test.exception
    assert [header.value[:2] for header in test.main.header] == ["1.", "2.", "3.", "4.", "5.", "6."]
    text = " ".join(plain(block.value) for block in test.markdown)
    assert "tf.keras 2 reports" in text and "closest to the softmax cross-entropy on the logits" in text
    assert "Keras 3 on JAX computes it on the clipped outputs: the counter-example" in text
    assert "rewrites argmax(sigmoid(z)) into argmax(z)" in text
    assert len(test.dataframe) >= 3


@pytest.mark.usefixtures("mnist")
@pytest.mark.parametrize("page", ["app_pages/reproduce.py", "app_pages/why.py"])
def test_diverging_runs_are_reported_not_crashed_on(page):
    test = app(lr="1e35,3e35")
    test.switch_page(page).run()
    assert not test.exception
    assert any("the training loss became NaN" in plain(warning.value) for warning in test.warning)


@pytest.mark.usefixtures("mnist")
def test_loss_surface_page_marks_each_step_raw_and_unit():
    test = app()
    test.switch_page("app_pages/loss_surface.py").run()
    assert not test.exception
    assert [header.value for header in test.main.subheader][:2] == ["raw pixels 0-255", "x / 255"]
    alphas = [metric for metric in test.metric if metric.label.startswith("step quality at lr")]
    assert len(alphas) == 4
    assert len(charts(test)) == 7  # the slider's chart, two slices, step quality on each scaling, two planes
    test.radio(key="surface_second").set_value("hessian").run()
    assert not test.exception


@pytest.mark.usefixtures("mnist")
def test_a_one_image_run_degrades_to_messages():
    """One training image is one SGD step, whose loss is measured before its update: the same at
    every rate (ratio 1.00); it is fitted at once, so the loss surface has no gradient to follow.
    No page shows a NaN: a ratio or slope of zero losses reads "undefined here"."""
    test = app(train_subset="1")
    assert not test.exception and "nan" not in said(test).split()
    assert set(figures(test, "loss ratio, last epoch")) == {"1.00"}
    test.switch_page("app_pages/loss_surface.py").run()
    assert not test.exception and "the gradient is exactly zero" in plain(test.error[0].value)
    assert "Try again" not in [button.label for button in test.button]  # a fact about the run: nothing to retry
    test.run()  # the next visit reads it from the store
    assert not test.exception and "the gradient is exactly zero" in plain(test.error[0].value)
    test.switch_page("app_pages/fixes.py").run()
    assert not test.exception and "The accepted answer, checked" in [header.value for header in test.main.header]
    assert "nan" not in said(test).split()
    test.switch_page("app_pages/why.py").run()
    assert not test.exception and len(test.main.header) == 6 and "nan" not in said(test).split()
