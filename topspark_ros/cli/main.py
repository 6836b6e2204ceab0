"""Entry point of ``topspark``: parse, dispatch, and turn known errors into one ``error:`` line.

At load time this module imports only ``sys`` and ``topspark_ros.errors``; argparse and the
commands (numpy, numba, DDS, ...) are imported inside ``main``, where Ctrl-C is already handled,
so an interrupt from the package's first line on ends with ``error: interrupted`` (exit 130).
"""

from __future__ import annotations

import contextlib
import sys

from topspark_ros import __version__
from topspark_ros.errors import Interrupted, TopsparkError

TYPE_CHECKING = False
if TYPE_CHECKING:  # for annotations only: argparse and the rest load inside ``main``
    import argparse
    from collections.abc import Sequence
    from types import FrameType
    from typing import Any, NoReturn

EXIT_ERROR = 1  # known bad input or environment: one ``error:`` line
RESEND_S = 0.05  # how long after a lost stop signal it is sent again (the hook has returned)
EXIT_INTERRUPTED = 130  # Ctrl-C (128 + SIGINT; SIGTERM 143, SIGHUP 129); usage errors exit 2


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


def _interrupted(err: BaseException | None = None) -> int:
    """Report Ctrl-C (or SIGTERM/SIGHUP) in one line; the exit status for it (128 + signal)."""
    from topspark_ros.errors import stop_exit_code, stop_reason

    print(f"error: {stop_reason(err)}", file=sys.stderr)
    return stop_exit_code(err)


class _Interrupts:
    """The one signal policy of every command: while active, SIGINT, SIGTERM and SIGHUP raise
    ``Interrupted`` (a KeyboardInterrupt), so a stop signal cleans up exactly as Ctrl-C does
    (children stopped, staging removed, reports written). The signal is remembered, because
    Python can lose the exception: C code importing a module turns it into an ImportError
    (numpy's C extension importing ``datetime``) or drops it (numpy.random's init), and one
    raised in a weakref or ctypes callback (importlib's module locks; LLVM calling back while
    numba compiles) is only reported to ``sys.unraisablehook``. ``check`` raises a signal that
    was seen again; the hook has it sent again to the main thread a moment later."""

    def __init__(self) -> None:
        import threading

        self.seen: Interrupted | None = None
        self._handlers: dict[int, Any] = {}
        self._hook: Any = None
        self._lock = threading.Lock()
        self._resend = False  # a lost signal is to be sent again (until raised or exited)

    def __call__(self, signum: int, frame: FrameType | None) -> None:
        """The handler of each stop signal."""
        self.seen = Interrupted(signum)
        raise self.seen

    def _unraisable(self, unraisable: Any) -> None:
        """sys.unraisablehook: a stop signal lost where Python can only drop it is not printed
        but sent again, from another thread a moment later (raised here, in the hook, it would
        be dropped again), so that it is raised at the next point where it can be."""
        import threading

        if not isinstance(unraisable.exc_value, KeyboardInterrupt):
            self._hook(unraisable)
        elif self.seen is not None and threading.current_thread() is threading.main_thread():
            self._resend = True
            threading.Thread(target=self._send_again, name="resend-signal", daemon=True).start()

    def _send_again(self) -> None:
        """The lost signal to the main thread (waking it from a sleep), unless it was raised
        (``check``) or the policy ended meanwhile."""
        import signal
        import threading
        import time

        time.sleep(RESEND_S)
        with self._lock:
            if self._resend and self.seen is not None:
                self._resend = False
                signal.pthread_kill(threading.main_thread().ident or 0, self.seen.signum)

    def check(self) -> None:
        """Raise the stop signal that came (and was lost, or we would not be here)."""
        with self._lock:
            self._resend = False
        if self.seen is not None:
            raise self.seen

    def __enter__(self) -> _Interrupts:
        import signal

        defaults = {
            signal.SIGINT: signal.default_int_handler,
            signal.SIGTERM: signal.SIG_DFL,
            signal.SIGHUP: signal.SIG_DFL,
        }
        # only in place of Python's default handlers, and only in the main thread
        for signum, default in defaults.items():
            if signal.getsignal(signum) is default:
                with contextlib.suppress(ValueError):
                    self._handlers[signum] = signal.signal(signum, self)
        if self._handlers:
            self._hook, sys.unraisablehook = sys.unraisablehook, self._unraisable
        return self

    def __exit__(self, *exc: object) -> None:
        import signal

        with self._lock:  # no signal is sent again once the handlers are put back
            self._resend = False
        for signum, handler in self._handlers.items():
            signal.signal(signum, handler)
        if self._handlers:
            sys.unraisablehook = self._hook
        self._handlers, self._hook = {}, None


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; return its exit code (1 for known errors, 130 on Ctrl-C, 143 on
    SIGTERM, 129 on SIGHUP).

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
            return _interrupted(interrupts.seen)
        print(f"error: {err}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt as err:
        return _interrupted(interrupts.seen or err)
    except Exception:
        if interrupts.seen:  # an error that a stop signal caused (see _Interrupts)
            return _interrupted(interrupts.seen)
        raise
    return code


def run() -> NoReturn:
    """Console-script entry point: exit with ``main()``'s code (130 on Ctrl-C at any moment)."""
    try:
        code = main()
    except KeyboardInterrupt as err:  # a stop signal while an error was being reported
        code = _interrupted(err)
    sys.exit(code)


if __name__ == "__main__":
    run()
