"""The demo's processes under stop signals, as a user sends them: SIGTERM to the demo stops it
as Ctrl-C does (report written, every node stopped, exit 143); SIGKILL to the demo alone takes
every node with it (lifeline), and the learner's last checkpoint is whole."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from topspark_ros.snn.model_io import load_model

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="prctl is Linux's")
START_S = 120.0  # five node processes JIT-compiling on a shared 2-core machine
GONE_S = 5.0  # the nodes' grace after their parent's death (about 0.3 s measured)


def _alive(nodes: list[psutil.Process]) -> list[psutil.Process]:
    """Those of ``nodes`` still running (a zombie waiting for a reaper has ended)."""
    alive = []
    for node in nodes:
        try:
            if node.status() != psutil.STATUS_ZOMBIE:
                alive.append(node)
        except psutil.NoSuchProcess:
            pass
    return alive


class Demo:
    """``topspark demo`` in its own session, stdout in a file; its node processes."""

    def __init__(self, tmp_path: Path, domain: int) -> None:
        self.out = tmp_path / "report"
        self.stdout_path = tmp_path / "stdout.txt"
        self.stderr_path = tmp_path / "stderr.txt"
        command = [sys.executable, "-m", "topspark_ros", "demo", "--duration", "120"]
        command += ["--rate", "10", "--domain-id", str(domain), "--transport", "dds"]
        command += ["--out", str(self.out)]
        with self.stdout_path.open("w") as stdout, self.stderr_path.open("w") as stderr:
            self.popen = subprocess.Popen(
                command,
                stdout=stdout,
                stderr=stderr,
                cwd=tmp_path,
                start_new_session=True,
            )

    def wait_running(self) -> list[psutil.Process]:
        """Wait for the live view's first line and a learner checkpoint; the node processes."""
        deadline = time.monotonic() + START_S
        checkpoints = self.out / "checkpoints"
        while not (
            "frames" in self.stdout_path.read_text() and list(checkpoints.glob("*.npz"))
        ):
            assert self.popen.poll() is None, self.stderr_path.read_text()
            assert time.monotonic() < deadline, "the demo did not get going"
            time.sleep(0.2)
        nodes = psutil.Process(self.popen.pid).children()
        assert len(nodes) == 5, nodes
        return nodes

    def kill(self) -> None:
        """Kill whatever is left of the demo's session."""
        if self.popen.poll() is None:
            os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait()


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[Demo]:
    started = Demo(tmp_path, 170 + os.getpid() % 20)
    yield started
    started.kill()


def test_sigterm_stops_the_demo_with_its_report(demo: Demo) -> None:
    nodes = demo.wait_running()
    demo.popen.send_signal(signal.SIGTERM)
    assert demo.popen.wait(timeout=60) == 143
    err = demo.stderr_path.read_text()
    assert err.strip().splitlines()[-1] == "error: stopped by SIGTERM; report written"
    assert "Traceback" not in err
    summary = json.loads((demo.out / "summary.json").read_text())
    assert (summary["complete"], summary["stopped"]) == (False, "stopped by SIGTERM")
    assert all(code == 0 for code in summary["demo"]["exit_codes"].values()), summary["demo"]
    assert _alive(nodes) == []


def test_sigkill_of_the_demo_takes_its_nodes_with_it(demo: Demo) -> None:
    nodes = demo.wait_running()
    os.kill(demo.popen.pid, signal.SIGKILL)
    demo.popen.wait()
    deadline = time.monotonic() + GONE_S
    while _alive(nodes) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _alive(nodes) == [], f"node processes outlived the demo by {GONE_S} s"
    last = sorted((demo.out / "checkpoints").glob("*.npz"))[-1]
    assert load_model(last).params.n_neurons > 0
