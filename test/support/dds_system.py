"""The three nodes as processes (each over DDS or rclpy), driven by the test's DdsTransport, and
the checks every such system test makes: test/ros/test_integration.py (all DDS) and
test/ros2/test_mixed_system.py (DDS and rclpy nodes together).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from node_system import BATTERY_LEVELS, T_STEPS, wait_until, write_system_files

from topspark_ros.data import load_sample
from topspark_ros.messages import (
    BatteryReading,
    Classification,
    ImageFrame,
    Label,
    LearningStatus,
    ModelUpdate,
    TimestepCommand,
)
from topspark_ros.ros.dds.transport import DdsTransport, loopback_config
from topspark_ros.system.processes import NodeProcess, start_node, stop_all, wait_ready

SWITCH_TRIES = 3  # environment switches sent until the learner reports the new environment
DISCOVERY_VARIABLES = ("ROS_AUTOMATIC_DISCOVERY_RANGE", "ROS_STATIC_PEERS", "ROS_LOCALHOST_ONLY")


class DdsClient:
    """The test's DdsTransport: publishers of the nodes' inputs, records of their outputs."""

    def __init__(self, transport: DdsTransport) -> None:
        self.transport = transport
        self.got: dict[str, list[Any]] = {}
        self._lock = threading.Lock()
        t = transport
        t.subscribe("classification", Classification, self._keep("classification"))
        t.subscribe("timestep_command", TimestepCommand, self._keep("command"), "latched")
        t.subscribe("learning_status", LearningStatus, self._keep("status"))
        t.subscribe("model_update", ModelUpdate, self._keep("update"), "latched")
        self.image = t.publisher("image", ImageFrame, "sensor", "reliable")
        self.battery = t.publisher("battery_state", BatteryReading)
        self.environment = t.publisher("environment", "std_msgs/msg/String")
        self.label = t.publisher("label", Label)

    def _keep(self, topic: str) -> Callable[[Any], None]:
        self.got[topic] = []

        def keep(data: Any) -> None:
            with self._lock:
                self.got[topic].append(data)

        return keep

    def seen(self, topic: str) -> list[Any]:
        """What arrived on ``topic`` so far."""
        with self._lock:
            return list(self.got[topic])

    def send_images(self, images: np.ndarray, labels: np.ndarray | None = None) -> list[int]:
        """Publish 28x28 mono8 images (and their labels) at ~50 Hz; their stamps."""
        stamps = []
        for i, image in enumerate(images):
            stamp = time.time_ns()
            self.image.publish(
                ImageFrame(stamp, "camera", 28, 28, "mono8", 0, 28, image.tobytes())
            )
            if labels is not None:
                self.label.publish(Label(stamp, int(labels[i]), "fashion"))
            stamps.append(stamp)
            time.sleep(0.02)
        return stamps

    def results_for(self, stamps: list[int], timeout_s: float = 30.0) -> dict[int, Classification]:
        """The result of each stamp (asserting every one arrives within ``timeout_s``)."""
        wanted = set(stamps)
        assert wait_until(
            lambda: wanted <= {r.stamp_ns for r in self.seen("classification")}, timeout_s
        ), "not every image got a result"
        return {r.stamp_ns: r for r in self.seen("classification") if r.stamp_ns in wanted}


@contextmanager
def dds_system(
    root: Path, model: Path, domain: int, transports: Mapping[str, str], start_s: float
) -> Iterator[tuple[DdsClient, list[NodeProcess]]]:
    """Start the nodes of ``transports`` (name -> dds|rclpy) with the system files under
    ``root`` and a client, all on DDS domain ``domain`` on loopback; stop them after, asserting
    each exits 0."""
    params = write_system_files(root, model)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CYCLONEDDS_URI", loopback_config())  # as the DDS children get
        for name in DISCOVERY_VARIABLES:
            patch.delenv(name, raising=False)
        procs = [
            start_node(name, domain, root / "logs", params, transport=transport)
            for name, transport in transports.items()
        ]
        transport = None
        try:
            transport = DdsTransport(domain)
            client = DdsClient(transport)
            wait_ready(procs, timeout_s=start_s)
            assert client.image.wait_matched(60.0, count=2), "perception + learner images"
            assert client.battery.wait_matched(60.0), "timestep manager battery"
            assert client.label.wait_matched(60.0), "learner labels"
            assert client.environment.wait_matched(60.0), "learner environment"
            yield client, procs
        finally:
            if transport is not None:
                transport.close()
            codes = stop_all(procs)
    assert codes == dict.fromkeys(transports, 0), {p.name: p.last_line() for p in procs}


def check_t_follows_the_battery(client: DdsClient, per_level: int, settle_s: float) -> None:
    """Each image is answered at the commanded T; T steps down with the battery (T_STEPS)
    without oscillating, and the mode never goes back up."""
    digits = load_sample("mnist", "test").images
    expected: dict[int, int] = {}
    for i, level in enumerate(BATTERY_LEVELS):
        before = len(client.seen("command"))
        client.battery.publish(BatteryReading(time.time_ns(), level, voltage=12.0))
        wait_until(lambda before=before: len(client.seen("command")) > before, 2.0)
        time.sleep(settle_s)  # the perception node gets the same command
        commands = client.seen("command")
        assert commands, "no timestep command"
        for stamp in client.send_images(digits[per_level * i : per_level * (i + 1)]):
            expected[stamp] = commands[-1].timesteps
    results = client.results_for(list(expected))
    assert {s: r.timesteps for s, r in results.items()} == expected
    commanded = [c.timesteps for c in client.seen("command")]
    changes = [t for prev, t in zip([None, *commanded], commanded, strict=False) if t != prev]
    assert changes == T_STEPS, commanded
    modes = [c.mode for c in client.seen("command")]
    assert modes == sorted(modes), "the mode went back up on a falling battery"


def check_bad_input_warns(client: DdsClient, procs: list[NodeProcess]) -> None:
    """A malformed image and a NaN battery give warnings, not crashes; images still answered."""
    bad = ImageFrame(time.time_ns(), "camera", 28, 28, "mono8", 0, 28, b"\x00" * 10)
    client.image.publish(bad)
    odd = ImageFrame(time.time_ns(), "camera", 2, 2, "yuv422", 0, 4, b"\x00" * 8)
    client.image.publish(odd)
    client.battery.publish(BatteryReading(time.time_ns(), math.nan))
    logs = {p.name: p for p in procs}
    assert wait_until(lambda: "WARN" in logs["perception"].log_text(), 10.0)
    assert wait_until(lambda: "nan" in logs["timestep_manager"].log_text().lower(), 10.0)
    assert all(p.alive() for p in procs)
    stamps = client.send_images(load_sample("mnist", "test").images[100:102])
    assert set(client.results_for(stamps)) == set(stamps)


def check_learner_updates_perception(
    client: DdsClient, checkpoints: Path, learn_s: float, reload_s: float
) -> None:
    """An environment switch (topic) makes the learner train and checkpoint into
    ``checkpoints``, and perception answers with the new model version without a restart."""
    fashion = load_sample("fashion-mnist", "train")
    # The switch, confirmed by the learner's status. A volatile sample written just after the
    # writer matched can be missed by a reader still matching the writer (seen once between
    # Cyclone and Kilted's Fast DDS under load), so it is sent again until the learner says so.
    for _ in range(SWITCH_TRIES):
        client.environment.publish("fashion")
        if wait_until(lambda: any(s.environment == "fashion" for s in client.seen("status")), 5.0):
            break
    client.send_images(fashion.images[:80], fashion.labels[:80])
    assert wait_until(lambda: len(client.seen("update")) >= 2, learn_s), client.seen("status")
    statuses = client.seen("status")
    assert any(
        s.state == LearningStatus.STATE_LEARNING and s.environment == "fashion" for s in statuses
    ), [(s.state, s.environment, s.trigger) for s in statuses]
    assert any(s.trigger == "topic" for s in statuses)
    update = client.seen("update")[-1]
    assert update.version >= 2
    assert Path(update.path).is_file()
    assert Path(update.path).parent == checkpoints

    # The learner may checkpoint again (labelling, the episode's end) after ``update``, and
    # perception then answers with that newer version: any version from ``update`` on is new.
    def answered_by_new_model() -> bool:
        stamps = client.send_images(fashion.images[200:203])
        results = client.results_for(stamps)
        return bool(results) and all(r.model_version >= update.version for r in results.values())

    assert wait_until(answered_by_new_model, reload_s)
