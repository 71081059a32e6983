"""A reader's case: code and logs together (the code says what the log reader would ask, and where
they disagree by the mechanism it is said), on the page and on the command line, where bad input
gets one sentence and never a traceback."""

import json
from pathlib import Path

from pages_helper import said
from streamlit.testing.v1 import AppTest

from explainer.case import diagnose_case
from explainer.cli import main
from explainer.config import QUESTION_LEARNING_RATES
from explainer.reader import question

ROOT = Path(__file__).parents[1]
CASES = ROOT / "tests" / "code_cases"
LOGS = [question.log(lr) for lr in QUESTION_LEARNING_RATES]


def test_the_code_says_what_the_log_reader_would_ask():
    case = diagnose_case((CASES / "question.py").read_text(), "q.py", LOGS, [])
    finding = next(f for f in case.logs.diagnosis.findings if f.rule == "logits_loss")
    assert finding.holds and "on the logits, whatever the activation" in finding.text
    linear = diagnose_case((CASES / "functional_logits_fixed.py").read_text(), "f.py", LOGS, [])
    finding = next(f for f in linear.logs.diagnosis.findings if f.rule == "logits_loss")
    assert "as you ask, on the logits" in finding.text  # from_logits, read from the code


def test_code_and_log_that_cannot_both_be_right_are_said_to_disagree():
    """The question's log (a loss of hundreds per image) beside code that runs Keras 3 on JAX, or a
    linear output without from_logits: both clip probabilities, so neither can reach it."""
    jax = diagnose_case((CASES / "jax_backend.py").read_text(), "j.py", LOGS, [])
    assert len(jax.disagreements) == 1 and "runs Keras 3 on jax" in jax.disagreements[0]
    linear = diagnose_case((CASES / "functional_logits.py").read_text(), "f.py", LOGS, [])
    assert len(linear.disagreements) == 1 and "without from_logits" in linear.disagreements[0]
    assert diagnose_case((CASES / "question.py").read_text(), "q.py", LOGS, []).disagreements == ()


def test_a_diverging_log_decides_the_verdict_whatever_the_code():
    rising = "\n".join(f"Epoch {e}/4\n1875/1875 - loss: {loss} - accuracy: 0.5" for e, loss in enumerate((1.0, 2.0, 3.0, 4.0), 1))
    case = diagnose_case((CASES / "question_fixed.py").read_text(), "q.py", [rising], [])
    assert case.code.verdict == "none_found" and case.verdict == "divergence"


def test_the_command_line_reads_code_and_logs_and_writes_the_json(tmp_path, capsys):
    code = tmp_path / "mine.py"
    code.write_text((CASES / "question.py").read_text())
    logs = []
    for lr, text in zip(QUESTION_LEARNING_RATES, LOGS):
        logs.append(tmp_path / f"{lr}.log")
        logs[-1].write_text(text)
    out = tmp_path / "d.json"
    assert main(["diagnose", "--code", str(code), *map(str, logs), "--json", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "This is the puzzle." in printed and "fixed: model.add(Dense(10, activation='softmax'))" in printed
    document = json.loads(out.read_text())
    assert document["verdict"] == "this_puzzle" and document["view"] == ""  # the question's view: the default link
    found = {(row["family"], row["rule"]) for row in document["findings"] if row["holds"]}
    assert {("output", "sigmoid_categorical"), ("scaling", "unscaled_inputs"), ("log", "logits_loss")} <= found
    sigmoid = next(row for row in document["findings"] if row["rule"] == "sigmoid_categorical")
    assert sigmoid["lines"] == [12, 14] and set(sigmoid) == {"family", "rule", "holds", "lines", "text", "fix"}
    assert {row["holds"] for row in document["findings"]} <= {True, False, None}


def test_the_command_line_opens_another_setup_by_its_query(tmp_path, capsys):
    code = tmp_path / "mine.py"
    code.write_text((CASES / "adam_rate_too_high.py").read_text())
    out = tmp_path / "d.json"
    assert main(["diagnose", "--code", str(code), "--json", str(out)]) == 0
    document = json.loads(out.read_text())
    assert document["verdict"] == "sibling"
    assert "optimizer=adam" in document["view"] and "scaling=unit" in document["view"] and "lr=0.5%2C+1.5" in document["view"]
    assert any("hidden layers" in said for said in document["substitutions"])


def test_bad_code_on_the_command_line_is_one_sentence(tmp_path, capsys):
    binary = tmp_path / "model.h5"
    binary.write_bytes(b"\x89HDF\r\n\x1a\n\x00\x00")
    assert main(["diagnose", "--code", str(binary)]) == 1
    err = capsys.readouterr().err
    assert "binary file" in err and "Traceback" not in err
    notebook = tmp_path / "broken.ipynb"
    notebook.write_text('{"cells": [')
    assert main(["diagnose", "--code", str(notebook)]) == 1 and "not JSON" in capsys.readouterr().err
    assert main(["diagnose", "--code", str(tmp_path / "missing.py")]) == 1 and "cannot read" in capsys.readouterr().err


def your_case() -> AppTest:
    test = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    test.switch_page("app_pages/your_case.py")
    return test.run()


def test_the_page_diagnoses_pasted_code_alone_and_opens_its_view():
    test = your_case()
    test.text_area(key="code").input((CASES / "csv_kaggle.py").read_text()).run()
    assert not test.exception and [header.value for header in test.main.header] == ["This is the puzzle"]
    text = said(test)
    assert "read from a file" in text and "the code does not say their range" in text
    assert any("X / 255.0" in block.value for block in test.code)  # the fix, as an edit of their fit line
    (button,) = test.get("link_button")
    assert "optimizer=adam" in button.url and "batch_size=86" in button.url


def test_the_page_says_why_code_cannot_be_read_and_keeps_the_logs():
    test = your_case()
    test.text_area(key="code").input("(" * 5000 + ")" * 5000)
    test.text_area(key="log 0").input(LOGS[0]).run()
    assert not test.exception
    assert "nests too deeply" in test.error[0].value
    assert [header.value for header in test.main.header] == ["This is the puzzle"]  # the log alone says it
