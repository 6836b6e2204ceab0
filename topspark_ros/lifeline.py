"""A child process dies with the process that started it, even when that one is SIGKILLed.

``start_node`` puts its own pid in the child's environment (``PARENT_ENV``); the child calls
``die_with_parent`` first thing, which asks Linux (``prctl(PR_SET_PDEATHSIG)``) for
``DEATH_SIGNAL`` when the parent goes, and sends it to itself at once if the parent is already
gone. That signal is SIGHUP, the hang-up ("whoever this process answers to is gone"), kept apart
from SIGTERM and SIGINT (a normal stop), so that the child knows: a DDS node then ends as soon
as its worker has finished (``exit_now``; its files are written atomically, so nothing is left
half-written), where leaving the DDS domain would wait up to a second for its dead parent to
acknowledge the last messages. (``os.getppid`` cannot tell: when the thread that started a child
dies first, the child is handed to another thread of the same dying process and signalled then.)
Elsewhere than Linux this does nothing.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import MutableMapping
from typing import NoReturn

PARENT_ENV = "TOPSPARK_PARENT_PID"
PR_SET_PDEATHSIG = 1  # linux/prctl.h
DEATH_SIGNAL = signal.SIGHUP
EXIT_ORPHAN = 128 + int(DEATH_SIGNAL)  # as if the death signal had ended it
WATCH_S = 0.1  # how often the watchdog looks for its parent
GRACE_S = 1.0  # how long it lets the death signal's clean exit run before ending the process


def child_environment(env: MutableMapping[str, str]) -> MutableMapping[str, str]:
    """``env`` for a child that must die with this process (sets ``PARENT_ENV``)."""
    env[PARENT_ENV] = str(os.getpid())
    return env


def die_with_parent(env: MutableMapping[str, str] | None = None) -> bool:
    """If ``PARENT_ENV`` names a parent, get ``DEATH_SIGNAL`` when it dies (at once if it is
    already gone), and start the watchdog that ends this process ``GRACE_S`` after the parent
    is gone in case the signal's handler cannot run (the main thread busy in C code: LLVM
    compiling a kernel); True when armed. The variable is consumed, so this process's own
    children are not tied to our parent."""
    env = os.environ if env is None else env
    value = env.pop(PARENT_ENV, "")
    if not value.isdigit() or not sys.platform.startswith("linux"):
        return False
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, int(DEATH_SIGNAL), 0, 0, 0) != 0:
        return False
    parent = int(value)
    if os.getppid() != parent:  # the parent died before the signal was armed
        os.kill(os.getpid(), DEATH_SIGNAL)
    threading.Thread(target=_watch, args=(parent,), name="lifeline", daemon=True).start()
    return True


def _watch(parent: int) -> None:
    """The watchdog: once ``parent`` is gone (this process handed to another), wait
    ``GRACE_S`` for the clean exit, then end the process."""
    while os.getppid() == parent:
        time.sleep(WATCH_S)
    time.sleep(GRACE_S)
    os._exit(EXIT_ORPHAN)  # no flushing here: the main thread may hold the streams' locks


def exit_now(code: int = EXIT_ORPHAN) -> NoReturn:
    """End the process at once, logs and output flushed (no atexit handlers, no DDS goodbyes):
    for a process whose parent died, when its own work is safely finished."""
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    os._exit(code)


__all__ = [
    "DEATH_SIGNAL",
    "EXIT_ORPHAN",
    "GRACE_S",
    "PARENT_ENV",
    "child_environment",
    "die_with_parent",
    "exit_now",
]
