"""Interop of the no-ROS transport (DdsTransport on cyclonedds) with real rclpy (Fast DDS).

Every message type the nodes use, in both directions, between this process's DdsTransport and
an rclpy node in its own process (interop_peer.py), each message compared field by field: a
28x28 image, a 640x480 bgr8 camera stream at 30 Hz (best effort, the nodes' image QoS), battery,
string, diagnostics and the five topspark_ros messages. Both sides use their defaults (multicast
discovery on the namespace's loopback); the rclpy side reads the packaged Fast DDS profile
(config/fastdds.xml), which Kilted needs (docs/ros-interop.md). Also: discovery settings on both
sides (LOCALHOST, static peers, ROS_LOCALHOST_ONLY), and camera frames rclpy -> rclpy.

``TOPSPARK_INTEROP_REPORT=FILE`` writes the matrix (type x direction: sent/received/intact) to
FILE; it is printed in the terminal summary in any case. ``TOPSPARK_INTEROP_FASTDDS_PROFILE=none``
runs the rclpy side without the profile (to measure what it fixes; expect failures on Kilted).
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import interop_peer as peer_module
import pytest

from topspark_ros.ros.dds import DdsTransport
from topspark_ros.ros.fastdds import fastdds_environment

TYPES: dict[str, tuple[str, str, int, float]] = peer_module.TYPES
PEER = Path(peer_module.__file__)  # also run as the rclpy peer process
DOMAIN = 51  # this module's domains: 51..59 (the namespace is private)
DDS_TO_ROS, ROS_TO_DDS = "DdsTransport -> rclpy", "rclpy -> DdsTransport"
MATCH_TIMEOUT_S = 30.0
ARRIVAL_TIMEOUT_S = 20.0
DISCOVERY_VARIABLES = ("ROS_AUTOMATIC_DISCOVERY_RANGE", "ROS_STATIC_PEERS", "ROS_LOCALHOST_ONLY")
MATRIX: dict[tuple[str, str], tuple[int, int, int]] = {}  # (key, direction) -> sent, got, intact


def expected(key: str) -> list[Any]:
    """The plain form of every message of ``key`` one side sends."""
    return [peer_module.plain(peer_module.spec(key, i)) for i in range(TYPES[key][2])]


def peer_environment(domain: int, extra: dict[str, str]) -> dict[str, str]:
    """The rclpy peer's environment: domain, the discovery ``extra``, the Fast DDS profile."""
    env = {k: v for k, v in os.environ.items() if k not in DISCOVERY_VARIABLES}
    env.update(extra, ROS_DOMAIN_ID=str(domain))
    if os.environ.get("TOPSPARK_INTEROP_FASTDDS_PROFILE") == "none":
        return env
    return fastdds_environment(env)


class Peer:
    """An interop_peer.py process; ``ask`` sends one command line and returns its JSON answer."""

    def __init__(self, domain: int, extra: dict[str, str], log: Path, *ros_args: str) -> None:
        command = [sys.executable, str(PEER)] + (["--ros-args", *ros_args] if ros_args else [])
        self._log = log.open("w", encoding="utf-8")
        self.popen = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
            env=peer_environment(domain, extra),
            start_new_session=True,
        )
        self.log_path = log
        self._lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.popen.stdout is not None
        for line in self.popen.stdout:
            self._lines.put(line)

    def ask(self, command: str, timeout_s: float = 30.0) -> Any:
        assert self.popen.stdin is not None
        self.popen.stdin.write(command + "\n")
        self.popen.stdin.flush()
        try:
            return json.loads(self._lines.get(timeout=timeout_s))
        except queue.Empty:
            log = self.log_path.read_text(encoding="utf-8")[-2000:]
            raise AssertionError(f"peer did not answer {command!r}; its log:\n{log}") from None

    def received(self, key: str, count: int, timeout_s: float = ARRIVAL_TIMEOUT_S) -> list[Any]:
        """What the peer got on ``to_ros/key``, once ``count`` arrived or after the timeout."""
        deadline = time.monotonic() + timeout_s
        got: list[Any] = self.ask("report")[key]
        while len(got) < count and time.monotonic() < deadline:
            time.sleep(0.1)
            got = self.ask("report")[key]
        return got

    def close(self) -> None:
        if self.popen.poll() is None:
            with contextlib.suppress(AssertionError, OSError):
                self.ask("quit", timeout_s=0.1)
            try:
                self.popen.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait()
        self._log.close()


