"""Command line: `python -m explainer reproduce` re-runs the question; `run` trains any config."""

from __future__ import annotations

import argparse
import concurrent.futures
import dataclasses
import json
import math
import sys
import time

from rich.console import Console
from rich.progress import MofNCompleteColumn, Progress

from explainer import gate, notebook
from explainer.config import CHOICES, ENGINES, RunConfig
from explainer.data import Mnist, MnistNotDownloaded, MnistUnavailable, load_mnist, prepare
from explainer.findings import surface
from explainer.findings.diagnosis import ACTIVATIONS, INPUTS, LOSSES, Known, report
from explainer.findings.reproduction import compare
from explainer.findings.verdicts import RULES, matrix_rows, outcomes
from explainer.fixes import runs_needed
from explainer.logs import FORMATS, MAX_LOG_CHARS, keras_line
from explainer.plan import all_views, view_derivations, view_runs
from explainer.reader import question
from explainer.reader.labels import DIAGNOSIS_WORDS, FIX_NAMES, describe
from explainer.reader.question import LEARNING_RATES, is_question_setup, reported
from explainer.run import RunResult
from explainer.service import InWorker, Run, TrainingService, failure
from explainer.store.cache import RunStore
from explainer.view import View, format_learning_rates

JSON_FIELDS = ("fix", "learning_rate", "loss", "accuracy", "val_loss", "val_accuracy", "verdict")


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command == "diagnose":
        return diagnose(parser, args)
    if args.command == "notebook":
        return write_notebook(parser, args)
    try:
        configs = args.configs(args)
    except ValueError as error:
        parser.error(str(error))
    service = TrainingService(RunStore.default())
    if args.command == "warm":
        try:
            views = [
                View(view.learning_rates, view.config.replace(num_epochs=args.epochs, train_subset=args.subset))
                for view in (all_views() if args.all else [View()])
            ]
        except ValueError as error:
            parser.error(str(error))
        try:
            return warm(service, views)
        finally:
            service.shutdown()
    try:
        results = train_all(service, configs)
    except (MnistUnavailable, RunFailed) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    finally:
        service.shutdown()
    if args.command == "fixes":
        return _report_fixes(args, results)
    if args.command == "surface":
        return _report_surface(args, results[0])
    for result in results:
        _print_run(result)
    if args.command == "reproduce":
        _print_summary(results)
    if args.json:
        with open(args.json, "w") as file:
            json.dump([_as_json(result) for result in results], file, indent=1)
        print(f"wrote {args.json}")
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m explainer", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    reproduce = commands.add_parser("reproduce", help="the question's exact setup at two or more learning rates, on both engines")
    reproduce.add_argument(
        "--lr", type=float, nargs="+", default=list(LEARNING_RATES), help="learning rates (default: %(default)s)"
    )
    reproduce.add_argument("--engine", nargs="+", choices=ENGINES, default=list(ENGINES), help="Keras engines (default: all)")
    reproduce.set_defaults(configs=_reproduce_configs)
    fixes = commands.add_parser("fixes", help="every fix at two learning rates, with its verdict")
    fixes.add_argument("--lr", type=float, nargs=2, default=list(LEARNING_RATES), help="learning rates (default: %(default)s)")
    fixes.add_argument("--engine", choices=ENGINES, default=RunConfig().engine)
    fixes.set_defaults(configs=_fixes_configs)
    slice_ = commands.add_parser("surface", help="the loss along the step direction from a point of a run (1-D slice)")
    slice_.add_argument("--scaling", choices=CHOICES["scaling"], default="raw")
    slice_.add_argument(
        "--lr", type=float, nargs="+", default=list(LEARNING_RATES), help="learning rates; the run uses the first"
    )
    slice_.add_argument("--point", choices=surface.POINTS, default="epoch")
    slice_.add_argument("--index", type=int, default=1, help="SGD steps into epoch 1 (point 'step') or the epoch (point 'epoch')")
    slice_.add_argument("--direction", choices=surface.DIRECTIONS, default="minibatch")
    slice_.add_argument("--evaluate-on", choices=surface.EVALUATE_ON, default="train")
    slice_.set_defaults(configs=lambda args: [_surface_request(args).config])
    warm = commands.add_parser("warm", help="train and compute everything the app's default view shows (pre-warms the cache)")
    warm.add_argument("--all", action="store_true", help="every combination of the sidebar's choices, not just the default")
    warm.add_argument("--epochs", type=int, default=RunConfig().num_epochs, help="the views' run length (default: %(default)s)")
    warm.add_argument("--subset", type=int, default=None, help="train the views on the first N images only")
    warm.set_defaults(configs=lambda args: [], json=None)
    diagnosis = commands.add_parser("diagnose", help="whether your own training logs (one or two files) are this puzzle")
    diagnosis.add_argument("files", nargs="+", metavar="FILE", help="Keras' fit output, a history.history, a CSVLogger file")
    diagnosis.add_argument("--lr", nargs="+", default=[], metavar="LR", help="each log's learning rate, if it does not state it")
    diagnosis.add_argument("--activation", choices=ACTIVATIONS, help="the last layer's activation")
    diagnosis.add_argument("--loss", choices=LOSSES, help="the loss ('other': not a cross-entropy)")
    diagnosis.add_argument("--inputs", choices=INPUTS, help="the inputs' range: 0-255 (raw), 0-1 (unit) or standardized")
    diagnosis.add_argument("--json", metavar="PATH", help="also write the diagnosis as JSON")
    run = commands.add_parser("run", help="train one configuration")
    run.add_argument("--lr", type=float, default=RunConfig().learning_rate, help="learning rate")
    run.set_defaults(configs=_run_configs)
    notebook = commands.add_parser("notebook", help="a Jupyter notebook in plain Keras that trains a view (run's settings)")
    notebook.add_argument("--lr", type=float, nargs=2, default=list(LEARNING_RATES), help="learning rates (default: %(default)s)")
    notebook.add_argument("--out", metavar="FILE", required=True, help="the .ipynb file to write")
    defaults = RunConfig()
    for command in (run, notebook):
        for name, allowed in CHOICES.items():
            command.add_argument(f"--{name}", choices=allowed, default=getattr(defaults, name))
        command.add_argument("--batch-size", type=int, default=defaults.batch_size)
    for command in (reproduce, fixes, slice_, run, notebook):
        command.add_argument("--epochs", type=int, default=defaults.num_epochs)
        command.add_argument("--seed", type=int, default=defaults.seed)
        command.add_argument("--subset", type=int, default=None, help="train on the first N images only")
    for command in (reproduce, fixes, slice_, run):
        command.add_argument("--json", metavar="PATH", help="also write the runs as JSON")
    return parser


