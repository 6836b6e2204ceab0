"""The three nodes as separate processes over DDS on loopback, driven from this test process.

Asserts the issue's must-show: a result for each image at the commanded T; T steps down as the
battery falls and does not oscillate at a threshold; an environment switch makes the learner
train and the perception node answer with the new model version; a malformed image and a NaN
battery give warnings, not crashes; every node shuts down cleanly. The same checks run with rclpy
nodes in the ROS 2 tier (test/ros2/test_mixed_system.py, test_rclpy_processes.py).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from dds_system import (
    DdsClient,
    check_bad_input_warns,
    check_learner_updates_perception,
    check_t_follows_the_battery,
    dds_system,
)
from node_system import NODE_NAMES

from topspark_ros.system.processes import NodeProcess

DOMAIN = 150 + os.getpid() % 80
System = tuple[DdsClient, list[NodeProcess], Path]


@pytest.fixture(scope="module")
def system(tmp_path_factory: pytest.TempPathFactory, trained_model: Path) -> Iterator[System]:
    """The three node processes and a client, on a private loopback DDS domain."""
    root = tmp_path_factory.mktemp("system")
    transports = dict.fromkeys(NODE_NAMES, "dds")
    with dds_system(root, trained_model, DOMAIN, transports, start_s=120.0) as (client, procs):
        yield client, procs, root


def test_results_follow_the_commanded_t_as_the_battery_falls(system: System) -> None:
    client, _, _ = system
    check_t_follows_the_battery(client, per_level=3, settle_s=0.3)


def test_bad_image_and_nan_battery_warn_without_crashing(system: System) -> None:
    client, procs, _ = system
    check_bad_input_warns(client, procs)


def test_environment_switch_trains_and_perception_loads_the_new_model(system: System) -> None:
    client, _, root = system
    check_learner_updates_perception(client, root / "checkpoints", learn_s=60.0, reload_s=20.0)