class Side:
    """This process's DdsTransport with a publisher to and a recorder from the peer per key."""

    def __init__(self, domain: int, keys: list[str]) -> None:
        self.transport = DdsTransport(domain)
        self.got: dict[str, list[Any]] = {key: [] for key in keys}
        self._lock = threading.Lock()
        self.publishers, self.subscriptions = {}, {}
        for key in keys:
            typename, qos = TYPES[key][:2]
            self.publishers[key] = self.transport.publisher(f"to_ros/{key}", typename, qos)
            self.subscriptions[key] = self.transport.subscribe(
                f"from_ros/{key}", typename, self._keeper(key), qos
            )

    def _keeper(self, key: str) -> Any:
        def keep(message: Any) -> None:
            value = peer_module.plain(message)
            with self._lock:
                self.got[key].append(value)

        return keep

    def send(self, key: str) -> int:
        _typename, _qos, count, rate_hz = TYPES[key]
        start = time.monotonic()
        for i in range(count):
            if rate_hz:
                time.sleep(max(0.0, start + i / rate_hz - time.monotonic()))
            self.publishers[key].publish(peer_module.spec(key, i))
        return count

    def received(self, key: str, count: int, timeout_s: float = ARRIVAL_TIMEOUT_S) -> list[Any]:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            with self._lock:
                if len(self.got[key]) >= count:
                    break
            time.sleep(0.05)
        with self._lock:
            return list(self.got[key])


def unmatched(peer: Peer, side: Side, keys: list[str]) -> list[str]:
    """Wait until every endpoint on both sides has matched its counterpart; those that did not
    after MATCH_TIMEOUT_S (none: all matched)."""
    deadline = time.monotonic() + MATCH_TIMEOUT_S
    while True:
        counts = peer.ask("matched")
        missing = [
            f"{key} ({what})"
            for key in keys
            for what, ok in (
                ("rclpy subscription", counts[key][0] >= 1),
                ("rclpy publisher", counts[key][1] >= 1),
                ("dds publisher", side.publishers[key].matched() >= 1),
                ("dds subscription", side.subscriptions[key].matched() >= 1),
            )
            if not ok
        ]
        if not missing or time.monotonic() > deadline:
            return missing
        time.sleep(0.1)


def wait_matched(peer: Peer, side: Side, keys: list[str]) -> None:
    """Until every endpoint on both sides has matched its counterpart (else fail, naming it)."""
    missing = unmatched(peer, side, keys)
    assert not missing, f"not matched after {MATCH_TIMEOUT_S:.0f} s: {', '.join(missing)}"


def record(key: str, direction: str, sent: int, got: list[Any]) -> None:
    """Put one cell of the matrix: sent, received, received intact (equal to what was sent)."""
    wanted = expected(key)
    MATRIX[(key, direction)] = (sent, len(got), sum(item in wanted for item in got))


def matrix_text() -> str:
    """The interop matrix as a Markdown table."""
    distro = os.environ.get("ROS_DISTRO", "?")
    profile = os.environ.get("TOPSPARK_INTEROP_FASTDDS_PROFILE") != "none"
    lines = [
        (
            f"interop matrix, ROS 2 {distro}, Fast DDS profile {'on' if profile else 'off'} "
            "(received intact / sent)"
        ),
        f"| message | {DDS_TO_ROS} | {ROS_TO_DDS} |",
        "|---|---|---|",
    ]
    for key in TYPES:
        cells = []
        for direction in (DDS_TO_ROS, ROS_TO_DDS):
            sent, got, intact = MATRIX.get((key, direction), (0, 0, 0))
            cells.append(f"{intact}/{sent}" + ("" if got == intact else f" ({got} received)"))
        lines.append(f"| {key} ({TYPES[key][0]}) | {cells[0]} | {cells[1]} |")
    for (key, direction), (sent, got, intact) in MATRIX.items():
        if direction not in (DDS_TO_ROS, ROS_TO_DDS):
            lines.append(f"{key}, {direction}: {intact}/{sent} intact ({got} received)")
    return "\n".join(lines) + "\n"


class MatrixReport:
    """Prints the matrix in pytest's terminal summary and writes $TOPSPARK_INTEROP_REPORT."""

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if not MATRIX:
            return
        text = matrix_text()
        terminalreporter.write_sep("-", "interop matrix")
        terminalreporter.write(text)
        target = os.environ.get("TOPSPARK_INTEROP_REPORT")
        if target:
            Path(target).write_text(text, encoding="utf-8")


