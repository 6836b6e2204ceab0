"""Start and stop node processes on this host, over DDS or rclpy (for tests, benchmarks and the
demo), and this process's own participant on the same transport.

Every process stays on this host: a DDS child gets the loopback-only Cyclone configuration, an
rclpy child ``ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST`` (no multicast; unicast discovery of
127.0.0.1), each unless the caller's environment chose otherwise, and the packaged Fast DDS profile
(camera-size frames, Cyclone interop on Kilted).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TextIO

import topspark_ros
from topspark_ros.errors import ConfigError, TransportError
from topspark_ros.interfaces.convert import Converter
from topspark_ros.lifeline import child_environment
from topspark_ros.ros.dds.transport import DdsTransport, loopback_config
from topspark_ros.ros.fastdds import fastdds_environment

READY_MARK = "ready on DDS domain"  # what a DDS node logs once it runs
RCLPY_READY_MARK = "]: active"  # rclpy's log line "[INFO] [<time>] [<node>]: active"
PROCESS_TRANSPORTS = ("dds", "rclpy")
DISCOVERY_RANGE = "ROS_AUTOMATIC_DISCOVERY_RANGE"
ROS_LOGS = "ros"  # rclpy children's own log files (ROS_LOG_DIR), under their log directory


def rclpy_environment(base: Mapping[str, str] | None = None) -> dict[str, str]:
    """``base`` (default: this process's environment) with ROS 2 discovery confined to this host
    (``ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST`` unless set) and the packaged Fast DDS profile
    (unless one is chosen)."""
    env = fastdds_environment(dict(os.environ if base is None else base))
    if not env.get(DISCOVERY_RANGE):
        env[DISCOVERY_RANGE] = "LOCALHOST"
    return env


def dds_environment(
    domain_id: int, base: Mapping[str, str] | None = None, transport: str = "dds"
) -> dict[str, str]:
    """``base`` (default: this process's environment) with the DDS domain set, DDS confined to
    loopback unless ``CYCLONEDDS_URI`` is already set, one Numba thread per process, and for
    ``transport`` rclpy the ``rclpy_environment`` settings."""
    env = dict(os.environ if base is None else base)
    env["ROS_DOMAIN_ID"] = str(domain_id)
    env.setdefault("CYCLONEDDS_URI", loopback_config())
    env.setdefault("NUMBA_NUM_THREADS", "1")
    return rclpy_environment(env) if transport == "rclpy" else env


def check_transport(transport: str) -> str:
    """``transport`` if it is 'dds' or 'rclpy' (resolve 'auto' first); else ConfigError."""
    if transport not in PROCESS_TRANSPORTS:
        raise ConfigError(f"transport must be dds or rclpy, got {transport!r}")
    return transport


class Publisher(Protocol):
    """What callers need of a publisher (``DdsPublisher``, ``RclpyPublisher``)."""

    def publish(self, message: object) -> None: ...

    def wait_matched(self, timeout_s: float, count: int = ...) -> bool: ...


class Participant(Protocol):
    """This process on a transport (``DdsTransport``, ``rclpy.participant.RclpyParticipant``)."""

    converter: Converter

    def publisher(
        self, topic: str, msgtype: Any, qos: str = ..., reliability: str | None = ...
    ) -> Publisher: ...

    def subscribe(
        self,
        topic: str,
        msgtype: Any,
        callback: Any,
        qos: str = ...,
        reliability: str | None = ...,
        into: type | None = ...,
    ) -> object: ...

    def close(self) -> None: ...


def open_participant(transport: str, domain_id: int, name: str) -> Participant:
    """This process on ``transport`` in ``domain_id``, confined to this host as its children
    are: a ``DdsTransport``, or an rclpy node ``name``. Its environment gets the same settings
    (read when the first participant is made)."""
    if check_transport(transport) == "rclpy":
        os.environ.update(rclpy_environment())
        from topspark_ros.ros.rclpy.participant import RclpyParticipant

        return RclpyParticipant(domain_id, name)
    os.environ.setdefault("CYCLONEDDS_URI", loopback_config())
    return DdsTransport(domain_id)


def topspark_command() -> list[str]:
    """``python -m topspark_ros`` for a child process, importing the topspark_ros this process
    imported: ``-m`` would put the working directory first, where a checkout (no generated
    messages) would shadow a colcon install."""
    root = str(Path(topspark_ros.__file__).parent.parent)
    code = (
        f"import runpy, sys; sys.path[0] = {root!r}; "
        "runpy.run_module('topspark_ros', run_name='__main__', alter_sys=True)"
    )
    return [sys.executable, "-c", code]


@dataclass
class NodeProcess:
    """A ``topspark node NAME`` child process writing its log to ``log_path``."""

    name: str
    popen: subprocess.Popen[bytes]
    log_path: Path
    _log: TextIO
    ready_mark: str = READY_MARK  # what its log says once the node runs

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
    transport: str = "dds",
) -> NodeProcess:
    """Start ``topspark node NAME --transport TRANSPORT`` with ``--set KEY=VALUE`` for ``sets``
    and ``--remap FROM:=TO`` for ``remaps``; ``label`` (default NAME) names the process and its
    log file, so one node can run twice. The child gets SIGTERM if this process dies, even by
    SIGKILL (``lifeline``). An rclpy node's own ROS log files go under ``log_dir/ros`` unless
    ``ROS_LOG_DIR`` is set."""
    label = label or name
    log_path = Path(log_dir) / f"{label}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    command = [*topspark_command(), "node", name]
    command += ["--transport", check_transport(transport), "--domain-id", str(domain_id)]
    if params is not None:
        command += ["--params", str(params)]
    if namespace:
        command += ["--namespace", namespace]
    for source, target in (remaps or {}).items():
        command += ["--remap", f"{source}:={target}"]
    for key, value in (sets or {}).items():
        text = str(value).lower() if isinstance(value, bool) else str(value)
        command += ["--set", f"{key}={text}"]
    # The child dies with this process, even on SIGKILL (it calls lifeline.die_with_parent).
    environment = child_environment(dds_environment(domain_id, env, transport))
    if transport == "rclpy":
        environment.setdefault("ROS_LOG_DIR", str(Path(log_dir).resolve() / ROS_LOGS))
    log = log_path.open("w", encoding="utf-8")
    popen = subprocess.Popen(
        command,
        stdout=log,
        stderr=subprocess.STDOUT,
        env=environment,
        stdin=subprocess.DEVNULL,
    )
    mark = RCLPY_READY_MARK if transport == "rclpy" else READY_MARK
    return NodeProcess(label, popen, log_path, log, mark)


def wait_ready(processes: Sequence[NodeProcess], timeout_s: float = 60.0) -> None:
    """Wait until every process has logged that it is ready; TransportError naming the first
    process that exited or is still not ready after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    waiting = list(processes)
    while waiting:
        for proc in list(waiting):
            if proc.ready_mark in proc.log_text():
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
    "PROCESS_TRANSPORTS",
    "RCLPY_READY_MARK",
    "READY_MARK",
    "NodeProcess",
    "Participant",
    "Publisher",
    "check_transport",
    "dds_environment",
    "open_participant",
    "rclpy_environment",
    "start_node",
    "stop_all",
    "topspark_command",
    "wait_ready",
]
