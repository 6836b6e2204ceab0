"""The rclpy lifecycle nodes, in-process. Needs ROS 2 and this package built with colcon.

Run from a sourced workspace (``source install/setup.bash``) so that the generated
``topspark_ros.msg`` is importable; otherwise the whole module is skipped.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

rclpy = pytest.importorskip("rclpy", reason="rclpy is not importable (no ROS 2 here)")
pytest.importorskip(
    "topspark_ros.msg", reason="topspark_ros.msg is not built: colcon build and source install/"
)

from rclpy.context import Context  # noqa: E402
from rclpy.executors import SingleThreadedExecutor  # noqa: E402
from rclpy.parameter import Parameter  # noqa: E402
from rclpy.qos import DurabilityPolicy, ReliabilityPolicy  # noqa: E402
from sensor_msgs.msg import BatteryState  # noqa: E402

from topspark_ros.config import config_fields  # noqa: E402
from topspark_ros.graph.wiring import NODES, PERCEPTION, TIMESTEP_MANAGER  # noqa: E402
from topspark_ros.msg import TimestepCommand  # noqa: E402
from topspark_ros.ros.rclpy import params  # noqa: E402
from topspark_ros.ros.rclpy.node import SUCCESS, TopsparkNode, ros_qos  # noqa: E402

DOMAIN_ID = 87  # away from the default domain of other ROS 2 processes on the host


@pytest.fixture
def context() -> Iterator[Context]:
    """An rclpy context of its own, shut down after the test."""
    ctx = Context()
    rclpy.init(context=ctx, domain_id=DOMAIN_ID)
    try:
        yield ctx
    finally:
        ctx.try_shutdown()


def spin_until(executor: Any, done: Callable[[], bool], timeout_s: float = 10.0) -> bool:
    """Spin ``executor`` until ``done()`` or the timeout; whether ``done()`` became true."""
    deadline = time.monotonic() + timeout_s
    while not done() and time.monotonic() < deadline:
        executor.spin_once(timeout_sec=0.05)
    return done()


@pytest.mark.parametrize("name", sorted(NODES))
def test_every_field_is_declared_with_its_range(context: Context, name: str) -> None:
    spec = NODES[name]
    node = TopsparkNode(spec, context=context)
    try:
        assert params.load(node, spec.config) == spec.config()
        for field in config_fields(spec.config):
            desc = node.describe_parameter(field.name)
            assert desc.description.startswith(field.metadata["doc"])
            lo, hi = field.metadata["lo"], field.metadata["hi"]
            ranges = [*desc.integer_range, *desc.floating_point_range]
            if lo is None and hi is None:
                assert ranges == []
            else:
                [(low, high)] = [(r.from_value, r.to_value) for r in ranges]
                assert (lo is None or low == lo) and (hi is None or high == hi)
    finally:
        node.destroy_node()


def test_bad_parameter_values_are_rejected_with_the_reason(context: Context) -> None:
    node = TopsparkNode(PERCEPTION, context=context)
    try:
        (choice,) = node.set_parameters([Parameter("image_reliability", value="fast")])
        assert not choice.successful and "must be one of" in choice.reason
        (out_of_range,) = node.set_parameters([Parameter("timesteps", value=0)])
        assert not out_of_range.successful
        (fine,) = node.set_parameters([Parameter("timesteps", value=60)])
        assert fine.successful and node.get_parameter("timesteps").value == 60
    finally:
        node.destroy_node()


def test_configure_fails_cleanly_without_a_model(context: Context, tmp_path: Any) -> None:
    overrides = [Parameter("model_path", value=str(tmp_path / "missing.npz"))]
    node = TopsparkNode(PERCEPTION, context=context, parameter_overrides=overrides)
    try:
        assert node.trigger_configure() != SUCCESS
        assert node.failure is None
    finally:
        node.destroy_node()


def test_qos_profiles() -> None:
    image = ros_qos("sensor", "best_effort")
    assert image.depth == 5 and image.reliability == ReliabilityPolicy.BEST_EFFORT
    assert ros_qos("sensor", "reliable").reliability == ReliabilityPolicy.RELIABLE
    latched = ros_qos("latched")
    assert latched.durability == DurabilityPolicy.TRANSIENT_LOCAL
    assert ros_qos("default").depth == 10


def test_timestep_manager_answers_a_battery_with_a_command(context: Context) -> None:
    manager = TopsparkNode(TIMESTEP_MANAGER, context=context)
    probe = rclpy.create_node("probe", context=context)
    received: list[Any] = []
    probe.create_subscription(
        TimestepCommand, "timestep_command", received.append, ros_qos("latched")
    )
    battery = probe.create_publisher(BatteryState, "battery_state", ros_qos("default"))
    executor = SingleThreadedExecutor(context=context)
    executor.add_node(manager)
    executor.add_node(probe)
    try:
        assert manager.trigger_configure() == SUCCESS
        assert manager.trigger_activate() == SUCCESS
        msg = BatteryState(percentage=0.9, voltage=12.0, current=-1.0, present=True)
        msg.header.stamp = manager.get_clock().now().to_msg()
        assert spin_until(executor, lambda: battery.get_subscription_count() > 0)
        battery.publish(msg)
        assert spin_until(executor, lambda: bool(received)), "no timestep command"
        assert received[-1].timesteps > 0 and received[-1].reason
        assert manager.trigger_deactivate() == SUCCESS
        assert manager.trigger_cleanup() == SUCCESS
        assert manager.failure is None
    finally:
        executor.shutdown()
        manager.release()
        manager.destroy_node()
        probe.destroy_node()
