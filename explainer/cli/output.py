"""What the command line prints and writes: runs, the reproduction's summary, the fixes' matrix,
a loss slice, a diagnosis; the JSON of each."""

from __future__ import annotations

import dataclasses
import json
import math
import urllib.parse

from explainer.case import Case
from explainer.config import QUESTION_LEARNING_RATES
from explainer.findings.reproduction import compare
from explainer.findings.surface import Slices, SurfaceRequest
from explainer.findings.verdicts import RULES
from explainer.labels import CHECK_WORDS, DIAGNOSIS_WORDS, describe
from explainer.logs import FORMATS, keras_line
from explainer.reader.question import is_question_setup, reported
from explainer.run import RunResult
from explainer.view import to_query

FIX_FIELDS = ("fix", "learning_rate", "loss", "accuracy", "val_loss", "val_accuracy", "verdict")


def write_json(path: str | None, document) -> None:
    if path:
        with open(path, "w") as file:
            json.dump(document, file, indent=1)
        print(f"wrote {path}")


def finite_or_none(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


def run(result: RunResult) -> None:
    config, history = result.config, result.history
    versions = ", ".join(f"{package} {version}" for package, version in result.versions.items())
    print(f"\n{config.engine} ({versions}): {describe(config)}")
    asked = reported(config.learning_rate) if is_question_setup(config) else None
    for epoch in range(len(history["loss"])):
        line = f"Epoch {epoch + 1}/{config.num_epochs} - {keras_line(history, epoch)}"
        if asked and epoch < len(asked["loss"]):
            line += f"   | question: {keras_line(asked, epoch)}"
        print(line)
    if result.diverged:
        print(f"diverged: {result.diverged}")
    else:
        print(
            f"final weights, test accuracy of argmax(predict(x)): {result.predict_accuracy:.4f}, "
            f"of argmax(logits): {result.logit_accuracy:.4f}"
        )


def run_json(result: RunResult) -> dict:
    return {
        "config": dataclasses.asdict(result.config),
        "history": {name: [finite_or_none(v) for v in values] for name, values in result.history.items()},
        "predict_accuracy": finite_or_none(result.predict_accuracy),
        "logit_accuracy": finite_or_none(result.logit_accuracy),
        "diverged": result.diverged,
        "versions": result.versions,
    }


def summary(results: list[RunResult]) -> None:
    print("\nSummary (each learning rate against the first; the question: lr 0.03 against 0.01):")
    for engine in dict.fromkeys(result.config.engine for result in results):
        runs = [result for result in results if result.config.engine == engine]
        for base, other in zip(runs, runs[1:]) if len(runs) > 1 else []:
            lr_ratio = other.config.learning_rate / base.config.learning_rate
            print(
                f"  {engine}: lr {other.config.learning_rate:g} vs {base.config.learning_rate:g}: "
                + _comparison(base.history, other.history, lr_ratio)
            )
    low, high = QUESTION_LEARNING_RATES
    print(f"  question: {_comparison(reported(low), reported(high), high / low)}")


def _comparison(base: dict, other: dict, lr_ratio: float) -> str:
    comparison = compare(base, other, lr_ratio)
    low, high = comparison.loss_ratio_range
    return (
        f"loss ratio {low:.2f}-{high:.2f} over {len(comparison.loss_ratios)} epoch(s) for an lr ratio of {lr_ratio:.2f}; "
        f"final accuracy {comparison.accuracy_high:.4f} vs {comparison.accuracy_low:.4f} "
        f"(difference {comparison.accuracy_difference:+.4f})"
    )


def fixes(rows: list[dict], json_path: str | None) -> None:
    print(f"{'fix':<14}{'lr':>8}{'loss':>12}{'accuracy':>10}{'val_loss':>12}{'val_acc':>9}{'predict':>9}  verdict")
    for row in rows:
        print(
            f"{row['fix']:<14}{row['learning_rate']:>8g}{row['loss']:>12.4f}{row['accuracy']:>10.4f}"
            f"{row['val_loss']:>12.4f}{row['val_accuracy']:>9.4f}{row['predict_accuracy']:>9.4f}  {row['verdict']}"
        )
    print("\nRules:\n" + "\n".join(f"- {verdict}: {rule}" for verdict, rule in RULES.items()))
    write_json(json_path, [{name: row[name] for name in FIX_FIELDS} for row in rows])


def loss_slice(request: SurfaceRequest, view: Slices, json_path: str | None) -> None:
    print(
        f"{describe(request.config)}, at {request.point} {request.index}: loss {float(view.loss[view.t == 0][0]):.6g} at t = 0, "
        f"lowest {view.best_loss:.6g} at t = {view.best_t:.4g}"
    )
    for marker in view.markers:
        print(f"  lr {marker['learning_rate']:g}: lands at loss {marker['loss']:.6g}, alpha {marker['alpha']:.3f}")
    write_json(
        json_path,
        {
            "config": dataclasses.asdict(request.config),
            "point": request.point,
            "index": request.index,
            "direction": request.direction,
            "evaluate_on": request.evaluate_on,
            "t": view.t.tolist(),
            "loss": view.loss.tolist(),
            "accuracy": view.accuracy.tolist(),
            "best": {"t": view.best_t, "loss": view.best_loss},
            "markers": [{name: finite_or_none(value) for name, value in marker.items()} for marker in view.markers],
        },
    )


def case(found: Case, json_path: str | None) -> None:
    """A reader's case: what was read, the verdict, each finding that holds with its lines and its
    fix, the view to open, then everything checked."""
    logs = found.logs
    for index, (log, rate) in enumerate(zip(logs.logs, logs.learning_rates) if logs else []):
        print(f"log {index + 1}: {log.epochs} epoch(s) of {FORMATS[log.format]}, learning rate {rate or 'unknown'}")
    for said in found.code.unread if found.code else ():
        print(f"note: {said}")
    print(f"\n{DIAGNOSIS_WORDS[found.verdict]}.")
    for said in found.disagreements:
        print(f"\nThe code and the log disagree: {said}")
    rows = found.checks()
    for row in rows:
        if row["holds"]:
            at = f" (lines {', '.join(map(str, row['lines']))})" if row["lines"] else ""
            print(f"\n[{row['family']}] {row['text']}{at}")
            if row["fix"]:
                print(f"The fix:\n{row['fix']}")
    if found.view is not None:
        query = urllib.parse.urlencode(to_query(found.view))
        print(f"\nOpen your setup in the explainer: ?{query}" if query else "\nYour setup is the explainer's default view.")
        for said in found.substitutions:
            print(f"  - {said}")
    print("\nEverything checked:")
    for row in rows:
        print(f"- [{CHECK_WORDS[row['holds']]}] {row['text']}")
    write_json(
        json_path,
        {
            "verdict": found.verdict,
            "view": urllib.parse.urlencode(to_query(found.view)) if found.view is not None else None,
            "findings": rows,
            "substitutions": list(found.substitutions),
            "disagreements": list(found.disagreements),
            "unread": list(found.code.unread) if found.code else [],
            "code_problem": found.code_problem,
            "logs": [
                {
                    "format": log.format,
                    "learning_rate": rate,
                    "metrics": {name: list(map(finite_or_none, values)) for name, values in log.metrics.items()},
                }
                for log, rate in (zip(logs.logs, logs.learning_rates) if logs else [])
            ],
            "problems": logs.problems if logs else [],
        },
    )
