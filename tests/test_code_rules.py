"""Each code rule on snippets that must and must not trigger it, each threshold at its edge, what
the code does not say read as not known, and a reader's paste read as data: bounded, tolerant,
never run."""

import json
import os
import threading
import time

import pytest

from explainer.case import diagnose_case
from explainer.code import makers, source
from explainer.code.reading import MAX_STEPS, read
from explainer.code.source import MAX_CODE_CHARS, CodeUnreadable
from explainer.findings.code import rate
from explainer.findings.code.verdict import diagnose

LOAD = "(x, y), _ = keras.datasets.mnist.load_data()\ny = keras.utils.to_categorical(y)\n"


def program(body: str, head: str = LOAD) -> str:
    return head + body


def model(
    activation: str = "softmax", loss: str = "'categorical_crossentropy'", optimizer: str = "'sgd'", units: int = 10
) -> str:
    return (
        f"m = keras.Sequential([keras.layers.Flatten(), keras.layers.Dense({units}, activation='{activation}')])\n"
        f"m.compile(optimizer={optimizer}, loss={loss})\n"
    )


def found(code: str) -> dict[str, bool | None]:
    """Each rule's holds on the program's one training."""
    parsed = source.parse(code)
    (judged,) = diagnose(read(parsed), parsed).judged
    return {finding.rule: finding.holds for finding in judged.findings}


@pytest.mark.parametrize(
    "scaling, scaled",
    [
        (f"x = x / {makers.MIN_SCALING_DIVISOR}\n", True),
        (f"x = x / {makers.MIN_SCALING_DIVISOR * 0.999}\n", False),
        (f"x = x * {1 / makers.MIN_SCALING_DIVISOR}\n", True),
        (f"x = x * {1.001 / makers.MIN_SCALING_DIVISOR}\n", False),
        ("x = x.astype('float32')\nx /= 255.\n", True),
        ("x = (x - x.mean()) / x.std()\n", True),
        ("x = preprocessing.StandardScaler().fit_transform(x.reshape(-1, 784))\n", True),
        ("x = x.reshape(-1, 784)\n", False),
        ("x = tf.image.convert_image_dtype(x, tf.float32)\n", True),
    ],
)
def test_what_counts_as_scaling_at_its_edge(scaling, scaled):
    assert found(program(scaling + model() + "m.fit(x, y)\n"))["unscaled_inputs"] is (not scaled)


@pytest.mark.parametrize(
    "optimizer, rate_given, holds",
    [
        ("sgd", rate.BOUNDS["sgd"][0], False),
        ("sgd", rate.BOUNDS["sgd"][0] * 0.99, True),
        ("sgd", rate.BOUNDS["sgd"][1], False),
        ("sgd", rate.BOUNDS["sgd"][1] * 1.01, True),
        ("adam", rate.BOUNDS["adam"][1], False),
        ("adam", rate.BOUNDS["adam"][1] * 1.01, True),
    ],
)
def test_the_learning_rate_bounds_at_their_edges_on_scaled_inputs(optimizer, rate_given, holds):
    name = {"sgd": "SGD", "adam": "Adam"}[optimizer]
    code = program("x = x / 255\n" + model(optimizer=f"keras.optimizers.{name}(learning_rate={rate_given!r})") + "m.fit(x, y)\n")
    assert found(code)["learning_rate_in_bounds"] is holds


def test_a_rate_the_code_computes_is_not_known_and_no_rate_is_the_default():
    looped = program(
        "x = x / 255\nfor rate in rates:\n"
        + "".join(f"    {line}\n" for line in model(optimizer="keras.optimizers.SGD(learning_rate=rate)").splitlines())
        + "    m.fit(x, y)\n"
    )
    assert found(looped)["learning_rate_in_bounds"] is None
    assert (
        found(program("x = x / 255\n" + model(optimizer="keras.optimizers.SGD()") + "m.fit(x, y)\n"))["learning_rate_in_bounds"]
        is False
    )


