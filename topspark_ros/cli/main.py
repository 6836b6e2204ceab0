"""Entry point of ``topspark``: parse, dispatch, and turn known errors into one ``error:`` line."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import NoReturn

from topspark_ros import __version__
from topspark_ros.errors import TopsparkError


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser with every sub-command registered."""
    from topspark_ros.cli import commands

    parser = argparse.ArgumentParser(
        prog="topspark",
        description="TopSpark: energy-efficient spiking-neural-network perception for robots.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for register in commands.REGISTRARS:
        register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; return its exit code (2 for usage errors, 1 for known errors)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code: int = args.func(args)
    except TopsparkError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    return code


def run() -> NoReturn:
    """Console-script entry point: exit with ``main()``'s code."""
    sys.exit(main())


if __name__ == "__main__":
    run()
