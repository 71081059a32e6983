"""A reader's program diagnosed, never run: a set of programs in the styles people write (the
question's own first; standalone Keras 2 with Python 2 prints, tf.keras, Keras 3, Sequential and
functional, CSV data, ImageDataGenerator, notebooks, several models in one file), in faulty and
fixed versions, each with the verdict and the rules that must hold, family by family."""

from pathlib import Path

import pytest

from explainer.case import diagnose_case
from explainer.reader import question

CASES = Path(__file__).parent / "code_cases"
PUZZLE, SIBLING, NONE = "this_puzzle", "sibling", "none_found"
SIGMOID, UNSCALED, RATE = {"sigmoid_categorical"}, {"unscaled_inputs"}, {"learning_rate_in_bounds"}
# file: (verdict, {family: the rules that hold}); a family not named has none holding
EXPECTED = {
    "question.py": (PUZZLE, {"output": SIGMOID, "scaling": UNSCALED}),
    "question_scaled.py": (SIBLING, {"output": SIGMOID}),
    "question_softmax.py": (PUZZLE, {"scaling": UNSCALED}),
    "question_fixed.py": (NONE, {}),
    "keras2_py2.py": (PUZZLE, {"output": SIGMOID, "scaling": UNSCALED}),
    "keras2_py2_fixed.py": (NONE, {}),
    "hidden_layer.py": (PUZZLE, {"output": SIGMOID, "scaling": UNSCALED}),
    "hidden_layer_fixed.py": (NONE, {}),
    "csv_kaggle.py": (PUZZLE, {"scaling": UNSCALED}),
    "csv_kaggle_fixed.py": (NONE, {}),
    "compat_v1_optimizer.py": (PUZZLE, {"output": SIGMOID, "scaling": UNSCALED}),
    "compat_v1_optimizer_fixed.py": (NONE, {}),
    "rate_too_low.py": (SIBLING, {"learning_rate": RATE}),
    "rate_too_low_fixed.py": (NONE, {}),
    "functional_logits.py": (SIBLING, {"output": {"outputs_not_probabilities"}}),
    "functional_logits_fixed.py": (NONE, {}),
    "linear_relu_output.py": (SIBLING, {"output": {"outputs_not_probabilities"}}),
    "softmax_one_unit.py": (SIBLING, {"output": {"softmax_one_unit"}}),
    "softmax_one_unit_fixed.py": (NONE, {}),
    "softmax_binary.py": (SIBLING, {"output": {"softmax_binary"}}),
    "softmax_binary_fixed.py": (NONE, {}),
    "from_logits_on_softmax.py": (SIBLING, {"output": {"from_logits_on_probabilities"}}),
    "from_logits_on_softmax_fixed.py": (NONE, {}),
    "sparse_on_one_hot.py": (SIBLING, {"output": {"label_format"}}),
    "sparse_on_one_hot_fixed.py": (NONE, {}),
    "categorical_on_integers.py": (SIBLING, {"output": {"label_format"}}),
    "categorical_on_integers_fixed.py": (NONE, {}),
    "mse_on_classes.py": (SIBLING, {"output": {"squared_error_on_classes"}}),
    "mse_on_classes_fixed.py": (NONE, {}),
    "generator_raw.py": (PUZZLE, {"scaling": UNSCALED}),
    "generator_rescaled.py": (NONE, {}),
    "two_models.py": (PUZZLE, {"output": SIGMOID, "scaling": UNSCALED}),
    "two_models_fixed.py": (NONE, {}),
    "rescaling_layer.py": (NONE, {}),
    "standard_scaler.py": (NONE, {}),
    "standardized_by_hand.py": (NONE, {}),
    "adam_rate_too_high.py": (SIBLING, {"learning_rate": RATE}),
    "adam_rate_too_high_fixed.py": (NONE, {}),
    "loaded_model.py": (NONE, {}),
    "build_function.py": (PUZZLE, {"output": SIGMOID, "scaling": UNSCALED}),
    "build_function_fixed.py": (NONE, {}),
    "jax_backend.py": (SIBLING, {"output": SIGMOID, "scaling": UNSCALED}),
    "jax_backend_softmax.py": (SIBLING, {"scaling": UNSCALED}),
    "fashion_cnn.py": (PUZZLE, {"scaling": UNSCALED}),
    "fashion_cnn_fixed.py": (NONE, {}),
    "broken_line.py": (PUZZLE, {"output": SIGMOID, "scaling": UNSCALED}),
    "tf_nn_activation.py": (PUZZLE, {"output": SIGMOID, "scaling": UNSCALED}),
    "keras1_api.py": (PUZZLE, {"output": SIGMOID, "scaling": UNSCALED}),
    "keras1_api_fixed.py": (NONE, {}),
    "kfold_tutorial.py": (NONE, {}),
    "kfold_tutorial_unscaled.py": (PUZZLE, {"scaling": UNSCALED}),
    "binary_on_integers.py": (SIBLING, {"output": {"label_format"}, "scaling": UNSCALED}),
    "binary_on_integers_fixed.py": (NONE, {}),
    "mse_on_one_hot.py": (SIBLING, {"output": {"squared_error_on_classes"}}),
    "mse_on_one_hot_fixed.py": (NONE, {}),
    "openml_pixels.py": (PUZZLE, {"scaling": UNSCALED}),
    "openml_pixels_fixed.py": (NONE, {}),
    "keras_normalize.py": (NONE, {}),
    "functional_linear_sparse.py": (SIBLING, {"output": {"outputs_not_probabilities"}}),
    "tfds_pipeline.py": (NONE, {}),  # its scaling is in a mapped function: not known, not flagged
    "loadtxt_csv.py": (PUZZLE, {"scaling": UNSCALED}),
    "directory_generator.py": (SIBLING, {"scaling": UNSCALED}),
    "directory_generator_fixed.py": (NONE, {}),
    "subclassed_model.py": (SIBLING, {"scaling": UNSCALED}),  # its layers are not read: its output is not known
    "applications_model.py": (SIBLING, {"scaling": UNSCALED}),  # its layers are not in the code
    "applications_import.py": (NONE, {}),
    "keras0_activation_layers.py": (PUZZLE, {"scaling": UNSCALED}),
    "data_function_units_kw.py": (PUZZLE, {"output": SIGMOID, "scaling": UNSCALED}),
    "rates_in_a_loop.py": (PUZZLE, {"output": SIGMOID, "scaling": UNSCALED}),
    "notebook.ipynb": (PUZZLE, {"output": SIGMOID, "scaling": UNSCALED}),
    "notebook_fixed.ipynb": (NONE, {}),
}


