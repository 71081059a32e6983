"""One function per command of `python -m explainer`: each takes the parser (to refuse its
arguments in its words) and the parsed arguments, and returns the exit status."""

from __future__ import annotations

import argparse
import concurrent.futures
import contextlib
import sys
import time

from rich.console import Console
from rich.progress import MofNCompleteColumn, Progress

from explainer import gate, notebook
from explainer.case import diagnose_case
from explainer.cli import output
from explainer.cli.parser import config, fixes_base, surface_request
from explainer.code.source import MAX_CODE_CHARS
from explainer.config import RunConfig
from explainer.data import Mnist, MnistUnavailable, load_mnist
from explainer.derivations import Surface
from explainer.findings.diagnosis import MAX_LOGS, Known
from explainer.findings.verdicts import matrix_rows, outcomes
from explainer.jobs import failure
from explainer.labels import describe
from explainer.logs import MAX_LOG_CHARS
from explainer.obtain import Asked, Failed, derived_asked, find_mnist, obtain, runs_asked
from explainer.plan import all_views, view_derivations, view_runs
from explainer.run import RunResult
from explainer.service import TrainingService
from explainer.store.cache import RunStore
from explainer.store.derived import Undefined
from explainer.store.derived import load as load_derived
from explainer.view import View, format_learning_rates


def trained(parser: argparse.ArgumentParser, args) -> int:
    """reproduce, run, fixes, surface: their runs trained (what is stored read), then reported."""
    try:
        configs = args.configs(args)
    except ValueError as error:
        parser.error(str(error))
    service = TrainingService(RunStore.default())
    try:
        results = train_all(service, configs)
        if args.command == "fixes":
            output.fixes(
                matrix_rows(outcomes({r.config: r for r in results}, fixes_base(args), tuple(sorted(args.lr)))), args.json
            )
        elif args.command == "surface":
            request = surface_request(args)
            output.loss_slice(request, derive(service, Surface(request, tuple(args.lr))), args.json)
        else:
            for result in results:
                output.run(result)
            if args.command == "reproduce":
                output.summary(results)
            output.write_json(args.json, [output.run_json(result) for result in results])
    except (MnistUnavailable, Failed) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    finally:
        service.shutdown()
    return 0


def mnist(service: TrainingService) -> Mnist:
    """MNIST, downloaded once by a worker if Keras' cache lacks it (MnistUnavailable if not)."""

    @contextlib.contextmanager
    def downloading():
        print("downloading MNIST with Keras' loader...", file=sys.stderr)
        yield

    return find_mnist(service, load_mnist, downloading)


def train_all(service: TrainingService, configs: list[RunConfig]) -> list[RunResult]:
    """Every config's result, training the missing ones in parallel on the service's workers;
    one line on stderr per run as it finishes, naming it. A stored run that cannot be read is
    removed on reading and trained again at once, every such run together."""
    data = mnist(service)

    def ask() -> list[Asked]:
        asked = runs_asked(service, configs, data, service.store.load)
        cached = sum(item.future.done() for item in asked)
        if cached:
            print(f"{cached} of {len(asked)} run(s) from the cache at {service.store.directory}", file=sys.stderr)
        return asked

    def wait(pending: list[Asked]) -> None:
        runs = {item.future: item.run for item in pending}
        for done, future in enumerate(concurrent.futures.as_completed(runs), start=1):
            said = "failed" if future.exception() is not None else "trained"
            print(f"[{done}/{len(runs)}] {said} {describe(runs[future].config)}", file=sys.stderr)

    def damaged(items: list[Asked]) -> None:
        print(f"{len(items)} stored run(s) could not be read and were removed; training them again", file=sys.stderr)

    return obtain(ask, wait, damaged)


def derive(service: TrainingService, derivation) -> object:
    """A derived result of stored runs, computed in a worker unless stored (the app's too)."""
    data = mnist(service)

    def ask() -> list[Asked]:
        return derived_asked(service, [derivation], data, lambda key, kind: load_derived(service.store, key, kind))

    return obtain(ask, lambda pending: concurrent.futures.wait([item.future for item in pending]))[0]