def write_notebook(parser: argparse.ArgumentParser, args) -> int:
    """The view of the given settings as a notebook (explainer/notebook.py), written to --out."""
    try:
        view = gate.admit(View(tuple(sorted(args.lr)), _config(args, min(args.lr))))
    except ValueError as error:
        parser.error(str(error))
    with open(args.out, "w") as file:
        file.write(notebook.text(view))
    print(f"wrote {args.out}: {describe(view.config)}, learning rates {format_learning_rates(view.learning_rates)}")
    return 0


def _reproduce_configs(args) -> list[RunConfig]:
    return [
        RunConfig(engine=engine, learning_rate=lr, num_epochs=args.epochs, seed=args.seed, train_subset=args.subset)
        for engine in args.engine
        for lr in args.lr
    ]


def _fixes_configs(args) -> list[RunConfig]:
    return runs_needed(_fixes_base(args), tuple(sorted(args.lr)))


def _fixes_base(args) -> RunConfig:
    return RunConfig(engine=args.engine, num_epochs=args.epochs, seed=args.seed, train_subset=args.subset)


def _surface_request(args) -> surface.SurfaceRequest:
    config = RunConfig(
        scaling=args.scaling, learning_rate=args.lr[0], num_epochs=args.epochs, seed=args.seed, train_subset=args.subset
    )
    return surface.SurfaceRequest(
        config, point=args.point, index=args.index, direction=args.direction, evaluate_on=args.evaluate_on
    )


