"""The DDS transport: ROS 2 names and QoS on the wire, exchange between participants, errors.

Participants use a private domain id derived from the process id, so parallel test runs and
real ROS 2 systems on domain 0 do not see each other, and DDS is confined to loopback
(``CYCLONEDDS_URI`` = ``loopback_config()``, no ROS discovery variables), so no test packet
leaves the machine.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from cyclonedds.builtin import BuiltinDataReader, BuiltinTopicDcpsPublication
from cyclonedds.core import Policy
from cyclonedds.domain import DomainParticipant

from topspark_ros.errors import TransportError
from topspark_ros.interfaces.dds_types import DdsTypes
from topspark_ros.messages import ImageFrame, TimestepCommand
from topspark_ros.ros.dds import (
    DEFAULT_QOS,
    LATCHED_QOS,
    SENSOR_DATA_QOS,
    DdsTransport,
    QosProfile,
    cyclonedds_qos,
    dds_topic_name,
    loopback_config,
    qos_profile,
    ros_domain_id,
)
from topspark_ros.ros.dds.names import parse_remaps, remapped

DOMAIN = os.getpid() % 50 + 100  # 100..149; the loopback test uses DOMAIN + 50
TIMEOUT_S = 5.0


class Inbox:
    """Collects callback values from the dispatch thread; ``wait`` blocks until enough came."""

    def __init__(self) -> None:
        self.items: list[Any] = []
        self._cond = threading.Condition()

    def __call__(self, item: Any) -> None:
        with self._cond:
            self.items.append(item)
            self._cond.notify_all()

    def wait(self, count: int = 1, timeout_s: float = TIMEOUT_S) -> list[Any]:
        with self._cond:
            self._cond.wait_for(lambda: len(self.items) >= count, timeout_s)
            return list(self.items)


@pytest.fixture(scope="module", autouse=True)
def loopback_only() -> Iterator[None]:
    """DDS on loopback with unicast discovery for the whole module, whatever the caller set."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CYCLONEDDS_URI", loopback_config())
        for name in ("ROS_AUTOMATIC_DISCOVERY_RANGE", "ROS_STATIC_PEERS", "ROS_LOCALHOST_ONLY"):
            patch.delenv(name, raising=False)
        yield


@pytest.fixture(scope="module")
def types() -> DdsTypes:
    """DDS classes shared by the module's transports (built once)."""
    return DdsTypes()


@pytest.fixture
def pair(types: DdsTypes) -> Iterator[tuple[DdsTransport, DdsTransport]]:
    """Two transports (participants) on the private test domain."""
    with DdsTransport(DOMAIN, types=types) as one, DdsTransport(DOMAIN, types=types) as two:
        yield one, two


def _command(timesteps: int = 32) -> TimestepCommand:
    # every float set (NaN != NaN) and float32-exact, so received commands compare equal
    return TimestepCommand(123, timesteps, 20, 1, "battery low", 0.25, 0.5, 40.0, 0.875, 12.5, 2.0)


def _image(rng: np.random.Generator, height: int = 480, width: int = 640) -> ImageFrame:
    pixels = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
    return ImageFrame(
        5_000_000_123, "camera", height, width, "rgb8", 0, width * 3, pixels.tobytes()
    )


# --- names, domain and QoS ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "namespace", "dds"),
    [
        ("image", "", "rt/image"),
        ("/image", "", "rt/image"),
        ("image", "/robot1", "rt/robot1/image"),
        ("image", "robot1/", "rt/robot1/image"),
        ("camera/image_raw", "/robot1", "rt/robot1/camera/image_raw"),
        ("/diagnostics", "/robot1", "rt/diagnostics"),
    ],
)
def test_topic_names(name: str, namespace: str, dds: str) -> None:
    assert dds_topic_name(name, namespace) == dds


@pytest.mark.parametrize("name", ["", "/", "~/image", "a//b", "2fast", "image-raw", "{node}/x"])
def test_bad_topic_names(name: str) -> None:
    with pytest.raises(TransportError, match="bad ROS topic name"):
        dds_topic_name(name)