def test_on_raw_pixels_the_rate_is_not_blamed():
    code = program(model(optimizer="keras.optimizers.SGD(learning_rate=50.0)") + "m.fit(x, y)\n")
    parsed = source.parse(code)
    (judged,) = diagnose(read(parsed), parsed).judged
    finding = next(f for f in judged.findings if f.rule == "learning_rate_in_bounds")
    assert finding.holds is False and "only rescales the loss" in finding.text


@pytest.mark.parametrize(
    "snippet, rule, holds",
    [
        (model("sigmoid"), "sigmoid_categorical", True),
        (model("sigmoid", loss="keras.losses.CategoricalCrossentropy(from_logits=True)"), "sigmoid_categorical", False),
        (model("sigmoid", units=1, loss="'binary_crossentropy'"), "sigmoid_categorical", False),
        (model("linear"), "outputs_not_probabilities", True),
        (model("tanh"), "outputs_not_probabilities", True),
        (model("linear", loss="keras.losses.CategoricalCrossentropy(from_logits=True)"), "outputs_not_probabilities", False),
        (model("softmax", units=1, loss="'binary_crossentropy'"), "softmax_one_unit", True),
        (model("softmax", loss="'binary_crossentropy'"), "softmax_binary", True),
        (model("sigmoid", loss="'binary_crossentropy'"), "softmax_binary", False),
        (model("softmax", loss="keras.losses.CategoricalCrossentropy(from_logits=True)"), "from_logits_on_probabilities", True),
        (model("softmax", loss="keras.losses.CategoricalCrossentropy(from_logits=False)"), "from_logits_on_probabilities", False),
        (model("softmax", loss="'sparse_categorical_crossentropy'"), "label_format", True),
        (model("softmax", loss="'mse'"), "squared_error_on_classes", True),
        (model("linear", loss="'mse'"), "squared_error_on_classes", True),  # on the one-hot labels
        (model("relu", loss="'mse'", units=1), "squared_error_on_classes", False),  # a regression
        (model("sigmoid", loss="'binary_crossentropy'"), "label_format", False),  # one 0/1 column per output
        (model("sigmoid", loss="'binary_crossentropy'"), "softmax_binary", False),
    ],
)
def test_each_output_rule_must_and_must_not_trigger(snippet, rule, holds):
    assert found(program("x = x / 255\n" + snippet + "m.fit(x, y)\n"))[rule] is holds


def test_what_the_code_does_not_say_is_not_known():
    lambda_first = (
        "m = keras.Sequential([keras.layers.Lambda(lambda t: t / 255), keras.layers.Dense(10, activation='softmax')])\n"
    )
    assert (
        found(program(lambda_first + "m.compile(optimizer='sgd', loss='categorical_crossentropy')\nm.fit(x, y)\n"))[
            "unscaled_inputs"
        ]
        is None
    )
    loaded = found(program("x = x / 255\nm = keras.models.load_model('m.keras')\nm.fit(x, y)\n"))
    assert loaded["sigmoid_categorical"] is None and loaded["unscaled_inputs"] is False
    dataset = found(program(model() + "m.fit(tf.data.Dataset.from_tensor_slices((x, y)).batch(32))\n", head="x = load()\n"))
    assert dataset["unscaled_inputs"] is None
    labels = found(program(model() + "m.fit(x / 255, encode(labels))\n", head="x = np.load('x.npy')\n"))
    assert labels["label_format"] is None


def test_a_check_that_passes_reads_as_passed_in_words():
    parsed = source.parse(program("x = x / 255\n" + model() + "m.fit(x, y)\n"))
    (judged,) = diagnose(read(parsed), parsed).judged
    assert all(finding.text.startswith("Checked: ") for finding in judged.findings if finding.holds is False)


