"""Shared by the system tests over DDS and rclpy (test/support/dds_system.py,
test/ros2/test_rclpy_processes.py): the profile and parameter files of the three nodes, the
battery scenario and the T steps it must produce.

Not a test module: test/support is on the test path (pyproject.toml's ``pythonpath``;
tools/ros_tests.sh), so tests ``import node_system`` (``test`` itself is the standard library's
package name, so test directories cannot be imported as packages).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import yaml

from topspark_ros.topspark.profile import OperatingPoint, Profile, save_profile

# Profile: nominal (2 pts) -> T=100, saving (5 pts) -> T=40, critical (15 pts) -> T=20.
ACCURACY = {350: 0.90, 100: 0.89, 60: 0.87, 40: 0.86, 20: 0.76}
# Falling battery with +-1-2 point noise at the 50% and 20% thresholds (hysteresis 5 points).
BATTERY_LEVELS = [0.9, 0.7, 0.55, 0.49, 0.51, 0.48, 0.505, 0.45, 0.3, 0.21, 0.19, 0.205, 0.18, 0.1]
T_STEPS = [100, 40, 20]  # the commanded T's successive values over BATTERY_LEVELS
NODE_NAMES = ("perception", "timestep_manager", "online_learner")


def write_system_files(root: Path, model: Path) -> Path:
    """The profile and one ROS 2 parameter file for all three nodes; returns the parameter
    file (``<node>: ros__parameters: ...``, images reliable, learner fast and without drift
    detection)."""
    points = tuple(
        OperatingPoint(t, acc, 0.002 * t, 2e-7 * t, 1e-7 * t, 1000) for t, acc in ACCURACY.items()
    )
    profile = save_profile(root / "profile.yaml", Profile("mnist", 60, "pair", points))
    params = {
        "perception": {"model_path": str(model), "image_reliability": "reliable"},
        "timestep_manager": {
            "profile_path": str(profile),
            "min_dwell_s": 0.0,
            "battery_timeout_s": 120.0,
            "publish_period_s": 0.5,
        },
        "online_learner": {
            "model_path": str(model),
            "checkpoint_dir": str(root / "checkpoints"),
            "image_reliability": "reliable",
            "detect": False,
            "learn_samples": 40,
            "batch_size": 20,
            "checkpoint_every": 20,
            "min_labelled": 20,
        },
    }
    path = root / "params.yaml"
    sections = {name: {"ros__parameters": values} for name, values in params.items()}
    path.write_text(yaml.safe_dump(sections), encoding="utf-8")
    return path


def wait_until(what: Callable[[], bool], timeout_s: float = 20.0, poll_s: float = 0.02) -> bool:
    """Poll ``what()`` until true or ``timeout_s``; its last value."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if what():
            return True
        time.sleep(poll_s)
    return what()