def diagnosed(name: str):
    path = CASES / name
    return diagnose_case(path.read_bytes(), name, [], [])


def holding(case) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for judged in case.code.judged:
        for finding in judged.findings:
            if finding.holds:
                found.setdefault(finding.family, set()).add(finding.rule)
    return found


def test_every_program_of_the_set_has_its_expectation():
    assert sorted(path.name for path in CASES.iterdir()) == sorted(EXPECTED)
    assert len(EXPECTED) >= 40
    # the first is the question's own code, behind the loading it implies
    assert (CASES / "question.py").read_text() == question.LOADING + question.CODE


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_a_program_is_diagnosed_as_expected(name):
    verdict, rules = EXPECTED[name]
    case = diagnosed(name)
    assert case.code_problem is None and case.code.judged
    assert (case.verdict, holding(case)) == (verdict, rules)


def test_the_questions_code_is_this_puzzle_and_opens_the_view_it_ran():
    """The question's own code (reader/question.CODE, behind the loading it implies): its two
    faults on their own lines, each with its fix as an edit of that line, and the default view."""
    case = diagnosed("question.py")
    judged = case.code.gravest
    sigmoid, scaling = (next(f for f in judged.findings if f.rule == rule) for rule in ("sigmoid_categorical", "unscaled_inputs"))
    assert sigmoid.lines == (12, 14) and sigmoid.edits[0].after.strip() == "model.add(Dense(10, activation='softmax'))"
    assert scaling.lines == (6, 15)
    assert "model.fit(x_train / 255.0, y_train, validation_data=(x_test / 255.0, y_test)," in scaling.edits[0].after
    assert case.view is not None and case.view == type(case.view)() and case.substitutions == ()


def test_several_models_take_the_gravest_verdict_each_with_its_own_lines():
    case = diagnosed("two_models.py")
    assert [judged.verdict for judged in case.code.judged] == ["none_found", "this_puzzle"]
    assert case.code.gravest.training.fit_line == 18


def test_a_setup_the_app_cannot_have_is_opened_at_its_nearest_with_every_substitution_said():
    case = diagnosed("hidden_layer.py")
    assert case.view.config.activation == "sigmoid" and case.view.config.scaling == "raw"
    assert case.view.config.num_epochs == 5 and case.view.learning_rates == (0.01, 0.03)
    assert any("no hidden layers" in said and "Dense" in said for said in case.substitutions)