def test_ros_domain_id_from_environment() -> None:
    assert ros_domain_id({}) == 0
    assert ros_domain_id({"ROS_DOMAIN_ID": " "}) == 0
    assert ros_domain_id({"ROS_DOMAIN_ID": "42"}) == 42
    with pytest.raises(TransportError, match="ROS_DOMAIN_ID='x' is not an integer"):
        ros_domain_id({"ROS_DOMAIN_ID": "x"})
    with pytest.raises(TransportError, match=r"DDS domain id 300 is outside 0\.\.232"):
        ros_domain_id({"ROS_DOMAIN_ID": "300"})


def test_transport_takes_ros_domain_id(monkeypatch: pytest.MonkeyPatch, types: DdsTypes) -> None:
    monkeypatch.setenv("ROS_DOMAIN_ID", str(DOMAIN))
    with DdsTransport(types=types) as transport:
        assert transport.domain_id == DOMAIN
    with DdsTransport(DOMAIN + 1, types=types) as transport:
        assert transport.domain_id == DOMAIN + 1
    monkeypatch.setenv("ROS_DOMAIN_ID", "-1")
    with pytest.raises(TransportError, match="DDS domain id -1 is outside"):
        DdsTransport(types=types)


def test_qos_profiles() -> None:
    assert DEFAULT_QOS == QosProfile(reliable=True, transient_local=False, depth=10)
    assert SENSOR_DATA_QOS == QosProfile(reliable=False, transient_local=False, depth=5)
    assert LATCHED_QOS == QosProfile(reliable=True, transient_local=True, depth=1)
    assert qos_profile("sensor") == qos_profile("sensor_data") == SENSOR_DATA_QOS
    assert qos_profile("sensor", "reliable") == QosProfile(True, False, 5)
    assert qos_profile(LATCHED_QOS, "best_effort") == QosProfile(False, True, 1)
    with pytest.raises(TransportError, match="unknown QoS profile 'fast'"):
        qos_profile("fast")
    with pytest.raises(TransportError, match="bad reliability 'maybe'"):
        qos_profile("default", "maybe")
    latched = cyclonedds_qos(LATCHED_QOS)
    assert Policy.Durability.TransientLocal in latched
    assert Policy.History.KeepLast(1) in latched
    assert Policy.DataRepresentation(use_cdrv0_representation=True) in latched  # XCDR1
    assert Policy.Reliability.BestEffort in cyclonedds_qos(SENSOR_DATA_QOS)


# --- exchange ----------------------------------------------------------------------------------


def test_exchange_image_best_effort_reader_reliable_writer(
    pair: tuple[DdsTransport, DdsTransport], caplog: pytest.LogCaptureFixture
) -> None:
    one, two = pair
    inbox = Inbox()
    subscription = two.subscribe("image", ImageFrame, inbox, "sensor")
    publisher = one.publisher("image", ImageFrame, "sensor", reliability="reliable")
    assert publisher.wait_matched(TIMEOUT_S) and subscription.wait_matched(TIMEOUT_S)
    frame = _image(np.random.default_rng(0))
    with caplog.at_level(logging.WARNING):
        publisher.publish(frame)
        assert inbox.wait() == [frame]
        publisher.close()  # the reader gets a no-data sample: it must not reach the callback
        deadline = time.monotonic() + TIMEOUT_S
        while subscription.matched() and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.1)
    assert subscription.matched() == 0
    assert inbox.items == [frame]
    assert caplog.text == ""


def test_latched_command_reaches_a_late_reader(pair: tuple[DdsTransport, DdsTransport]) -> None:
    one, two = pair
    publisher = one.publisher("timestep_command", TimestepCommand, "latched")
    publisher.publish(_command(64))
    publisher.publish(_command(32))
    inbox = Inbox()
    two.subscribe("timestep_command", TimestepCommand, inbox, "latched")
    assert inbox.wait() == [_command(32)]  # keep-last 1: only the latest


