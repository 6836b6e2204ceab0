"""lifeline: a child started with ``child_environment`` that calls ``die_with_parent`` gets
SIGHUP when its parent dies, even by SIGKILL, and at once if the parent is already gone."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from topspark_ros.lifeline import (
    DEATH_SIGNAL,
    GRACE_S,
    PARENT_ENV,
    child_environment,
    die_with_parent,
)

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="prctl is Linux's")

# The child: tie itself to its parent, say so, and wait (SIGHUP's default action ends it).
CHILD = """
import time
from topspark_ros.lifeline import die_with_parent
print(die_with_parent(), flush=True)
time.sleep(60)
"""
# The same child, with the death signal ignored once armed.
IGNORE = (
    "print(die_with_parent(), flush=True); import signal; "
    "signal.signal(signal.SIGHUP, signal.SIG_IGN)"
)
# The parent: start the child with child_environment, print its pid, and wait to be killed.
PARENT = f"""
import os, subprocess, sys, time
from topspark_ros.lifeline import child_environment
env = child_environment(dict(os.environ))
command = [sys.executable, "-c", {CHILD!r}]
child = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True)
print(child.pid, child.stdout.readline().strip(), flush=True)
time.sleep(60)
"""


def _gone(pid: int) -> bool:
    """Whether ``pid`` has ended (a zombie waiting for its new parent counts as ended)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return True
    return state in ("Z", "X")


def test_child_dies_when_its_parent_is_killed(tmp_path: Path) -> None:
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT], stdout=subprocess.PIPE, text=True, cwd=tmp_path
    )
    assert parent.stdout is not None
    pid_text, armed = parent.stdout.readline().split()
    child = int(pid_text)
    assert armed == "True" and not _gone(child)
    parent.kill()  # SIGKILL: no handler of the parent's can run
    parent.wait()
    deadline = time.monotonic() + 5.0
    while not _gone(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    if not _gone(child):
        os.kill(child, signal.SIGKILL)
        pytest.fail("the child outlived its SIGKILLed parent by 5 s")


def test_a_child_that_cannot_handle_the_signal_still_ends(tmp_path: Path) -> None:
    """The watchdog: a main thread that cannot run the signal's handler (here: SIGHUP ignored,
    as when it is busy in C code) does not keep the orphan alive."""
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT.replace("print(die_with_parent(), flush=True)", IGNORE)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
    )
    assert parent.stdout is not None
    child = int(parent.stdout.readline().split()[0])
    parent.kill()
    parent.wait()
    deadline = time.monotonic() + GRACE_S + 4.0
    while not _gone(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    if not _gone(child):
        os.kill(child, signal.SIGKILL)
        pytest.fail("the watchdog did not end the orphan")


def test_a_parent_already_gone_signals_at_once() -> None:
    env = dict(os.environ, **{PARENT_ENV: "999999999"})  # not this child's parent
    done = subprocess.run([sys.executable, "-c", CHILD], env=env, timeout=60, check=False)
    assert done.returncode == -DEATH_SIGNAL


def test_without_a_parent_pid_nothing_is_armed_and_the_variable_is_consumed() -> None:
    assert die_with_parent({}) is False
    env = {PARENT_ENV: "not-a-pid"}
    assert die_with_parent(env) is False and env == {}
    assert child_environment({})[PARENT_ENV] == str(os.getpid())
