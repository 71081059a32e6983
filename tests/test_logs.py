"""Reading a training log back: every format Keras prints (the real output of fit is read in
tests/test_diagnosis.py's integration tests), and any text at all gives a log or a reason."""

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from explainer import logs
from explainer.config import QUESTION_LEARNING_RATES
from explainer.logs import MAX_LOG_CHARS, LogUnreadable, read
from explainer.reader import question

KERAS2 = (
    "Epoch 1/2\n"
    "1875/1875 [==============================] - 2s 946us/step - loss: 315.4696 - accuracy: 0.8432 - val_loss: 195.9139"
    " - val_accuracy: 0.8957\n"
    "Epoch 2/2\n"
    "1875/1875 [==============================] - 2s 877us/step - loss: 263.0978 - accuracy: 0.8674 - val_loss: 233.7138"
    " - val_accuracy: 0.8782\n"
)
KERAS3 = (  # as a terminal receives it: bold step counts, a coloured bar, metrics in alphabetical order
    "Epoch 1/2\n\x1b[1m1875/1875\x1b[0m \x1b[32m━━━━━━━━━━━━━━━━━━━━\x1b[0m\x1b[37m\x1b[0m \x1b[1m2s\x1b[0m 1ms/step - "
    "accuracy: 0.8432 - loss: 315.4696 - val_accuracy: 0.8957 - val_loss: 195.9139\n"
    "Epoch 2/2\n\x1b[1m1875/1875\x1b[0m \x1b[32m━━━━━━━━━━━━━━━━━━━━\x1b[0m\x1b[37m\x1b[0m \x1b[1m2s\x1b[0m 1ms/step - "
    "accuracy: 0.8674 - loss: 263.0978 - val_accuracy: 0.8782 - val_loss: 233.7138\n"
)
FIRST_TWO = {"loss": [315.4696, 263.0978], "accuracy": [0.8432, 0.8674], "val_loss": [195.9139, 233.7138]}


def read_back(text: str) -> dict:
    found = read(text)
    return {name: found.series(name) for name in FIRST_TWO}


def test_the_questions_logs_read_back_as_reported():
    for lr in QUESTION_LEARNING_RATES:
        assert read(question.log(lr)).metrics == question.REPORTED[lr]


@pytest.mark.parametrize("text", [KERAS2, KERAS3], ids=["tf.keras 2", "Keras 3"])
def test_progress_lines_of_either_keras(text):
    assert read_back(text) == FIRST_TWO and read(text).format == "progress"


def test_verbose_2_lines_without_epoch_lines():
    keras2 = "1875/1875 - 2s - loss: 315.4696 - accuracy: 0.8432 - val_loss: 195.9139 - 2s/epoch - 1ms/step\n"
    keras3 = "1875/1875 - 2s - 1ms/step - accuracy: 0.8674 - loss: 263.0978 - val_loss: 233.7138\n"
    assert read_back(keras2 + keras3) == FIRST_TWO


def test_a_file_that_kept_every_update_gives_each_epochs_last():
    """Keras rewrites its line with \\r (and \\b) as steps go; a file keeps every version, and
    `evaluate`'s line after training is no epoch."""
    updates = "".join(f"\r{step}/1875 [===>...] - ETA: 1s - loss: {900 - step / 10:.4f} - accuracy: 0.5" for step in (1, 900))
    epoch = "Epoch 1/1\n" + updates + "\b\b\r1875/1875 [====] - 2s - loss: 315.4696 - accuracy: 0.8432 - val_loss: 195.9139\n"
    found = read(epoch + "313/313 [====] - 0s - loss: 190.0000 - accuracy: 0.8900\n")
    assert found.metrics == {"loss": [315.4696], "accuracy": [0.8432], "val_loss": [195.9139]}


def test_a_printed_history_with_numpy_scalars():
    text = "{'loss': [np.float64(315.4696), np.float64(263.0978)], 'accuracy': [0.8432, 0.8674], "
    text += "'val_loss': [195.9139, 233.7138]}"
    assert read_back(text) == FIRST_TWO and read(text).format == "history"


def test_a_csv_logger_file_and_its_learning_rate_column():
    text = "epoch,accuracy,learning_rate,loss,val_loss\n0,0.8432,0.01,315.4696,195.9139\n1,0.8674,0.01,263.0978,233.7138\n"
    found = read(text)
    assert read_back(text) == FIRST_TWO and found.format == "csv" and found.learning_rate == 0.01
    assert "learning_rate" not in found.metrics


def test_the_learning_rate_the_text_states():
    assert read(question.log(0.03)).learning_rate == 0.03  # "the output when the learning rate is 0.03"
    assert read(question.CODE + KERAS2).learning_rate == 0.01  # SGD(learning_rate=0.01)
    assert read("optimizer = SGD(lr=3e-2)\n" + KERAS2).learning_rate == 0.03
    assert read("lr=0.01 then lr=0.03\n" + KERAS2).learning_rate is None  # two rates: it does not guess


def test_numbers_with_thousands_separators_nan_and_inf():
    found = read("loss: 1,234.5 - accuracy: 0.5\nloss: nan - accuracy: 0.1\nloss: inf - accuracy: 0.1\n")
    assert found.series("loss")[0] == 1234.5 and math.isnan(found.series("loss")[1]) and found.series("loss")[2] == math.inf
    assert found.last("loss") == 1234.5  # the last finite one


def test_older_kerass_acc_is_the_accuracy():
    assert read("loss: 2.3 - acc: 0.11\n").series("accuracy") == [0.11]


@pytest.mark.parametrize(
    "text, reason",
    [
        (b"\x89PNG\r\n\x1a\n\0\0\0", "binary"),
        ("x" * (MAX_LOG_CHARS + 1), f"at most {MAX_LOG_CHARS:,}"),
        ("a" * 1_000_000, "no training log found"),
        ("", "no training log found"),
        ("accuracy: 0.9\n", "no training log found"),  # a log always reports its loss
    ],
    ids=["binary", "too long", "a line of a million characters", "empty", "no loss"],
)
def test_what_is_no_log_says_why(text, reason):
    with pytest.raises(LogUnreadable, match=reason):
        read(text)


def test_one_epoch_and_the_epochs_bound(monkeypatch):
    assert read("loss: 2.3\n").epochs == 1
    monkeypatch.setattr(logs, "MAX_EPOCHS", 3)
    found = read("".join(f"loss: {k}.0\n" for k in range(5)))
    assert found.epochs == 3 and found.dropped == 2


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(
        st.text(),
        st.binary(),
        st.text(alphabet="Epoch 0123456789/.,-:eEnaif\r\n\b{}[]'loss_accuracy"),  # near-logs
        st.text().map(lambda tail: KERAS2 + tail),
    )
)
def test_any_text_gives_a_log_or_a_reason(text):
    try:
        found = read(text)
    except LogUnreadable as error:
        assert str(error)
    else:
        assert found.series("loss") and all(isinstance(value, float) for values in found.metrics.values() for value in values)
