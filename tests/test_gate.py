"""The one gate for a visitor's input: any link gives a view and notices, never an exception;
every view the sidebar can show survives the link's round trip exactly; the budget binds."""

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pages_helper import SHORT

from explainer import gate, plan
from explainer.config import BOUNDS, CHOICES, RunConfig, losses_for
from explainer.view import (
    MIN_LR_RATIO,
    QUESTION_LEARNING_RATES,
    SETTINGS,
    VIEW_LEARNING_RATE_BOUNDS,
    View,
    parse_learning_rates,
    to_query,
)

anything = st.text(max_size=40) | st.from_regex(r"-?[0-9]{1,25}(\.[0-9]{0,20})?(e-?[0-9]{1,3})?", fullmatch=True)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from([*SETTINGS, "bogus", ""]) | st.text(max_size=10), anything, max_size=6))
def test_any_link_gives_a_view_and_notices_never_an_exception(params):
    view, notices = gate.from_link(params)
    plan.check_budget(plan.view_runs(view), "the view")  # what a link gets always fits
    noticed = {notice.setting for notice in notices}
    for name, text in params.items():
        if name not in SETTINGS:
            assert name in noticed
        elif name not in to_query(view) and not _reads_as_default(name, text):  # not what it asked for: said so
            assert name in noticed or (name in gate.RUN_LENGTH and noticed & set(gate.RUN_LENGTH))


def _reads_as_default(name: str, text: str) -> bool:
    """Whether `text` is the default value of setting `name` (which a link leaves out)."""
    try:
        if name == "lr":
            return parse_learning_rates(text) == QUESTION_LEARNING_RATES
        return to_query(View(config=RunConfig.from_dict({name: text}))) == {}
    except ValueError:
        return False


@st.composite
def views(draw) -> View:
    activation = draw(st.sampled_from(CHOICES["activation"]))
    lowest, highest = VIEW_LEARNING_RATE_BOUNDS
    low = draw(st.floats(lowest, highest / MIN_LR_RATIO / (1 + 1e-9)))  # leave room for rounding
    high = draw(st.floats(low * MIN_LR_RATIO, highest))
    config = RunConfig(
        engine=draw(st.sampled_from(CHOICES["engine"])),
        activation=activation,
        loss=draw(st.sampled_from(losses_for(activation))),
        scaling=draw(st.sampled_from(CHOICES["scaling"])),
        optimizer=draw(st.sampled_from(CHOICES["optimizer"])),
        num_epochs=draw(st.integers(*BOUNDS["num_epochs"])),
        batch_size=draw(st.integers(32, BOUNDS["batch_size"][1])),
        seed=draw(st.integers(*BOUNDS["seed"])),
        train_subset=draw(st.none() | st.integers(*BOUNDS["train_subset"])),
    )
    return View((low, high), config)


@settings(max_examples=300, deadline=None)
@given(views())
def test_a_valid_view_round_trips_exactly_through_its_link(view):
    assert gate.from_link(to_query(view)) == (view, [])


def test_the_budget_admits_the_longest_sidebar_run_and_refuses_batch_size_one():
    longest = View(config=RunConfig(num_epochs=BOUNDS["num_epochs"][1], scaling="standardized"))
    assert gate.admit(longest) == longest
    with pytest.raises(ValueError, match=r"this view would train [\d,]+ SGD steps in \d+ runs, and may train at most"):
        gate.admit(View(config=RunConfig(num_epochs=1, batch_size=1, scaling="standardized")))


def test_a_sweep_is_checked_like_a_view():
    assert [config.learning_rate for config in gate.admit_sweep(View(), "0.1, 0.001; 0.01", 2)] == [0.001, 0.01, 0.1]
    with pytest.raises(ValueError, match="give 2 to 12 learning rates"):
        gate.admit_sweep(View(), "0.1", 1)
    with pytest.raises(ValueError, match="a learning rate must be a number from"):
        gate.admit_sweep(View(), "0.1, 1e40", 1)
    assert not math.isnan(sum(config.learning_rate for config in gate.admit_sweep(View(), "1e-8, 1e38", 1)))


OUT_OF_BOUNDS = [
    ({"num_epochs": "21", "train_subset": "100"}, "num_epochs='21'", "from 1 to 20"),
    ({"num_epochs": "1000000", "train_subset": "500"}, "num_epochs='1000000'", "from 1 to 20"),
    ({"batch_size": "2147483648"}, "batch_size='2147483648'", "from 1 to 60,000"),
    ({"batch_size": "1", "num_epochs": "10", "train_subset": "6001"}, "batch_size='1'", "at most 60,000"),
    ({"batch_size": "1", "num_epochs": "1", "scaling": "standardized"}, "batch_size=1", f"at most {plan.MAX_VIEW_STEPS:,}"),
    ({"seed": "2147483648"}, "seed='2147483648'", "from 0 to 2,147,483,647"),
    ({"lr": "0.01,0.010000000000000002"}, "lr='0.01,0.010000000000000002'", "at least 1.5 times the lower"),
]


@pytest.mark.parametrize("query, setting, bound", OUT_OF_BOUNDS)
def test_a_value_out_of_bounds_gets_a_notice_naming_it_and_the_bound(query, setting, bound):
    [notice] = [notice.text for notice in gate.from_link({**SHORT, **query})[1]]
    assert setting in notice and bound in notice