def warm(parser: argparse.ArgumentParser, args) -> int:
    try:
        views = [
            View(view.learning_rates, view.config.replace(num_epochs=args.epochs, train_subset=args.subset))
            for view in (all_views() if args.all else [View()])
        ]
    except ValueError as error:
        parser.error(str(error))
    service = TrainingService(RunStore.default())
    try:
        return warm_views(service, views)
    finally:
        service.shutdown()


def warm_views(service: TrainingService, views: list[View]) -> int:
    """Train every run and compute every derived result of `views`, in parallel on the workers,
    what is cached skipped, with a progress bar; then the time taken and the cache's size."""
    started = time.perf_counter()
    try:
        data = mnist(service)
    except MnistUnavailable as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    configs = list(dict.fromkeys(config for view in views for config in view_runs(view)))
    derivations = list(dict.fromkeys(d for view in views for d in view_derivations(view)))
    failed, undefined = [], []
    with Progress(*Progress.get_default_columns(), MofNCompleteColumn(), console=Console(stderr=True)) as progress:
        asks = {  # derived results read runs: asked for once every run is done
            "training": lambda: [run.future for run in service.request_all(configs, data)],
            "deriving": lambda: [service.derive(derivation, data)[1] for derivation in derivations],
        }
        for what, ask in asks.items():
            futures = ask()
            task = progress.add_task(what, total=len(futures))
            for future in concurrent.futures.as_completed(futures):
                progress.advance(task)
                error = future.exception()
                if error is not None:
                    (undefined if isinstance(error, Undefined) else failed).append(failure(error))
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


def diagnose(parser: argparse.ArgumentParser, args) -> int:
    """The diagnosis of a program (read, never run) and of one or two log files, printed (and
    written as JSON); 1 if nothing can be read."""
    if not args.files and not args.code:
        parser.error("give your program (--code FILE), or one or two log files, or both")
    if len(args.files) > MAX_LOGS or len(args.lr) > len(args.files):
        parser.error(f"give at most {MAX_LOGS} log files, and at most one learning rate for each")
    try:
        texts = [_read(path, MAX_LOG_CHARS + 1) for path in args.files]
        code = _read(args.code, 4 * MAX_CODE_CHARS) if args.code else None
    except OSError as error:
        print(f"error: cannot read {error.filename}: {error.strerror or error}", file=sys.stderr)
        return 1
    case = diagnose_case(
        code, args.code or "", texts, args.lr, Known(activation=args.activation, loss=args.loss, inputs=args.inputs)
    )
    problems = [f"the code: {case.code_problem}"] if case.code_problem else []
    problems += case.logs.problems if case.logs else []
    nothing = case.code is None and (case.logs is None or case.logs.diagnosis is None)
    for problem in problems or (["the files are empty"] if nothing else []):
        print(f"{'error' if nothing else 'warning'}: {problem}", file=sys.stderr)
    if nothing:
        return 1
    output.case(case, args.json)
    return 0


def _read(path: str, most: int) -> bytes:
    with open(path, "rb") as file:
        return file.read(most)


def write_notebook(parser: argparse.ArgumentParser, args) -> int:
    """The view of the given settings as a notebook (explainer/notebook.py), written to --out."""
    try:
        view = gate.admit(View(tuple(sorted(args.lr)), config(args, min(args.lr))))
    except ValueError as error:
        parser.error(str(error))
    with open(args.out, "w") as file:
        file.write(notebook.text(view))
    print(f"wrote {args.out}: {describe(view.config)}, learning rates {format_learning_rates(view.learning_rates)}")
    return 0


COMMANDS = {
    "reproduce": trained,
    "run": trained,
    "fixes": trained,
    "surface": trained,
    "warm": warm,
    "diagnose": diagnose,
    "notebook": write_notebook,
}