@pytest.mark.parametrize(
    "data, message",
    [
        ("The loss grows when I raise the learning rate, why? Accuracy stays at 0.88.\nPlease help.", "does not read as Python"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary file"),
        (b"x = 1\n" + b"\xff\xfe" + b"y = 2\n" * 10, "not UTF-8"),
        ("(" * 5000 + ")" * 5000, "nests too deeply"),
        ("x = " + "-" * 100_000 + "1\n", "nests too deeply"),
    ],
)
def test_unreadable_code_says_why_in_a_sentence(data, message):
    case = diagnose_case(data, "pasted.py", [], [])
    assert case.code is None and message in case.code_problem


@pytest.mark.parametrize(
    "notebook, message",
    [
        ('{"cells": [{"cell_type": "markdown", "source": ["# only words"]}], "nbformat": 4}', "no code cells"),
        ('{"cells": [', "not JSON"),
        ('{"nbformat": 4}', "no code cells"),
        ("[1, 2]", "not a Jupyter notebook"),
    ],
)
def test_a_notebook_that_cannot_be_read_says_why(notebook, message):
    case = diagnose_case(notebook.encode(), "mine.ipynb", [], [])
    assert case.code is None and message in case.code_problem


def test_a_notebooks_lines_are_its_code_cells_joined_magics_kept_as_lines():
    cells = [
        {"cell_type": "code", "source": ["%matplotlib inline\n", "!pip install keras"], "outputs": [{"text": ["x" * 1000]}]},
        {"cell_type": "markdown", "source": ["# words"]},
        {"cell_type": "code", "source": "print 'hi'\nz = 1"},
    ]
    text = source.program(json.dumps({"cells": cells}), "n.ipynb")
    assert text.splitlines() == ["%matplotlib inline", "!pip install keras", "print 'hi'", "z = 1"]
    parsed = source.parse(text)
    assert [type(node).__name__ for node in parsed.tree.body] == ["Expr", "Assign"] and parsed.tree.body[0].lineno == 3


def test_a_megabyte_paste_is_read_up_to_the_limit_quickly():
    line = "x = keras.layers.Dense(10, activation='relu')(x)  # " + "padding " * 4 + "\n"
    text = line * (2 * 1_000_000 // len(line))
    started = time.perf_counter()
    case = diagnose_case(text, "big.py", [], [])
    assert time.perf_counter() - started < 5 and case.code_problem is None
    read = source.decode(text)
    assert MAX_CODE_CHARS - len(line) < len(read) <= MAX_CODE_CHARS and read.endswith("\n")  # whole lines


def test_no_code_is_no_fault_and_blank_code_nothing_to_read():
    assert diagnose_case("", "pasted.py", [], []).code_problem is None
    with pytest.raises(CodeUnreadable, match="no code to read"):
        source.parse("  \n")


def test_the_reading_stops_after_its_step_budget():
    """A function that calls itself 60 times is read to MAX_DEPTH: 60^2 bodies of 60 calls, more
    nodes than MAX_STEPS; the reading says where it stopped, and takes under a second."""

    def calling(times: int) -> str:
        return "def f(a):\n" + "    f(a)\n" * times + "f(1)\n"

    started = time.perf_counter()
    assert any(f"{MAX_STEPS:,} steps" in said for said in read(source.parse(calling(60))).unread)
    assert time.perf_counter() - started < 1
    assert read(source.parse(calling(5))).unread == ()


def test_pasted_code_is_read_never_run(tmp_path):
    """Code that would write a file, open a socket and loop forever does none of it when read."""
    marker = tmp_path / "written"
    code = (
        f"open({str(marker)!r}, 'w').write('ran')\n"
        "import socket\nsocket.create_connection(('127.0.0.1', 9))\n"
        "import os\nos.system('touch ' + " + repr(str(marker)) + ")\n"
        "while True:\n    pass\n" + program(model("sigmoid") + "m.fit(x, y)\n")
    )
    threads = threading.active_count()
    started = time.perf_counter()
    case = diagnose_case(code, "evil.py", [], [])
    assert time.perf_counter() - started < 5 and not marker.exists() and not os.listdir(tmp_path)
    assert threading.active_count() == threads and case.verdict == "this_puzzle"