def _report_surface(args, result: RunResult) -> int:
    request = _surface_request(args)
    view = InWorker("slicing", "compute")(request, result, prepare(load_mnist(), request.config), tuple(args.lr), 3)
    print(
        f"{describe(request.config)}, at {request.point} {request.index}: loss {float(view.loss[view.t == 0][0]):.6g} at t = 0, "
        f"lowest {view.best_loss:.6g} at t = {view.best_t:.4g}"
    )
    for marker in view.markers:
        print(f"  lr {marker['learning_rate']:g}: lands at loss {marker['loss']:.6g}, alpha {marker['alpha']:.3f}")
    if args.json:
        document = {
            "config": dataclasses.asdict(request.config),
            "point": request.point,
            "index": request.index,
            "direction": request.direction,
            "evaluate_on": request.evaluate_on,
            "t": view.t.tolist(),
            "loss": view.loss.tolist(),
            "accuracy": view.accuracy.tolist(),
            "best": {"t": view.best_t, "loss": view.best_loss},
            "markers": [{name: _finite_or_none(value) for name, value in marker.items()} for marker in view.markers],
        }
        with open(args.json, "w") as file:
            json.dump(document, file, indent=1)
        print(f"wrote {args.json}")
    return 0


def _run_configs(args) -> list[RunConfig]:
    return [_config(args, args.lr)]


def _config(args, learning_rate: float) -> RunConfig:
    """The config `run` and `notebook` describe with their options, at `learning_rate`."""
    return RunConfig(
        **{name: getattr(args, name) for name in CHOICES},
        learning_rate=learning_rate,
        batch_size=args.batch_size,
        num_epochs=args.epochs,
        seed=args.seed,
        train_subset=args.subset,
    )


def diagnose(parser: argparse.ArgumentParser, args) -> int:
    """The diagnosis of one or two log files, printed (and written as JSON); 1 if none can be read."""
    if len(args.files) > 2 or len(args.lr) > len(args.files):
        parser.error("give one or two log files, and at most one learning rate for each")
    texts = []
    for path in args.files:
        try:
            with open(path, "rb") as file:
                texts.append(file.read(MAX_LOG_CHARS + 1))
        except OSError as error:
            print(f"error: cannot read {path}: {error.strerror or error}", file=sys.stderr)
            return 1
    found = report(texts, args.lr, Known(activation=args.activation, loss=args.loss, inputs=args.inputs))
    for problem in found.problems or (["the files are empty"] if found.diagnosis is None else []):
        print(f"{'warning' if found.diagnosis else 'error'}: {problem}", file=sys.stderr)
    if found.diagnosis is None:
        return 1
    for index, (log, rate) in enumerate(zip(found.logs, found.learning_rates)):
        print(f"log {index + 1}: {log.epochs} epoch(s) of {FORMATS[log.format]}, learning rate {rate or 'unknown'}")
    print(f"\n{DIAGNOSIS_WORDS[found.diagnosis.verdict]}.")
    for finding in found.diagnosis.findings:
        print(f"- [{'holds' if finding.holds else 'not found'}] {finding.text}\n  rests on: {finding.rests_on}")
    for fix in found.diagnosis.fixes:
        print(f"\nThe fix: {FIX_NAMES[fix]}\n{question.fix_lines(fix)}")
    if args.json:
        with open(args.json, "w") as file:
            json.dump(_diagnosis_json(found), file, indent=1)
        print(f"wrote {args.json}")
    return 0