def test_raw_messages_and_strings(pair: tuple[DdsTransport, DdsTransport]) -> None:
    one, two = pair
    raw, text = Inbox(), Inbox()
    two.subscribe("environment", "std_msgs/msg/String", raw)
    two.subscribe("environment", "std_msgs/String", text, into=str)
    publisher = one.publisher("environment", "std_msgs/msg/String")
    assert publisher.wait_matched(TIMEOUT_S, count=2)
    publisher.publish("night")
    assert text.wait() == ["night"]
    assert [message.data for message in raw.wait()] == ["night"]
    assert type(raw.items[0]).__name__ == "String_"


def test_remap_rules() -> None:
    remaps = parse_remaps(["image:=/camera/image_raw", "/base/classification:=/out"])
    assert remaps == {"image": "/camera/image_raw", "/base/classification": "/out"}
    assert remapped("image", "base", remaps) == "/camera/image_raw"
    assert remapped("classification", "base", remaps) == "/out"
    assert remapped("classification", "", remaps) == "classification"
    with pytest.raises(TransportError, match=r"remap rule 'image=/x' is not FROM:=TO"):
        parse_remaps(["image=/x"])


def test_remapped_subscription(types: DdsTypes) -> None:
    """A node in namespace 'baseline' reading 'image' remapped to the robot's camera topic."""
    with (
        DdsTransport(DOMAIN, types=types) as robot,
        DdsTransport(DOMAIN, "baseline", types, {"image": "/camera"}) as node,
    ):
        inbox = Inbox()
        node.subscribe("image", "std_msgs/msg/String", inbox, into=str)
        node.subscribe("classification", "std_msgs/msg/String", inbox, into=str)
        camera = robot.publisher("/camera", "std_msgs/msg/String")
        result = robot.publisher("/baseline/classification", "std_msgs/msg/String")
        assert camera.wait_matched(TIMEOUT_S) and result.wait_matched(TIMEOUT_S)
        camera.publish("frame")
        result.publish("answer")
        assert sorted(inbox.wait(2)) == ["answer", "frame"]


def test_reliable_reader_does_not_match_best_effort_writer(
    pair: tuple[DdsTransport, DdsTransport],
) -> None:
    one, two = pair
    subscription = two.subscribe("image", ImageFrame, Inbox(), "default")
    publisher = one.publisher("image", ImageFrame, "sensor")
    assert not subscription.wait_matched(0.5)
    assert publisher.matched() == 0


def test_wire_topic_and_type_names(types: DdsTypes) -> None:
    with DdsTransport(DOMAIN, namespace="/robot1", types=types) as transport:
        transport.publisher("image", ImageFrame, "sensor")
        transport.publisher("/diagnostics", "diagnostic_msgs/msg/DiagnosticArray")
        observer = DomainParticipant(DOMAIN)
        reader = BuiltinDataReader(observer, BuiltinTopicDcpsPublication)
        seen: set[tuple[str, str]] = set()
        deadline = time.monotonic() + TIMEOUT_S
        while len(seen) < 2 and time.monotonic() < deadline:
            seen |= {(ep.topic_name, ep.type_name) for ep in reader.take(N=100)}
            time.sleep(0.01)
    assert ("rt/robot1/image", "sensor_msgs::msg::dds_::Image_") in seen
    assert ("rt/diagnostics", "diagnostic_msgs::msg::dds_::DiagnosticArray_") in seen


