"""Words for configurations: what differs from the question's setup, said once."""

from explainer.config import RunConfig
from explainer.labels import describe, setup


def test_the_questions_setup_is_named_once():
    assert setup(RunConfig()) == "the question's setup"


def test_a_setup_that_differs_says_how():
    config = RunConfig(engine="keras3", num_epochs=2, train_subset=2000)
    assert describe(config) == "Keras 3, 2 epochs, the first 2,000 training images"
    assert setup(config) == f"the question's setup ({describe(config)})"