def _diagnosis_json(found) -> dict:
    return {
        "verdict": found.diagnosis.verdict,
        "logs": [
            {
                "format": log.format,
                "learning_rate": rate,
                "metrics": {name: list(map(_finite_or_none, values)) for name, values in log.metrics.items()},
            }
            for log, rate in zip(found.logs, found.learning_rates)
        ],
        "findings": [dataclasses.asdict(finding) for finding in found.diagnosis.findings],
        "problems": found.problems,
    }


def warm(service: TrainingService, views: list[View]) -> int:
    """Train every run and compute every derived result of `views`, in parallel on the workers,
    what is cached skipped, with a progress bar; then the time taken and the cache's size."""
    started = time.perf_counter()
    try:
        mnist = _mnist(service)
    except MnistUnavailable as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    configs = list(dict.fromkeys(config for view in views for config in view_runs(view)))
    derivations = list(dict.fromkeys(d for view in views for d in view_derivations(view)))
    failed, undefined = [], []
    with Progress(*Progress.get_default_columns(), MofNCompleteColumn(), console=Console(stderr=True)) as progress:
        asks = {  # derived results read runs: asked for once every run is done
            "training": lambda: [service.request(config, mnist).future for config in configs],
            "deriving": lambda: [service.derive(derivation, mnist)[1] for derivation in derivations],
        }
        for what, ask in asks.items():
            futures = ask()
            task = progress.add_task(what, total=len(futures))
            for future in concurrent.futures.as_completed(futures):
                progress.advance(task)
                error = future.exception()
                if error is not None:
                    (undefined if isinstance(error, surface.Undefined) else failed).append(failure(error))
    size = sum(path.stat().st_size for path in service.store.directory.rglob("*.npz"))
    print(
        f"{len(configs)} runs and {len(derivations)} derived results of {len(views)} view(s) in the cache at "
        f"{service.store.directory} ({size / 2**20:,.0f} MB), in {time.perf_counter() - started:,.0f} s"
    )
    for message in dict.fromkeys(undefined):  # what the page states at that point, not a fault
        print(f"undefined here ({undefined.count(message)} result(s)): {message}")
    for message in dict.fromkeys(failed):
        print(f"failed: {message}", file=sys.stderr)
    return 1 if failed else 0


def _mnist(service: TrainingService) -> Mnist:
    """MNIST, downloaded once by a worker if Keras' cache lacks it (MnistUnavailable if not)."""
    try:
        return load_mnist()
    except MnistNotDownloaded:
        print("downloading MNIST with Keras' loader...", file=sys.stderr)
        service.download_mnist()
        return load_mnist()


class RunFailed(RuntimeError):
    """A run raised in its worker, or its worker died."""


def train_all(service: TrainingService, configs: list[RunConfig]) -> list[RunResult]:
    """Every config's result, training the missing ones in parallel on the service's workers;
    one line on stderr per run as it finishes, naming it. A stored run that cannot be read is
    removed on reading and trained again at once, every such run together."""
    mnist = _mnist(service)
    for _ in range(2):
        runs = _train_missing(service, configs, mnist)
        results = [service.store.load(run.key) for run in runs]
        damaged = [describe(run.config) for run, result in zip(runs, results) if result is None]
        if not damaged:
            return results
        print(f"{len(damaged)} stored run(s) could not be read and were removed; training them again", file=sys.stderr)
    raise RunFailed(f"the stored run ({damaged[0]}) could not be read even after training it again")


def _train_missing(service: TrainingService, configs: list[RunConfig], mnist: Mnist) -> list[Run]:
    runs = [service.request(config, mnist) for config in configs]
    cached = sum(run.future.done() for run in runs)
    if cached:
        print(f"{cached} of {len(runs)} run(s) from the cache at {service.store.directory}", file=sys.stderr)
    pending = {run.future: run for run in runs if not run.future.done()}
    for done, future in enumerate(concurrent.futures.as_completed(pending), start=1):
        run = pending[future]
        if future.exception() is not None:
            raise RunFailed(f"the run ({describe(run.config)}) failed: {failure(future.exception())}")
        print(f"[{done}/{len(pending)}] trained {describe(run.config)}", file=sys.stderr)
    return runs


