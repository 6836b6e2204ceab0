"""Start and stop node processes over DDS on this host (for tests, benchmarks and the demo)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from topspark_ros.errors import TransportError
from topspark_ros.ros.dds.transport import loopback_config

READY_MARK = "ready on DDS domain"


def dds_environment(domain_id: int, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """``base`` (default: this process's environment) with the DDS domain set, DDS confined to
    loopback unless ``CYCLONEDDS_URI`` is already set, and one Numba thread per process."""
    env = dict(os.environ if base is None else base)
    env["ROS_DOMAIN_ID"] = str(domain_id)
    env.setdefault("CYCLONEDDS_URI", loopback_config())
    env.setdefault("NUMBA_NUM_THREADS", "1")
    return env


@dataclass
class NodeProcess:
    """A ``topspark node NAME`` child process writing its log to ``log_path``."""

    name: str
    popen: subprocess.Popen[bytes]
    log_path: Path
    _log: TextIO

    def alive(self) -> bool:
        """Whether the process is still running."""
        return self.popen.poll() is None

    def log_text(self) -> str:
        """Everything the process has logged so far."""
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def last_line(self) -> str:
        """The last non-empty log line ('' if none), for one-line error reports."""
        lines = [line for line in self.log_text().splitlines() if line.strip()]
        return lines[-1] if lines else ""

    def stop(self, timeout_s: float = 10.0) -> int:
        """SIGINT, then SIGKILL after ``timeout_s``; the exit code."""
        if self.alive():
            self.popen.send_signal(signal.SIGINT)
            try:
                self.popen.wait(timeout_s)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()
        self._log.close()
        return int(self.popen.returncode)


def start_node(
    name: str,
    domain_id: int,
    log_dir: str | Path,
    params: str | Path | None = None,
    sets: Mapping[str, Any] | None = None,
    namespace: str = "",
    env: Mapping[str, str] | None = None,
    remaps: Mapping[str, str] | None = None,
    label: str = "",
) -> NodeProcess:
    """Start ``topspark node NAME --transport dds`` with ``--set KEY=VALUE`` for ``sets`` and
    ``--remap FROM:=TO`` for ``remaps``; ``label`` (default NAME) names the process and its
    log file, so one node can run twice."""
    label = label or name
    log_path = Path(log_dir) / f"{label}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "topspark_ros", "node", name]
    command += ["--transport", "dds", "--domain-id", str(domain_id)]
    if params is not None:
        command += ["--params", str(params)]
    if namespace:
        command += ["--namespace", namespace]
    for source, target in (remaps or {}).items():
        command += ["--remap", f"{source}:={target}"]
    for key, value in (sets or {}).items():
        text = str(value).lower() if isinstance(value, bool) else str(value)
        command += ["--set", f"{key}={text}"]
    log = log_path.open("w", encoding="utf-8")
    popen = subprocess.Popen(
        command,
        stdout=log,
        stderr=subprocess.STDOUT,
        env=dds_environment(domain_id, env),
        stdin=subprocess.DEVNULL,
    )
    return NodeProcess(label, popen, log_path, log)


def wait_ready(processes: Sequence[NodeProcess], timeout_s: float = 60.0) -> None:
    """Wait until every process has logged that it is ready; TransportError naming the first
    process that exited or is still not ready after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    waiting = list(processes)
    while waiting:
        for proc in list(waiting):
            if READY_MARK in proc.log_text():
                waiting.remove(proc)
            elif not proc.alive():
                raise TransportError(
                    f"node {proc.name} exited with code {proc.popen.returncode}: "
                    f"{proc.last_line()}"
                )
        if waiting and time.monotonic() > deadline:
            late = waiting[0]
            raise TransportError(
                f"node {late.name} not ready after {timeout_s:.0f} s: {late.last_line()}"
            )
        time.sleep(0.05)


def stop_all(processes: Sequence[NodeProcess]) -> dict[str, int]:
    """Stop every process; their exit codes by name."""
    return {proc.name: proc.stop() for proc in processes}


__all__ = [
    "READY_MARK",
    "NodeProcess",
    "dds_environment",
    "start_node",
    "stop_all",
    "wait_ready",
]
