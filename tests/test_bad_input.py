"""Nothing a visitor types crashes a page or is changed without a word: the failures of an
adversarial pass over links and the sidebar, each through AppTest on every page (synthetic data)."""

import pytest
from pages_helper import figures, page, plain, said
from test_gate import OUT_OF_BOUNDS

from explainer.config import quoted
from explainer.labels import UNDEFINED
from ui.pages import PAGES

pytestmark = [pytest.mark.usefixtures("store"), pytest.mark.integration]  # the pages train the views they open
VIEW_PAGES = [page.path for page in PAGES if page.view]


def notices(test) -> list[str]:
    return [plain(warning.value) for warning in test.warning if "from the link" in plain(warning.value)]


@pytest.mark.parametrize("index, path", [(6, "app_pages/why.py"), (5, "app_pages/reproduce.py")])  # the default view: cached
def test_a_page_shows_the_notice_and_the_view_it_could_have(index, path):
    query, setting, bound = OUT_OF_BOUNDS[index]
    test = page(path, **query)
    [notice] = notices(test)
    assert setting in notice and bound in notice and not test.error
    assert test.dataframe or figures(test, "loss ratio, last epoch")  # the page's figures, for the view the link could have


def test_two_images_fitted_at_once_degrade_to_messages():
    """Two images at rates of 1 and 3 are fitted at once: losses of 0, ratios of 0 / 0 (one image
    on every page: tests/test_app.py, on real MNIST)."""
    test = page(train_subset="2", scaling="unit", lr="1,3")
    ratios = figures(test, "loss ratio, last epoch")
    assert ratios and all(value in (UNDEFINED, "1.00") or float(value) >= 0 for value in ratios)
    assert "nan" not in said(test).split()  # a figure that is NaN reads "undefined here"


def test_the_learning_rates_are_shown_exactly_as_typed():
    test = page(lr="0.0123456789, 0.05")
    assert test.sidebar.text_input(key="lr").value == "0.0123456789, 0.05"
    assert test.query_params["lr"] == "0.0123456789, 0.05"


def test_a_notice_stays_until_its_setting_changes_or_it_is_dismissed():
    test = page(seed="-3", engine="jax")
    assert len(notices(test)) == 2
    test.sidebar.radio(key="scaling").set_value("unit").run()  # another setting: both stay
    assert len(notices(test)) == 2
    test.sidebar.number_input(key="seed").set_value(4).run()  # its own setting: that one goes
    assert [notice.split("=")[0] for notice in notices(test)] == ["Ignored engine"]
    test.button(key="dismiss notice 0").click().run()
    assert notices(test) == [] and not test.exception


@pytest.mark.parametrize("name", ["", " ", "é" * 300])
def test_any_link_parameter_name_gets_the_unknown_parameter_notice(name):
    test = page(**{name: "1"})
    assert [plain(warning.value) for warning in test.warning] == [f"Ignored the unknown link parameter {quoted(name)}."]


@pytest.mark.parametrize("path", [VIEW_PAGES[0], VIEW_PAGES[-1]])  # the notices are the frame's, the same on every page
def test_text_from_a_link_is_never_markdown(path):
    query = {"engine": "[click](http://example.invalid)", "loss": "![img](http://127.0.0.1:9/x.png)", ":red[x]": "1"}
    test = page(path, **query)
    sources = " ".join(warning.value for warning in test.warning)
    assert "\\[click\\]\\(http\\:" in sources and "\\!\\[img\\]" in sources and "\\:red\\[x\\]" in sources
    assert "[click](http" in " ".join(notices(test))  # and the reader sees the text as typed


def test_a_sweep_over_the_budget_is_refused_with_its_figures():
    test = page()
    test.text_input[0].input("0.001, 0.01, 0.1, 1").run()
    test.number_input[0].set_value(20).run()  # 4 x 20 epochs: within bounds and budget
    assert not test.error
    test.sidebar.number_input(key="batch_size").set_value(4).run()
    assert "SGD steps" in " ".join(plain(error.value) for error in test.error)


@pytest.mark.parametrize("path", ["app_pages/reproduce.py", "app_pages/why.py"])
def test_diverged_runs_get_one_warning_that_lists_them_and_states_the_rule(path):
    test = page(path, lr="1e35,3e35")
    warnings = [plain(w.value) for w in test.warning if "Diverged runs" in plain(w.value)]
    assert len(warnings) == 1
    assert "rises in each of its last 3 epochs" in warnings[0] and warnings[0].count("became NaN") >= 2


def test_the_divergence_sweep_states_its_overflows_without_a_page_warning():
    """The sweep's rates up to 1e38 are meant to overflow: its finding says where, and the page
    keeps its warning for runs the reader asked for."""
    test = page("app_pages/fixes.py")
    text = " ".join(plain(block.value) for block in test.markdown)
    assert "The loss becomes infinite or NaN only where float32 overflows" in text
    assert not [w for w in test.warning if "Diverged runs" in plain(w.value)]