def _print_run(result: RunResult) -> None:
    config, history = result.config, result.history
    versions = ", ".join(f"{package} {version}" for package, version in result.versions.items())
    print(f"\n{config.engine} ({versions}): {describe(config)}")
    question = reported(config.learning_rate) if is_question_setup(config) else None
    for epoch in range(len(history["loss"])):
        line = f"Epoch {epoch + 1}/{config.num_epochs} - {keras_line(history, epoch)}"
        if question and epoch < len(question["loss"]):
            line += f"   | question: {keras_line(question, epoch)}"
        print(line)
    if result.diverged:
        print(f"diverged: {result.diverged}")
    else:
        print(
            f"final weights, test accuracy of argmax(predict(x)): {result.predict_accuracy:.4f}, "
            f"of argmax(logits): {result.logit_accuracy:.4f}"
        )


def _print_summary(results: list[RunResult]) -> None:
    print("\nSummary (each learning rate against the first; the question: lr 0.03 against 0.01):")
    for engine in dict.fromkeys(result.config.engine for result in results):
        runs = [result for result in results if result.config.engine == engine]
        for base, other in zip(runs, runs[1:]) if len(runs) > 1 else []:
            print(f"  {engine}: {_compare(base, other)}")
    question = [reported(lr) for lr in LEARNING_RATES]
    print(f"  question: {_compare_histories(*question, LEARNING_RATES[1] / LEARNING_RATES[0])}")


def _compare(base: RunResult, other: RunResult) -> str:
    lr_ratio = other.config.learning_rate / base.config.learning_rate
    return f"lr {other.config.learning_rate:g} vs {base.config.learning_rate:g}: " + _compare_histories(
        base.history, other.history, lr_ratio
    )


def _compare_histories(base: dict, other: dict, lr_ratio: float) -> str:
    comparison = compare(base, other, lr_ratio)
    low, high = comparison.loss_ratio_range
    return (
        f"loss ratio {low:.2f}-{high:.2f} over {len(comparison.loss_ratios)} epoch(s) for an lr ratio of {lr_ratio:.2f}; "
        f"final accuracy {comparison.accuracy_high:.4f} vs {comparison.accuracy_low:.4f} "
        f"(difference {comparison.accuracy_difference:+.4f})"
    )


def _report_fixes(args, results: list[RunResult]) -> int:
    rows = matrix_rows(outcomes({r.config: r for r in results}, _fixes_base(args), tuple(sorted(args.lr))))
    print(f"{'fix':<14}{'lr':>8}{'loss':>12}{'accuracy':>10}{'val_loss':>12}{'val_acc':>9}{'predict':>9}  verdict")
    for row in rows:
        print(
            f"{row['fix']:<14}{row['learning_rate']:>8g}{row['loss']:>12.4f}{row['accuracy']:>10.4f}"
            f"{row['val_loss']:>12.4f}{row['val_accuracy']:>9.4f}{row['predict_accuracy']:>9.4f}  {row['verdict']}"
        )
    print("\nRules:\n" + "\n".join(f"- {verdict}: {rule}" for verdict, rule in RULES.items()))
    if args.json:
        with open(args.json, "w") as file:
            json.dump([{name: row[name] for name in JSON_FIELDS} for row in rows], file, indent=1)
        print(f"wrote {args.json}")
    return 0


def _finite_or_none(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


def _as_json(result: RunResult) -> dict:
    return {
        "config": dataclasses.asdict(result.config),
        "history": {name: [_finite_or_none(v) for v in values] for name, values in result.history.items()},
        "predict_accuracy": _finite_or_none(result.predict_accuracy),
        "logit_accuracy": _finite_or_none(result.logit_accuracy),
        "diverged": result.diverged,
        "versions": result.versions,
    }


if __name__ == "__main__":
    sys.exit(main())
