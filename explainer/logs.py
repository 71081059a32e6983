"""A training log as Keras prints it, read back into its per-epoch metrics: tf.keras 2's and Keras
3's progress lines (verbose=1, as a terminal shows them or as a file keeps every update; and
verbose=2), a printed `history.history` dict, or a CSVLogger file. Any text gives a TrainingLog
or a LogUnreadable that says why, never another exception."""

from __future__ import annotations

import csv
import dataclasses
import math
import re

from explainer.run import METRICS

# the most text one log may be (the app's upload limit, .streamlit/config.toml's maxUploadSize, is
# as large): a 10-epoch log with every progress update Keras writes to a file is about 0.1 MB
MAX_LOG_CHARS = 1_000_000
MAX_EPOCHS = 10_000  # epochs read from one log; later ones are dropped, and the log says how many
METRIC = r"[A-Za-z_][\w.]*"
# a number as Keras prints it (4 decimals, or an exponent), as a person types it (thousands
# separators), or nan / inf
NUMBER = r"[-+]?(?:(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?|[-+]?(?:nan|inf(?:inity)?)"
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
_EPOCH = re.compile(r"^\s*Epoch\s+\d+\s*/\s*\d+", re.IGNORECASE)
_STEPS = re.compile(r"^\s*(\d[\d,]*)\s*/\s*(\d[\d,]*)\b")
_PAIR = re.compile(rf"(?<![\w.])({METRIC}):\s*({NUMBER})(?![\w.])", re.IGNORECASE)
_DICT_ENTRY = re.compile(rf"""['"]({METRIC})['"]\s*:\s*\[([^\]]*)\]""")
_WRAPPED = re.compile(r"(?:np|numpy)\.float(?:16|32|64)\(([^()]*)\)")
# where a log, the code pasted with it or its writer states the learning rate: `learning_rate=0.01`,
# `lr: 0.01`, "the learning rate is 0.01"
_LEARNING_RATE = re.compile(rf"\b(?:learning[_ ]rate|lr)(?:\s*[=:]|\s+(?:is|of|was))\s*({NUMBER})(?![\w.])", re.IGNORECASE)
LEARNING_RATE_COLUMNS = ("learning_rate", "lr")  # what Keras 3 and older callbacks log it as
NOT_METRICS = ("eta",)  # tf.keras 2's time left, `ETA: 3s`

FORMATS = {"progress": "Keras' progress lines", "history": "a printed history.history", "csv": "a CSVLogger file"}


class LogUnreadable(ValueError):
    """The text is no training log this reads; the message says what was looked for."""


@dataclasses.dataclass(frozen=True)
class TrainingLog:
    """metrics: each metric's value per epoch, as `history.history` holds them (NaN where an
    epoch did not report it). format: a code of FORMATS. learning_rate: as the text states it,
    else None. dropped: epochs past MAX_EPOCHS, left out."""

    metrics: dict[str, list[float]]
    format: str
    learning_rate: float | None = None
    dropped: int = 0

    @property
    def epochs(self) -> int:
        return max(map(len, self.metrics.values()), default=0)

    def series(self, metric: str) -> list[float]:
        """One metric per epoch ("loss", "val_loss", "accuracy"...), [] if the log lacks it;
        "accuracy" also finds what Keras 2.2 and older called "acc"."""
        for name in (metric, metric.replace("accuracy", "acc")):
            if name in self.metrics:
                return self.metrics[name]
        return []

    def last(self, metric: str) -> float:
        """The metric's last finite value; NaN if it has none."""
        finite = [value for value in self.series(metric) if math.isfinite(value)]
        return finite[-1] if finite else math.nan


def read(text: str | bytes) -> TrainingLog:
    """The log in `text` (see the module's formats); LogUnreadable when there is none."""
    if isinstance(text, bytes):
        if b"\0" in text:
            raise LogUnreadable("this is a binary file, not a text log")
        text = text.decode("utf-8", errors="replace")
    if len(text) > MAX_LOG_CHARS:
        raise LogUnreadable(f"the log has {len(text):,} characters; at most {MAX_LOG_CHARS:,} are read")
    if "\0" in text:
        raise LogUnreadable("this is a binary file, not a text log")
    text = _ANSI.sub("", text).replace("\b", "")
    for kind, reader in (("history", _history), ("csv", _csv), ("progress", _progress)):
        metrics = reader(text)
        if metrics:
            return _log(metrics, kind, text)
    raise LogUnreadable(
        "no training log found: looked for Keras' progress lines (with '- loss: ...'), a printed history.history "
        "({'loss': [...], ...}) and a CSVLogger file (a header with 'epoch' and 'loss')"
    )


