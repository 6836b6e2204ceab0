"""``topspark node sim_robot`` over DDS: a separate process whose camera, labels, environment and
battery reach a DDS subscriber, and whose battery the classifications it receives drain."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from topspark_ros.messages import BatteryReading, Classification, ImageFrame, Label
from topspark_ros.ros.dds.transport import DdsTransport, loopback_config
from topspark_ros.system.processes import start_node, stop_all, wait_ready

DOMAIN = 10 + os.getpid() % 30  # 10..39: away from the other DDS tests' domains


def test_sim_robot_process_publishes_over_dds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CYCLONEDDS_URI", loopback_config())
    got: dict[str, list[Any]] = {"image": [], "label": [], "environment": [], "battery": []}
    lock = threading.Lock()

    def keep(key: str) -> Callable[[Any], None]:
        def add(data: Any) -> None:
            with lock:
                got[key].append(data)

        return add

    def count(key: str) -> int:
        with lock:
            return len(got[key])

    settings = {"rate_hz": 20.0, "battery_rate_hz": 20.0, "environment_period_s": 0.2}
    settings |= {"base_load_w": 0.0, "snn_energy_scale": 1.0, "battery_capacity_wh": 0.001}
    robot = start_node("sim_robot", DOMAIN, tmp_path, sets=settings)
    try:
        with DdsTransport(DOMAIN) as client:
            client.subscribe("image", ImageFrame, keep("image"), "sensor")
            client.subscribe("label", Label, keep("label"))
            client.subscribe("environment", "std_msgs/msg/String", keep("environment"), into=str)
            client.subscribe("battery_state", BatteryReading, keep("battery"))
            results = client.publisher("classification", Classification)
            wait_ready([robot], 30.0)
            assert results.wait_matched(10.0)
            deadline = time.monotonic() + 10.0
            while time.monotonic() < deadline and min(map(count, got)) < 3:
                time.sleep(0.05)
            assert min(map(count, got)) >= 3, {key: count(key) for key in got}
            with lock:
                frame, label = got["image"][-1], got["label"][-1]
                names = set(got["environment"])
            assert (frame.width, frame.height, frame.encoding) == (320, 240, "bgr8")
            assert label.environment == "mnist" and names == {"mnist"}
            # 1.8 J of 3.6 J: half the battery, with no base load.
            results.publish(Classification(0, "", 1, 0.9, (), 1, 1, 1, 1, 0.1, 1.0, 1.8, 1))
            deadline = time.monotonic() + 5.0
            while time.monotonic() < deadline and got["battery"][-1].percentage > 0.6:
                time.sleep(0.05)
            with lock:
                assert got["battery"][0].percentage == 1.0
                assert got["battery"][-1].percentage == pytest.approx(0.5)
    finally:
        codes = stop_all([robot])
    assert codes == {"sim_robot": 0}, robot.log_text()