@pytest.fixture(scope="module")
def link(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Peer, Side]]:
    """An rclpy peer and a DdsTransport, both with default discovery, every endpoint matched."""
    if not request.config.pluginmanager.has_plugin("topspark-interop-matrix"):
        request.config.pluginmanager.register(MatrixReport(), "topspark-interop-matrix")
    keys = list(TYPES)
    peer = Peer(DOMAIN, {}, tmp_path_factory.mktemp("interop") / "peer.log")
    side = Side(DOMAIN, keys)
    try:
        yield peer, side, unmatched(peer, side, keys)
    finally:
        side.transport.close()
        peer.close()


@pytest.mark.parametrize("key", list(TYPES))
def test_dds_transport_to_rclpy(link: tuple[Peer, Side, list[str]], key: str) -> None:
    peer, side, missing = link
    sent = side.send(key)
    got = peer.received(key, sent, 2.0 if missing else ARRIVAL_TIMEOUT_S)
    record(key, DDS_TO_ROS, sent, got)
    assert not [name for name in missing if name.startswith(f"{key} ")], "not matched"
    assert got == expected(key)


@pytest.mark.parametrize("key", list(TYPES))
def test_rclpy_to_dds_transport(link: tuple[Peer, Side, list[str]], key: str) -> None:
    peer, side, missing = link
    _typename, _qos, count, rate_hz = TYPES[key]
    sent = peer.ask(f"send {key} {count} {rate_hz}")
    got = side.received(key, sent, 2.0 if missing else ARRIVAL_TIMEOUT_S)
    record(key, ROS_TO_DDS, sent, got)
    assert not [name for name in missing if name.startswith(f"{key} ")], "not matched"
    assert got == expected(key)


# --- discovery settings on both sides ----------------------------------------------------------

VARIANTS = {
    "localhost": {"ROS_AUTOMATIC_DISCOVERY_RANGE": "LOCALHOST"},
    "static_peers": {
        "ROS_AUTOMATIC_DISCOVERY_RANGE": "LOCALHOST",
        "ROS_STATIC_PEERS": "127.0.0.1",
    },
}
if os.environ.get("ROS_DISTRO") in ("humble", "jazzy"):  # rcl dropped the variable in Kilted
    VARIANTS["localhost_only"] = {"ROS_LOCALHOST_ONLY": "1"}


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_discovery_settings_on_both_sides_interoperate(
    variant: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # each variant a domain of its own: this process configures a domain once, from the variables
    domain = DOMAIN + 1 + list(VARIANTS).index(variant)
    for name in DISCOVERY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    for name, value in VARIANTS[variant].items():
        monkeypatch.setenv(name, value)
    keys = ["timestep_command", "classification"]
    peer = Peer(domain, VARIANTS[variant], tmp_path / "peer.log")
    side = Side(domain, keys)
    try:
        wait_matched(peer, side, keys)
        for key in keys:
            side.send(key)
            peer.ask(f"send {key} {TYPES[key][2]} 0")
        for key in keys:
            assert peer.received(key, TYPES[key][2]) == expected(key)
            assert side.received(key, TYPES[key][2]) == expected(key)
    finally:
        side.transport.close()
        peer.close()


def test_camera_frames_rclpy_to_rclpy_with_the_profile(tmp_path: Path) -> None:
    key = "image_640x480_bgr8_30hz"
    count, rate_hz = TYPES[key][2:]
    domain = DOMAIN + 8
    receiver = Peer(domain, {}, tmp_path / "receiver.log", "-r", f"to_ros/{key}:=camera")
    sender = Peer(domain, {}, tmp_path / "sender.log", "-r", f"from_ros/{key}:=camera")
    try:
        deadline = time.monotonic() + MATCH_TIMEOUT_S
        while sender.ask("matched")[key][1] < 1 or receiver.ask("matched")[key][0] < 1:
            assert time.monotonic() < deadline, "the two rclpy nodes did not match"
            time.sleep(0.1)
        assert sender.ask(f"send {key} {count} {rate_hz}") == count
        got = receiver.received(key, count)
        record(key, "rclpy -> rclpy", count, got)
        assert got == expected(key)
    finally:
        sender.close()
        receiver.close()
