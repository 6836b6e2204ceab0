"""The three nodes as separate rclpy processes, started from the colcon install space (the
executables ``ros2 run topspark_ros`` starts, parameters by ``--ros-args --params-file``), driven
by the test's own rclpy node with the nodes' QoS and the generated message types.

The same assertions as test/ros/test_integration.py (the same system over the DDS adapter):
every image answered at the commanded T; T steps down with the battery and does not oscillate at
a threshold; an environment switch makes the learner train and perception answer with the new
model version; a malformed image and a NaN battery give warnings, not crashes; every node exits 0
on SIGINT.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from node_system import BATTERY_LEVELS, NODE_NAMES, T_STEPS, wait_until, write_system_files
from rclpy_probe import Probe, Proc
from sensor_msgs.msg import BatteryState, Image
from std_msgs.msg import String

from topspark_ros.data import load_sample
from topspark_ros.msg import Classification, Label, LearningStatus, ModelUpdate, TimestepCommand
from topspark_ros.ros.rclpy.node import ros_qos

HERE = Path(__file__).resolve().parent

DOMAIN = 31
START_S = 180.0  # three processes JIT-compiling on a shared 2-core machine


class System:
    """The running node processes and the probe publishing to and recording from them."""

    def __init__(self, probe: Any, procs: dict[str, Any], root: Path) -> None:
        self.probe = probe
        self.procs = procs
        self.root = root
        node = probe.node
        probe.record(Classification, "classification", ros_qos("default"))
        probe.record(TimestepCommand, "timestep_command", ros_qos("latched"))
        probe.record(LearningStatus, "learning_status", ros_qos("default"))
        probe.record(ModelUpdate, "model_update", ros_qos("latched"))
        self.image = node.create_publisher(Image, "image", ros_qos("sensor", "reliable"))
        self.battery = node.create_publisher(BatteryState, "battery_state", ros_qos("default"))
        self.environment = node.create_publisher(String, "environment", ros_qos("default"))
        self.label = node.create_publisher(Label, "label", ros_qos("default"))
        self._next_stamp = 1_000_000

    def ready(self) -> bool:
        """Every node active: their subscriptions (made on activate) match our publishers."""
        return (
            self.image.get_subscription_count() >= 2
            and self.battery.get_subscription_count() >= 1
            and self.environment.get_subscription_count() >= 1
            and self.label.get_subscription_count() >= 1
        )

    def send_images(self, images: np.ndarray, labels: np.ndarray | None = None) -> list[int]:
        """Publish 28x28 mono8 images (and labels) at ~50 Hz; their stamps in ns."""
        stamps = []
        for i, pixels in enumerate(images):
            self._next_stamp += 1
            stamp_ns = self._next_stamp * 1_000_000
            image = Image(height=28, width=28, encoding="mono8", step=28, data=pixels.tobytes())
            image.header.stamp.sec, image.header.stamp.nanosec = divmod(stamp_ns, 10**9)
            image.header.frame_id = "camera"
            self.image.publish(image)
            if labels is not None:
                label = Label(label=int(labels[i]), environment="fashion")
                label.header.stamp = image.header.stamp
                self.label.publish(label)
            stamps.append(stamp_ns)
            time.sleep(0.02)
        return stamps

    def results_for(self, stamps: list[int]) -> dict[int, Any]:
        """The classification of each image stamped ``stamps`` (asserting every one came)."""
        wanted = set(stamps)

        def answered() -> dict[int, Any]:
            return {
                _stamp_ns(r.header.stamp): r
                for r in self.probe.seen("classification")
                if _stamp_ns(r.header.stamp) in wanted
            }

        assert wait_until(lambda: set(answered()) == wanted, 30.0), "not every image answered"
        return answered()

    def send_battery(self, fraction: float) -> None:
        """Publish a BatteryState at ``fraction`` charge, stamped now."""
        msg = BatteryState(percentage=fraction, voltage=12.0, current=-1.0, present=True)
        msg.header.stamp = self.probe.node.get_clock().now().to_msg()
        self.battery.publish(msg)

    def latest_t(self) -> int | None:
        """The last commanded T received, if any."""
        commands = self.probe.seen("timestep_command")
        return int(commands[-1].timesteps) if commands else None


def _stamp_ns(stamp: Any) -> int:
    return int(stamp.sec) * 10**9 + int(stamp.nanosec)


@pytest.fixture(scope="module")
def system(tmp_path_factory: pytest.TempPathFactory, trained_model: Path) -> Iterator[System]:
    """The three installed node executables and the probe, on a domain of their own."""
    root = tmp_path_factory.mktemp("rclpy_system")
    params = write_system_files(root, trained_model)
    procs: dict[str, Any] = {}
    probe = None
    try:
        for name in NODE_NAMES:
            procs[name] = Proc.node(name, ["--params-file", str(params)], DOMAIN, root / "logs")
        probe = Probe(DOMAIN)
        system = System(probe, procs, root)
        logs = {name: p.text for name, p in procs.items()}
        assert wait_until(
            lambda: system.ready() or not all(p.alive() for p in procs.values()), START_S, 0.1
        )
        assert system.ready(), {name: text()[-2000:] for name, text in logs.items()}
        yield system
        codes = {name: p.interrupt() for name, p in procs.items()}
        assert codes == dict.fromkeys(procs, 0), {n: p.text()[-2000:] for n, p in procs.items()}
        for name, proc in procs.items():
            assert "Traceback" not in proc.text(), (name, proc.text()[-2000:])
    finally:
        if probe is not None:
            probe.close()
        for proc in procs.values():
            proc.kill()


def test_results_follow_the_commanded_t_as_the_battery_falls(system: System) -> None:
    digits = load_sample("mnist", "test").images
    expected: dict[int, int] = {}
    for i, level in enumerate(BATTERY_LEVELS):
        before = len(system.probe.seen("timestep_command"))
        system.send_battery(level)
        wait_until(lambda before=before: len(system.probe.seen("timestep_command")) > before, 2.0)
        time.sleep(0.3)  # the perception node gets the same command
        t_now = system.latest_t()
        assert t_now is not None
        for stamp in system.send_images(digits[3 * i : 3 * i + 3]):
            expected[stamp] = t_now
    results = system.results_for(list(expected))
    assert {s: int(r.timesteps) for s, r in results.items()} == expected
    commanded = [int(c.timesteps) for c in system.probe.seen("timestep_command")]
    changes = [t for prev, t in zip([None, *commanded], commanded, strict=False) if t != prev]
    assert changes == T_STEPS, commanded
    modes = [int(c.mode) for c in system.probe.seen("timestep_command")]
    assert modes == sorted(modes), "the mode went back up on a falling battery"


def test_bad_image_and_nan_battery_warn_without_crashing(system: System) -> None:
    short = Image(height=28, width=28, encoding="mono8", step=28, data=b"\x00" * 10)
    odd = Image(height=2, width=2, encoding="yuv422", step=4, data=b"\x00" * 8)
    for bad in (short, odd):
        bad.header.stamp = system.probe.node.get_clock().now().to_msg()
        system.image.publish(bad)
    system.send_battery(math.nan)
    perception, manager = system.procs["perception"], system.procs["timestep_manager"]
    assert wait_until(lambda: "[WARN]" in perception.text(), 15.0), perception.text()[-2000:]
    assert wait_until(lambda: "nan" in manager.text().lower(), 15.0), manager.text()[-2000:]
    assert all(p.alive() for p in system.procs.values())
    stamps = system.send_images(load_sample("mnist", "test").images[100:102])
    assert set(system.results_for(stamps)) == set(stamps)


def test_environment_switch_trains_and_perception_loads_the_new_model(system: System) -> None:
    fashion = load_sample("fashion-mnist", "train")
    system.environment.publish(String(data="fashion"))
    system.send_images(fashion.images[:80], fashion.labels[:80])
    assert wait_until(lambda: len(system.probe.seen("model_update")) >= 2, 90.0), [
        s.message for s in system.probe.seen("learning_status")
    ]
    statuses = system.probe.seen("learning_status")
    assert any(
        s.state == LearningStatus.STATE_LEARNING and s.environment == "fashion" for s in statuses
    )
    assert any(s.trigger == "topic" for s in statuses)
    update = system.probe.seen("model_update")[-1]
    assert update.version >= 2
    assert Path(update.path).is_file()
    assert Path(update.path).parent == system.root / "checkpoints"

    # Perception reloads without a restart: later images are answered by the new version (or
    # by a newer one, if the learner announced another meanwhile).
    def answered_by_new_model() -> bool:
        stamps = system.send_images(fashion.images[200:203])
        results = system.results_for(stamps)
        return bool(results) and all(r.model_version >= update.version for r in results.values())

    assert wait_until(answered_by_new_model, 30.0)
