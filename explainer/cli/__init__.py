"""The command line, `python -m explainer`: its parser, one function per command, and what it
prints, each in its own module."""

from __future__ import annotations

from explainer.cli.commands import COMMANDS
from explainer.cli.parser import parser


def main(argv: list[str] | None = None) -> int:
    arguments = parser()
    args = arguments.parse_args(argv)
    return COMMANDS[args.command](arguments, args)
