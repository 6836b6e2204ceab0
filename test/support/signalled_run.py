"""A real ``topspark-ros train`` process that sends itself a signal, for the signal-policy tests
(test/cli/test_signals.py: SIGTERM, SIGHUP; test/cli/test_argument_errors.py: SIGINT as Ctrl-C).

Not a test module: test/support is on the test path (pyproject.toml's ``pythonpath``).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

# The signal (a real one, sent by the process to itself from a timer) a given time after the
# entry point starts: during the imports of numpy/numba/the commands, or during the command.
CHILD = """
import os, signal, sys
from topspark_ros.cli.main import run
signum, after_s = int(sys.argv.pop(1)), float(sys.argv.pop(1))
signal.signal(signal.SIGALRM, lambda *_: os.kill(os.getpid(), signum))
signal.setitimer(signal.ITIMER_REAL, after_s)
run()
"""


def train_until_signalled(
    workdir: Path, signum: int, after_s: float
) -> subprocess.CompletedProcess[str]:
    """Run a long training (out: ``workdir/model.npz``) in ``workdir``; ``signum`` stops it
    ``after_s`` seconds after it starts. Its exit status and output (text)."""
    out = workdir / "model.npz"
    argv = ["train", "--embedded", "--epochs", "1000", "--no-eval", "--out", str(out)]
    return subprocess.run(
        [sys.executable, "-c", CHILD, str(int(signum)), str(after_s), *argv],
        capture_output=True,
        text=True,
        cwd=workdir,
        timeout=120,
        check=False,
    )
