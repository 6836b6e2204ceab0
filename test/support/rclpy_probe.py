"""Shared by the ROS 2 tier's process tests: the installed node executables as child processes,
and the test's own rclpy node (publishers, recording subscribers, service calls) spun in a thread.

Not a test module: test/support is on the test path (pyproject.toml, tools/ros_tests.sh).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import rclpy
from ament_index_python.packages import get_package_prefix
from node_system import wait_until
from rclpy.context import Context
from rclpy.executors import SingleThreadedExecutor

# The colcon install space's executables (what `ros2 run topspark_ros NAME_node` starts).
EXECUTABLES = Path(get_package_prefix("topspark_ros")) / "lib" / "topspark_ros"




def node_environment(domain_id: int, log_dir: Path) -> dict[str, str]:
    """This environment with the domain set, ROS logs under ``log_dir``, unbuffered output."""
    env = dict(os.environ)
    env.update(
        ROS_DOMAIN_ID=str(domain_id),
        ROS_LOG_DIR=str(log_dir),
        RCUTILS_COLORIZED_OUTPUT="0",
        RCUTILS_LOGGING_BUFFERED_STREAM="0",
        PYTHONUNBUFFERED="1",
        NUMBA_NUM_THREADS="1",
    )
    return env


@dataclass
class Proc:
    """A child process in its own session (so its whole group can be killed), output in a
    file."""

    name: str
    popen: subprocess.Popen[bytes]
    log_path: Path
    _log: TextIO

    @classmethod
    def start(
        cls, name: str, command: Sequence[str], env: Mapping[str, str], log_dir: Path
    ) -> Proc:
        """Start ``command`` in ``log_dir`` (so ``python -m`` does not find the source tree in
        the working directory) with stdout and stderr into ``log_dir/name.log``."""
        log_dir.mkdir(parents=True, exist_ok=True)
        log_path = log_dir / f"{name}.log"
        log = log_path.open("w", encoding="utf-8")
        popen = subprocess.Popen(
            list(command),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=dict(env),
            cwd=log_dir,
            start_new_session=True,
        )
        return cls(name, popen, log_path, log)

    @classmethod
    def node(
        cls, name: str, args: Sequence[str], domain_id: int, log_dir: Path, managed: bool = False
    ) -> Proc:
        """Start the installed executable ``NAME_node`` with ``--ros-args`` ``args``."""
        command = [str(EXECUTABLES / f"{name}_node"), *(["--managed"] if managed else [])]
        command += ["--ros-args", *args] if args else []
        return cls.start(name, command, node_environment(domain_id, log_dir), log_dir)

    @classmethod
    def cli(cls, name: str, args: Sequence[str], env: Mapping[str, str], log_dir: Path) -> Proc:
        """Start ``python -m topspark_ros ARGS`` (the ``topspark`` command)."""
        return cls.start(name, [sys.executable, "-m", "topspark_ros", *args], env, log_dir)

    def alive(self) -> bool:
        """Whether the process still runs."""
        return self.popen.poll() is None

    def text(self) -> str:
        """Everything it has written so far."""
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def wait(self, timeout_s: float) -> int | None:
        """Its exit code within ``timeout_s``, else None (still running)."""
        try:
            return self.popen.wait(timeout_s)
        except subprocess.TimeoutExpired:
            return None

    def interrupt(self, timeout_s: float = 20.0) -> int | None:
        """SIGINT (as Ctrl-C); the exit code, or None if it did not exit within ``timeout_s``."""
        if self.alive():
            self.popen.send_signal(signal.SIGINT)
        return self.wait(timeout_s)

    def kill(self) -> None:
        """Kill its whole process group (whatever is left) and close the log."""
        if self.alive():
            os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait()
        self._log.close()


class Probe:
    """The test's own rclpy node in a context of its own, spun in a background thread."""

    def __init__(self, domain_id: int, name: str = "probe") -> None:
        self.context = Context()
        rclpy.init(context=self.context, domain_id=domain_id)
        self.node = rclpy.create_node(name, context=self.context)
        self._executor = SingleThreadedExecutor(context=self.context)
        self._executor.add_node(self.node)
        self._lock = threading.Lock()
        self._got: dict[str, list[Any]] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._spin, daemon=True)
        self._thread.start()

    def _spin(self) -> None:
        while not self._stop.is_set() and self.context.ok():
            self._executor.spin_once(timeout_sec=0.05)

    def record(self, msg_class: Any, topic: str, qos: Any) -> Any:
        """Subscribe to ``topic`` and keep every message (``seen(topic)``)."""
        self._got[topic] = []

        def keep(message: Any) -> None:
            with self._lock:
                self._got[topic].append(message)

        return self.node.create_subscription(msg_class, topic, keep, qos)

    def seen(self, topic: str) -> list[Any]:
        """The messages received on ``topic`` so far."""
        with self._lock:
            return list(self._got[topic])

    def call(self, srv_class: Any, name: str, request: Any, timeout_s: float = 30.0) -> Any:
        """Call service ``name`` once it is there; its response (AssertionError on timeout)."""
        client = self.node.create_client(srv_class, name)
        try:
            assert client.wait_for_service(timeout_sec=timeout_s), f"no service {name}"
            future = client.call_async(request)
            assert wait_until(future.done, timeout_s), f"{name}: no response"
            return future.result()
        finally:
            self.node.destroy_client(client)

    def close(self) -> None:
        """Stop spinning, destroy the node, shut the context down."""
        self._stop.set()
        self._thread.join(5.0)
        self._executor.shutdown()
        self.node.destroy_node()
        self.context.try_shutdown()
