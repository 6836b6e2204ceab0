"""The ROS 2 tier: real rclpy and the colcon-built package, in a private network namespace.

tools/ros_tests.sh runs this directory inside ``unshare -n`` with only loopback up; the checks
below refuse to run anywhere else, so no DDS packet of a test can leave the machine. A missing
ROS 2 is a failure here, not a skip: this tier exists to run against it.
"""

from __future__ import annotations

import importlib
import os
from pathlib import Path

import pytest


def network_interfaces() -> list[str]:
    """The network interfaces of this process's network namespace (from /proc/net/dev)."""
    lines = Path("/proc/net/dev").read_text(encoding="utf-8").splitlines()[2:]
    return [line.split(":", 1)[0].strip() for line in lines]


if network_interfaces() != ["lo"]:
    raise pytest.UsageError(
        f"the ROS 2 tier must run in a network namespace holding only loopback, not "
        f"{network_interfaces()}: use tools/ros_tests.sh DIR"
    )
for _module in ("rclpy", "topspark_ros.msg"):
    try:
        importlib.import_module(_module)
    except ImportError as err:
        raise pytest.UsageError(
            f"the ROS 2 tier needs {_module} ({err}): source DIR/setup.bash of "
            f"tools/ros2_venv.sh, or use tools/ros_tests.sh DIR"
        ) from err

ROS_DISTRO = os.environ.get("ROS_DISTRO", "")
_DOMAINS = iter(range(100, 200))


@pytest.fixture
def domain_id() -> int:
    """A DDS domain of its own for each test (0..232 are valid; the namespace is private)."""
    return next(_DOMAINS)
