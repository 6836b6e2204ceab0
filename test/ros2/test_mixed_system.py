"""One system on both transports: perception over the DDS adapter, the timestep manager and the
online learner over rclpy (``topspark node NAME --transport dds|rclpy``), driven by this test's
DdsTransport.

Every hop between the two kinds of process is crossed: battery (test, DDS) -> timestep manager
(rclpy) -> timestep command -> perception (DDS) and the test; images (DDS) -> perception (DDS)
and learner (rclpy); model update (rclpy) -> perception (DDS). The same checks as the all-DDS
system test (test/ros/test_integration.py): every image answered at the commanded T as the
battery falls, T steps down without oscillating, bad input warns, an environment switch makes
the rclpy learner train and the DDS perception node answer with its new model; every node exits
0 on SIGINT. DDS children use the loopback Cyclone configuration, rclpy children
ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST and the packaged Fast DDS profile (processes.py).
"""

from __future__ import annotations

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

from topspark_ros.system.processes import NodeProcess

DOMAIN = 45
TRANSPORTS = {"perception": "dds", "timestep_manager": "rclpy", "online_learner": "rclpy"}
START_S = 180.0  # rclpy and DDS processes JIT-compiling on a shared 2-core machine
System = tuple[DdsClient, list[NodeProcess], Path]


@pytest.fixture(scope="module")
def system(tmp_path_factory: pytest.TempPathFactory, trained_model: Path) -> Iterator[System]:
    """The three nodes on their transports and the test's client, on a domain of their own."""
    root = tmp_path_factory.mktemp("mixed")
    with dds_system(root, trained_model, DOMAIN, TRANSPORTS, START_S) as (client, procs):
        yield client, procs, root


def test_the_nodes_run_on_the_transports_asked_for(system: System) -> None:
    _, procs, _ = system
    for proc in procs:
        mark = "ready on DDS domain" if TRANSPORTS[proc.name] == "dds" else "]: active"
        assert mark in proc.log_text(), (proc.name, proc.last_line())


def test_results_follow_the_commanded_t_across_transports(system: System) -> None:
    client, _, _ = system
    # settle: the perception node (DDS) gets the same command from the rclpy manager
    check_t_follows_the_battery(client, per_level=2, settle_s=0.5)


def test_bad_image_and_nan_battery_warn_across_transports(system: System) -> None:
    client, procs, _ = system
    check_bad_input_warns(client, procs)


def test_rclpy_learner_updates_the_dds_perception_node(system: System) -> None:
    client, _, root = system
    check_learner_updates_perception(client, root / "checkpoints", learn_s=90.0, reload_s=30.0)