def test_loopback_between_processes(monkeypatch: pytest.MonkeyPatch, types: DdsTypes) -> None:
    domain = DOMAIN + 50  # a domain this process has not created yet, so it reads the config
    monkeypatch.setenv("CYCLONEDDS_URI", loopback_config())
    child = textwrap.dedent(f"""
        import time
        from topspark_ros.messages import TimestepCommand
        from topspark_ros.ros.dds import DdsTransport
        with DdsTransport({domain}) as transport:
            got = []
            sub = transport.subscribe("timestep_command", TimestepCommand, got.append, "latched")
            deadline = time.monotonic() + {TIMEOUT_S}
            while not got and time.monotonic() < deadline:
                time.sleep(0.01)
            print(got[0].timesteps if got else "nothing")
    """)
    with DdsTransport(domain, types=types) as transport:
        transport.publisher("timestep_command", TimestepCommand, "latched").publish(_command(48))
        done = subprocess.run(
            [sys.executable, "-c", child], capture_output=True, text=True, timeout=60
        )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "48"


# --- errors and shutdown -----------------------------------------------------------------------


def test_publish_errors_are_transport_errors(pair: tuple[DdsTransport, DdsTransport]) -> None:
    publisher = pair[0].publisher("timestep_command", TimestepCommand, "latched")
    # found while converting, before the writer: the field and its range named
    out_of_range = r"cannot convert TimestepCommand to .*: timesteps: -1 is out of range"
    with pytest.raises(TransportError, match=out_of_range):
        publisher.publish(_command(-1))
    with pytest.raises(TransportError, match="cannot convert dict to topspark_ros/msg/Timestep"):
        publisher.publish({"timesteps": "many"})


def test_a_topic_has_one_type(pair: tuple[DdsTransport, DdsTransport]) -> None:
    pair[0].publisher("image", ImageFrame)
    with pytest.raises(TransportError, match="topic rt/image is already used with Image_"):
        pair[0].publisher("image", TimestepCommand)


def test_callback_errors_do_not_stop_dispatch(
    pair: tuple[DdsTransport, DdsTransport], caplog: pytest.LogCaptureFixture
) -> None:
    one, two = pair
    inbox = Inbox()

    def fragile(command: TimestepCommand) -> None:
        if command.timesteps == 1:
            raise RuntimeError("boom")
        inbox(command)

    two.subscribe("timestep_command", TimestepCommand, fragile)
    publisher = one.publisher("timestep_command", TimestepCommand)
    assert publisher.wait_matched(TIMEOUT_S)
    with caplog.at_level(logging.ERROR):
        publisher.publish(_command(1))
        publisher.publish(_command(2))
        assert [command.timesteps for command in inbox.wait()] == [2]
    assert "callback for rt/timestep_command failed" in caplog.text


def test_unconvertible_samples_are_dropped_with_a_warning(
    pair: tuple[DdsTransport, DdsTransport], caplog: pytest.LogCaptureFixture
) -> None:
    one, two = pair

    @dataclasses.dataclass(frozen=True)
    class NeedsMore:
        label: int
        missing: str

    inbox = Inbox()
    two.subscribe("label", "topspark_ros/msg/Label", inbox, into=NeedsMore)
    publisher = one.publisher("label", "topspark_ros/msg/Label")
    assert publisher.wait_matched(TIMEOUT_S)
    with caplog.at_level(logging.WARNING):
        publisher.publish({"label": 3})
        deadline = time.monotonic() + TIMEOUT_S
        while "dropped a sample on rt/label" not in caplog.text and time.monotonic() < deadline:
            time.sleep(0.01)
    assert "cannot convert topspark_ros/msg/Label to NeedsMore" in caplog.text
    assert inbox.items == []


def test_close_stops_delivery(types: DdsTypes) -> None:
    one = DdsTransport(DOMAIN, types=types)
    with DdsTransport(DOMAIN, types=types) as two:
        inbox = Inbox()
        subscription = two.subscribe("timestep_command", TimestepCommand, inbox)
        publisher = one.publisher("timestep_command", TimestepCommand)
        assert publisher.wait_matched(TIMEOUT_S)
        subscription.close()
        subscription.close()
        publisher.publish(_command())
        time.sleep(0.2)
        assert inbox.items == []
    one.close()
    one.close()
    with pytest.raises(TransportError, match="the DDS transport is closed"):
        one.publisher("timestep_command", TimestepCommand)
