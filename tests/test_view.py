"""The sidebar's state to and from URL query parameters."""

import pytest

from explainer.config import RunConfig
from explainer.plan import all_views, view_derivations, view_runs
from explainer.view import View, from_query, parse_learning_rates, to_query


def test_round_trip_keeps_only_what_differs_from_the_defaults():
    view = View((0.1, 0.3), RunConfig(engine="keras3", activation="linear", loss="from_logits", num_epochs=2))
    query = to_query(view)
    assert query == {"lr": "0.1, 0.3", "engine": "keras3", "activation": "linear", "loss": "from_logits", "num_epochs": "2"}
    assert from_query(query) == (view, [])
    assert to_query(View()) == {}


def test_bad_parameters_are_ignored_one_by_one_with_a_notice():
    view, notices = from_query(
        {"lr": "0.1", "scaling": "unit", "optimizer": "sgdx", "x": "1", "activation": "linear", "loss": "keras"}
    )
    assert view == View(config=RunConfig(scaling="unit", activation="linear", loss="from_logits"))
    assert [notice.setting for notice in notices] == ["x", "lr", "loss", "optimizer"]
    assert all(notice.text.startswith("Ignored") for notice in notices)


@pytest.mark.parametrize(
    "text", ["0.01", "0.01, 0.02, 0.03", "0.01, abc", "0.01, -1", "0.01, 0.01", "0.01, inf", "0.01, 0.010000000000000002", "0, 1"]
)
def test_learning_rate_pairs_are_validated(text):
    with pytest.raises(ValueError):
        parse_learning_rates(text)


def test_default_runs_cover_every_page():
    runs = view_runs(View())
    assert len(runs) == len(set(runs))
    assert {c.optimizer for c in runs} == {"sgd", "rmsprop", "adam"} and any(not c.arithmetic_optimization for c in runs)
    assert {(engine, lr) for engine in ("tf_keras", "keras3") for lr in (0.01, 0.03)} <= {
        (c.engine, c.learning_rate) for c in runs if c.num_epochs == 10
    }
    assert len({c.learning_rate for c in runs if c.num_epochs == 1}) >= 5


def test_neighbours_are_one_sidebar_choice_away():
    from explainer.plan import neighbours

    near = neighbours(View())
    differences = [{n for n, v in view.config.to_dict().items() if v != View().config.to_dict()[n]} for view in near]
    assert all(diff <= {"engine", "scaling", "activation", "loss", "optimizer"} for diff in differences)
    assert all(len(diff - {"loss"}) == 1 or diff == {"loss"} for diff in differences)
    assert {view.config.scaling for view in near} == {"raw", "unit", "standardized"} and len(set(near)) == len(near)
    assert View(config=RunConfig(activation="linear", loss="from_logits")) in near  # the loss follows a linear output


def test_warming_everything_covers_every_sidebar_combination():
    views = all_views()
    assert len(views) == 3 * 3 * 3 * 5 and len(set(views)) == len(views)  # engines, scalings, optimizers, outputs
    kinds = [d.kind for d in view_derivations(View())]
    assert kinds == [
        "saturation",
        "mechanism",
        "surface",
        "step_quality",
        "step_quality",
        "surface",
        "step_quality",
        "step_quality",
    ]
    adam = view_derivations(View(config=RunConfig(optimizer="adam")))
    assert [d.kind for d in adam] == ["saturation", "mechanism"]  # no SGD, no surface
    assert adam[0].config == RunConfig()  # the answer is about the question's setup
