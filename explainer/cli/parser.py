"""The command line's arguments: one subcommand per command, each naming its function in
explainer/cli/commands.py (`command`) and, for those that train, how its runs are made from its
arguments (`configs`)."""

from __future__ import annotations

import argparse

from explainer.config import ACTIVATIONS, CHOICES, ENGINES, QUESTION_LEARNING_RATES, SCALINGS, RunConfig
from explainer.findings import surface
from explainer.findings.diagnosis import LOSSES
from explainer.fixes import runs_needed

DESCRIPTION = "Command line: `python -m explainer reproduce` re-runs the question; `run` trains any config."


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m explainer", description=DESCRIPTION)
    commands = parser.add_subparsers(dest="command", required=True)
    rates = {"type": float, "default": list(QUESTION_LEARNING_RATES), "help": "learning rates (default: %(default)s)"}
    reproduce = commands.add_parser("reproduce", help="the question's exact setup at two or more learning rates, on both engines")
    reproduce.add_argument("--lr", nargs="+", **rates)
    reproduce.add_argument("--engine", nargs="+", choices=ENGINES, default=list(ENGINES), help="Keras engines (default: all)")
    reproduce.set_defaults(configs=reproduce_configs)
    fixes = commands.add_parser("fixes", help="every fix at two learning rates, with its verdict")
    fixes.add_argument("--lr", nargs=2, **rates)
    fixes.add_argument("--engine", choices=ENGINES, default=RunConfig().engine)
    fixes.set_defaults(configs=lambda args: runs_needed(fixes_base(args), tuple(sorted(args.lr))))
    slice_ = commands.add_parser("surface", help="the loss along the step direction from a point of a run (1-D slice)")
    slice_.add_argument("--scaling", choices=CHOICES["scaling"], default="raw")
    slice_.add_argument("--lr", nargs="+", **{**rates, "help": "learning rates; the run uses the first"})
    slice_.add_argument("--point", choices=surface.POINTS, default="epoch")
    slice_.add_argument("--index", type=int, default=1, help="SGD steps into epoch 1 (point 'step') or the epoch (point 'epoch')")
    slice_.add_argument("--direction", choices=surface.DIRECTIONS, default="minibatch")
    slice_.add_argument("--evaluate-on", choices=surface.EVALUATE_ON, default="train")
    slice_.set_defaults(configs=lambda args: [surface_request(args).config])
    warm = commands.add_parser("warm", help="train and compute everything the app's default view shows (pre-warms the cache)")
    warm.add_argument("--all", action="store_true", help="every combination of the sidebar's choices, not just the default")
    warm.add_argument("--epochs", type=int, default=RunConfig().num_epochs, help="the views' run length (default: %(default)s)")
    warm.add_argument("--subset", type=int, default=None, help="train the views on the first N images only")
    diagnosis = commands.add_parser("diagnose", help="whether your own code (read, never run) or training logs are this puzzle")
    diagnosis.add_argument("files", nargs="*", metavar="LOG", help="Keras' fit output, a history.history, a CSVLogger file")
    diagnosis.add_argument("--code", metavar="FILE", help="your program, a .py file or a notebook (.ipynb): read, never run")
    diagnosis.add_argument("--lr", nargs="+", default=[], metavar="LR", help="each log's learning rate, if it does not state it")
    diagnosis.add_argument("--activation", choices=ACTIVATIONS, help="the last layer's activation")
    diagnosis.add_argument("--loss", choices=LOSSES, help="the loss ('other': not a cross-entropy)")
    diagnosis.add_argument("--inputs", choices=SCALINGS, help="the inputs' range: 0-255 (raw), 0-1 (unit) or standardized")
    diagnosis.add_argument("--json", metavar="PATH", help="also write the diagnosis as JSON")
    run = commands.add_parser("run", help="train one configuration")
    run.add_argument("--lr", type=float, default=RunConfig().learning_rate, help="learning rate")
    run.set_defaults(configs=lambda args: [config(args, args.lr)])
    notebook = commands.add_parser("notebook", help="a Jupyter notebook in plain Keras that trains a view (run's settings)")
    notebook.add_argument("--lr", nargs=2, **rates)
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


def reproduce_configs(args) -> list[RunConfig]:
    return [
        RunConfig(engine=engine, learning_rate=lr, num_epochs=args.epochs, seed=args.seed, train_subset=args.subset)
        for engine in args.engine
        for lr in args.lr
    ]


def fixes_base(args) -> RunConfig:
    return RunConfig(engine=args.engine, num_epochs=args.epochs, seed=args.seed, train_subset=args.subset)


def surface_request(args) -> surface.SurfaceRequest:
    config = RunConfig(
        scaling=args.scaling, learning_rate=args.lr[0], num_epochs=args.epochs, seed=args.seed, train_subset=args.subset
    )
    return surface.SurfaceRequest(
        config, point=args.point, index=args.index, direction=args.direction, evaluate_on=args.evaluate_on
    )


def config(args, learning_rate: float) -> RunConfig:
    """The config `run` and `notebook` describe with their options, at `learning_rate`."""
    return RunConfig(
        **{name: getattr(args, name) for name in CHOICES},
        learning_rate=learning_rate,
        batch_size=args.batch_size,
        num_epochs=args.epochs,
        seed=args.seed,
        train_subset=args.subset,
    )
