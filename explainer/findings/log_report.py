"""A reader's logs as they gave them, read and diagnosed: up to MAX_LOGS texts, each with the
learning rate typed beside it, read back into their metrics (explainer/logs.py) and judged by the
log rules (explainer/findings/diagnosis.py)."""

from __future__ import annotations

import dataclasses

from explainer.config import check_learning_rate
from explainer.findings.diagnosis import MAX_LOGS, Diagnosis, Known, diagnose
from explainer.logs import LogUnreadable, TrainingLog, number, read
from explainer.run import METRICS


@dataclasses.dataclass(frozen=True)
class Report:
    """Logs as a reader gave them, read and diagnosed: those that could be read (in the order
    given), each one's learning rate (typed beside it, else its own text's), why the others could
    not be read, and the diagnosis (None when no log was read)."""

    logs: list[TrainingLog]
    learning_rates: tuple[float | None, ...]
    problems: list[str]
    diagnosis: Diagnosis | None

    def rows(self) -> list[dict]:
        """One row per log, metric and epoch (loss and accuracy, training and validation), for charts."""
        return [
            {
                "log": f"log {index + 1}" + (f", lr {rate:g}" if rate else ""),
                "epoch": epoch + 1,
                "metric": name.removeprefix("val_"),
                "split": "validation" if name.startswith("val_") else "training",
                "value": value,
            }
            for index, (log, rate) in enumerate(zip(self.logs, self.learning_rates))
            for name in METRICS
            for epoch, value in enumerate(log.series(name))
        ]


def report(texts: list[str | bytes], rates: list[str] = (), known: Known | None = None) -> Report:
    """Read up to two logs, each with the learning rate typed beside it (blank: the log's own),
    and diagnose those read; an empty text is no log, and says nothing."""
    logs, learning_rates, problems = [], [], []
    for index, text in enumerate(texts[:MAX_LOGS]):
        if not text.strip():
            continue
        try:
            logs.append(read(text))
        except LogUnreadable as error:
            problems.append(f"log {index + 1}: {error}")
            continue
        typed = rates[index].strip() if index < len(rates) else ""
        try:
            learning_rates.append(check_learning_rate(number(typed)) if typed else logs[-1].learning_rate)
        except ValueError as error:
            problems.append(f"log {index + 1}'s learning rate: {error}; the log's own is used")
            learning_rates.append(logs[-1].learning_rate)
    if not logs:
        return Report([], (), problems, None)
    known = dataclasses.replace(known or Known(), learning_rates=tuple(learning_rates))
    return Report(logs, known.learning_rates, problems, diagnose(logs, known))
