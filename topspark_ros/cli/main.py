"""Entry point of ``topspark``: parse, dispatch, and turn known errors into one ``error:`` line.

At load time this module imports only ``sys`` and ``topspark_ros.errors``; argparse and the
commands (numpy, numba, DDS, ...) are imported inside ``main``, where Ctrl-C is already handled,
so an interrupt from the package's first line on ends with ``error: interrupted`` (exit 130).
"""

from __future__ import annotations

import contextlib
import sys

from topspark_ros import __version__
from topspark_ros.errors import TopsparkError

TYPE_CHECKING = False
if TYPE_CHECKING:  # for annotations only: argparse and the rest load inside ``main``
    import argparse
    from collections.abc import Sequence
    from types import FrameType
    from typing import Any, NoReturn

EXIT_ERROR = 1  # known bad input or environment: one ``error:`` line
EXIT_INTERRUPTED = 130  # Ctrl-C (128 + SIGINT); usage errors exit 2 (``args.Parser``)


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser with every sub-command registered."""
    from topspark_ros.cli import commands
    from topspark_ros.cli.args import Parser

    parser: argparse.ArgumentParser = Parser(
        prog="topspark",
        description="TopSpark: energy-efficient spiking-neural-network perception for robots.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for register in commands.REGISTRARS:
        register(sub)
    return parser


def _interrupted() -> int:
    """Report Ctrl-C in one line; the exit status for it."""
    print("error: interrupted", file=sys.stderr)
    return EXIT_INTERRUPTED


class _Interrupts:
    """While active, Ctrl-C raises KeyboardInterrupt as Python's own handler does, and is
    remembered, because Python can lose it while modules load: C code importing a module turns
    it into an ImportError (numpy's C extension importing ``datetime``) or drops it (numpy.random's
    init), and one raised in a weakref callback (importlib's module locks) is only printed as
    "Exception ignored". ``check`` raises a Ctrl-C that was seen again."""

    def __init__(self) -> None:
        self.seen = False
        self._handler: Any = None
        self._hook: Any = None

    def __call__(self, signum: int, frame: FrameType | None) -> None:
        """The SIGINT handler."""
        self.seen = True
        raise KeyboardInterrupt

    def _unraisable(self, unraisable: Any) -> None:
        """sys.unraisablehook: a lost KeyboardInterrupt is not printed (``check`` raises it)."""
        if not isinstance(unraisable.exc_value, KeyboardInterrupt):
            self._hook(unraisable)

    def check(self) -> None:
        """Raise KeyboardInterrupt if a Ctrl-C came (and was lost, or we would not be here)."""
        if self.seen:
            raise KeyboardInterrupt

    def __enter__(self) -> _Interrupts:
        import signal

        # only in place of Python's default handler, and only in the main thread
        if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
            with contextlib.suppress(ValueError):
                self._handler = signal.signal(signal.SIGINT, self)
                self._hook, sys.unraisablehook = sys.unraisablehook, self._unraisable
        return self

    def __exit__(self, *exc: object) -> None:
        import signal

        if self._handler is not None:
            signal.signal(signal.SIGINT, self._handler)
            sys.unraisablehook = self._hook
            self._handler = self._hook = None


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; return its exit code (1 for known errors, 130 on Ctrl-C).

    Usage errors raise ``SystemExit(2)`` from the parser, after one ``error:`` line.
    """
    interrupts = _Interrupts()
    try:
        with interrupts:
            parser = build_parser()
            interrupts.check()
            args = parser.parse_args(argv)
            interrupts.check()
            code: int = args.func(args)
    except TopsparkError as err:
        if interrupts.seen:
            return _interrupted()
        print(f"error: {err}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        return _interrupted()
    except Exception:
        if interrupts.seen:  # an error that Ctrl-C caused (see _Interrupts)
            return _interrupted()
        raise
    return code


def run() -> NoReturn:
    """Console-script entry point: exit with ``main()``'s code (130 on Ctrl-C at any moment)."""
    try:
        code = main()
    except KeyboardInterrupt:  # Ctrl-C while an error was being reported
        code = _interrupted()
    sys.exit(code)


if __name__ == "__main__":
    run()