def keras_line(history: dict[str, list[float]], epoch: int) -> str:
    """One epoch's metrics as Keras prints them: 'loss: ... - accuracy: ... - val_loss: ... - val_accuracy: ...'."""
    return " - ".join(f"{name}: {history[name][epoch]:.4f}" for name in METRICS)


def number(text: str) -> float:
    """A number as a log prints it: thousands separators allowed, nan and inf too."""
    return float(text.replace(",", ""))


def _log(metrics: dict[str, list[float]], kind: str, text: str) -> TrainingLog:
    """The log, its learning rate from its own column (constant) or else from the text."""
    rates = {name: metrics.pop(name) for name in LEARNING_RATE_COLUMNS if name in metrics}
    logged = {rate for values in rates.values() for rate in values if math.isfinite(rate)}
    learning_rate = logged.pop() if len(logged) == 1 else _stated_learning_rate(text)
    epochs = max(map(len, metrics.values()))
    kept = {name: values[:MAX_EPOCHS] for name, values in metrics.items()}
    return TrainingLog(kept, kind, learning_rate, max(0, epochs - MAX_EPOCHS))


def _history(text: str) -> dict[str, list[float]]:
    """{'loss': [1.0, ...], 'accuracy': [...]}, as `print(history.history)` writes it (NumPy's
    np.float64(...) wrappers included)."""
    found = {}
    for name, values in _DICT_ENTRY.findall(_WRAPPED.sub(r"\1", text)):
        try:
            parsed = [float(value) for value in values.split(",") if value.strip()]
        except ValueError:
            continue
        if parsed:
            found[name] = parsed
    return found if "loss" in found else {}


def _csv(text: str) -> dict[str, list[float]]:
    """A CSVLogger file: a header row naming 'epoch' and the metrics, then one row per epoch."""
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines or "epoch" not in lines[0] or "loss" not in lines[0]:
        return {}
    try:
        rows = list(csv.reader(lines, delimiter="\t" if "\t" in lines[0] and "," not in lines[0] else ","))
    except csv.Error:  # a field past csv's size limit: no CSVLogger wrote it
        return {}
    header = [name.strip() for name in rows[0]]
    if "epoch" not in header or "loss" not in header:
        return {}
    found: dict[str, list[float]] = {name: [] for name in header if name != "epoch"}
    for row in rows[1:]:
        if len(row) == len(header):  # else a row cut short, or not a row of this file
            for name, cell in zip(header, row):
                if name != "epoch":
                    found[name].append(_float_or_nan(cell))
    return found if found["loss"] else {}


def _progress(text: str) -> dict[str, list[float]]:
    """Keras' progress lines. After an "Epoch k/N" line, the epoch's last line with the most
    metrics is its end (where the validation metrics appear); a line of another step count, as
    `evaluate` prints after training, is not part of it. Without "Epoch" lines, each line whose
    step counter is complete (1875/1875), or that has none, ends an epoch."""
    epochs: list[dict[str, float]] = []
    block: list[tuple[str | None, dict[str, float]]] | None = None
    for line in re.split(r"[\r\n]+", text):
        if _EPOCH.match(line):
            if block:
                epochs.append(_epoch_end(block))
            block = []
            continue
        pairs = _metrics(line)
        if not pairs:
            continue
        steps = _STEPS.match(line)
        if block is not None:
            block.append((steps.group(2) if steps else None, pairs))
        elif steps is None or number(steps.group(1)) >= number(steps.group(2)):
            epochs.append(pairs)
    if block:
        epochs.append(_epoch_end(block))
    epochs = [epoch for epoch in epochs if "loss" in epoch]
    names = list(dict.fromkeys(name for epoch in epochs for name in epoch))
    return {name: [epoch.get(name, math.nan) for epoch in epochs] for name in names}


def _epoch_end(block: list[tuple[str | None, dict[str, float]]]) -> dict[str, float]:
    total = block[0][0]
    own = [pairs for steps, pairs in block if steps == total]
    most = max(map(len, own))
    return [pairs for pairs in own if len(pairs) == most][-1]


def _metrics(line: str) -> dict[str, float]:
    """The `name: value` pairs of one progress line."""
    found = {}
    for name, value in _PAIR.findall(line):
        if name.lower() not in NOT_METRICS:
            found[name] = _float_or_nan(value)
    return found


def _stated_learning_rate(text: str) -> float | None:
    """The learning rate the text states (`learning_rate=0.01`, `lr: 0.03`), if it states one."""
    rates = {rate for value in _LEARNING_RATE.findall(text) if math.isfinite(rate := _float_or_nan(value)) and rate > 0}
    return rates.pop() if len(rates) == 1 else None


def _float_or_nan(text: str) -> float:
    try:
        return number(text.strip())
    except ValueError:
        return math.nan
